"""Where the math is in a Markdown prompt: `$...$` and `$$...$$` spans, code spans skipped."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    """A piece of a prompt: plain Markdown text, or the LaTeX inside one math span."""

    text: str
    math: bool
    display: bool = False
    start: int = 0  # offset of the span's first character (the opening `$` for math)


@dataclass(frozen=True)
class UnbalancedMath:
    """A `$` or `$$` that opens math and is never closed."""

    offset: int
    delimiter: str


def _code_span_end(text: str, i: int) -> int:
    """The offset just past the code span opened by the backtick run at i, or -1 if unclosed."""
    run = 1
    while i + run < len(text) and text[i + run] == "`":
        run += 1
    fence = "`" * run
    close = text.find(fence, i + run)
    return -1 if close < 0 else close + run


def scan(text: str) -> tuple[list[Span], UnbalancedMath | None]:
    """Split text into plain and math spans; also say where math is left open, if it is.

    `\\$` is a literal dollar sign and dollars inside `code` are not math, as in
    Pandoc and most Markdown renderers with math support.
    """
    spans: list[Span] = []
    plain_start = 0
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "`":
            end = _code_span_end(text, i)
            i = n if end < 0 else end
            continue
        if ch != "$":
            i += 1
            continue
        delimiter = "$$" if text.startswith("$$", i) else "$"
        body_start = i + len(delimiter)
        close = _find_closing(text, body_start, delimiter)
        if close < 0:
            if plain_start < i:
                spans.append(Span(text[plain_start:i], math=False, start=plain_start))
            spans.append(Span(text[i:], math=False, start=i))
            return spans, UnbalancedMath(i, delimiter)
        if plain_start < i:
            spans.append(Span(text[plain_start:i], math=False, start=plain_start))
        spans.append(Span(text[body_start:close], math=True, display=delimiter == "$$", start=i))
        i = close + len(delimiter)
        plain_start = i
    if plain_start < n:
        spans.append(Span(text[plain_start:], math=False, start=plain_start))
    return spans, None


def _find_closing(text: str, i: int, delimiter: str) -> int:
    """Offset of the unescaped delimiter closing math that starts at i, or -1."""
    n = len(text)
    while i < n:
        if text[i] == "\\":
            i += 2
            continue
        if text.startswith(delimiter, i):
            # "$$" inside inline math would be an empty formula: treat it as a close.
            return i
        i += 1
    return -1


def line_col(text: str, offset: int) -> tuple[int, int]:
    """Zero-based line and column of an offset in text."""
    line = text.count("\n", 0, offset)
    col = offset - (text.rfind("\n", 0, offset) + 1)
    return line, col
