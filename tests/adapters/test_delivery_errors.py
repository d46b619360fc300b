"""The ChatPorts raise RetryLater or Undeliverable as the outbox needs, against the fakes;
Discord's creates carry the key as an enforced nonce, so a resent create posts once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.adapters.discord.chat import DiscordChat
from bot.adapters.slack.chat import SlackChat, http_session, web_client
from bot.core.cards import SummaryCard
from bot.core.delivery import RetryLater, Undeliverable
from bot.core.model import QuestionKind, QuizStatus
from tests.adapters.test_discord_views import card, reveal
from tests.fake_discord import FakeDiscord
from tests.fake_discord.harness import Harness
from tests.fake_discord.server import buttons
from tests.mock_slack.server import MockSlack

QUESTION = card(QuestionKind.SINGLE, 4)
SUMMARY = SummaryCard(1, QuizStatus.FINISHED, "", 3, 3, (), ())
POSTS = r"POST /channels/\d+/messages"
EDITS = r"PATCH /channels/\d+/messages/\d+"


@pytest.fixture
async def slack() -> AsyncIterator[tuple[MockSlack, SlackChat]]:
    mock = MockSlack()
    await mock.start()
    async with http_session(timeout=0.5) as session:
        yield mock, SlackChat(web_client("xoxb-test", mock.base_url, session=session, jitter=0))
    await mock.close()


async def test_slack_passing_failures_are_retry_later(slack: tuple[MockSlack, SlackChat]) -> None:
    mock, chat = slack
    mock.faults.add("chat.postMessage", kind=503, first=3)  # the client's 3 tries
    with pytest.raises(RetryLater, match="HTTP 503"):
        await chat.post_question("C1", QUESTION, key="q-1")
    mock.faults.add("chat.postMessage", kind=429, first=4, retry_after=0.01)
    with pytest.raises(RetryLater) as limited:
        await chat.post_summary("C1", SUMMARY, key="s-1")
    assert limited.value.retry_after == pytest.approx(0.01)
    mock.fail("chat.postMessage", "internal_error")
    with pytest.raises(RetryLater, match="internal_error"):
        await chat.post_summary("C1", SUMMARY, key="s-1")
    mock.faults.add("chat.postMessage", kind="timeout", first=1, hang=1.0)
    with pytest.raises(RetryLater, match="TimeoutError"):
        await chat.post_summary("C1", SUMMARY, key="s-1")
    assert mock.channel_messages("C1") == []
    await chat.post_summary("C1", SUMMARY, key="s-1")
    assert len(mock.channel_messages("C1")) == 1


async def test_slack_permanent_failures_are_undeliverable(
    slack: tuple[MockSlack, SlackChat],
) -> None:
    mock, chat = slack
    mock.fail("chat.postMessage", "not_in_channel")
    with pytest.raises(Undeliverable, match="not_in_channel"):
        await chat.post_question("C1", QUESTION, key="q-1")
    mock.fail("chat.postMessage", "channel_not_found")
    with pytest.raises(Undeliverable, match="channel_not_found"):
        await chat.post_reveal("C1", None, reveal(), key="r-1")


async def test_slack_reveal_retries_the_closing_edit_before_revealing(
    slack: tuple[MockSlack, SlackChat],
) -> None:
    mock, chat = slack
    ref = await chat.post_question("C1", QUESTION, key="q-1")
    mock.faults.add("chat.update", kind=500, first=3)
    with pytest.raises(RetryLater):
        await chat.post_reveal("C1", ref, reveal(), key="r-1")
    assert len(mock.channel_messages("C1")) == 1  # no reveal under a question with buttons
    await chat.post_reveal("C1", ref, reveal(), key="r-1")
    question, reveal_message = mock.channel_messages("C1")
    assert reveal_message.plain.startswith("*Answer") or reveal_message.text
    assert question.edits == 1 and "actions" not in [b["type"] for b in question.blocks]
    # a deleted question message does not hold the reveal back
    mock.fail("chat.update", "message_not_found")
    await chat.post_reveal("C1", ref, reveal(), key="r-2")
    assert len(mock.channel_messages("C1")) == 3


async def test_slack_host_is_told_in_the_channel_or_else_directly(
    slack: tuple[MockSlack, SlackChat],
) -> None:
    mock, chat = slack
    await chat.notify_host("C1", "U0HOST", "stopped")
    assert [e.text for e in mock.ephemerals_for("U0HOST")] == ["stopped"]
    mock.fail("chat.postEphemeral", "not_in_channel")
    await chat.notify_host("C1", "U0HOST", "stopped again")
    assert [m.text for m in mock.channel_messages("U0HOST")] == ["stopped again"]
    mock.fail("chat.postEphemeral", "not_in_channel")
    mock.fail("chat.postMessage", "cannot_dm_bot")
    await chat.notify_host("C1", "U0HOST", "never raises")


def discord_chat(bot: Harness) -> DiscordChat:
    chat = bot.engine.chat
    assert isinstance(chat, DiscordChat)
    return chat


async def test_discord_resent_creates_post_once(fake: FakeDiscord, bot: Harness) -> None:
    chat = discord_chat(bot)
    first = await chat.post_question(fake.channel_id, QUESTION, key="question-77")
    again = await chat.post_question(fake.channel_id, QUESTION, key="question-77")
    await chat.post_reveal(fake.channel_id, first, reveal(), key="reveal-77")
    await chat.post_reveal(fake.channel_id, first, reveal(), key="reveal-77")
    assert first == again
    assert len(fake.bot_posts()) == 2
    creates = fake.calls_to("POST", r"/channels/\d+/messages")
    assert [c.body["nonce"] for c in creates if isinstance(c.body, dict)] == [
        "question-77",
        "question-77",
        "reveal-77",
        "reveal-77",
    ]
    assert all(isinstance(c.body, dict) and c.body["enforce_nonce"] for c in creates)
    assert all(b.get("disabled") for b in buttons(fake.messages[first]))


async def test_discord_failures_are_retry_later_or_undeliverable(
    fake: FakeDiscord, bot: Harness
) -> None:
    chat = discord_chat(bot)
    fake.faults.add(POSTS, kind=503, first=1)
    with pytest.raises(RetryLater, match="503"):
        await chat.post_summary(fake.channel_id, SUMMARY, key="summary-1")
    fake.faults.add(POSTS, kind="drop", first=1)
    with pytest.raises(RetryLater):
        await chat.post_summary(fake.channel_id, SUMMARY, key="summary-1")
    chat.timeout = 0.3
    fake.faults.add(POSTS, kind="timeout", first=1, hang=1.0)
    with pytest.raises(RetryLater, match="TimeoutError"):
        await chat.post_summary(fake.channel_id, SUMMARY, key="summary-1")
    await asyncio.sleep(0)
    assert fake.bot_posts() == []
    fake.forbid("POST", r"/channels/\d+/messages")
    with pytest.raises(Undeliverable, match="missing access"):
        await chat.post_summary(fake.channel_id, SUMMARY, key="summary-1")
    with pytest.raises(Undeliverable, match="not found"):
        await chat.post_summary("123456789", SUMMARY, key="summary-1")
    await chat.post_summary(fake.channel_id, SUMMARY, key="summary-1")
    assert len(fake.bot_posts()) == 1


async def test_discord_reveal_retries_the_closing_edit_before_revealing(
    fake: FakeDiscord, bot: Harness
) -> None:
    chat = discord_chat(bot)
    ref = await chat.post_question(fake.channel_id, QUESTION, key="question-77")
    fake.faults.add(EDITS, kind=503, first=1)
    with pytest.raises(RetryLater):
        await chat.post_reveal(fake.channel_id, ref, reveal(), key="reveal-77")
    assert len(fake.bot_posts()) == 1
    await chat.post_reveal(fake.channel_id, ref, reveal(), key="reveal-77")
    assert len(fake.bot_posts()) == 2
    assert all(b.get("disabled") for b in buttons(fake.messages[ref]))
