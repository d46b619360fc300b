"""Mastery per tag: the mean FSRS predicted recall of the cards now, and cards due today."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.core.bank import QuestionBank
from bot.core.model import Community
from bot.core.periods import zone
from bot.core.study.memory import recall, retention_of
from bot.core.study.model import MasteryCard, StudyCard, TagMastery

UNTAGGED = "(untagged)"
MASTERY_TAGS = 8
"""Tags shown on a card (the weakest ones)."""


def end_of_today(community: Community, now: datetime) -> datetime:
    """Midnight at the end of the community's local today."""
    tz = zone(community.timezone)
    local = now.astimezone(tz)
    return datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), tzinfo=tz)


def mastery_card(
    title: str,
    cards: Sequence[StudyCard],
    bank: QuestionBank,
    community: Community,
    now: datetime,
    players: int,
) -> MasteryCard:
    """Per tag of the cards' questions: mean predicted recall now and cards due today,
    weakest tag first (cards of questions no longer in a deck are left out)."""
    retention = retention_of(community)
    horizon = end_of_today(community, now)
    recalls: dict[str, list[float]] = {}
    due: dict[str, int] = {}
    for card in cards:
        question = bank.question(card.question_id)
        if question is None:
            continue
        value = recall(card, now, retention)
        for tag in question.tags or (UNTAGGED,):
            recalls.setdefault(tag, []).append(value)
            due[tag] = due.get(tag, 0) + int(card.due <= horizon)
    tags = sorted(
        (TagMastery(t, len(v), sum(v) / len(v), due[t]) for t, v in recalls.items()),
        key=lambda m: (m.mean_recall, m.tag),
    )
    return MasteryCard(title=title, tags=tuple(tags[:MASTERY_TAGS]), players=players)
