"""Discord side of the weekly rhythm, end to end on the fake: /quiz config, schedule and
stats, the leaderboard chart, and the week's board posted by itself when the week ends."""

from __future__ import annotations

import asyncio
import struct
from datetime import UTC, date, datetime

import discord
import pytest

from bot.adapters.discord.client import DiscordChat
from bot.core.bank import QuestionBank
from bot.core.engine import QuizEngine
from bot.core.model import ScoreRow, SubjectKind
from bot.core.rhythm.cards import WeeklyBoardCard
from bot.core.rhythm.report import RunOutcome
from bot.render.chart import HEIGHT, WIDTH
from bot.runtime import rhythm_for, run_ticker
from bot.store import SqlStore
from tests.fake_discord import FakeDiscord, FakeUser, InteractionRecord, Upload, message_text
from tests.fake_discord.harness import DECKS, Harness, right_letters, wrong_letter
from tests.fake_discord.payloads import MANAGE_GUILD, MANAGE_MESSAGES, MEMBER_PERMISSIONS, Json

# the harness clock starts on Mon 23 Nov 2026, 12:00 UTC: week 2026-W48 in UTC, which ends
# at Mon 30 Nov 00:00 UTC
WEEK_END = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)


def admin_of(fake: FakeDiscord) -> FakeUser:
    """A member with Manage Server."""
    return fake.user("Boss", permissions=MEMBER_PERMISSIONS | MANAGE_GUILD)


def one_private_line(reply: InteractionRecord) -> str:
    """The text of a reply that must be a single ephemeral line without embeds."""
    assert reply.ephemeral, reply.text
    assert not reply.embeds, reply.embeds
    assert len(reply.content.splitlines()) == 1, reply.content
    return reply.content


def png_size(upload: Upload) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (after checking the signature)."""
    assert upload.is_png, upload.data[:16]
    assert upload.data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", upload.data[16:24])
    return width, height


async def play_one_question(
    fake: FakeDiscord, bot: Harness, right: FakeUser, *wrong: FakeUser
) -> None:
    """A one-question quiz: `right` answers correctly, the others wrongly; it runs to its end."""
    started = await fake.slash(right, "quiz start", deck="algebra", questions=1, seconds=20)
    assert started.content.startswith("Quiz started"), started.content
    question = bot.current_question()
    await fake.click(right, question["id"], right_letters(question)[0])
    for player in wrong:
        await fake.click(player, question["id"], wrong_letter(question))
    await bot.settle()
    await bot.tick(21)


def boards(fake: FakeDiscord) -> list[Json]:
    """The week's board posts in the channel."""
    return [
        m
        for m in fake.bot_posts()
        if m["embeds"] and str(m["embeds"][0].get("title") or "").startswith("🏆 Week ")
    ]


# ---- /quiz config ---------------------------------------------------------------------------


async def test_config_is_shown_to_anyone_and_changed_by_server_admins_only(
    fake: FakeDiscord, bot: Harness
) -> None:
    ann, boss = fake.user("Ann"), admin_of(fake)
    moderator = fake.user("Mod", permissions=MEMBER_PERMISSIONS | MANAGE_MESSAGES)

    shown = await fake.slash(ann, "quiz config")
    assert shown.ephemeral
    [embed] = shown.embeds
    assert embed["title"] == "Settings of Study Group"
    assert "channel: off (default)" in embed["description"]
    assert "timezone: UTC (default)" in embed["description"]

    for member in (ann, moderator):  # Manage Messages may stop quizzes, not change settings
        refused = await fake.slash(member, "quiz config", key="timezone", value="Europe/Berlin")
        assert "admins" in one_private_line(refused)
    assert "timezone: UTC" in (await fake.slash(ann, "quiz config")).text

    changed = await fake.slash(boss, "quiz config", key="channel", value="here")
    assert changed.ephemeral
    assert changed.embeds[0]["title"] == "channel set"
    assert f"channel: <#{fake.channel_id}> ← changed" in changed.text
    assert "Next weekly board: Mon 30 Nov 00:00 UTC" in changed.text
    berlin = await fake.slash(boss, "quiz config", key="timezone", value="Europe/Berlin")
    assert "timezone: Europe/Berlin ← changed" in berlin.text

    bad = await fake.slash(boss, "quiz config", key="timezone", value="Mars/Olympus")
    assert one_private_line(bad).startswith("Bad timezone 'Mars/Olympus'")
    too_many = await fake.slash(boss, "quiz config", key="questions", value="500")
    assert one_private_line(too_many).startswith("Bad questions '500'")
    no_value = await fake.slash(boss, "quiz config", key="questions")
    assert one_private_line(no_value).startswith("Missing value for questions")
    no_key = await fake.slash(boss, "quiz config", value="10")
    assert "/quiz config key value" in one_private_line(no_key)
    assert "timezone: Europe/Berlin" in (await fake.slash(ann, "quiz config")).text


# ---- /quiz schedule -------------------------------------------------------------------------


