"""The options of `/quiz start`, declared once.

Discord's slash command and Slack's text parser are both built from START_OPTIONS:
their names, limits, choices and help text. An option added here appears on every
platform, or the platform's tests fail.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from bot.core.model import Mode, Scoring, StartRequest

DEFAULT_QUESTIONS = 5
MAX_QUESTIONS = 50
DEFAULT_SECONDS = 30
MIN_SECONDS = 5
MAX_SECONDS = 600


class OptionKind(StrEnum):
    """What sort of value an option takes."""

    DECK = "deck"  # a deck name
    NUMBER = "number"  # a whole number within minimum..maximum
    CHOICE = "choice"  # one of `choices`
    FLAG = "flag"  # on when given


@dataclass(frozen=True)
class StartOption:
    """One option of `/quiz start`: its name, what it takes, and the line that explains it."""

    name: str
    kind: OptionKind
    description: str
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()


DECK = StartOption("deck", OptionKind.DECK, "Question deck (default: every deck)")
QUESTIONS = StartOption(
    "questions", OptionKind.NUMBER, "How many questions", minimum=1, maximum=MAX_QUESTIONS
)
SECONDS = StartOption(
    "seconds",
    OptionKind.NUMBER,
    "Seconds per question",
    minimum=MIN_SECONDS,
    maximum=MAX_SECONDS,
)
MODE = StartOption(
    "mode", OptionKind.CHOICE, "Play alone or as teams", choices=tuple(m.value for m in Mode)
)
SCORING = StartOption(
    "scoring",
    OptionKind.CHOICE,
    "Points for speed, or for correct answers only",
    choices=tuple(s.value for s in Scoring),
)
CHANGES = StartOption(
    "changes", OptionKind.FLAG, "Let players change their answer until the reveal"
)
PARTIAL = StartOption(
    "partial", OptionKind.FLAG, "Partial credit on check-all-that-apply questions"
)

START_OPTIONS: tuple[StartOption, ...] = (
    DECK,
    QUESTIONS,
    SECONDS,
    MODE,
    SCORING,
    CHANGES,
    PARTIAL,
)
"""Every option, in the order the platforms show them."""

DESCRIPTIONS: Mapping[str, str] = {o.name: o.description for o in START_OPTIONS}


def start_usage(options: tuple[StartOption, ...] = START_OPTIONS) -> str:
    """The options as a usage line: "[deck] [questions] ... [partial]"."""
    return " ".join(f"[{o.name}]" for o in options)


def start_request(
    *,
    decks: tuple[str, ...] = (),
    questions: int | None = None,
    seconds: int | None = None,
    mode: str | None = None,
    scoring: str | None = None,
    changes: bool = False,
    partial: bool = False,
) -> StartRequest:
    """The engine's StartRequest from option values named as in START_OPTIONS."""
    return StartRequest(
        decks=decks,
        questions=questions,
        seconds=seconds,
        mode=Mode(mode) if mode else None,
        scoring=Scoring(scoring) if scoring else None,
        allow_change=changes,
        partial=partial,
    )
