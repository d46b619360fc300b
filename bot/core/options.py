"""A quiz's options: their limits and defaults, and how a start request's gaps are filled.

A request's own values come first, then the community's settings ("deck", "questions",
"seconds", "scoring", set with `/quiz config`), then a single deck's defaults, then
the bot's.
"""

from __future__ import annotations

from bot.core.bank import QuestionBank
from bot.core.errors import QuizError
from bot.core.model import Community, Mode, QuizOptions, Scoring, StartRequest
from bot.core.start_options import (
    DEFAULT_QUESTIONS,
    DEFAULT_SECONDS,
    MAX_QUESTIONS,
    MAX_SECONDS,
    MIN_SECONDS,
)


def resolve_options(
    request: StartRequest,
    community: Community,
    bank: QuestionBank,
    roster: tuple[int, ...] = (),
) -> QuizOptions:
    """Fill a start request's gaps from the community's and deck's defaults; check it."""
    settings = community.settings
    decks = request.decks or _setting_decks(settings.get("deck"))
    if decks and "all" not in decks:
        for name in decks:
            bank.deck(name)  # raises UnknownDeckError naming the known decks
    questions = request.questions or _setting_int(settings.get("questions"))
    questions = questions or DEFAULT_QUESTIONS
    if not 1 <= questions <= MAX_QUESTIONS:
        raise QuizError(f"questions must be between 1 and {MAX_QUESTIONS}, not {questions}")
    seconds = request.seconds or _setting_int(settings.get("seconds"))
    if seconds is None and len(decks) == 1 and decks[0] != "all":
        seconds = bank.deck(decks[0]).default_seconds
    seconds = seconds or DEFAULT_SECONDS
    if not MIN_SECONDS <= seconds <= MAX_SECONDS:
        raise QuizError(f"seconds must be between {MIN_SECONDS} and {MAX_SECONDS}, not {seconds}")
    scoring = request.scoring or _setting_scoring(settings.get("scoring"))
    if scoring is None and len(decks) == 1 and decks[0] != "all":
        scoring = bank.deck(decks[0]).default_scoring
    return QuizOptions(
        decks=decks,
        questions=questions,
        seconds=seconds,
        mode=request.mode or Mode.SOLO,
        scoring=scoring or Scoring.SPEED,
        allow_change=request.allow_change,
        partial=request.partial,
        roster=roster,
    )


def _setting_decks(value: object) -> tuple[str, ...]:
    if isinstance(value, str) and value:
        return tuple(v.strip() for v in value.split(",") if v.strip())
    return ()


def _setting_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _setting_scoring(value: object) -> Scoring | None:
    return Scoring(value) if value in ("speed", "accuracy") else None
