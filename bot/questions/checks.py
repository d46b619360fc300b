"""Checks of the text inside a question: braces in math, and choices named by position."""

from __future__ import annotations

import re

from bot.render.markup import scan


def unbalanced_brace(math: str) -> tuple[int, str] | None:
    """The offset and kind of the first `{` or `}` without its pair (`\\{` is literal)."""
    opened: list[int] = []
    i = 0
    while i < len(math):
        ch = math[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "{":
            opened.append(i)
        elif ch == "}":
            if not opened:
                return i, "}"
            opened.pop()
        i += 1
    return (opened[0], "{") if opened else None


_ORDINALS = "first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|last"
_CHOICE_NOUNS = (
    "option|choice|answer|alternative|formula|expression|equation|statement|item|one|definition"
)
_POSITION = re.compile(
    rf"(?:\bthe\s+(?:{_ORDINALS})(?:\s+(?:{_CHOICE_NOUNS})s?\b|(?=\s*[.)!?]|\s*$))"
    r"|\b(?:option|choice|answer)\s+\(?(?-i:[A-J]|[1-9])\)?(?![\w'])"
    r"|\([A-Ja-j]\)(?!\w))",
    re.IGNORECASE,
)


def position_reference(text: str) -> str | None:
    """The first words of text (outside math and code) that name a choice by its position."""
    spans, _ = scan(text)
    for span in spans:
        if span.math:
            continue
        plain = re.sub(r"`[^`]*`", " ", span.text)
        match = _POSITION.search(plain)
        if match:
            return match.group(0)
    return None
