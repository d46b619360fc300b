"""Mastery per tag on `/quiz stats`, and over the group's active members."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.core.clock import ManualClock
from bot.core.study.memory import recall
from bot.core.study.model import MasteryCard, TagMastery
from bot.runtime import study_for
from bot.store import SqlStore
from tests.study.helpers import GUILD, T0, make_study, play_rounds, user


async def test_stats_show_recall_per_tag_and_the_weakest(store: SqlStore) -> None:
    clock = ManualClock(T0)
    proc = make_study(store, clock)
    reviews = study_for(proc.process.engine, proc.process.rhythm)
    assert reviews is not None
    # algebra questions 1-2 are tagged (math, easy), 3-5 (math, hard)
    asked = await play_rounds(proc, clock, [{1: True, 2: True}, {1: False, 2: True},
                                            {1: True, 2: False}])  # fmt: skip
    clock.set(clock.now() + timedelta(days=3))
    card = await proc.process.rhythm.stats(GUILD, user(1))
    assert card.mastery is not None
    ann = await store.player("test", "u1", "User 1")
    cards = await proc.study.cards([ann.id])
    by_tag: dict[str, list[float]] = {}
    for c in cards:
        question = proc.process.engine.bank.question(c.question_id)
        assert question is not None
        for tag in question.tags:
            by_tag.setdefault(tag, []).append(recall(c, clock.now()))
    shown = {t.tag: t for t in card.mastery.tags}
    assert set(shown) == set(by_tag)
    for tag, values in by_tag.items():
        assert shown[tag].mean_recall == pytest.approx(sum(values) / len(values))
        assert shown[tag].cards == len(values)
    weakest = min(by_tag, key=lambda t: (sum(by_tag[t]) / len(by_tag[t]), t))
    assert card.mastery.weakest is not None and card.mastery.weakest.tag == weakest
    assert f"Weakest: {weakest}" in "\n".join(card.lines())
    # the missed question (Again, a minute after its round) is due today
    missed = asked[1]
    missed_tags = proc.process.engine.bank.question(missed).tags  # type: ignore[union-attr]
    assert all(shown[t].due_today >= 1 for t in missed_tags)

    group = await reviews.mastery(GUILD, user(1), group=True)
    assert group.players == 2
    assert sum(t.cards for t in group.tags if t.tag == "math") == 6  # 3 questions, 2 members
    # fifteen days later nobody is active any more
    clock.set(clock.now() + timedelta(days=15))
    assert (await reviews.mastery(GUILD, user(1), group=True)).players == 0


def test_a_tag_line_counts_its_cards_in_words() -> None:
    card = MasteryCard(
        "Mastery",
        (TagMastery("calculus", 1, 0.42, 1), TagMastery("algebra", 3, 0.9, 0)),
        players=1,
    )

    assert card.lines() == [
        "calculus: 42% recall · 1 due today (1 card)",
        "algebra: 90% recall · 0 due today (3 cards)",
        "Weakest: calculus",
    ]
