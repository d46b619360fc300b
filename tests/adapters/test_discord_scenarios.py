"""The Discord adapter end to end: the real discord.Client against the fake Discord.

Each test plays users typing /quiz and clicking, and checks what they see: the
question message, the private receipts, the reveal, the summary and the boards.
"""

from __future__ import annotations

import asyncio
import gc
import re
import weakref
from typing import Any

import discord
import pytest

from bot.store import SqlStore
from tests.fake_discord import FakeDiscord, buttons, embed_text, message_text, selects
from tests.fake_discord.harness import (
    Harness,
    choice_letters,
    right_letters,
    start_bot,
    wrong_letter,
)
from tests.fake_discord.payloads import MANAGE_MESSAGES, MEMBER_PERMISSIONS, Json

QUESTION_EDIT = r"/channels/\d+/messages/\d+"


def question_lines(message: Json) -> str:
    """The question embed's description."""
    return str(message["embeds"][0]["description"])


def latest(fake: FakeDiscord, title_start: str) -> Json:
    """The newest channel message whose first embed title starts with `title_start`."""
    found = [
        m
        for m in fake.channel_messages()
        if m["embeds"] and str(m["embeds"][0].get("title") or "").startswith(title_start)
    ]
    assert found, f"no message titled {title_start!r}"
    return found[-1]


async def test_full_solo_quiz_with_five_players(fake: FakeDiscord, bot: Harness) -> None:
    alice, bob, carol, dave, erin = (
        fake.user(n) for n in ("Alice", "Bob", "Carol", "Dave", "Erin")
    )
    players = [alice, bob, carol, dave, erin]

    started = await fake.slash(alice, "quiz start", deck="algebra", questions=3, seconds=20)
    assert started.ephemeral
    assert started.content.startswith("Quiz started: 3 questions, 20 s each")

    # question 1: heading, prompt in Unicode, lettered choices, one button per letter
    q1 = bot.current_question()
    embed = q1["embeds"][0]
    assert embed["title"] == "Question 1/3"
    text = question_lines(q1)
    assert re.search(r"What is (2³|√49|x \+ 3 = 7)", text) or "Solve x + 3 = 7" in text
    assert "$" not in text
    assert re.search(r"closes <t:\d+:R>", text)
    assert "0 answers so far" in text
    labels = [b["label"] for b in buttons(q1)]
    assert labels == sorted(choice_letters(q1).values())
    for button in buttons(q1):
        # the id says which round and which position, nothing about correctness
        assert re.fullmatch(r"quiz:a:\d+:\d+", button["custom_id"])
        assert button["style"] == 1 and not button.get("disabled")

    right = right_letters(q1)[0]
    wrong = wrong_letter(q1)
    receipts = [await fake.click(p, q1["id"], right) for p in players[:4]]
    receipts.append(await fake.click(erin, q1["id"], wrong))
    assert [r.content for r in receipts] == [f"Locked in: {right}"] * 4 + [f"Locked in: {wrong}"]
    assert all(r.ephemeral for r in receipts)
    await bot.settle()
    await asyncio.sleep(0.3)  # one coalesced refresh of the count is due
    await bot.settle()
    assert "5 answers so far" in question_lines(fake.messages[q1["id"]])

    # the deadline passes: the question closes and the reveal follows
    assert await bot.tick(21) == 1
    closed = fake.messages[q1["id"]]
    assert all(b["disabled"] for b in buttons(closed))
    marked = [b["label"] for b in buttons(closed) if b["style"] == 3]
    assert marked == [right]
    assert f"✅ **{right}**" in question_lines(closed)
    reveal = latest(fake, "✅ Answer 1/3")
    reveal_text = message_text(reveal)
    assert f"Correct: **{right}**" in reveal_text
    assert re.search(r"(2·2·2 = 8|7 − 3 = 4|7·7 = 49)", reveal_text)
    assert re.search(rf"{right} ▰{{8}}▱{{2}} 4 \(80%\) ✓", reveal_text)
    assert re.search(rf"{wrong} ▰{{2}}▱{{8}} 1 \(20%\)", reveal_text)
    assert "Fastest correct" in reveal_text and "🥇 Alice" in reveal_text

    # question 2: everyone answers, so it closes at once without waiting for the deadline
    q2 = bot.current_question()
    assert q2["embeds"][0]["title"] == "Question 2/3"
    right2 = right_letters(q2)[0]
    for p in players:
        assert (await fake.click(p, q2["id"], right2)).content == f"Locked in: {right2}"
    await bot.settle()
    assert all(b["disabled"] for b in buttons(fake.messages[q2["id"]]))
    assert "100%" in message_text(latest(fake, "✅ Answer 2/3"))

    # question 3: only Bob answers; the deadline closes it and the quiz ends
    q3 = bot.current_question()
    assert q3["embeds"][0]["title"] == "Question 3/3"
    await fake.click(bob, q3["id"], right_letters(q3)[0])
    await bot.tick(21)
    summary = latest(fake, "🏁 Quiz over")
    summary_text = message_text(summary)
    assert "3/3 questions played" in summary_text
    assert re.search(r"🥇 Bob: \d+ pts \(3/3 correct\)", summary_text)
    assert "🥈" in summary_text and "🥉" in summary_text
    assert re.search(r"Erin: \d+ pts \(1/2 correct\)", summary_text)
    assert "/quiz leaderboard" in summary_text

    board = await fake.slash(carol, "quiz leaderboard")
    assert not board.ephemeral
    board_text = board.text
    assert "This week" in board_text
    assert re.search(r"🥇 Bob: \d+ pts \(3/3 correct\)", board_text)
    for name in ("Alice", "Carol", "Dave", "Erin"):
        assert name in board_text
    assert (
        "No scores yet." in (await fake.slash(carol, "quiz leaderboard", period="last-week")).text
    )


