"""Study mode on Discord, end to end: the real discord.Client on the fake Discord.

A review is one ephemeral message only its player sees; every answer edits that same
message through the click's interaction response. The fake refuses a click on an
ephemeral message by anyone but its viewer unless the click is forged, as a crafted
request would be.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from bot.adapters.discord.chat import DiscordChat
from bot.core.model import CommunityRef, PlayerRef
from bot.core.study.ports import DirectMessageRefused
from bot.core.study.reminders import ReminderOutcome
from bot.render import to_chat_text
from bot.render.review import NOT_YOURS, RESUMED, STALE
from bot.store import SqlStore
from tests.fake_discord import (
    FakeDiscord,
    FakeUser,
    InteractionRecord,
    buttons,
    embed_text,
    message_text,
)
from tests.fake_discord.harness import ANSWERS, Harness, right_letters, start_bot
from tests.fake_discord.harness import wrong_letter as wrong_quiz_letter
from tests.fake_discord.payloads import Json
from tests.fake_discord.server import EPHEMERAL, UPDATE_MESSAGE

_CHOICE = re.compile(r"^\*\*([A-Z])\*\*\s+(.*)$")
_REVIEW_ID = re.compile(r"^quiz:r:(\d+):(\d+):(\d+)$")


def question_embed(message: Json) -> Json:
    """The embed of the review question a message shows."""
    found = [e for e in message["embeds"] if str(e.get("title", "")).startswith("Review ")]
    assert found, f"no review question in:\n{message_text(message)}"
    return found[0]


def prompt_of(message: Json) -> str:
    """The deck prompt of the question shown (as in ANSWERS)."""
    description = str(question_embed(message)["description"])
    return next(p for p in ANSWERS if description.startswith(to_chat_text(p)))


def letters(message: Json) -> dict[str, str]:
    """Choice text -> letter, from the question embed."""
    lines = str(question_embed(message)["description"]).splitlines()
    return {m[2]: m[1] for m in map(_CHOICE.match, lines) if m}


def right_letter(message: Json) -> str:
    """The letter of the shown question's correct choice."""
    shown = letters(message)
    return next(shown[c] for c in ANSWERS[prompt_of(message)])


def wrong_letter(message: Json) -> str:
    """The first letter of a wrong choice of the shown question."""
    right = ANSWERS[prompt_of(message)]
    return sorted(v for c, v in letters(message).items() if c not in right)[0]


def session_of(message: Json) -> tuple[int, int]:
    """(session id, item) that the message's buttons carry."""
    match = _REVIEW_ID.match(buttons(message)[0]["custom_id"])
    assert match, buttons(message)
    return int(match[1]), int(match[2])


def player(user: FakeUser) -> PlayerRef:
    return PlayerRef(user.id, user.name)


async def start(fake: FakeDiscord, who: FakeUser, **options: Any) -> tuple[InteractionRecord, Json]:
    """`/quiz review` typed by `who`: the interaction and the ephemeral review message."""
    record = await fake.slash(who, "quiz review", **options)
    assert record.original is not None and record.ephemeral, record.callbacks
    return record, record.original


