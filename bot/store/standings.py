"""`Leaderboards`: the score boards of a period, and the totals within one quiz."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import and_, case, func, or_, select

from bot.core.model import ScoreRow, Standings, SubjectKind
from bot.core.ports import StandingsQuery
from bot.store.db import CLOSED, Database
from bot.store.tables import AnswerRow, PlayerRow, RoundRow, ScoreRowTable, TeamAnswerRow, TeamRow


class Leaderboards:
    """Reads of the `scores` table (and of one quiz's answers)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def standings(self, query: StandingsQuery) -> Standings:
        """Top `limit` rows of a score period (an index range scan) and `me_id`'s own row.

        Ranks follow the board's order (points, then correct answers, then id), so they
        are unique; `me_id`'s rank is a count over the same index.
        """
        community_id, period, subject_kind = query.community_id, query.period, query.subject_kind
        limit, me_id = query.limit, query.me_id
        s = ScoreRowTable
        names: Any = PlayerRow if subject_kind is SubjectKind.PLAYER else TeamRow
        name_col = names.display_name if subject_kind is SubjectKind.PLAYER else names.name
        board = (
            select(s.subject_id, s.points, s.correct, s.answered, name_col.label("name"))
            .outerjoin(names, names.id == s.subject_id)
            .where(
                s.community_id == community_id,
                s.period == period,
                s.subject_kind == subject_kind.value,
            )
        )
        top_stmt = board.order_by(s.points.desc(), s.correct.desc(), s.subject_id).limit(limit)
        async with self._db.reader.connect() as conn:
            rows = [
                self._score_row(rank, subject_kind, r)
                for rank, r in enumerate((await conn.execute(top_stmt)).mappings(), start=1)
            ]
            me = next((r for r in rows if r.subject_id == me_id), None)
            if me_id is not None and me is None:
                mine = (await conn.execute(board.where(s.subject_id == me_id))).mappings().first()
                if mine is not None:
                    ahead = select(func.count()).where(
                        s.community_id == community_id,
                        s.period == period,
                        s.subject_kind == subject_kind.value,
                        or_(
                            s.points > mine["points"],
                            and_(s.points == mine["points"], s.correct > mine["correct"]),
                            and_(
                                s.points == mine["points"],
                                s.correct == mine["correct"],
                                s.subject_id < me_id,
                            ),
                        ),
                    )
                    rank = int((await conn.execute(ahead)).scalar_one()) + 1
                    me = self._score_row(rank, subject_kind, mine)
        return Standings(period=period, rows=tuple(rows), me=me)

    @staticmethod
    def _score_row(rank: int, kind: SubjectKind, row: Mapping[Any, Any]) -> ScoreRow:
        return ScoreRow(
            rank=rank,
            subject_kind=kind,
            subject_id=row["subject_id"],
            name=row["name"] or f"#{row['subject_id']}",
            points=int(row["points"]),
            correct=int(row["correct"]),
            answered=int(row["answered"]),
        )

    async def quiz_totals(self, quiz_id: int, subject_kind: SubjectKind) -> list[ScoreRow]:
        """Points per player (or team) within one quiz's closed rounds, best first."""
        source: Any = AnswerRow if subject_kind is SubjectKind.PLAYER else TeamAnswerRow
        subject = source.player_id if subject_kind is SubjectKind.PLAYER else source.team_id
        names: Any = PlayerRow if subject_kind is SubjectKind.PLAYER else TeamRow
        name_col = names.display_name if subject_kind is SubjectKind.PLAYER else names.name
        points = func.coalesce(func.sum(source.points), 0)
        correct = func.coalesce(func.sum(case((source.correct.is_(True), 1), else_=0)), 0)
        stmt = (
            select(
                subject.label("subject_id"),
                name_col.label("name"),
                points.label("points"),
                correct.label("correct"),
                func.count().label("answered"),
            )
            .join(RoundRow, RoundRow.id == source.round_id)
            .join(names, names.id == subject)
            .where(RoundRow.quiz_id == quiz_id, RoundRow.status == CLOSED)
            .group_by(subject, name_col)
            .order_by(points.desc(), correct.desc(), subject)
        )
        async with self._db.reader.connect() as conn:
            result = await conn.execute(stmt)
            return [
                self._score_row(rank, subject_kind, r)
                for rank, r in enumerate(result.mappings(), start=1)
            ]
