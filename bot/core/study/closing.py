"""The card updates of a closing round: one per answer and per expected player who did
not answer, rated by `bot.core.ratings` (pure: the store calls it in the transaction
that closes the round, on the cards it read there)."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from bot.core.ports import CloseContext, CloseDecision
from bot.core.ratings import answer_rating
from bot.core.scoring import elapsed_seconds
from bot.core.study.memory import retention_of, review_card
from bot.core.study.model import CardUpdate, ReviewSource, StudyCard


def round_card_updates(
    ctx: CloseContext,
    decision: CloseDecision,
    expected: Collection[int],
    cards: Mapping[int, StudyCard],
    content_hash: str,
) -> list[CardUpdate]:
    """Every card a closing round changes, by player id (the lock order of cards).

    `expected` are the players expected to answer (Again for those who did not);
    `cards` the existing cards of the round's question, by player.
    """
    rnd = ctx.round
    limit = (rnd.closes_at - rnd.opened_at).total_seconds()
    retention = retention_of(ctx.community)
    ratings = {pid: answer_rating(None, None, limit) for pid in expected}
    for answer in decision.answers:
        ratings[answer.player_id] = answer_rating(
            answer.correct, elapsed_seconds(rnd.opened_at, answer.answered_at), limit
        )
    return [
        review_card(
            cards.get(player_id),
            community_id=ctx.quiz.community_id,
            player_id=player_id,
            question_id=rnd.question.question_id,
            content_hash=content_hash,
            rating=ratings[player_id],
            source=ReviewSource.QUIZ,
            now=ctx.now,
            retention=retention,
        )
        for player_id in sorted(ratings)
    ]
