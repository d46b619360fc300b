"""Per-player figures for `/quiz stats`, computed from that player's scored answers."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.core.rhythm.cards import Breakdown

STATS_TAGS = 8
"""Tags shown on a stats card (the most answered ones)."""


@dataclass(frozen=True)
class AnswerFact:
    """One scored answer of a player, as stats need it."""

    deck: str
    tags: tuple[str, ...]
    correct: bool
    seconds: float  # from the round's opening to the (final) answer
    streak: int


@dataclass(frozen=True)
class PlayerFigures:
    """What a stats card shows apart from ranks."""

    answered: int
    correct: int
    decks: tuple[Breakdown, ...]
    tags: tuple[Breakdown, ...]
    best_streak: int
    median_seconds: float | None


def breakdown(pairs: Iterable[tuple[str, bool]], limit: int | None = None) -> tuple[Breakdown, ...]:
    """Accuracy per name from (name, correct) pairs: most answered first, then by name."""
    answered: dict[str, int] = {}
    correct: dict[str, int] = {}
    for name, right in pairs:
        answered[name] = answered.get(name, 0) + 1
        correct[name] = correct.get(name, 0) + int(right)
    names = sorted(answered, key=lambda n: (-answered[n], n))
    return tuple(Breakdown(n, correct[n], answered[n]) for n in names[:limit])


def player_figures(facts: Sequence[AnswerFact]) -> PlayerFigures:
    """Count, accuracy overall, per deck and per tag, best streak and median time."""
    return PlayerFigures(
        answered=len(facts),
        correct=sum(f.correct for f in facts),
        decks=breakdown((f.deck, f.correct) for f in facts),
        tags=breakdown(((t, f.correct) for f in facts for t in f.tags), STATS_TAGS),
        best_streak=max((f.streak for f in facts), default=0),
        median_seconds=statistics.median(f.seconds for f in facts) if facts else None,
    )
