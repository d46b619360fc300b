"""Study mode on Slack, end to end: signed requests to the Bolt app, the mock Web API.

A review is one ephemeral message, posted through the command's response_url; each
click's own response_url replaces it (`replace_original`), as Slack allows for
ephemeral messages, which chat.update cannot edit.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs

import pytest

from bot.core.model import CommunityRef, PlayerRef
from bot.core.study.reminders import ReminderOutcome
from bot.render.review import NOT_YOURS, RESUMED, STALE
from tests.mock_slack.harness import ADA, BEN, BOSS, SlackHarness, question_shown, right_letters
from tests.mock_slack.harness import wrong_letter as wrong_letter_of
from tests.mock_slack.requests import User
from tests.mock_slack.server import TEAM_ID, Ephemeral


@pytest.fixture
async def harness(database_url: str) -> AsyncIterator[SlackHarness]:
    opened = await SlackHarness.open(database_url)
    try:
        yield opened
    finally:
        await opened.close()


async def review(h: SlackHarness, user: User, text: str = "review 2 science") -> Ephemeral:
    """Type `/quiz {text}`; the ephemeral message the member gets in reply."""
    body = h.slack.command_body(user, text)
    url = parse_qs(body)["response_url"][0]
    reply = await h.slack.send(body)
    assert reply.status == 200, reply.body
    await h.mock.wait_for(lambda: h.mock.ephemeral_from(url) is not None)
    message = h.mock.ephemeral_from(url)
    assert message is not None
    return message


async def answer(h: SlackHarness, user: User, message: Ephemeral, label: str) -> None:
    """Click a review button; wait until the clicked message was replaced."""
    before = message.replaced
    reply = await h.slack.click(user, message, label)
    assert reply.status == 200, reply.body
    await h.mock.wait_for(lambda: message.replaced > before)


def session_item(message: Ephemeral) -> tuple[int, int]:
    """(session, item) that the message's first button carries."""
    for block in message.blocks:
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            session, item, _ = element["value"].split(":")
            return int(session), int(item)
    raise AssertionError(f"no review buttons in:\n{message.plain}")


async def test_a_private_review_end_to_end(harness: SlackHarness) -> None:
    h = harness
    message = await review(h, ADA)
    assert message.via == "response_url" and message.user == ADA.id
    assert not h.messages(), "a review posts nothing in the channel"
    assert message.plain.startswith("*Review 1 · 2 left*")
    first = question_shown(message)
    player = await h.engine.player_id(PlayerRef(ADA.id, ADA.name))

    await answer(h, ADA, message, wrong_letter_of(message))
    assert "*❌ Not quite*" in message.plain
    assert "It comes back at the end of this review." in message.plain
    if first.explanation:
        assert first.explanation.split()[0] in message.plain
    assert question_shown(message) != first
    await answer(h, ADA, message, right_letters(message)[0])
    assert "*✅ Right*" in message.plain
    assert question_shown(message) == first, "the missed question comes back at the end"
    await answer(h, ADA, message, right_letters(message)[0])
    assert "*🏁 Review done*" in message.plain
    assert "1/2 right at the first try" in message.plain
    assert not any(b["type"] == "actions" for b in message.blocks)
    # one ephemeral message, replaced three times; nothing went through chat.update
    assert len(h.mock.ephemerals_for(ADA.id)) == 1 and message.replaced == 3
    assert not h.mock.calls_to("chat.update")
    assert len(await h.reviews.store.cards([player])) == 2


