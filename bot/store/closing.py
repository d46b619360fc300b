"""`RoundCloser`: close a round once and write what the core decided, in one transaction.

The close marks the round closed by a conditional UPDATE (open -> closed), reads what
scoring needs, asks the core to `decide`, then writes the answers' points, the team
votes, the score deltas and the quiz's next step. On PostgreSQL the answers' points and
the score deltas each go in one statement over arrays (unnest).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Integer,
    String,
    bindparam,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.model import Answer, Quiz, Round, TeamVote
from bot.core.outbox import close_messages
from bot.core.ports import CloseContext, CloseDecision, ClosedRound, Decide
from bot.store.codec import answer_from_row, community_from_row, round_from_row
from bot.store.db import CLOSED, OPEN, ROUND_COLUMNS, Database
from bot.store.outbox import question_undelivered
from bot.store.quizzes import Quizzes
from bot.store.tables import (
    AnswerRow,
    CommunityRow,
    PlayerRow,
    QuizRow,
    RoundRow,
    ScoreRowTable,
    TeamAnswerRow,
    TeamRow,
    UTCDateTime,
)

log = logging.getLogger(__name__)

# The answers' points and the score deltas on PostgreSQL, in the order given (the lock
# order of scores).
_PG_SCORE_ANSWERS = text(
    "UPDATE answers SET correct = v.correct, points = v.points, streak = v.streak"
    " FROM unnest(:players, :correct, :points, :streaks)"
    " AS v(player_id, correct, points, streak)"
    " WHERE answers.round_id = :round_id AND answers.player_id = v.player_id"
).bindparams(
    bindparam("round_id", type_=BigInteger()),
    bindparam("players", type_=postgresql.ARRAY(BigInteger())),
    bindparam("correct", type_=postgresql.ARRAY(Boolean())),
    bindparam("points", type_=postgresql.ARRAY(Integer())),
    bindparam("streaks", type_=postgresql.ARRAY(Integer())),
)
_PG_ADD_SCORES = text(
    "INSERT INTO scores (community_id, period, subject_kind, subject_id, points, correct,"
    " answered)"
    " SELECT :community_id, v.period, v.kind, v.subject, v.points, v.correct, v.answered"
    " FROM unnest(:periods, :kinds, :subjects, :points, :correct, :answered)"
    " WITH ORDINALITY AS v(period, kind, subject, points, correct, answered, n)"
    " ORDER BY v.n"
    " ON CONFLICT (community_id, period, subject_kind, subject_id) DO UPDATE SET"
    " points = scores.points + excluded.points,"
    " correct = scores.correct + excluded.correct,"
    " answered = scores.answered + excluded.answered"
).bindparams(
    bindparam("community_id", type_=BigInteger()),
    bindparam("periods", type_=postgresql.ARRAY(String())),
    bindparam("kinds", type_=postgresql.ARRAY(String())),
    bindparam("subjects", type_=postgresql.ARRAY(BigInteger())),
    bindparam("points", type_=postgresql.ARRAY(BigInteger())),
    bindparam("correct", type_=postgresql.ARRAY(Integer())),
    bindparam("answered", type_=postgresql.ARRAY(Integer())),
)
# _PG_ADD_SCORES's array parameters and the score columns they carry.
_SCORE_ARRAYS = (
    ("periods", "period"),
    ("kinds", "subject_kind"),
    ("subjects", "subject_id"),
    ("points", "points"),
    ("correct", "correct"),
    ("answered", "answered"),
)


class RoundCloser:
    """Closing rounds, one by one or every due one of a platform."""

    def __init__(self, db: Database, quizzes: Quizzes) -> None:
        self._db = db
        self._quizzes = quizzes

    async def close_round(self, round_id: int, now: datetime, decide: Decide) -> ClosedRound | None:
        """Close an open round and apply `decide` in the same transaction.

        A conditional update (open -> closed) makes this happen once: a second caller,
        in this process or another, gets None.
        """
        async with self._db.write() as conn:
            return await self._close(conn, round_id, now, decide)

    async def close_due_rounds(
        self, platform: str, now: datetime, decide: Decide, limit: int = 50
    ) -> list[ClosedRound]:
        """Close every open round of `platform` whose deadline has passed, each in its own
        transaction; on PostgreSQL due rounds are claimed with FOR UPDATE SKIP LOCKED.

        A round whose close fails is logged and left open for the next call.
        """
        if not self._db.postgres:
            return await self._close_due_one_by_one(platform, now, decide, limit)
        closed: list[ClosedRound] = []
        failed: set[int] = set()
        while len(closed) + len(failed) < limit:
            claim = (
                self._due_rounds(platform, now, 1)
                .where(RoundRow.id.not_in(failed))
                .with_for_update(of=RoundRow, skip_locked=True)
            )
            round_id: int | None = None
            try:
                async with self._db.write() as conn:
                    round_id = (await conn.execute(claim)).scalar()
                    if round_id is None:
                        break
                    result = await self._close(conn, round_id, now, decide)
            except Exception:
                if round_id is None:
                    raise
                log.exception("closing round %s failed", round_id)
                failed.add(round_id)
                continue
            if result is not None:
                closed.append(result)
        return closed

    async def _close_due_one_by_one(
        self, platform: str, now: datetime, decide: Decide, limit: int
    ) -> list[ClosedRound]:
        """`close_due_rounds` on SQLite, where writers take turns anyway: read the due
        ids, then close each in its own transaction."""
        closed: list[ClosedRound] = []
        for due_id in await self.due_round_ids(platform, now, limit):
            try:
                result = await self.close_round(due_id, now, decide)
            except Exception:
                log.exception("closing round %s failed", due_id)
                continue
            if result is not None:
                closed.append(result)
        return closed

    def _due_rounds(self, platform: str, now: datetime, limit: int) -> Any:
        """SELECT the ids of `platform`'s open rounds past their deadline, oldest first.

        A round whose question is still in the outbox is not due: its clock starts when
        the question is seen (the dispatcher moves its deadline then).
        """
        return (
            select(RoundRow.id)
            .join(QuizRow, QuizRow.id == RoundRow.quiz_id)
            .where(
                RoundRow.status == OPEN,
                RoundRow.closes_at <= literal(now, UTCDateTime()),
                QuizRow.platform == platform,
                ~question_undelivered(RoundRow.id),
            )
            .order_by(RoundRow.closes_at, RoundRow.id)
            .limit(limit)
        )

    async def due_round_ids(self, platform: str, now: datetime, limit: int = 50) -> list[int]:
        """Ids of open rounds of `platform` past their deadline (no lock taken)."""
        async with self._db.reader.connect() as conn:
            return list((await conn.execute(self._due_rounds(platform, now, limit))).scalars())

    async def _close(
        self, conn: AsyncConnection, round_id: int, now: datetime, decide: Decide
    ) -> ClosedRound | None:
        """Mark a round closed if it is open, then score it with `decide`, in `conn`'s
        transaction."""
        round_ = await self._mark_closed(conn, round_id, now)
        if round_ is None:
            return None
        context = await self._close_context(conn, round_, now)
        decision = decide(context)
        quiz = context.quiz
        if decision.answers:
            await self._score_answers(conn, round_id, decision.answers)
        if decision.team_votes:
            await self._insert_team_votes(conn, round_id, decision.team_votes)
        scores = _score_rows(quiz.community_id, decision)
        if scores:
            await self._add_scores(conn, quiz.community_id, scores)
        next_round = None
        if decision.next_round is not None:
            next_round = await self._quizzes.insert_round(conn, quiz.id, decision.next_round)
        if decision.quiz_status != quiz.status:
            await self._quizzes.set_quiz_status(conn, quiz, decision.quiz_status.value)
            quiz = Quiz(**{**vars(quiz), "status": decision.quiz_status})
        closed = ClosedRound(context=context, decision=decision, quiz=quiz, next_round=next_round)
        # the reveal and what follows are shown whatever happens to this process next
        await self._quizzes.outbox.write_in(
            conn, quiz.platform, quiz.community_id, quiz.id, close_messages(closed), now
        )
        return closed

    async def _mark_closed(
        self, conn: AsyncConnection, round_id: int, now: datetime
    ) -> Round | None:
        """open -> closed, once: the closed round, or None if it was not open."""
        row = (
            (
                await conn.execute(
                    update(RoundRow)
                    .where(RoundRow.id == round_id, RoundRow.status == OPEN)
                    .values(status=CLOSED, closed_at=now)
                    .returning(*ROUND_COLUMNS)
                )
            )
            .mappings()
            .first()
        )
        return None if row is None else round_from_row(row)

    async def _score_answers(
        self, conn: AsyncConnection, round_id: int, answers: Sequence[Answer]
    ) -> None:
        """Write each answer's correct, points and streak."""
        if self._db.postgres:
            # one statement for the whole round, not one UPDATE per answer
            await conn.execute(
                _PG_SCORE_ANSWERS,
                {
                    "round_id": round_id,
                    "players": [a.player_id for a in answers],
                    "correct": [a.correct for a in answers],
                    "points": [a.points for a in answers],
                    "streaks": [a.streak for a in answers],
                },
            )
            return
        await conn.execute(
            update(AnswerRow)
            .where(
                AnswerRow.round_id == bindparam("b_round"),
                AnswerRow.player_id == bindparam("b_player"),
            )
            .values(
                correct=bindparam("b_correct"),
                points=bindparam("b_points"),
                streak=bindparam("b_streak"),
            ),
            [
                {
                    "b_round": round_id,
                    "b_player": a.player_id,
                    "b_correct": a.correct,
                    "b_points": a.points,
                    "b_streak": a.streak,
                }
                for a in answers
            ],
        )

    async def _insert_team_votes(
        self, conn: AsyncConnection, round_id: int, votes: Sequence[TeamVote]
    ) -> None:
        """Store each team's vote on the round."""
        await conn.execute(
            self._db.insert(TeamAnswerRow),
            [
                {
                    "round_id": round_id,
                    "team_id": v.team_id,
                    "selected": sorted(v.selected),
                    "votes": v.votes,
                    "members_voted": v.members_voted,
                    "correct": v.correct,
                    "points": v.points,
                }
                for v in votes
            ],
        )

    async def _add_scores(
        self, conn: AsyncConnection, community_id: int, scores: Sequence[Mapping[str, Any]]
    ) -> None:
        """Add the score deltas to their rows (created when missing), in the order given."""
        if self._db.postgres:
            await conn.execute(
                _PG_ADD_SCORES,
                {
                    "community_id": community_id,
                    **{key: [s[column] for s in scores] for key, column in _SCORE_ARRAYS},
                },
            )
            return
        ins = self._db.insert(ScoreRowTable)
        table = ScoreRowTable.__table__.c
        await conn.execute(
            ins.on_conflict_do_update(
                index_elements=["community_id", "period", "subject_kind", "subject_id"],
                set_={
                    "points": table.points + ins.excluded.points,
                    "correct": table.correct + ins.excluded.correct,
                    "answered": table.answered + ins.excluded.answered,
                },
            ),
            scores,
        )

    async def _close_context(
        self, conn: AsyncConnection, round_: Round, now: datetime
    ) -> CloseContext:
        """Read what scoring needs, inside the closing transaction."""
        quiz = await self._quizzes.quiz_in(conn, round_.quiz_id)
        if quiz is None:
            raise LookupError(f"round {round_.id} names a missing quiz {round_.quiz_id}")
        community_row = (
            (
                await conn.execute(
                    select(CommunityRow.__table__).where(CommunityRow.id == quiz.community_id)
                )
            )
            .mappings()
            .one()
        )
        answers, player_names, team_names = await self._answers_with_names(conn, round_.id)
        previous_streaks: dict[int, int] = {}
        previous_answered: int | None = None
        if round_.position > 1:
            previous = await conn.execute(
                select(AnswerRow.player_id, AnswerRow.streak)
                .join(RoundRow, RoundRow.id == AnswerRow.round_id)
                .where(RoundRow.quiz_id == quiz.id, RoundRow.position == round_.position - 1)
            )
            previous_streaks = {r.player_id: r.streak for r in previous}
            previous_answered = len(previous_streaks)
        return CloseContext(
            quiz=quiz,
            round=round_,
            community=community_from_row(community_row),
            answers=answers,
            previous_streaks=previous_streaks,
            previous_answered=previous_answered,
            player_names=player_names,
            team_names=team_names,
            now=now,
        )

    @staticmethod
    async def _answers_with_names(
        conn: AsyncConnection, round_id: int
    ) -> tuple[tuple[Answer, ...], dict[int, str], dict[int, str]]:
        """A round's answers in order, with their players' and teams' names, in one read."""
        rows = (
            await conn.execute(
                select(
                    AnswerRow.__table__,
                    PlayerRow.display_name.label("player_name"),
                    TeamRow.name.label("team_name"),
                )
                .join(PlayerRow, PlayerRow.id == AnswerRow.player_id)
                .outerjoin(TeamRow, TeamRow.id == AnswerRow.team_id)
                .where(AnswerRow.round_id == round_id)
                .order_by(AnswerRow.answered_at, AnswerRow.player_id)
            )
        ).mappings()
        answers: list[Answer] = []
        player_names: dict[int, str] = {}
        team_names: dict[int, str] = {}
        for r in rows:
            answer = answer_from_row(r)
            answers.append(answer)
            player_names[answer.player_id] = r["player_name"]
            if answer.team_id is not None:
                team_names[answer.team_id] = r["team_name"]
        return tuple(answers), player_names, team_names


def _score_rows(community_id: int, decision: CloseDecision) -> list[dict[str, Any]]:
    """The score rows a decision adds to, one per delta and period, in lock order."""
    return sorted(
        (
            {
                "community_id": community_id,
                "period": period,
                "subject_kind": d.subject_kind.value,
                "subject_id": d.subject_id,
                "points": d.points,
                "correct": d.correct,
                "answered": d.answered,
            }
            for d in decision.deltas
            for period in dict.fromkeys(decision.periods)
        ),
        # One lock order for every closer, so concurrent closes never deadlock.
        key=lambda s: (s["period"], s["subject_kind"], s["subject_id"]),
    )