async def test_schedule_add_list_cancel_and_the_slot_starts_a_quiz(
    fake: FakeDiscord, bot: Harness
) -> None:
    ann, boss = fake.user("Ann"), admin_of(fake)

    refused = await fake.slash(ann, "quiz schedule daily", time="09:00")
    assert "admins" in one_private_line(refused)
    bad_time = await fake.slash(boss, "quiz schedule daily", time="25:00")
    assert one_private_line(bad_time).startswith("Bad time '25:00'")
    bad_deck = await fake.slash(boss, "quiz schedule daily", time="09:00", deck="nope")
    assert "nope" in one_private_line(bad_deck)

    daily = await fake.slash(boss, "quiz schedule daily", time="09:00", deck="algebra", questions=2)
    assert daily.ephemeral
    title = daily.embeds[0]["title"]
    assert title.startswith("Scheduled quiz #")
    daily_id = int(title.removeprefix("Scheduled quiz #"))
    assert f"#{daily_id} daily 09:00 in <#{fake.channel_id}>: algebra, 2 questions" in daily.text
    assert "(next Tue 24 Nov 09:00 UTC)" in daily.text
    weekly = await fake.slash(boss, "quiz schedule weekly", day="fri", time="18:30")
    assert "weekly fri 18:30" in weekly.text and "default deck, default length" in weekly.text

    listed = await fake.slash(ann, "quiz schedule list")
    assert listed.ephemeral and listed.embeds[0]["title"] == "Scheduled quizzes"
    lines = listed.embeds[0]["description"].splitlines()
    assert len(lines) == 2 and "daily 09:00" in lines[0] and "weekly fri 18:30" in lines[1]

    weekly_id = int(weekly.embeds[0]["title"].removeprefix("Scheduled quiz #"))
    assert "admins" in one_private_line(await fake.slash(ann, "quiz schedule cancel", id=weekly_id))
    cancelled = await fake.slash(boss, "quiz schedule cancel", id=weekly_id)
    assert cancelled.embeds[0]["title"] == f"Cancelled scheduled quiz #{weekly_id}"
    again = await fake.slash(boss, "quiz schedule cancel", id=weekly_id)
    assert one_private_line(again).startswith(f"No scheduled quiz #{weekly_id} here")
    left = (await fake.slash(ann, "quiz schedule list")).embeds[0]["description"].splitlines()
    assert len(left) == 1 and f"#{daily_id} daily 09:00" in left[0]

    # the slot comes: the ticker's hook starts the quiz in the channel, once
    bot.clock.set(datetime(2026, 11, 24, 9, 0, 10, tzinfo=UTC))
    report = await bot.rhythm.run_due()
    assert [run.outcome for run in report.schedules] == [RunOutcome.STARTED]
    await bot.settle()
    assert bot.current_question()["embeds"][0]["title"] == "Question 1/2"
    assert (await bot.rhythm.run_due()).idle
    assert (await fake.slash(boss, "quiz stop")).content == "Quiz stopped."


# ---- /quiz stats -----------------------------------------------------------------------------


async def test_stats_of_oneself_and_of_a_picked_member_are_private(
    fake: FakeDiscord, bot: Harness
) -> None:
    ann, ben, cy = fake.user("Ann"), fake.user("Ben"), fake.user("Cy")
    await play_one_question(fake, bot, ann, ben)

    own = await fake.slash(ann, "quiz stats")
    assert own.ephemeral
    [embed] = own.embeds
    assert embed["title"] == "📊 Stats of Ann"
    assert "Questions answered: 1" in embed["description"]
    assert "Accuracy: 100% (1/1)" in embed["description"]
    assert "Rank this week (2026-W48): #1" in embed["description"]

    of_ben = await fake.slash(ann, "quiz stats", player=ben)
    assert of_ben.ephemeral and of_ben.embeds[0]["title"] == "📊 Stats of Ben"
    assert "Accuracy: 0% (0/1)" in of_ben.text
    of_cy = await fake.slash(ann, "quiz stats", player=cy)
    assert "Cy has not answered any question here yet." in of_cy.text
    assert not fake.find("Stats of"), "stats are never posted to the channel"


# ---- /quiz leaderboard with its chart --------------------------------------------------------


async def test_leaderboard_comes_with_its_chart_attached(fake: FakeDiscord, bot: Harness) -> None:
    ann, ben = fake.user("Ann"), fake.user("Ben")
    await play_one_question(fake, bot, ann, ben)

    board = await fake.slash(ben, "quiz leaderboard")
    assert not board.ephemeral
    [embed] = board.embeds
    assert embed["title"] == "🏆 This week (2026-W48)"
    assert "🥇 Ann:" in embed["description"], "the text stays beside the picture"
    assert embed["image"]["url"] == "attachment://leaderboard.png"
    attached = fake.attachments(board.reply)
    assert list(attached) == ["leaderboard.png"]
    assert png_size(attached["leaderboard.png"]) == (WIDTH, HEIGHT)
    assert [a["filename"] for a in board.reply["attachments"]] == ["leaderboard.png"]

    # a reply that had to be deferred gets its chart by editing the "thinking…" message
    bot.bot.defer_after = 0
    again = await fake.slash(ann, "quiz leaderboard", period="all")
    assert again.deferred and not again.ephemeral
    assert again.embeds[0]["image"]["url"] == "attachment://leaderboard.png"
    assert png_size(fake.attachments(again.reply)["leaderboard.png"]) == (WIDTH, HEIGHT)

    empty = await fake.slash(ann, "quiz leaderboard", period="last-week")
    assert "No scores yet." in empty.text
    assert not fake.attachments(empty.reply), "an empty board has no chart"
    assert "image" not in empty.embeds[0]


