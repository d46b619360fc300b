"""The card updates of a closing round: one per answer and per expected player who did
not answer, rated by `bot.core.ratings` (pure: the store calls it in the transaction
that closes the round, on the cards it read there)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC

from bot.core.ports import CloseContext, CloseDecision
from bot.core.ratings import Rating, answer_rating
from bot.core.scoring import elapsed_seconds
from bot.core.study.memory import next_card, retention_of
from bot.core.study.model import CardValues, ReviewSource, RoundReviews


def round_ratings(
    ctx: CloseContext, decision: CloseDecision, expected: Collection[int]
) -> dict[int, Rating]:
    """Every concerned player's rating, by player id: each answer's, and Again for an
    expected player who did not answer."""
    rnd = ctx.round
    opened_at = rnd.opened_at
    limit = (rnd.closes_at - opened_at).total_seconds()
    missing = answer_rating(None, None, limit)
    ratings = dict.fromkeys(expected, missing)
    for answer in decision.answers:
        if not answer.correct:
            ratings[answer.player_id] = answer_rating(answer.correct, None, limit)
            continue
        ratings[answer.player_id] = answer_rating(
            True, elapsed_seconds(opened_at, answer.answered_at), limit
        )
    return ratings


def round_reviews(
    ctx: CloseContext,
    decision: CloseDecision,
    expected: Collection[int],
    cards: Mapping[int, CardValues],
    content_hash: str,
) -> RoundReviews:
    """Every card a closing round changes, in player order (the lock order of cards).

    `expected` are the players expected to answer (Again for those who did not);
    `cards` the existing cards of the round's question, by player.
    """
    ratings = round_ratings(ctx, decision, expected)
    players = sorted(ratings)
    moment = ctx.now.astimezone(UTC)
    retention = retention_of(ctx.community)
    after = []
    changed = False
    # a player's first answer to the question makes a new card that depends on nothing
    # but the rating: one per rating, shared by every such player of the round
    first: dict[Rating, CardValues] = {}
    for player_id in players:
        card = cards.get(player_id)
        rating = ratings[player_id]
        if card is None:
            new = first.get(rating)
            if new is None:
                new = first[rating] = next_card(None, rating, moment, retention, content_hash)
            after.append(new)
            continue
        changed = changed or card.content_hash != content_hash
        after.append(next_card(card, rating, moment, retention, content_hash))
    return RoundReviews(
        community_id=ctx.quiz.community_id,
        question_id=ctx.round.question.question_id,
        source=ReviewSource.QUIZ,
        reviewed_at=moment,
        players=tuple(players),
        ratings=tuple(ratings[p] for p in players),
        cards=tuple(after),
        content_changed=changed,
    )
