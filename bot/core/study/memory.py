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
from bot.core.study.model import CardReview, CardState, CardUpdate, ReviewSource, StudyCard

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
    return moment.astimezone(UTC)


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
    before = to_fsrs(card) if card is not None else fsrs.Card(card_id=0, due=moment)
    after, _ = scheduler(retention).review_card(before, fsrs.Rating(rating.value), moment)
    assert after.stability is not None and after.difficulty is not None
    changed = card is not None and card.content_hash != content_hash
    new = StudyCard(
        player_id=player_id,
        question_id=question_id,
        state=CardState(after.state.value),
        step=after.step,
        stability=after.stability,
        difficulty=after.difficulty,
        due=after.due,
        last_review=after.last_review,
        content_hash=content_hash,
        reviews=(card.reviews if card else 0) + 1,
        lapses=(card.lapses if card else 0) + int(rating is Rating.AGAIN),
    )
    log = CardReview(
        community_id=community_id,
        player_id=player_id,
        question_id=question_id,
        rating=rating,
        source=source,
        reviewed_at=moment,
        state=new.state,
        due=new.due,
        stability=after.stability,
        difficulty=after.difficulty,
        content_changed=changed,
    )
    return CardUpdate(card=new, review=log)
