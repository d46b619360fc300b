"""Slack side of the weekly rhythm: /quiz config, schedule and stats, the leaderboard
chart, and the weekly board."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest

from bot.adapters.slack.chat import SlackChat
from bot.core.model import ScoreRow, SubjectKind
from bot.core.rhythm.cards import WeeklyBoardCard
from bot.render.chart import HEIGHT, WIDTH
from bot.runtime import rhythm_for, run_ticker
from tests.mock_slack.harness import ADA, BEN, BOSS, SlackHarness, right_letters, wrong_letter
from tests.mock_slack.requests import User
from tests.mock_slack.server import Upload

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# the harness clock starts on Mon 23 Nov 2026, 12:00 UTC: week 2026-W48, which ends at
# Mon 30 Nov 00:00 UTC
WEEK_END = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)


@pytest.fixture
async def harness(database_url: str) -> AsyncIterator[SlackHarness]:
    opened = await SlackHarness.open(database_url)
    try:
        yield opened
    finally:
        await opened.close()


async def reply_to(h: SlackHarness, user: User, text: str) -> str:
    """Type a /quiz command; the ephemeral reply the user gets."""
    seen = len(h.mock.ephemerals_for(user.id))
    reply = await h.slack.command(user, text)
    assert reply.status == 200, reply.body
    return (await h.mock.wait_for_ephemerals(user.id, seen + 1))[-1]


def png_size(upload: Upload) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (after checking the signature)."""
    assert upload.data.startswith(PNG_SIGNATURE), upload.data[:16]
    assert upload.data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", upload.data[16:24])
    return width, height


async def play_one_question(h: SlackHarness) -> None:
    """A one-question quiz in the channel: ada answers right, ben wrong; it runs to its end."""
    seen = len(h.messages())
    assert (await h.slack.command(ADA, "start science 1 30s")).status == 200
    await h.mock.wait_for(lambda: len(h.messages()) > seen)
    question = h.question()
    for user, letter in ((ADA, right_letters(question)[0]), (BEN, wrong_letter(question))):
        receipts = len(h.mock.ephemerals_for(user.id))
        assert (await h.slack.click(user, question, letter)).status == 200
        await h.mock.wait_for_ephemerals(user.id, receipts + 1)
    await h.tick(31)


async def test_config_is_shown_to_anyone_and_changed_by_admins_only(
    harness: SlackHarness,
) -> None:
    h = harness
    shown = await reply_to(h, ADA, "config")
    assert shown.startswith("*Settings of study*") and "channel: off" in shown
    assert h.mock.calls_to("users.info") == [], "looking needs no admin check"

    refused = await reply_to(h, ADA, "config channel here")
    assert "admin" in refused.lower()
    assert [c.params["user"] for c in h.mock.calls_to("users.info")] == [ADA.id]

    changed = await reply_to(h, BOSS, "config channel <#C0BOARD|board>")
    assert changed.startswith("*channel set*")
    assert "channel: <#C0BOARD>" in changed, "channel links stay unescaped"
    assert (await reply_to(h, BOSS, "config nope 1")).startswith("Unknown setting 'nope'")


async def test_stats_of_oneself_and_of_a_mentioned_member(harness: SlackHarness) -> None:
    h = harness
    assert (await reply_to(h, ADA, "stats")).startswith("*Stats of ada*")
    assert (await reply_to(h, ADA, f"stats <@{BEN.id}|ben>")).startswith("*Stats of ben*")
    assert "@name" in await reply_to(h, ADA, "stats ben")


async def test_schedule_list_needs_no_admin_and_adding_does(harness: SlackHarness) -> None:
    h = harness
    listed = await reply_to(h, ADA, "schedule list")
    assert listed.startswith("*")
    assert h.mock.calls_to("users.info") == []
    assert "admin" in (await reply_to(h, ADA, "schedule daily 09:00 science")).lower()
    added = await reply_to(h, BOSS, "schedule daily 09:00 science 3")
    assert "09:00" in added


async def test_schedule_add_list_cancel(harness: SlackHarness) -> None:
    h = harness
    added = await reply_to(h, BOSS, "schedule weekly fri 18:30 science 2")
    assert added.startswith("*Scheduled quiz #")
    number = added.removeprefix("*Scheduled quiz #").split("*")[0]
    assert f"#{number} weekly fri 18:30 in <#{h.slack.channel}>: science, 2 questions" in added
    assert "Bad time '25:00'" in await reply_to(h, BOSS, "schedule daily 25:00")
    assert f"#{number} weekly fri 18:30" in await reply_to(h, ADA, "schedule list")

    assert "admin" in (await reply_to(h, ADA, f"schedule cancel {number}")).lower()
    cancelled = await reply_to(h, BOSS, f"schedule cancel {number}")
    assert cancelled.startswith(f"*Cancelled scheduled quiz #{number}*")
    assert (await reply_to(h, BOSS, f"schedule cancel {number}")).startswith(
        f"No scheduled quiz #{number} here"
    )
    assert "No scheduled quizzes" in await reply_to(h, ADA, "schedule list")


