"""The math pictures that go with a question or a reveal, each with its text alternative.

Chat platforms do not typeset LaTeX. Where the Unicode text of a prompt, a choice or an
explanation loses structure (a nested fraction, a sum with limits), the adapters attach a
picture of it. Every picture carries the same words as text (`alt`) for a screen reader:
Discord's attachment `description`, Slack's `alt_txt`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from bot.core.cards import QuestionCard, RevealCard, letter
from bot.render.math import needs_image, render_math_png, to_chat_text

log = logging.getLogger(__name__)

ALT_LIMIT = 1000
"""Characters of a text alternative: Slack takes 1000, Discord 1024."""


@dataclass(frozen=True)
class MathPicture:
    """A PNG to attach as `filename`, with `alt`, its words for a screen reader."""

    filename: str
    png: bytes
    alt: str


def question_source(card: QuestionCard | RevealCard) -> str | None:
    """The text to draw for a question: the prompt and its lettered choices, when the
    prompt or any choice needs a picture; None when the text shows everything."""
    if not (needs_image(card.prompt) or any(needs_image(c) for c in card.choices)):
        return None
    choices = [f"{letter(i)}) {choice}" for i, choice in enumerate(card.choices)]
    return "\n".join([card.prompt, "", *choices])


def explanation_source(card: RevealCard) -> str | None:
    """The explanation to draw at a reveal, when its text loses structure."""
    return card.explanation if card.explanation and needs_image(card.explanation) else None


def question_picture_name(card: QuestionCard | RevealCard) -> str:
    """File name of a question's math picture."""
    return f"question-{card.round_id}.png"


def explanation_picture_name(card: RevealCard) -> str:
    """File name of a reveal's math picture."""
    return f"explanation-{card.round_id}.png"


def alt_text(source: str) -> str:
    """The words of a picture for a screen reader: its math as Unicode, clipped."""
    text = to_chat_text(source)
    return text if len(text) <= ALT_LIMIT else text[: ALT_LIMIT - 1] + "…"


async def draw(source: str | None, filename: str, theme: str) -> MathPicture | None:
    """The picture of `source`, drawn off the event loop; None when there is nothing to
    draw or drawing fails (the message then goes as text alone)."""
    if source is None:
        return None
    try:
        # matplotlib is slow to draw: keep the event loop (and other clicks) moving
        png = await asyncio.to_thread(render_math_png, source, theme)
    except Exception:
        log.exception("drawing the math picture %s failed; posting text only", filename)
        return None
    return MathPicture(filename, png, alt_text(source))


async def question_picture(card: QuestionCard, theme: str) -> MathPicture | None:
    """The math picture of a question (prompt and choices), if it needs one."""
    return await draw(question_source(card), question_picture_name(card), theme)


async def explanation_picture(card: RevealCard, theme: str) -> MathPicture | None:
    """The math picture of a reveal's explanation, if it needs one."""
    return await draw(explanation_source(card), explanation_picture_name(card), theme)
