"""`quizbot review`: a private review session in the terminal, on the same engine and
database as the bots.

It reads one answer a line ("b", "a,c"), at a terminal or from a pipe, so a review can
be scripted. The session lives in the database: input that ends early leaves it open,
and the next `quizbot review` (or /quiz review on a chat, for the same player and
community) resumes it.
"""

from __future__ import annotations

import asyncio
import random
import signal
import sys
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TextIO

from bot.adapters.console.chat import ConsoleChat
from bot.adapters.console.owners import COMMUNITY
from bot.adapters.console.prompt import PipeInput
from bot.config import Settings
from bot.core.cards import kind_hint, letter, letters, parse_letters
from bot.core.model import PlayerRef, QuestionKind
from bot.core.ports import Clock
from bot.core.study.model import ReviewFeedback, ReviewQuestionCard, ReviewStep, ReviewSummary
from bot.core.study.ports import Reviews
from bot.render import to_chat_text
from bot.runtime import running


@dataclass(frozen=True)
class ReviewOptions:
    """What `quizbot review` was asked for."""

    player: str
    questions: int = 10
    deck: str | None = None
    seed: int | None = None


def question_text(card: ReviewQuestionCard) -> str:
    """A review question as terminal lines."""
    tag = "again" if card.retry else "due" if card.due else "new"
    head = f"━━ Review {card.number} · {card.remaining} left · {tag} ━━"
    lines = [head, *([card.title] if card.title else []), to_chat_text(card.prompt)]
    lines += [f"  {letter(i)}) {to_chat_text(text)}" for i, text in enumerate(card.choices)]
    lines.append(f"({kind_hint(card.kind)})")
    return "\n".join(lines)


def feedback_text(feedback: ReviewFeedback) -> str:
    """The verdict on an answer, the answer, the explanation."""
    verdict = (
        "✓ Right"
        if feedback.right
        else f"✗ Not this time (you picked {letters(feedback.selected)})"
    )
    lines = [verdict, f"✔ Answer: {to_chat_text(feedback.correct_text)}"]
    if feedback.explanation:
        lines.append(to_chat_text(feedback.explanation))
    if feedback.comes_back:
        lines.append("(it comes back at the end of this review)")
    return "\n".join(lines)


def summary_text(summary: ReviewSummary) -> str:
    """The end of a review."""
    return "\n".join(["━━ Review done ━━", *summary.lines()])


PAUSED = "(review paused: quizbot review resumes it)"


async def _unless(line: Awaitable[str | None], interrupted: asyncio.Event | None) -> str | None:
    """The line, or None (as at the end of the input) once `interrupted` is set."""
    if interrupted is None:
        return await line
    reading = asyncio.ensure_future(line)
    stop = asyncio.ensure_future(interrupted.wait())
    try:
        await asyncio.wait({reading, stop}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.cancel()
    if reading.done():
        return reading.result()
    reading.cancel()
    return None


async def run_review(
    reviews: Reviews,
    player: PlayerRef,
    options: ReviewOptions,
    stdin: TextIO,
    out: TextIO,
    interrupted: asyncio.Event | None = None,
) -> int:
    """Start (or resume) the player's review and answer it line by line from `stdin`,
    until it is done, the input ends or `interrupted` is set (Ctrl-C): the session then
    stays open for the next `quizbot review`."""

    def show(text: str) -> None:
        print(text, file=out, flush=True)

    answers = PipeInput(stdin)

    step: ReviewStep = await reviews.start_review(
        COMMUNITY, player, options.questions, options.deck
    )
    if step.resumed:
        show("(resuming your open review)")
    while step.question is not None:
        card = step.question
        show(question_text(card))
        line = await _unless(answers.next_line(), interrupted)
        if line is None:
            show(PAUSED)
            return 0
        positions = parse_letters(line.strip(), len(card.choices))
        if positions is None or (card.kind is not QuestionKind.MULTIPLE and len(positions) > 1):
            show(f"'{line.strip()}' is not a choice: type a letter such as a")
            continue
        step = await reviews.answer(COMMUNITY, player, card.session_id, card.item, positions)
        if step.feedback is not None:
            show(feedback_text(step.feedback))
    assert step.summary is not None
    show(summary_text(step.summary))
    return 0


async def review_game(
    settings: Settings,
    options: ReviewOptions,
    stdin: TextIO = sys.stdin,
    out: TextIO = sys.stdout,
    *,
    clock: Clock | None = None,
) -> int:
    """`quizbot review`: one review session in the terminal under "console"."""
    rng = random.Random(options.seed) if options.seed is not None else None
    player = PlayerRef(external_id=options.player, display_name=options.player)
    async with running(settings, ConsoleChat(out, channel=""), platform="console",
                       clock=clock, rng=rng) as runtime:  # fmt: skip
        if runtime.study is None:
            raise RuntimeError("study mode needs the SQL store")
        interrupted = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGINT, interrupted.set)
        try:
            return await run_review(runtime.study, player, options, stdin, out, interrupted)
        finally:
            loop.remove_signal_handler(signal.SIGINT)