async def test_teams_mode_shows_team_votes_and_results(fake: FakeDiscord, bot: Harness) -> None:
    ann, ben, cat, dan = (fake.user(n) for n in ("Ann", "Ben", "Cat", "Dan"))
    created = await fake.slash(ann, "quiz team create", name="Owls")
    assert created.content == "Ann created team **Owls**" and not created.ephemeral
    assert (await fake.slash(ben, "quiz team join", name="owls")).content == "Ben joined **Owls**"
    await fake.slash(cat, "quiz team create", name="Foxes")
    await fake.slash(dan, "quiz team join", name="Foxes")
    roster = await fake.slash(dan, "quiz team list")
    assert roster.ephemeral
    assert "**Foxes** (2): Cat, Dan" in roster.text and "**Owls** (2): Ann, Ben" in roster.text
    stranger = fake.user("Eve")

    started = await fake.slash(ann, "quiz start", deck="algebra", questions=1, mode="teams")
    assert "teams mode" in started.content
    q = bot.current_question()
    assert "0 votes so far" in question_lines(q)
    right, wrong = right_letters(q)[0], wrong_letter(q)
    await fake.click(ann, q["id"], right)
    await fake.click(ben, q["id"], right)
    await fake.click(cat, q["id"], wrong)
    await fake.click(dan, q["id"], wrong)
    refused = await fake.click(stranger, q["id"], right)
    assert refused.content.startswith("Join a team first: /quiz team join")
    assert refused.ephemeral

    await bot.tick(31)
    reveal_text = message_text(latest(fake, "✅ Answer 1/1"))
    assert "Team votes" in reveal_text
    assert re.search(rf"✅ Owls: {right} \(2 of 2 votes\) \+\d+", reveal_text)
    assert re.search(rf"❌ Foxes: {wrong} \(2 of 2 votes\) \+0", reveal_text)
    summary_text = message_text(latest(fake, "🏁 Quiz over"))
    assert re.search(r"Teams\n🥇 Owls: [1-9]\d* pts", summary_text)

    board = await fake.slash(ben, "quiz leaderboard", teams=True)
    assert "Teams: This week" in board.text and "🥇 Owls" in board.text

    left = await fake.slash(dan, "quiz team leave")
    assert left.content == "Dan left **Foxes**"
    again = await fake.slash(dan, "quiz team leave")
    assert again.ephemeral and again.content  # the engine's refusal, privately


async def test_multiple_answer_question_uses_a_select_menu(fake: FakeDiscord, bot: Harness) -> None:
    ann, ben, cat = fake.user("Ann"), fake.user("Ben"), fake.user("Cat")
    await fake.slash(ann, "quiz start", deck="primes", questions=1, seconds=30)
    q = bot.current_question()
    assert "Check all that apply" in question_lines(q)
    assert not buttons(q)
    (menu,) = selects(q)
    assert re.fullmatch(r"quiz:m:\d+", menu["custom_id"])
    assert menu["min_values"] == 1 and menu["max_values"] == 4
    assert [o["label"] for o in menu["options"]] == ["A", "B", "C", "D"]
    letters = choice_letters(q)
    right = sorted([letters["2"], letters["7"]])
    receipt = await fake.choose(ann, q["id"], right)
    assert receipt.content == f"Locked in: {', '.join(right)}" and receipt.ephemeral
    assert (await fake.choose(ben, q["id"], [right[0]])).content == f"Locked in: {right[0]}"
    await fake.choose(cat, q["id"], [letters["4"], letters["9"]])

    await bot.tick(31)
    closed = fake.messages[q["id"]]
    assert not selects(closed)
    assert sorted(b["label"] for b in buttons(closed) if b["style"] == 3) == right
    assert all(b["disabled"] for b in buttons(closed))
    reveal_text = message_text(latest(fake, "✅ Answer 1/1"))
    assert f"**{right[0]}**: " in reveal_text and f"**{right[1]}**: " in reveal_text
    assert re.search(rf"{right[0]} ▰+▱* 2 \(67%\) ✓", reveal_text)
    assert "🥇 Ann" in reveal_text


