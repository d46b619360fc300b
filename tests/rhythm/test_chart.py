"""Leaderboard pictures: valid PNGs of the documented size, on both themes."""

from __future__ import annotations

import struct
from datetime import UTC, date, datetime

import pytest

from bot.core.cards import LeaderboardCard
from bot.core.model import ScoreRow, SubjectKind
from bot.core.rhythm.cards import WeeklyBoardCard
from bot.render.chart import (
    HEIGHT,
    WIDTH,
    leaderboard_card_png,
    leaderboard_png,
    weekly_board_png,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (checking the signature on the way)."""
    assert data[:8] == PNG_SIGNATURE
    length, kind = struct.unpack(">I4s", data[8:16])
    assert (length, kind) == (13, b"IHDR")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def rows(count: int) -> list[ScoreRow]:
    """A board of `count` players, best first."""
    return [
        ScoreRow(n, SubjectKind.PLAYER, 100 + n, f"Player {n}", 5000 - 400 * n, 10 - n // 2, 10)
        for n in range(1, count + 1)
    ]


def test_documented_size() -> None:
    assert (WIDTH, HEIGHT) == (800, 500)


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_leaderboard_png_is_a_png_of_the_documented_size(theme: str) -> None:
    data = leaderboard_png(rows(10), highlight=103, theme=theme, title="This week")
    assert png_size(data) == (800, 500)
    assert data.endswith(b"IEND\xaeB`\x82")


def test_every_board_has_the_same_size_and_the_themes_differ() -> None:
    sizes = {
        png_size(leaderboard_png(rows(n), theme="light"))
        for n in (0, 1, 11, 30)  # empty, one bar, full, more than fit
    }
    assert sizes == {(WIDTH, HEIGHT)}
    long_name = [ScoreRow(1, SubjectKind.PLAYER, 1, "W" * 60 + " $x^2$ 🦉", 10, 1, 1)]
    assert png_size(leaderboard_png(long_name)) == (WIDTH, HEIGHT)
    assert leaderboard_png(rows(3), theme="dark") != leaderboard_png(rows(3), theme="light")
    assert leaderboard_png(rows(3), highlight=102) != leaderboard_png(rows(3))


def test_unknown_theme() -> None:
    with pytest.raises(ValueError, match="unknown theme 'pink'"):
        leaderboard_png(rows(2), theme="pink")


def test_card_pictures() -> None:
    me = ScoreRow(27, SubjectKind.PLAYER, 999, "Me", 10, 1, 3)
    card = LeaderboardCard(
        "This week (2026-W48)", "2026-W48", SubjectKind.PLAYER, tuple(rows(10)), me
    )
    assert png_size(leaderboard_card_png(card, theme="light")) == (WIDTH, HEIGHT)
    board = WeeklyBoardCard(
        community_name="Study group",
        week="2026-W48",
        first_day=date(2026, 11, 23),
        last_day=date(2026, 11, 29),
        players=tuple(rows(4)),
        teams=(),
        questions_played=12,
        most_improved=None,
        ended_at=datetime(2026, 11, 29, 23, tzinfo=UTC),
    )
    assert png_size(weekly_board_png(board)) == (WIDTH, HEIGHT)