async def test_a_click_is_acknowledged_once_its_answer_is_committed(
    harness: SlackHarness,
) -> None:
    h = harness
    message = await review(h, ADA, "review 1 science")
    player = await h.engine.player_id(PlayerRef(ADA.id, ADA.name))
    answer_now = h.reviews.answer

    async def slow(*args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(0.3)  # a busy database, well within Slack's 3 s
        return await answer_now(*args, **kwargs)

    h.reviews.answer = slow  # type: ignore[method-assign]
    acked = await h.slack.click(ADA, message, right_letters(message)[0])
    assert acked.status == 200 and acked.seconds >= 0.3
    assert len(await h.reviews.store.cards([player])) == 1
    await h.mock.wait_for(lambda: message.replaced == 1)


async def test_another_member_cannot_answer_it(harness: SlackHarness) -> None:
    h = harness
    message = await review(h, ADA)
    shown = message.plain
    # a crafted click: Slack shows the ephemeral message to Ada alone
    reply = await h.slack.click(BEN, message, right_letters(message)[0])
    assert reply.status == 200
    [refusal] = await h.mock.wait_for_ephemerals(BEN.id, 1)
    assert refusal == NOT_YOURS
    assert message.replaced == 0 and message.plain == shown
    await answer(h, ADA, message, right_letters(message)[0])
    assert "*✅ Right*" in message.plain


async def test_two_processes_give_one_session(harness: SlackHarness) -> None:
    h = harness
    other = await SlackHarness.open(h.database_url, mock=h.mock, clock=h.clock, seed=11)
    try:
        first, second = await asyncio.gather(review(h, ADA), review(other, ADA))
        assert session_item(first) == session_item(second)
        assert question_shown(first) == question_shown(second)
        assert any(RESUMED in m.plain for m in (first, second))

        await answer(other, ADA, second, right_letters(second)[0])
        await answer(h, ADA, first, wrong_letter_of(first))  # a stale copy
        assert first.plain.startswith(STALE)
        assert session_item(first) == (session_item(second)[0], 1)
        assert question_shown(first) == question_shown(second)
        # nothing was recorded for the stale click: one card so far
        player = await h.engine.player_id(PlayerRef(ADA.id, ADA.name))
        assert len(await h.reviews.store.cards([player])) == 1
    finally:
        await other.close(mock=False)


async def test_a_refused_reminder_dm_turns_reminders_off(harness: SlackHarness) -> None:
    h = harness
    other = await SlackHarness.open(h.database_url, mock=h.mock, clock=h.clock, seed=11)
    try:
        for user in (ADA, BEN):
            on = await h.slack.command(user, "review remind on")
            assert on.status == 200
            message = await review(h, user, "review 1 science")
            await answer(h, user, message, wrong_letter_of(message))  # due again in a minute
        assert (await h.mock.wait_for_ephemerals(ADA.id, 2))[0].startswith("Reminders on")
        h.clock.advance(120)
        h.mock.refuse_dms(BEN.id, "cannot_dm_bot")

        # two processes run the reminders: each player's is claimed once
        runs = [
            *await h.rhythm.reminders.send_due(h.clock.now()),  # type: ignore[union-attr]
            *await other.rhythm.reminders.send_due(h.clock.now()),  # type: ignore[union-attr]
        ]
        assert sorted(r.outcome for r in runs) == [ReminderOutcome.REFUSED, ReminderOutcome.SENT]
        assert [m.text for m in h.mock.direct_messages(ADA.id)] == [
            "1 question is due. /quiz review"
        ]
        assert not h.mock.direct_messages(BEN.id)
        community = await h.engine.community(CommunityRef(TEAM_ID, "study"))
        ben = await h.engine.player_id(PlayerRef(BEN.id, BEN.name))
        assert not await h.reviews.store.reminders_on(community.id, ben)

        # the next morning Ben is not tried again
        h.clock.advance(24 * 3600)
        opens = len(h.mock.calls_to("conversations.open"))
        again = await h.rhythm.reminders.send_due(h.clock.now())  # type: ignore[union-attr]
        assert [r.outcome for r in again] == [ReminderOutcome.SENT]
        assert len(h.mock.calls_to("conversations.open")) == opens + 1
    finally:
        await other.close(mock=False)


async def test_stats_group_recall_and_config_pick(harness: SlackHarness) -> None:
    h = harness
    message = await review(h, ADA, "review 1 science")
    await answer(h, ADA, message, right_letters(message)[0])
    group = await review(h, BEN, "stats group")
    assert "Mastery of" in group.plain and "% recall" in group.plain
    assert "Active members (answered in the last 14 days): 1" in group.plain
    assert "1 to 50 questions" in (await review(h, ADA, "review 200")).plain
    assert "I don't understand `soon`" in (await review(h, ADA, "review soon")).plain
    picked = await review(h, BOSS, "config pick weakest")
    assert "pick: weakest" in picked.plain and "changed" in picked.plain
    refused = await review(h, ADA, "config pick weakest")
    assert "pick: weakest" not in refused.plain
