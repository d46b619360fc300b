"""The chart's font family: matplotlib's default first, then fonts that draw CJK names.

matplotlib (3.6+) falls back glyph by glyph along a list of families. Only the installed
ones are listed, since a missing family is itself a logged warning; with no CJK font at
all (`apt-get install fonts-noto-cjk` adds one), such names draw as boxes, silently.
"""

from __future__ import annotations

import glob
import warnings
from functools import cache

CJK_FALLBACKS = (
    "Noto Sans CJK JP",
    "Noto Sans CJK SC",
    "Noto Sans CJK KR",
    "Noto Sans CJK TC",
    "Source Han Sans",
    "WenQuanYi Zen Hei",
    "Droid Sans Fallback",
    "IPAGothic",
    "Arial Unicode MS",
)
"""Families that cover Chinese, Japanese and Korean, the likeliest installed first."""


CJK_FILES = "/usr/share/fonts/opentype/noto/NotoSansCJK-*.ttc"
"""Where Debian's fonts-noto-cjk installs the sans-serif CJK fonts."""


@cache
def chart_fonts() -> tuple[str, ...]:
    """The font family list of the charts: the default sans-serif, then every installed
    CJK fallback."""
    from matplotlib import font_manager, rcParams

    installed = {font.name for font in font_manager.fontManager.ttflist}
    if not installed & set(CJK_FALLBACKS):
        # matplotlib's font cache predates a font installed since: look where Debian puts
        # Noto CJK (fonts-noto-cjk) before going without
        for path in sorted(glob.glob(CJK_FILES)):
            font_manager.fontManager.addfont(path)
        installed = {font.name for font in font_manager.fontManager.ttflist}
    default = next((f for f in rcParams["font.sans-serif"] if f in installed), "DejaVu Sans")
    return (default, *(f for f in CJK_FALLBACKS if f in installed))


def quiet_glyphs() -> None:
    """Silence matplotlib's per-glyph "missing from font" warnings for good: a character no
    font has is drawn as a box, and one warning per character helps nobody. A filter
    set once, not catch_warnings(), which is not thread-safe and charts draw in threads."""
    for message in (r"Glyph \d+ .*missing from font", r"Matplotlib currently does not support"):
        warnings.filterwarnings("ignore", message=message, category=UserWarning)
