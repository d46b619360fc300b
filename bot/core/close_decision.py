"""What closing a round decides: its scores, the periods they count in, what comes next.

Pure: it reads only the close context, so the store can call it inside the
transaction that closes the round.
"""

from __future__ import annotations

import random
from datetime import timedelta

from bot.core.bank import QuestionLookup
from bot.core.cards import shuffled_question
from bot.core.model import Mode, QuizStatus
from bot.core.periods import ALL_TIME, week_label
from bot.core.ports import CloseContext, CloseDecision, NewRound
from bot.core.scoring import score_round

EMPTY_ROUNDS_BEFORE_STOP = 2


def close_decision(
    ctx: CloseContext, next_round: NewRound | None, *, stop: bool, reason: str | None
) -> CloseDecision:
    """Score a closing round and choose what comes next: `next_round`, or the quiz's end."""
    options = ctx.quiz.options
    scored = score_round(
        ctx.round,
        ctx.answers,
        ctx.previous_streaks,
        scoring=options.scoring,
        partial=options.partial,
        teams=options.mode is Mode.TEAMS,
    )
    periods = (
        week_label(ctx.round.opened_at, ctx.community.timezone, ctx.community.week_start),
        ALL_TIME,
    )
    status, ending = QuizStatus.RUNNING, None
    if stop:
        status, next_round = QuizStatus.STOPPED, None
        ending = reason or "Stopped by the host"
    elif next_round is None:
        status, ending = QuizStatus.FINISHED, "That was the last question"
    elif not ctx.answers and ctx.previous_answered == 0:
        status, next_round = QuizStatus.STOPPED, None
        ending = f"No answers for {EMPTY_ROUNDS_BEFORE_STOP} rounds in a row"
    return CloseDecision(
        answers=scored.answers,
        team_votes=scored.team_votes,
        deltas=scored.deltas,
        periods=periods,
        quiz_status=status,
        next_round=next_round,
        ending=ending,
    )


def next_round(ctx: CloseContext, bank: QuestionLookup, rng: random.Random) -> NewRound | None:
    """The round after the closing one, opening now; None after the last question."""
    quiz, position = ctx.quiz, ctx.round.position
    for offset, question_id in enumerate(quiz.question_ids[position:]):
        question = bank.question(question_id)
        if question is None:
            continue  # removed from its deck since the quiz began: skip it
        return NewRound(
            quiz_id=quiz.id,
            position=position + 1 + offset,
            question=shuffled_question(question, rng),
            opened_at=ctx.now,
            closes_at=ctx.now + timedelta(seconds=quiz.options.seconds),
        )
    return None
