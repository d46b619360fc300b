"""Leaderboards as PNG bar charts (matplotlib, Agg), for the weekly post and /quiz leaderboard.

Every chart is exactly WIDTH × HEIGHT pixels (800 × 500): chat clients show a picture
of a known size without jumping, and tests check the PNG header for it. Room is kept
for MAX_BARS bars (a top 10 plus the asking player's own row below it), so a bar has
the same thickness on every board. The figure is painted on the chat theme's own
background ("dark": Discord's and Slack's dark message colour, "light": white), with
text at over 12:1 contrast, so it reads like the message it sits in; the asking
player's bar is drawn in an accent colour and their name in bold.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bot.core.cards import LeaderboardCard, rank_label
from bot.core.model import ScoreRow
from bot.core.rhythm.cards import WeeklyBoardCard
from bot.render.fonts import chart_fonts, quiet_glyphs
from bot.render.math import THEMES

if TYPE_CHECKING:
    from matplotlib.axes import Axes

log = logging.getLogger(__name__)

LEADERBOARD_IMAGE = "leaderboard.png"
"""File name of a /quiz leaderboard chart, as uploaded to the chat."""
WIDTH = 800
HEIGHT = 500
DPI = 100
MAX_BARS = 11
MAX_NAME = 18

# (bar, highlighted bar): blurple and a warm accent, both clear on either background
_BARS: dict[str, tuple[str, str]] = {
    "dark": ("#5865f2", "#f0b232"),
    "light": ("#4e5fd8", "#d98a00"),
}
_MEDALS = {1: "1st", 2: "2nd", 3: "3rd"}


def _name(row: ScoreRow) -> str:
    # the chart font has no emoji medals: ranks are written out
    rank = rank_label(row.rank, row.points) if row.points == 0 else None
    rank = rank or _MEDALS.get(row.rank) or rank_label(row.rank)
    name = row.name if len(row.name) <= MAX_NAME else row.name[: MAX_NAME - 1] + "…"
    return f"{rank}  {name}"


def leaderboard_png(
    rows: Sequence[ScoreRow],
    highlight: int | None = None,
    theme: str = "dark",
    title: str | None = None,
) -> bytes:
    """A WIDTH × HEIGHT PNG bar chart of board rows (first MAX_BARS): names and points,
    the row whose subject id is `highlight` marked; theme "dark" or "light"."""
    if theme not in THEMES:
        raise ValueError(f"unknown theme {theme!r}: use one of {', '.join(THEMES)}")
    # matplotlib is imported in _draw: it takes a noticeable time to import and only
    # pictures need it. The Figure/FigureCanvasAgg API never touches pyplot's global
    # state, so charts can be drawn from worker threads.
    quiet_glyphs()
    return _draw(rows, highlight, theme, title)


def _draw(rows: Sequence[ScoreRow], highlight: int | None, theme: str, title: str | None) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    background, foreground = THEMES[theme]
    bar, accent = _BARS[theme]
    shown = list(rows)[:MAX_BARS]
    family = list(chart_fonts())  # CJK names draw in a fallback font, not as boxes
    figure = Figure(figsize=(WIDTH / DPI, HEIGHT / DPI), dpi=DPI, facecolor=background)
    renderer = FigureCanvasAgg(figure).get_renderer()  # type: ignore[no-untyped-call]
    figure.text(
        0.5,
        0.95,
        title or "Leaderboard",
        ha="center",
        va="top",
        fontsize=17,
        fontweight="bold",
        color=foreground,
        parse_math=False,
        family=family,
    )
    axes = figure.add_axes((0.36, 0.03, 0.54, 0.83))
    axes.set_axis_off()
    axes.set_ylim(MAX_BARS - 0.4, -0.6)  # first row on top, fixed bar thickness
    if not shown:
        figure.text(
            0.5, 0.5, "No scores yet", ha="center", va="center", fontsize=15, color=foreground
        )
    top = max((max(r.points, 0) for r in shown), default=0) or 1
    axes.set_xlim(0, top * 1.22)  # room after the longest bar for its label
    for y, row in enumerate(shown):
        mine = highlight is not None and row.subject_id == highlight
        axes.barh(y, max(row.points, 0), height=0.72, color=accent if mine else bar)
        _label_bar(axes, renderer, y, row, top=top, bold=mine, colour=foreground, family=family)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, facecolor=background)
    return buffer.getvalue()


def _label_bar(
    axes: Axes,
    renderer: Any,
    y: int,
    row: ScoreRow,
    *,
    top: int,
    bold: bool,
    colour: str,
    family: list[str],
) -> None:
    """The name left of a bar and the points right of it."""
    style: dict[str, Any] = {
        "family": family,
        "va": "center",
        "fontweight": "bold" if bold else "normal",
        "color": colour,
        "parse_math": False,
    }
    label = axes.text(
        -0.02, y, _name(row), transform=axes.get_yaxis_transform(), ha="right", fontsize=13, **style
    )
    # wide letters can still overflow the left edge: shrink such a name to fit
    size = 13
    while label.get_window_extent(renderer).x0 < 6 and size > 7:
        size -= 1
        label.set_fontsize(size)
    axes.text(
        max(row.points, 0) + top * 0.015, y, f"{row.points} pts", ha="left", fontsize=12, **style
    )


def leaderboard_card_png(card: LeaderboardCard, theme: str = "dark") -> bytes:
    """A /quiz leaderboard card as a chart: its rows, plus the asker's own row (highlighted)
    below them when it is off the board."""
    rows = list(card.rows)
    me = card.me
    if me is not None and all(r.subject_id != me.subject_id for r in rows):
        rows = [*rows[: MAX_BARS - 1], me]
    return leaderboard_png(
        rows, highlight=me.subject_id if me else None, theme=theme, title=card.title
    )


def weekly_board_png(card: WeeklyBoardCard, theme: str = "dark") -> bytes:
    """The weekly post's chart: the week's top players."""
    return leaderboard_png(card.players, theme=theme, title=f"Week {card.week}: top players")


async def leaderboard_chart(card: LeaderboardCard, theme: str) -> bytes | None:
    """A /quiz leaderboard's chart, drawn off the event loop; None (text only) when the
    board is empty or drawing fails."""
    if not card.rows:
        return None
    try:
        return await asyncio.to_thread(leaderboard_card_png, card, theme)
    except Exception:
        log.exception("drawing the leaderboard chart failed; sending text only")
        return None
