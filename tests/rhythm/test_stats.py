"""`/quiz stats`: a player's figures from their own answers, ranks from the scores."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core.clock import ManualClock
from bot.core.rhythm.cards import Breakdown
from bot.core.rhythm.stats import AnswerFact, player_figures
from bot.store import SqlStore

from .helpers import GUILD, make_process, play, user

MONDAY = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_figures_from_answer_facts() -> None:
    facts = [
        AnswerFact("algebra", ("math", "easy"), True, 2.0, 1),
        AnswerFact("algebra", ("math",), True, 4.0, 2),
        AnswerFact("algebra", ("math", "hard"), False, 9.0, 0),
        AnswerFact("history", ("dates",), True, 3.0, 1),
    ]
    figures = player_figures(facts)
    assert (figures.answered, figures.correct, figures.best_streak) == (4, 3, 2)
    assert figures.median_seconds == 3.5
    assert figures.decks == (Breakdown("algebra", 2, 3), Breakdown("history", 1, 1))
    assert figures.tags[0] == Breakdown("math", 2, 3)
    assert player_figures([]).median_seconds is None


async def test_stats_of_a_player(store: SqlStore) -> None:
    clock = ManualClock(MONDAY)
    process = make_process(store, clock)
    rhythm = process.rhythm
    await play(
        process,
        clock,
        [
            {1: (True, 2.0), 2: (True, 1.0)},
            {1: (True, 4.0), 2: (True, 1.0)},
            {1: (False, 6.0), 2: (True, 1.0)},
        ],
    )
    await play(process, clock, [{1: (True, 3.0)}], deck="history")

    card = await rhythm.stats(GUILD, user(1))
    assert (card.player_name, card.answered, card.correct, card.best_streak) == ("User 1", 4, 3, 2)
    assert card.median_seconds == 3.5
    assert card.decks == (Breakdown("algebra", 2, 3), Breakdown("history", 1, 1))
    tags = {b.name: b for b in card.tags}
    assert tags["math"] == Breakdown("math", 2, 3) and tags["dates"] == Breakdown("dates", 1, 1)
    assert tags["easy"].answered + tags["hard"].answered == 3
    # User 2: 1000 + 1100 + 1200; User 1: 1000 + 1100 + 0 + 1000
    assert (card.week, card.week_rank, card.week_points) == ("2026-W48", 2, 3100)
    assert (card.all_rank, card.all_points) == (2, 3100)
    lines = card.lines()
    assert lines[:6] == [
        "Questions answered: 4",
        "Accuracy: 75% (3/4)",
        "Best streak: 2",
        "Median answer time: 3.5 s",
        "Rank this week (2026-W48): #2 (3100 pts)",
        "Rank all time: #2 (3100 pts)",
    ]
    assert lines[6] == "By deck: algebra 67% (2/3); history 100% (1/1)"
    assert lines[7].startswith("By tag: math 67% (2/3)")

    # someone else asking about User 1 sees the same; next week the week rank is empty
    clock.set(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    other = await rhythm.stats(GUILD, user(2), user(1))
    assert (other.answered, other.week, other.week_rank, other.all_rank) == (4, "2026-W49", None, 2)
    assert "Rank this week (2026-W49): unranked" in other.lines()


async def test_stats_of_someone_who_never_played(store: SqlStore) -> None:
    process = make_process(store, ManualClock(MONDAY))
    card = await process.rhythm.stats(GUILD, user(1), user(9))
    assert card.answered == 0 and card.all_rank is None
    assert card.lines() == ["User 9 has not answered any question here yet."]
    mine = await process.rhythm.stats(GUILD, user(1))
    assert mine.lines() == ["User 1 has not answered any question here yet."]