async def test_leaderboard_chart_is_uploaded_to_the_channel(harness: SlackHarness) -> None:
    h = harness
    await play_one_question(h)
    seen, receipts = len(h.messages()), len(h.mock.ephemerals_for(BEN.id))
    assert (await h.slack.command(BEN, "leaderboard")).status == 200
    await h.mock.wait_for(lambda: len(h.messages()) > seen)

    [upload] = h.mock.uploads.values()
    assert upload.channel == h.slack.channel
    assert png_size(upload) == (WIDTH, HEIGHT)
    assert upload.title.startswith("This week")
    [get_url] = h.mock.calls_to("files.getUploadURLExternal")
    assert get_url.params["filename"] == "leaderboard.png"
    message = h.mock.last_message(h.slack.channel)
    assert message.files == [upload.file_id]
    assert message.plain.startswith("*This week")
    assert message.plain.splitlines()[1].startswith("🥇 ada:")
    assert len(h.mock.ephemerals_for(BEN.id)) == receipts, "the board is for the channel"

    # an empty board has nothing to draw: the text goes alone
    seen = len(h.messages())
    assert (await h.slack.command(BEN, "leaderboard last-week")).status == 200
    await h.mock.wait_for(lambda: len(h.messages()) > seen)
    assert "No scores yet." in h.messages()[-1]
    assert len(h.mock.uploads) == 1


async def test_leaderboard_falls_back_to_text_when_the_upload_is_refused(
    harness: SlackHarness,
) -> None:
    h = harness
    await play_one_question(h)
    h.mock.fail("files.getUploadURLExternal", "missing_scope")
    seen = len(h.messages())
    assert (await h.slack.command(BEN, "leaderboard")).status == 200
    await h.mock.wait_for(lambda: len(h.messages()) > seen)
    board = h.mock.last_message(h.slack.channel)
    assert not board.files and not h.mock.uploads
    assert board.plain.startswith("*This week")
    assert board.plain.splitlines()[1].startswith("🥇 ada:")
    assert h.mock.calls_to("response_url")[-1].params["response_type"] == "in_channel"


async def test_weekly_board_is_posted_once_when_the_week_ends(harness: SlackHarness) -> None:
    h = harness
    assert (await reply_to(h, BOSS, "config channel <#C0BOARD|board>")).startswith("*channel set*")
    await play_one_question(h)

    h.clock.set(datetime(2026, 11, 29, 23, 59, 30, tzinfo=UTC))
    rhythm = rhythm_for(h.engine)
    assert rhythm is not None
    assert (await rhythm.run_due()).idle

    # the clock passes the week's end; the runtime's ticker (which builds the rhythm as
    # serve does) posts the board on its first turn, which it finishes before stopping
    h.clock.set(WEEK_END.replace(second=30))
    stop = asyncio.Event()
    ticker = asyncio.create_task(run_ticker(h.engine, stop, 0.01, rhythm_interval=0.02))
    await asyncio.sleep(0.3)
    stop.set()
    await ticker
    assert (await rhythm.run_due()).idle, "another process finds the board posted"

    [upload] = h.mock.uploads.values()
    assert upload.channel == "C0BOARD"
    assert png_size(upload) == (WIDTH, HEIGHT)
    assert upload.comment.startswith("*Week 2026-W48 (Mon 23 Nov – Sun 29 Nov): the board*")
    assert "Questions played: 1" in upload.comment and "ada: " in upload.comment
    [post] = h.mock.channel_messages("C0BOARD")
    assert post.files == [upload.file_id]


BOARD = WeeklyBoardCard(
    community_name="study",
    week="2026-W48",
    first_day=date(2026, 11, 23),
    last_day=date(2026, 11, 29),
    players=(ScoreRow(1, SubjectKind.PLAYER, 1, "ada <3", 30, 3, 3),),
    teams=(),
    questions_played=3,
    most_improved=None,
    ended_at=datetime(2026, 11, 30, tzinfo=UTC),
)


async def test_weekly_board_is_uploaded_with_its_chart(harness: SlackHarness) -> None:
    h = harness
    chat = h.engine.chat
    assert isinstance(chat, SlackChat)
    await chat.post_board("C0BOARD", BOARD, b"\x89PNG fake", key="board-test")
    [upload] = h.mock.uploads.values()
    assert upload.data == b"\x89PNG fake" and upload.channel == "C0BOARD"
    assert upload.comment.startswith("*Week 2026-W48 (Mon 23 Nov – Sun 29 Nov): the board*")
    assert "ada &lt;3: 30 pts" in upload.comment


async def test_weekly_board_falls_back_to_text_when_upload_is_refused(
    harness: SlackHarness,
) -> None:
    h = harness
    h.mock.fail("files.getUploadURLExternal", "missing_scope")
    chat = h.engine.chat
    assert isinstance(chat, SlackChat)
    await chat.post_board("C0BOARD", BOARD, b"\x89PNG fake", key="board-test")
    [message] = h.mock.channel_messages("C0BOARD")
    assert message.plain.startswith("*Week 2026-W48")