async def test_a_private_review_end_to_end(fake: FakeDiscord, bot: Harness) -> None:
    ann = fake.user("Ann")
    _, message = await start(fake, ann, questions=2, deck="algebra")
    assert fake.viewers[message["id"]] == ann.id
    assert not fake.channel_messages(), "a review posts nothing in the channel"
    assert question_embed(message)["title"].startswith("Review 1 · 2 left")
    assert [b["label"] for b in buttons(message)] == list(sorted(letters(message).values()))
    first = prompt_of(message)
    player_id = await bot.engine.player_id(player(ann))
    cards_at_ack: list[int] = []

    async def count_cards(_: InteractionRecord) -> None:
        cards_at_ack.append(len(await bot.reviews.store.cards([player_id])))

    fake.on_first_response = count_cards
    wrong = await fake.click(ann, message["id"], wrong_letter(message))
    fake.on_first_response = None
    assert cards_at_ack == [1], "the click is acknowledged once its answer is committed"
    assert wrong.callbacks[0]["type"] == UPDATE_MESSAGE, "the same message is edited"
    edited = fake.messages[message["id"]]
    feedback, question = edited["embeds"]
    assert feedback["title"] == "❌ Not quite"
    assert "comes back at the end" in feedback["description"]
    why = next(
        q.explanation for d in bot.engine.bank.decks() for q in d.questions if q.prompt == first
    )
    assert to_chat_text(why) in feedback["description"]
    second = prompt_of(edited)
    assert second != first and question["title"].startswith("Review 2 · 2 left")

    await fake.click(ann, message["id"], right_letter(edited))
    edited = fake.messages[message["id"]]
    assert edited["embeds"][0]["title"] == "✅ Right"
    assert prompt_of(edited) == first, "the missed question comes back at the end"
    assert "again: missed earlier" in embed_text(question_embed(edited))

    await fake.click(ann, message["id"], right_letter(edited))
    done = fake.messages[message["id"]]
    assert [e["title"] for e in done["embeds"]] == ["✅ Right", "🏁 Review done"]
    assert "1/2 right at the first try" in embed_text(done["embeds"][1])
    assert not buttons(done), "a finished review has no buttons"
    assert int(done["flags"]) & EPHEMERAL
    assert len(fake.edits[message["id"]]) == 3
    # every answer reached the player's cards
    cards = await bot.reviews.store.cards([player_id])
    assert len(cards) == 2


async def test_another_member_cannot_answer_it(fake: FakeDiscord, bot: Harness) -> None:
    ann, ben = fake.user("Ann"), fake.user("Ben")
    _, message = await start(fake, ann, questions=2, deck="algebra")
    with pytest.raises(AssertionError, match="cannot see"):
        await fake.click(ben, message["id"], "A")
    before = [dict(e) for e in message["embeds"]]

    refused = await fake.click(ben, message["id"], right_letter(message), forged=True)
    assert refused.content == NOT_YOURS and refused.ephemeral
    assert fake.viewers[refused.original["id"]] == ben.id  # type: ignore[index]
    assert message["id"] not in fake.edits, "Ann's review is untouched"
    assert fake.messages[message["id"]]["embeds"] == before
    # Ann's own click still answers the first item
    await fake.click(ann, message["id"], right_letter(message))
    assert fake.messages[message["id"]]["embeds"][0]["title"] == "✅ Right"


async def test_two_processes_give_one_session(
    fake: FakeDiscord, bot: Harness, store: SqlStore, database_url: str
) -> None:
    other = await start_bot(fake, store, bot.clock, database_url=database_url, seed=11)
    try:
        ann = fake.user("Ann")
        # the same command reaching both processes at once: one session between them
        (_, on_first), (_, on_second) = await asyncio.gather(
            start(fake, ann, questions=3, deck="algebra", via=0),
            start(fake, ann, questions=3, deck="algebra", via=1),
        )
        assert session_of(on_first) == session_of(on_second)
        assert prompt_of(on_first) == prompt_of(on_second)
        assert RESUMED in (on_first["content"], on_second["content"])

        # answered on the second process, the first one's copy is now stale
        await fake.click(ann, on_second["id"], right_letter(on_second), via=1)
        stale = await fake.click(ann, on_first["id"], wrong_letter(on_first), via=0)
        assert stale.callbacks[0]["type"] == UPDATE_MESSAGE
        refreshed = fake.messages[on_first["id"]]
        assert refreshed["content"] == STALE
        assert session_of(refreshed) == (session_of(on_second)[0], 1)
        assert prompt_of(refreshed) == prompt_of(fake.messages[on_second["id"]])

        # and a new /quiz review on either process resumes where the player is
        _, resumed = await start(fake, ann, via=0)
        assert resumed["content"] == RESUMED and session_of(resumed)[1] == 1
    finally:
        await other.stop()


