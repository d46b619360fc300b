"""Slack side of the weekly rhythm: /quiz config, schedule and stats, and the weekly board."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest

from bot.adapters.slack_chat import SlackChat
from bot.core.model import ScoreRow, SubjectKind
from bot.core.rhythm_cards import WeeklyBoardCard
from tests.mock_slack.harness import ADA, BEN, BOSS, SlackHarness
from tests.mock_slack.requests import User


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
    await chat.post_board("C0BOARD", BOARD, b"\x89PNG fake")
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
    await chat.post_board("C0BOARD", BOARD, b"\x89PNG fake")
    [message] = h.mock.channel_messages("C0BOARD")
    assert message.plain.startswith("*Week 2026-W48")
