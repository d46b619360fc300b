"""The FSRS math on study cards: one `fsrs.Scheduler` per desired retention, with the
package's default parameters and learning steps (1 and 10 minutes).

The one change from fsrs's defaults: interval fuzzing is off, so that the same answers
give the same due dates in every process and in tests (fuzzing only spreads intervals
of 3 days and more by a few percent, to keep reviews from bunching up on one day).
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime

import fsrs

from bot.core.model import Community
from bot.core.ratings import Rating
from bot.core.study.model import (
    CardReview,
    CardState,
    CardUpdate,
    CardValues,
    ReviewSource,
    StudyCard,
)

DESIRED_RETENTION = "desired-retention"  # community settings key
DEFAULT_RETENTION = 0.9
MIN_RETENTION, MAX_RETENTION = 0.70, 0.99


def retention_of(community: Community) -> float:
    """The community's desired retention (its setting, else the default)."""
    value = community.settings.get(DESIRED_RETENTION)
    if isinstance(value, int | float) and MIN_RETENTION <= value <= MAX_RETENTION:
        return float(value)
    return DEFAULT_RETENTION


@functools.lru_cache(maxsize=32)
def scheduler(desired_retention: float = DEFAULT_RETENTION) -> fsrs.Scheduler:
    """The scheduler for a desired retention (built once per value)."""
    return fsrs.Scheduler(desired_retention=desired_retention, enable_fuzzing=False)


def _utc(moment: datetime) -> datetime:
    # fsrs insists on tzinfo being exactly timezone.utc
    return moment if moment.tzinfo is UTC else moment.astimezone(UTC)


def to_fsrs(card: StudyCard) -> fsrs.Card:
    """The fsrs card of a study card (card_id given: fsrs would sleep to make one up)."""
    return fsrs.Card(
        card_id=0,
        state=fsrs.State(card.state.value),
        step=card.step,
        stability=card.stability,
        difficulty=card.difficulty,
        due=_utc(card.due),
        last_review=_utc(card.last_review) if card.last_review else None,
    )


def recall(card: StudyCard, now: datetime, retention: float = DEFAULT_RETENTION) -> float:
    """FSRS's predicted probability that the player recalls the question at `now`."""
    return float(scheduler(retention).get_card_retrievability(to_fsrs(card), _utc(now)))


# enum lookups by value cost microseconds each, hundreds of times per closing round
STATES = {int(s): s for s in CardState}

# The fields of an fsrs card: state, step, stability, difficulty, due, last_review.
CardFields = tuple[int, int | None, float | None, float | None, datetime, datetime | None]


@functools.lru_cache(maxsize=4096)
def _scheduled(
    before: CardFields | None, rating: Rating, moment: datetime, retention: float
) -> CardFields:
    """fsrs's card after one review. Pure, so memoised: the players of one round who
    meet a question for the first time, or answer it from the same state, share one
    computation (a 500-answer round of a new question makes four, one per rating)."""
    if before is None:
        card = fsrs.Card(card_id=0, due=moment)
    else:
        state, step, stability, difficulty, due, last_review = before
        card = fsrs.Card(0, fsrs.State(state), step, stability, difficulty, due, last_review)
    after, _ = scheduler(retention).review_card(card, fsrs.Rating(rating.value), moment)
    return (int(after.state), after.step, after.stability, after.difficulty, after.due,
            after.last_review)  # fmt: skip


def next_card(
    card: CardValues | None, rating: Rating, moment: datetime, retention: float, content_hash: str
) -> CardValues:
    """A card after one rated answer at `moment` (UTC; a new card for a first answer): the
    FSRS step, the content hash it was answered under, one more review and, for Again,
    one more lapse. The one rule for quiz closes and review answers alike."""
    before: CardFields | None = None
    if card is not None:
        last = card.last_review
        before = (card.state, card.step, card.stability, card.difficulty, _utc(card.due),
                  None if last is None else _utc(last))  # fmt: skip
    state, step, stability, difficulty, due, last_review = _scheduled(
        before, rating, moment, retention
    )
    reviews, lapses = (0, 0) if card is None else (card.reviews, card.lapses)
    return CardValues(state, step, stability, difficulty, due, last_review, content_hash,
                      reviews + 1, lapses + int(rating is Rating.AGAIN))  # fmt: skip


def card_values(card: StudyCard) -> CardValues:
    """A StudyCard's stored state."""
    return CardValues(int(card.state), card.step, card.stability, card.difficulty, card.due,
                      card.last_review, card.content_hash, card.reviews, card.lapses)  # fmt: skip


def review_card(
    card: StudyCard | None,
    *,
    community_id: int,
    player_id: int,
    question_id: str,
    content_hash: str,
    rating: Rating,
    source: ReviewSource,
    now: datetime,
    retention: float = DEFAULT_RETENTION,
) -> CardUpdate:
    """The card after one rated answer at `now` (a new card for a first answer), and its
    log line; an edited question keeps its card and the log notes the change."""
    moment = _utc(now)
    after = next_card(
        None if card is None else card_values(card), rating, moment, retention, content_hash
    )
    assert after.stability is not None and after.difficulty is not None
    new = StudyCard(
        player_id=player_id,
        question_id=question_id,
        state=STATES[after.state],
        step=after.step,
        stability=after.stability,
        difficulty=after.difficulty,
        due=after.due,
        last_review=after.last_review,
        content_hash=content_hash,
        reviews=after.reviews,
        lapses=after.lapses,
    )
    log = CardReview(
        community_id=community_id,
        player_id=player_id,
        question_id=question_id,
        rating=rating,
        source=source,
        reviewed_at=moment,
        state=new.state,
        due=after.due,
        stability=after.stability,
        difficulty=after.difficulty,
        content_changed=card is not None and card.content_hash != content_hash,
    )
    return CardUpdate(card=new, review=log)