async def test_partial_credit_scores_part_of_a_check_all_answer(
    fake: FakeDiscord, bot: Harness
) -> None:
    ann, ben = fake.user("Ann"), fake.user("Ben")
    await fake.slash(ann, "quiz start", deck="primes", questions=1, partial=True)
    q = bot.current_question()
    letters = choice_letters(q)
    assert (await fake.choose(ben, q["id"], [letters["2"]])).content == f"Locked in: {letters['2']}"
    await bot.tick(31)
    podium = message_text(latest(fake, "🏁 Quiz over"))
    (line,) = [row for row in podium.splitlines() if "Ben" in row]
    # one of the two primes is worth points, though the answer is not correct
    assert "(0/1 correct)" in line and ": 0 pts" not in line


async def _fifty_clicks(fake: FakeDiscord, bot: Harness) -> tuple[str, Json, float, int]:
    """Start a quiz and have 50 users click the right answer at once; returns the letter,
    the question, how long the clicks took and how many times the count was edited."""
    host = fake.user("Host")
    await fake.slash(host, "quiz start", deck="algebra", questions=2, seconds=60)
    q = bot.current_question()
    right = right_letters(q)[0]
    crowd = fake.users(50)
    edits_before = len(fake.edits.get(q["id"], []))
    loop = asyncio.get_running_loop()
    began = loop.time()

    receipts = await asyncio.gather(*(fake.click(u, q["id"], right) for u in crowd))

    took = loop.time() - began
    assert [r.content for r in receipts] == [f"Locked in: {right}"] * 50
    assert all(r.ephemeral for r in receipts)
    await bot.settle()
    await asyncio.sleep(bot.engine.refresh_interval * 1.5)
    await bot.settle()
    return right, q, took, len(fake.edits.get(q["id"], [])) - edits_before


async def test_fifty_users_click_at_once(fake: FakeDiscord, bot: Harness) -> None:
    right, q, _, _ = await _fifty_clicks(fake, bot)
    assert "50 answers so far" in question_lines(fake.messages[q["id"]])
    await bot.tick(61)
    assert re.search(rf"{right} ▰{{10}} 50 \(100%\) ✓", message_text(latest(fake, "✅ Answer 1/2")))


async def test_fifty_clicks_edit_the_count_only_a_few_times(
    fake: FakeDiscord, bot: Harness
) -> None:
    _, q, took, edits = await _fifty_clicks(fake, bot)
    # at most one edit per refresh interval while the clicks come in, plus the last one
    allowed = int(took / bot.engine.refresh_interval) + 2
    assert 1 <= edits <= allowed, f"{edits} edits in {took:.2f} s for 50 clicks"
    assert "50 answers so far" in question_lines(fake.messages[q["id"]])