async def test_a_slow_answer_is_deferred_then_the_message_edited(
    fake: FakeDiscord, bot: Harness
) -> None:
    ann = fake.user("Ann")
    _, message = await start(fake, ann, questions=1, deck="algebra")
    answer = bot.reviews.answer

    async def slow(*args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(fake.first_response_limit * 0.6)
        return await answer(*args, **kwargs)

    bot.reviews.answer = slow  # type: ignore[method-assign]
    click = await fake.click(ann, message["id"], right_letter(message))
    assert click.deferred
    assert [e["title"] for e in fake.messages[message["id"]]["embeds"]] == [
        "✅ Right",
        "🏁 Review done",
    ]


async def test_reminders_switch_and_the_dm_port(fake: FakeDiscord, bot: Harness) -> None:
    ann, ben = fake.user("Ann"), fake.user("Ben")
    on = await fake.slash(ann, "quiz review", remind="on")
    assert on.content.startswith("Reminders on") and on.ephemeral
    community = await bot.engine.community(CommunityRef(fake.guild_id, "Study Group"))
    player_id = await bot.engine.player_id(player(ann))
    assert await bot.reviews.store.reminders_on(community.id, player_id)
    off = await fake.slash(ann, "quiz review", remind="off")
    assert off.content == "Reminders off."
    assert not await bot.reviews.store.reminders_on(community.id, player_id)

    chat = DiscordChat(bot.bot)
    await chat.send_direct(ann.id, "3 questions are due. /quiz review")
    assert [m["content"] for m in fake.direct_messages(ann)] == [
        "3 questions are due. /quiz review"
    ]
    fake.close_dms(ben)
    with pytest.raises(DirectMessageRefused):
        await chat.send_direct(ben.id, "3 questions are due. /quiz review")
    assert not fake.direct_messages(ben)


async def test_missed_quiz_questions_come_back_in_the_review(
    fake: FakeDiscord, bot: Harness
) -> None:
    ann = fake.user("Ann")
    await fake.slash(ann, "quiz start", deck="algebra", questions=2, seconds=30)
    missed = []
    for _ in range(2):
        q = bot.current_question()
        prompt = next(p for p in ANSWERS if to_chat_text(p) in message_text(q))
        if not missed:
            await fake.click(ann, q["id"], wrong_quiz_letter(q))
            missed.append(prompt)
        else:
            await fake.click(ann, q["id"], right_letters(q)[0])
        await bot.tick(31)
    bot.clock.advance(120)  # past the first learning step (1 minute)
    _, message = await start(fake, ann, questions=1, deck="algebra")
    assert prompt_of(message) == missed[0]
    assert "due for review" in embed_text(question_embed(message))


async def test_a_refused_reminder_dm_turns_reminders_off(fake: FakeDiscord, bot: Harness) -> None:
    ann, ben = fake.user("Ann"), fake.user("Ben")
    for user in (ann, ben):
        await fake.slash(user, "quiz review", remind="on")
        _, message = await start(fake, user, questions=1, deck="algebra")
        await fake.click(user, message["id"], wrong_letter(message))  # due again in a minute
    bot.clock.advance(120)
    fake.close_dms(ben)
    assert bot.rhythm.reminders is not None

    runs = await bot.rhythm.reminders.send_due(bot.clock.now())

    assert sorted(r.outcome for r in runs) == [ReminderOutcome.REFUSED, ReminderOutcome.SENT]
    assert [m["content"] for m in fake.direct_messages(ann)] == ["1 question is due. /quiz review"]
    assert not fake.direct_messages(ben)
    community = await bot.engine.community(CommunityRef(fake.guild_id, "Study Group"))
    ben_id = await bot.engine.player_id(player(ben))
    assert not await bot.reviews.store.reminders_on(community.id, ben_id)
    # the same morning again: nothing is sent twice
    assert await bot.rhythm.reminders.send_due(bot.clock.now()) == []