async def test_leaderboard_falls_back_to_text_when_the_upload_is_refused(
    fake: FakeDiscord, bot: Harness
) -> None:
    ann = fake.user("Ann")
    await play_one_question(fake, bot, ann)
    fake.refuse_uploads()

    board = await fake.slash(ann, "quiz leaderboard")
    assert not board.ephemeral
    assert "🥇 Ann:" in board.embeds[0]["description"]
    assert "image" not in board.embeds[0]
    assert not fake.attachments(board.reply)
    refused = [c for c in fake.calls if c.status == 413]
    assert len(refused) == 1 and refused[0].files == ["leaderboard.png"]

    # the same when the reply was deferred and the chart comes with the edit
    fake.refuse_uploads()
    bot.bot.defer_after = 0
    deferred = await fake.slash(ann, "quiz leaderboard")
    assert deferred.deferred and not deferred.ephemeral
    assert "🥇 Ann:" in deferred.text and "image" not in deferred.embeds[0]
    assert not fake.attachments(deferred.reply)
    assert len([c for c in fake.calls if c.status == 413]) == 2


# ---- the week's board, posted by itself ---------------------------------------------------------


async def test_weekly_board_is_posted_once_in_the_configured_channel(
    fake: FakeDiscord, bot: Harness, database_url: str
) -> None:
    ann, ben, boss = fake.user("Ann"), fake.user("Ben"), admin_of(fake)
    await fake.slash(boss, "quiz config", key="channel", value="here")
    await play_one_question(fake, bot, ann, ben)

    # the week has not ended yet: nothing is due
    bot.clock.set(datetime(2026, 11, 29, 23, 59, 30, tzinfo=UTC))
    assert (await bot.rhythm.run_due()).idle
    assert not boards(fake)

    # the clock passes the week's end; the runtime's ticker runs the rhythm (at once on
    # its first turn, which it finishes before it looks at `stop`), then a few times more
    bot.clock.set(WEEK_END.replace(second=30))
    stop = asyncio.Event()
    ticker = asyncio.create_task(
        run_ticker(bot.engine, stop, 0.01, rhythm=bot.rhythm, rhythm_interval=0.02)
    )
    await asyncio.sleep(0.3)
    stop.set()
    await ticker
    assert len(boards(fake)) == 1

    # another process on the same database (or this one after a restart) posts nothing
    other_store = SqlStore.from_url(database_url)
    try:
        other = QuizEngine(
            other_store,
            QuestionBank(DECKS),
            DiscordChat(bot.bot),
            platform="discord",
            clock=bot.clock,
        )
        other_rhythm = rhythm_for(other)
        assert other_rhythm is not None
        assert (await other_rhythm.run_due()).idle
    finally:
        await other_store.close()
    assert (await bot.rhythm.run_due()).idle

    [post] = boards(fake)
    assert post["channel_id"] == fake.channel_id
    [embed] = post["embeds"]
    assert embed["title"] == "🏆 Week 2026-W48 (Mon 23 Nov – Sun 29 Nov): the board"
    text = message_text(post)
    assert "Questions played: 1" in text
    assert "🥇 Ann:" in text and "Ben:" in text
    assert embed["image"]["url"] == "attachment://leaderboard.png"
    assert png_size(fake.attachments(post)["leaderboard.png"]) == (WIDTH, HEIGHT)


BOARD = WeeklyBoardCard(
    community_name="Study Group",
    week="2026-W48",
    first_day=date(2026, 11, 23),
    last_day=date(2026, 11, 29),
    players=(ScoreRow(1, SubjectKind.PLAYER, 1, "Ann", 30, 3, 3),),
    teams=(),
    questions_played=3,
    most_improved=None,
    ended_at=WEEK_END,
)


async def test_weekly_board_posts_text_when_the_upload_fails_and_raises_only_if_nothing_posted(
    fake: FakeDiscord, bot: Harness
) -> None:
    chat = bot.engine.chat
    assert isinstance(chat, DiscordChat)
    fake.refuse_uploads()
    await chat.post_board(fake.channel_id, BOARD, b"\x89PNG\r\n\x1a\n not really", key="board-test")
    [post] = boards(fake)
    assert "🥇 Ann: 30 pts" in message_text(post)
    assert "image" not in post["embeds"][0] and not fake.attachments(post)

    fake.forbid("POST", r"/channels/\d+/messages", times=2)
    with pytest.raises(discord.Forbidden):
        await chat.post_board(
            fake.channel_id, BOARD, b"\x89PNG\r\n\x1a\n not really", key="board-test"
        )
    assert len(boards(fake)) == 1
