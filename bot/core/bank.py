"""The loaded decks, as the engine sees them."""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from typing import Protocol

from bot.core.errors import UnknownDeckError
from bot.core.model import Deck, Question


class QuestionLookup(Protocol):
    """Finds a question by its stable id (a QuestionBank, or a community's catalogue)."""

    def question(self, question_id: str) -> Question | None:
        """The question, or None if no deck has it."""
        ...


class QuestionBank:
    """Decks by name; the engine draws questions from here."""

    def __init__(self, decks: Iterable[Deck]) -> None:
        self._decks: dict[str, Deck] = {d.name: d for d in decks}
        self._by_id: dict[str, Question] = {
            q.id: q for d in self._decks.values() for q in d.questions
        }

    def decks(self) -> list[Deck]:
        """Every deck, by name."""
        return [self._decks[name] for name in sorted(self._decks)]

    def deck(self, name: str) -> Deck:
        """One deck; UnknownDeckError names the known ones."""
        try:
            return self._decks[name]
        except KeyError:
            known = ", ".join(sorted(self._decks)) or "none loaded"
            raise UnknownDeckError(f"No deck named {name!r} (decks: {known})") from None

    def questions(self, names: Sequence[str] = ()) -> list[Question]:
        """Questions of the named decks; every deck for no name or "all"."""
        if not names or "all" in names:
            chosen = self.decks()
        else:
            chosen = [self.deck(n) for n in dict.fromkeys(names)]
        return [q for d in chosen for q in d.questions]

    def question(self, question_id: str) -> Question | None:
        """A question by its stable id, or None if no loaded deck has it."""
        return self._by_id.get(question_id)

    def all_questions(self) -> list[Question]:
        """Every question of every deck."""
        return self.questions(())


def least_recent(
    pool: Sequence[Question], recent: Sequence[str], count: int, rng: random.Random
) -> list[Question]:
    """`count` questions of `pool` at random, avoiding the `recent` ids (newest first)."""
    seen = {qid: age for age, qid in enumerate(recent)}  # 0 = newest
    fresh = [q for q in pool if q.id not in seen]
    rng.shuffle(fresh)
    # when fresh ones run out, reuse the ones seen longest ago first
    stale = sorted((q for q in pool if q.id in seen), key=lambda q: -seen[q.id])
    return (fresh + stale)[: min(count, len(pool))]
