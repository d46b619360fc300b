"""`/quiz config pick weakest`: a quiz's questions drawn where the group is weakest.

Among the questions of the quiz's decks, those the community's active members have
cards for are ranked by their mean predicted recall now (FSRS retrievability averaged
over the members' cards), lowest first; one question in four (NEW_SHARE) is one
nobody has seen yet, so that new material still comes up. The weak ones are named on
the quiz (`QuizOptions.weak_picks`) so that their reveal says why they were picked.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from bot.core.model import Community, Question
from bot.core.ports import Clock
from bot.core.rhythm.settings import PICK_WEAKEST, pick_mode
from bot.core.study.memory import recall, retention_of
from bot.core.study.model import StudyCard
from bot.core.study.ports import StudyStore
from bot.core.study.review import ACTIVE_DAYS

NEW_SHARE = 4
"""One question in this many is one nobody has seen yet (when there are such)."""


def weakest_draw(
    pool: Sequence[Question],
    cards: Mapping[str, Sequence[StudyCard]],
    count: int,
    now: datetime,
    retention: float,
    rng: random.Random,
) -> tuple[list[Question], tuple[str, ...]]:
    """`count` questions of `pool`: the lowest mean recall first, one in four unseen,
    in a shuffled order; and the ids of those picked for their low recall."""
    count = min(count, len(pool))
    seen = [q for q in pool if cards.get(q.id)]
    unseen = [q for q in pool if not cards.get(q.id)]
    rng.shuffle(unseen)
    fresh = min(len(unseen), count // NEW_SHARE, count)
    fresh = max(fresh, count - len(seen))  # too few seen: fill up with new ones

    def mean_recall(question: Question) -> float:
        values = [recall(c, now, retention) for c in cards[question.id]]
        return sum(values) / len(values)

    weak = sorted(seen, key=lambda q: (mean_recall(q), q.id))[: count - fresh]
    drawn = weak + unseen[:fresh]
    rng.shuffle(drawn)
    return drawn, tuple(q.id for q in weak)


class WeakestPicker:
    """The engine's question picker for communities set to `pick weakest`."""

    def __init__(self, store: StudyStore, clock: Clock, rng: random.Random) -> None:
        self.store = store
        self.clock = clock
        self.rng = rng

    async def pick(
        self, community: Community, pool: Sequence[Question], count: int
    ) -> tuple[list[Question], tuple[str, ...]] | None:
        """The draw for `community`, or None when it picks at random."""
        if pick_mode(community) != PICK_WEAKEST or not pool:
            return None
        now = self.clock.now()
        members = await self.store.active_players(community.id, now - timedelta(days=ACTIVE_DAYS))
        by_question: dict[str, list[StudyCard]] = {}
        for card in await self.store.cards(members):
            by_question.setdefault(card.question_id, []).append(card)
        return weakest_draw(pool, by_question, count, now, retention_of(community), self.rng)
