"""The rating table: every row, and its edges."""

from __future__ import annotations

import pytest

from bot.core.ratings import RATING_TABLE, Rating, answer_rating


@pytest.mark.parametrize(
    ("correct", "elapsed", "limit", "expected"),
    [
        (False, 1.0, 20.0, Rating.AGAIN),
        (None, None, 20.0, Rating.AGAIN),  # expected, no answer
        (True, 5.0, 20.0, Rating.EASY),  # the first quarter, its edge included
        (True, 5.1, 20.0, Rating.GOOD),
        (True, 15.0, 20.0, Rating.GOOD),  # the last quarter starts after 3/4
        (True, 15.1, 20.0, Rating.HARD),
        (True, 25.0, 20.0, Rating.HARD),
        (True, None, None, Rating.GOOD),  # a review: no time limit
    ],
)
def test_answer_rating(
    correct: bool | None, elapsed: float | None, limit: float | None, expected: Rating
) -> None:
    assert answer_rating(correct, elapsed, limit) is expected


def test_the_table_has_every_rating_and_matches_fsrs() -> None:
    import fsrs

    assert {r for _, r in RATING_TABLE} == set(Rating)
    assert [r.value for r in Rating] == [r.value for r in fsrs.Rating]
