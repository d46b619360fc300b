"""CJK names on the chart: drawn in a fallback font, and not one warning on the way."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import warnings

import pytest

from bot.render.fonts import CJK_FALLBACKS, chart_fonts

NAMES = ("山田太郎", "김민수", "王小明")

DRAW = """
from bot.core.model import ScoreRow, SubjectKind
from bot.render.chart import leaderboard_png
names = {names!r}
rows = [ScoreRow(i, SubjectKind.PLAYER, i, n, 100 - i, 1, 1) for i, n in enumerate(names, 1)]
assert leaderboard_png(rows, title="週間ランキング").startswith(b"\\x89PNG")
"""


def test_a_board_of_cjk_names_writes_nothing_to_stderr() -> None:
    # a fresh process: warnings another test already showed would be hidden here
    env = {**os.environ, "PYTHONWARNINGS": "default"}
    result = subprocess.run(
        [sys.executable, "-c", DRAW.format(names=NAMES)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_a_board_of_cjk_names_logs_and_warns_nothing(caplog: pytest.LogCaptureFixture) -> None:
    from bot.core.model import ScoreRow, SubjectKind
    from bot.render.chart import leaderboard_png

    rows = [ScoreRow(i, SubjectKind.PLAYER, i, n, 100 - i, 1, 1) for i, n in enumerate(NAMES, 1)]
    with caplog.at_level(logging.DEBUG - 1), warnings.catch_warnings(record=True) as caught:
        leaderboard_png(rows)
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert [str(w.message) for w in caught if "Glyph" in str(w.message)] == []


def test_cjk_names_are_drawn_with_a_font_that_has_their_glyphs() -> None:
    from matplotlib.font_manager import FontProperties, findfont
    from matplotlib.ft2font import FT2Font

    fallbacks = [f for f in chart_fonts() if f in CJK_FALLBACKS]
    if not fallbacks:
        message = "no CJK font installed (apt-get install fonts-noto-cjk)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    font = FT2Font(findfont(FontProperties(family=fallbacks[0]), fallback_to_default=False))
    for character in "".join(NAMES):
        assert font.get_char_index(ord(character)) != 0, character
