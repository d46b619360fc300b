"""How an answer rates the player's memory of a question, for the FSRS schedule (the
README's "Studying" table mirrors this).

| the answer                                             | rating |
|--------------------------------------------------------|--------|
| wrong, or none from a player who was expected          | Again  |
| right, in the last quarter of the round's time         | Hard   |
| right                                                  | Good   |
| right, within the first quarter of the round's time    | Easy   |
| right in a review (no time limit)                      | Good   |

"Expected" means as for an early close: the quiz's roster and everyone who answered an
earlier round of the quiz. The quarters are of the round's limit (closes_at - opened_at),
measured from the round's opening to the answer's final time.
"""

from __future__ import annotations

from enum import IntEnum


class Rating(IntEnum):
    """FSRS's four grades, with the same values as `fsrs.Rating`."""

    AGAIN = 1
    HARD = 2
    GOOD = 3
    EASY = 4


EASY_WITHIN = 0.25
"""A right answer within this share of the round's time is Easy."""
HARD_AFTER = 0.75
"""A right answer after this share of the round's time (its last quarter) is Hard."""

RATING_TABLE: tuple[tuple[str, Rating], ...] = (
    ("wrong, or none from a player who was expected", Rating.AGAIN),
    ("right, in the last quarter of the round's time", Rating.HARD),
    ("right", Rating.GOOD),
    ("right, within the first quarter of the round's time", Rating.EASY),
    ("right in a review (no time limit)", Rating.GOOD),
)
"""The rules as data, in the order the README shows them."""


def answer_rating(correct: bool | None, elapsed: float | None, limit: float | None) -> Rating:
    """The rating of one answer: `correct` None means no answer; `limit` None means the
    question had no time limit (a review)."""
    if not correct:
        return Rating.AGAIN
    if limit is None or limit <= 0 or elapsed is None:
        return Rating.GOOD
    share = elapsed / limit
    if share <= EASY_WITHIN:
        return Rating.EASY
    if share > HARD_AFTER:
        return Rating.HARD
    return Rating.GOOD