async def test_a_clicks_view_is_freed_without_the_garbage_collector(
    fake: FakeDiscord, bot: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    # discord.py builds a View from the clicked message for every click on a dynamic
    # item; left holding its items (and they it), each one waits for a full collection
    built: list[weakref.ref[discord.ui.View]] = []
    from_message = discord.ui.View.from_message.__func__  # type: ignore[attr-defined]

    def recording(cls: type[discord.ui.View], *args: Any, **kwargs: Any) -> discord.ui.View:
        view: discord.ui.View = from_message(cls, *args, **kwargs)
        built.append(weakref.ref(view))
        return view

    monkeypatch.setattr(discord.ui.View, "from_message", classmethod(recording))
    await fake.slash(fake.user("Host"), "quiz start", deck="algebra", questions=1)
    q = bot.current_question()
    gc.collect()
    gc.disable()
    try:
        for n in range(5):
            receipt = await fake.click(fake.user(f"Player {n}"), q["id"], right_letters(q)[0])
            assert receipt.content.startswith("Locked in")
        alive = [ref for ref in built if ref() is not None]
    finally:
        gc.enable()
    assert len(built) == 5
    assert alive == []


async def test_a_double_click_keeps_the_first_answer(fake: FakeDiscord, bot: Harness) -> None:
    ann = fake.user("Ann")
    await fake.slash(ann, "quiz start", deck="algebra", questions=1)
    q = bot.current_question()
    first, second = right_letters(q)[0], wrong_letter(q)
    assert (await fake.click(ann, q["id"], first)).content == f"Locked in: {first}"
    again = await fake.click(ann, q["id"], second)
    assert again.content == f"You already answered {first}" and again.ephemeral
    same = await fake.click(ann, q["id"], first)
    assert same.content == f"You already answered {first}"
    await bot.tick(31)
    assert re.search(rf"{first} ▰{{10}} 1 \(100%\) ✓", message_text(latest(fake, "✅ Answer")))


async def test_with_changes_allowed_a_second_click_changes_the_answer(
    fake: FakeDiscord, bot: Harness
) -> None:
    ann = fake.user("Ann")
    await fake.slash(ann, "quiz start", deck="algebra", questions=1, changes=True)
    q = bot.current_question()
    right, wrong = right_letters(q)[0], wrong_letter(q)
    assert (await fake.click(ann, q["id"], wrong)).content == f"Locked in: {wrong}"
    changed = await fake.click(ann, q["id"], right)
    assert changed.content == f"Changed to {right}" and changed.ephemeral
    await bot.tick(31)
    assert re.search(rf"{right} ▰{{10}} 1 \(100%\) ✓", message_text(latest(fake, "✅ Answer")))


async def test_only_the_host_or_a_moderator_may_stop(fake: FakeDiscord, bot: Harness) -> None:
    host, other = fake.user("Host"), fake.user("Other")
    moderator = fake.user("Mod", permissions=MEMBER_PERMISSIONS | MANAGE_MESSAGES)
    await fake.slash(host, "quiz start", deck="algebra", questions=3)

    refused = await fake.slash(other, "quiz stop")
    assert refused.ephemeral
    assert refused.content == "Only the quiz host or an admin can stop the quiz"
    skipped = await fake.slash(other, "quiz skip")
    assert skipped.content == "Only the quiz host or an admin can skip the quiz"
    assert not fake.find("Quiz stopped")

    assert (await fake.slash(moderator, "quiz skip")).content == "Question skipped."
    await bot.settle()
    assert latest(fake, "Question ")["embeds"][0]["title"] == "Question 2/3"
    stopped = await fake.slash(host, "quiz stop")
    assert stopped.content == "Quiz stopped." and stopped.ephemeral
    summary_text = message_text(latest(fake, "🏁 Quiz stopped"))
    assert "Stopped by Host" in summary_text
    nothing = await fake.slash(host, "quiz stop")
    assert nothing.content == "No quiz is running in this channel" and nothing.ephemeral


async def test_buttons_keep_working_after_a_restart(
    fake: FakeDiscord, bot: Harness, store: SqlStore, database_url: str
) -> None:
    ann, ben = fake.user("Ann"), fake.user("Ben")
    await fake.slash(ann, "quiz start", deck="algebra", questions=2, seconds=30)
    q1 = bot.current_question()
    await fake.click(ann, q1["id"], right_letters(q1)[0])
    await bot.tick(31)
    q2 = bot.current_question()
    assert q2["embeds"][0]["title"] == "Question 2/2"

    # the process goes away mid-round; a new one starts on the same database
    await bot.stop()
    fake.identified.clear()
    restarted = await start_bot(fake, store, bot.clock, database_url=database_url)
    try:
        right = right_letters(q2)[0]
        receipt = await fake.click(ben, q2["id"], right)
        assert receipt.content == f"Locked in: {right}"
        # a copy of question 1 that never got its reveal edit: the round is closed
        stale = await fake.click(ben, q1["id"], right_letters(q1)[0], stale=True)
        assert stale.content == "This round is closed" and stale.ephemeral
        await restarted.tick(31)
        reveal_text = message_text(latest(fake, "✅ Answer 2/2"))
        assert "🥇 Ben" in reveal_text
        assert latest(fake, "🏁 Quiz over")
    finally:
        await restarted.stop()
        bot.task = restarted.task  # the fixture's stop() is then a no-op on a closed client


async def test_a_rate_limited_edit_is_retried_and_the_quiz_goes_on(
    fake: FakeDiscord, bot: Harness
) -> None:
    ann = fake.user("Ann")
    await fake.slash(ann, "quiz start", deck="algebra", questions=2, seconds=30)
    q1 = bot.current_question()
    right = right_letters(q1)[0]
    await fake.click(ann, q1["id"], right)
    await bot.settle()
    await asyncio.sleep(0.3)
    await bot.settle()
    fake.rate_limit("PATCH", QUESTION_EDIT, retry_after=0.05)

    await bot.tick(31)

    edits = fake.calls_to("PATCH", rf"/channels/\d+/messages/{q1['id']}")
    assert [c.status for c in edits][-2:] == [429, 200]
    closed = fake.messages[q1["id"]]
    assert all(b["disabled"] for b in buttons(closed))
    assert latest(fake, "✅ Answer 1/2")
    q2 = bot.current_question()
    assert q2["embeds"][0]["title"] == "Question 2/2"
    assert (await fake.click(ann, q2["id"], right_letters(q2)[0])).content.startswith("Locked in")


# Discord's 3 s are 0.6 s here: short enough for a quick test, long enough that
# the quiz start before the click gets its first response in time on a loaded machine
@pytest.mark.parametrize("fake", [0.2], indirect=True)
async def test_slow_database_gets_a_deferred_receipt(
    fake: FakeDiscord, bot: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    ann = fake.user("Ann")
    await fake.slash(ann, "quiz start", deck="algebra", questions=1)
    q = bot.current_question()
    right = right_letters(q)[0]
    real_add = bot.store.add_answer
    pause = fake.first_response_limit * 1.5  # longer than Discord would wait

    async def slow_add(*args: object, **kwargs: object) -> object:
        await asyncio.sleep(pause)
        return await real_add(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(bot.store, "add_answer", slow_add)
    receipt = await fake.click(ann, q["id"], right)
    assert receipt.deferred
    assert receipt.content == f"Locked in: {right}" and receipt.ephemeral
    assert receipt.first_response_at is not None
    assert receipt.first_response_at - receipt.sent_at < fake.first_response_limit


async def test_deck_autocomplete_decks_and_help(fake: FakeDiscord, bot: Harness) -> None:
    from tests.fake_discord.payloads import Focused

    ann = fake.user("Ann")
    offered = await fake.autocomplete(ann, "quiz start", deck=Focused("alg"))
    assert offered == [{"name": "Algebra basics (3)", "value": "algebra"}]
    everything = await fake.autocomplete(ann, "quiz start", deck=Focused(""))
    assert [c["value"] for c in everything] == ["algebra", "fractions", "primes"]

    decks = await fake.slash(ann, "quiz decks")
    assert decks.ephemeral and "**primes**: Prime numbers (1 question)" in decks.text
    helped = await fake.slash(ann, "quiz help")
    assert helped.ephemeral and "/quiz start" in helped.text and "/quiz team" in helped.text

    unknown = await fake.slash(ann, "quiz start", deck="nope")
    assert unknown.ephemeral and "No deck named 'nope'" in unknown.content
    assert not [m for m in fake.bot_posts() if m["embeds"]]


async def test_math_that_unicode_cannot_show_comes_with_a_picture(
    fake: FakeDiscord, bot: Harness
) -> None:
    ann = fake.user("Ann")
    await fake.slash(ann, "quiz start", deck="fractions", questions=1)
    q = bot.current_question()
    round_id = buttons(q)[0]["custom_id"].split(":")[2]
    picture = f"question-{round_id}.png"
    posted = fake.calls_to("POST", r"/channels/\d+/messages")[-1]
    assert posted.files == [picture]
    assert isinstance(posted.body, dict)
    [described] = posted.body["attachments"]
    # the picture's words, for a screen reader: the prompt and choices as Unicode
    assert described["description"].startswith("What is ")
    assert "A) " in described["description"] and "$" not in described["description"]
    assert [a["filename"] for a in q["attachments"]] == [picture]
    assert q["embeds"][0]["image"]["url"] == f"attachment://{picture}"
    # the text stays readable on its own, with the fraction written on one line
    assert "$" not in embed_text(q["embeds"][0])


async def test_a_channel_the_bot_cannot_post_in(fake: FakeDiscord, bot: Harness) -> None:
    ann = fake.user("Ann")
    fake.forbid("POST", r"/channels/\d+/messages")
    refused = await fake.slash(ann, "quiz start", deck="algebra")
    assert refused.ephemeral
    assert refused.content.startswith("I cannot post in this channel")
    # the failed quiz does not block the channel once the permission is fixed
    started = await fake.slash(ann, "quiz start", deck="algebra", questions=1)
    assert started.content.startswith("Quiz started")
    assert bot.current_question()["embeds"][0]["title"] == "Question 1/1"
