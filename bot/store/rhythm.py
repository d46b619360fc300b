"""`SqlRhythmStore`: the core's `RhythmStore` (jobs, schedules, weekly board and stats
queries) on the engine of a `SqlStore`.

Every method is one transaction. The exactly-once rules are single statements: a job
is claimed by INSERT ... ON CONFLICT DO NOTHING on its unique key (or taken over by a
conditional UPDATE once its lease ran out), and a schedule slot by an UPDATE that
matches the `next_run_at` it read.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import aliased

from bot.core.errors import QuizError
from bot.core.jobs import JobClaim, JobRequest, JobStatus
from bot.core.model import Player, RoundStatus, SubjectKind
from bot.core.outbox import OutboxBatch, OutboxMessage
from bot.core.rhythm.cards import Improvement
from bot.core.rhythm.ports import DueBoard, DueSchedule, NewSchedule, ScheduleMove
from bot.core.rhythm.schedules import Cadence, Schedule, ScheduleSpec, parse_time
from bot.core.rhythm.stats import AnswerFact
from bot.store.codec import community_from_row, player_from_row
from bot.store.database import READ_ONLY
from bot.store.db import Database
from bot.store.outbox import Outbox
from bot.store.repository import SqlStore
from bot.store.tables import (
    AnswerRow,
    CommunityRow,
    JobRow,
    PlayerRow,
    QuizRow,
    RoundRow,
    ScheduleRow,
    ScoreRowTable,
    UTCDateTime,
)

# A quiz whose rounds fall in a week began at most this long before it (50 questions of
# 10 minutes take 8 h); the bound keeps the count of a week's questions off old quizzes.
QUIZ_SPAN = timedelta(days=7)
_CHUNK = 500
_RUNNING = JobStatus.RUNNING.value


def schedule_from_row(row: Mapping[Any, Any]) -> Schedule:
    """A Schedule from a `schedules` row."""
    spec = ScheduleSpec(
        cadence=Cadence(row["cadence"]),
        at=parse_time(row["local_time"]),
        weekday=row["weekday"],
        decks=tuple(row["decks"] or ()),
        questions=row["questions"],
    )
    return Schedule(
        id=row["id"],
        community_id=row["community_id"],
        channel_id=row["channel_id"],
        created_by=row["created_by"],
        spec=spec,
        next_run_at=row["next_run_at"],
        created_at=row["created_at"],
        last_run_at=row["last_run_at"],
    )


def _claim_from_row(row: Mapping[Any, Any]) -> JobClaim:
    return JobClaim(
        id=row["id"],
        community_id=row["community_id"],
        kind=row["kind"],
        key=row["key"],
        token=row["token"],
        attempts=row["attempts"],
    )


class SqlRhythmStore:
    """The `bot.core.rhythm.RhythmStore` sharing a SqlStore's engine (and its pool)."""

    def __init__(self, store: SqlStore | AsyncEngine) -> None:
        self._db = store.db if isinstance(store, SqlStore) else Database(store)
        self._engine = self._db.engine
        self._outbox = Outbox(self._db)
        # Reads here are transactions on PostgreSQL too (not the store's autocommit reads).
        self._reader = self._engine.execution_options(**{READ_ONLY: True})

    # Weekly boards

    async def due_boards(self, platform: str, now: datetime) -> list[DueBoard]:
        """Communities of a platform with a weekly channel whose board check is due at
        `now`: a range scan of ix_communities_board_due (communities without a channel
        have no `next_board_at` and are not in it)."""
        channel = CommunityRow.settings["channel"].as_string()
        stmt = (
            select(CommunityRow.__table__)
            .where(
                CommunityRow.platform == platform,
                CommunityRow.next_board_at <= literal(now, UTCDateTime()),
                channel.is_not(None),
                channel != "",
            )
            .order_by(CommunityRow.id)
        )
        async with self._reader.connect() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [DueBoard(community_from_row(r), r["next_board_at"]) for r in rows]

    async def move_board(self, community_id: int, expected: datetime, next_at: datetime) -> bool:
        """Set `next_board_at` if it still is `expected` (a settings change meanwhile
        made the community due again, and that wins)."""
        stmt = (
            update(CommunityRow)
            .where(
                CommunityRow.id == community_id,
                CommunityRow.next_board_at == literal(expected, UTCDateTime()),
            )
            .values(next_board_at=next_at)
        )
        async with self._engine.begin() as conn:
            return bool((await conn.execute(stmt)).rowcount)

    async def settled_jobs(
        self, kind: str, keys: Collection[tuple[int, str]]
    ) -> set[tuple[int, str]]:
        """Which (community id, key) jobs of a kind are finished (done, skipped or failed)."""
        wanted = sorted(set(keys))
        settled: set[tuple[int, str]] = set()
        async with self._reader.connect() as conn:
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                rows = await conn.execute(
                    select(JobRow.community_id, JobRow.key).where(
                        JobRow.kind == kind,
                        JobRow.community_id.in_({c for c, _ in chunk}),
                        JobRow.key.in_({k for _, k in chunk}),
                        JobRow.status != _RUNNING,
                    )
                )
                settled.update((r.community_id, r.key) for r in rows)
        return settled & set(wanted)

    async def claim_job(self, job: JobRequest) -> JobClaim | None:
        """Claim a job in one transaction: INSERT its key ... ON CONFLICT DO NOTHING; else
        a conditional UPDATE takes over a lapsed lease with attempts left; else one with
        none left is marked failed. None if held elsewhere or finished."""
        token = secrets.token_hex(16)
        insert = (
            self._db.insert(JobRow)
            .values(
                community_id=job.community_id,
                kind=job.kind,
                key=job.key,
                status=_RUNNING,
                token=token,
                attempts=1,
                lease_until=job.lease_until,
                created_at=job.now,
            )
            .on_conflict_do_nothing(index_elements=["community_id", "kind", "key"])
            .returning(*JobRow.__table__.c)
        )
        same_job = and_(
            JobRow.community_id == job.community_id,
            JobRow.kind == job.kind,
            JobRow.key == job.key,
            JobRow.status == _RUNNING,
            JobRow.lease_until <= literal(job.now, UTCDateTime()),
        )
        takeover = (
            update(JobRow)
            .where(same_job, JobRow.attempts < job.max_attempts)
            .values(token=token, attempts=JobRow.attempts + 1, lease_until=job.lease_until)
            .returning(*JobRow.__table__.c)
        )
        async with self._engine.begin() as conn:
            row = (await conn.execute(insert)).mappings().first()
            if row is None:
                row = (await conn.execute(takeover)).mappings().first()
            if row is None:
                # a claimer died on its last attempt: give the job up for good
                await conn.execute(
                    update(JobRow)
                    .where(same_job, JobRow.attempts >= job.max_attempts)
                    .values(status=JobStatus.FAILED.value, finished_at=job.now, detail="lease lost")
                )
        return None if row is None else _claim_from_row(row)

    async def finish_job(
        self, claim: JobClaim, status: JobStatus, now: datetime, detail: str | None = None
    ) -> bool:
        """Mark a held job done, skipped or failed; False if the claim was lost."""
        stmt = (
            update(JobRow)
            .where(JobRow.id == claim.id, JobRow.token == claim.token, JobRow.status == _RUNNING)
            .values(status=status.value, finished_at=now, detail=detail)
        )
        async with self._engine.begin() as conn:
            return bool((await conn.execute(stmt)).rowcount)

    async def finish_job_posting(
        self, claim: JobClaim, now: datetime, platform: str, message: OutboxMessage
    ) -> bool:
        """Mark a held job done and put its message in the outbox, in one transaction;
        False (and nothing written) if the claim was lost."""
        stmt = (
            update(JobRow)
            .where(JobRow.id == claim.id, JobRow.token == claim.token, JobRow.status == _RUNNING)
            .values(status=JobStatus.DONE.value, finished_at=now)
        )
        async with self._db.write() as conn:
            if not (await conn.execute(stmt)).rowcount:
                return False
            batch = OutboxBatch(platform, claim.community_id, None, [message])
            await self._outbox.write_in(conn, batch, now)
        return True

    async def retry_job_later(self, claim: JobClaim, retry_at: datetime, detail: str) -> None:
        """Release a held job after a failure, for a retry from `retry_at` on."""
        stmt = (
            update(JobRow)
            .where(JobRow.id == claim.id, JobRow.token == claim.token, JobRow.status == _RUNNING)
            .values(lease_until=retry_at, detail=detail)
        )
        async with self._engine.begin() as conn:
            await conn.execute(stmt)

    async def questions_played(self, community_id: int, start: datetime, end: datetime) -> int:
        """Rounds closed in a community whose question was put between start and end."""
        stmt = (
            select(func.count())
            .select_from(RoundRow)
            .join(QuizRow, QuizRow.id == RoundRow.quiz_id)
            .where(
                QuizRow.community_id == community_id,
                QuizRow.created_at >= literal(start - QUIZ_SPAN, UTCDateTime()),
                QuizRow.created_at < literal(end, UTCDateTime()),
                RoundRow.opened_at >= literal(start, UTCDateTime()),
                RoundRow.opened_at < literal(end, UTCDateTime()),
                RoundRow.status == RoundStatus.CLOSED.value,
            )
        )
        async with self._reader.connect() as conn:
            return int((await conn.execute(stmt)).scalar_one())

    async def most_improved(
        self, community_id: int, period: str, previous: str
    ) -> Improvement | None:
        """The player with the largest gain in points from `previous` to `period`, among
        players who scored in both (two range scans of the scores key); None if nobody
        gained."""
        now, before = aliased(ScoreRowTable), aliased(ScoreRowTable)
        gain = now.points - before.points
        stmt = (
            select(now.subject_id, PlayerRow.display_name, now.points, before.points.label("prev"))
            .join(
                before,
                and_(
                    before.community_id == now.community_id,
                    before.period == previous,
                    before.subject_kind == now.subject_kind,
                    before.subject_id == now.subject_id,
                ),
            )
            .join(PlayerRow, PlayerRow.id == now.subject_id)
            .where(
                now.community_id == community_id,
                now.period == period,
                now.subject_kind == SubjectKind.PLAYER.value,
                gain > 0,
            )
            .order_by(gain.desc(), now.points.desc(), now.subject_id)
            .limit(1)
        )
        async with self._reader.connect() as conn:
            row = (await conn.execute(stmt)).first()
        if row is None:
            return None
        return Improvement(row.subject_id, row.display_name, int(row.points), int(row.prev))

    # Schedules

    async def add_schedule(self, new: NewSchedule, limit: int) -> Schedule:
        """Store a schedule; QuizError if the community already has `limit` of them."""
        spec = new.spec
        count = (
            select(func.count())
            .select_from(ScheduleRow)
            .where(ScheduleRow.community_id == new.community_id)
        )
        insert = (
            self._db.insert(ScheduleRow)
            .values(
                community_id=new.community_id,
                platform=new.platform,
                channel_id=new.channel_id,
                created_by=new.created_by,
                cadence=spec.cadence.value,
                weekday=spec.weekday,
                local_time=spec.at.strftime("%H:%M"),
                decks=list(spec.decks),
                questions=spec.questions,
                next_run_at=new.next_run_at,
                created_at=new.created_at,
            )
            .returning(*ScheduleRow.__table__.c)
        )
        async with self._engine.begin() as conn:
            if int((await conn.execute(count)).scalar_one()) >= limit:
                raise QuizError(
                    f"This community has {limit} scheduled quizzes already: cancel one first"
                )
            return schedule_from_row((await conn.execute(insert)).mappings().one())

    async def schedules(self, community_id: int) -> list[Schedule]:
        """A community's schedules, by id."""
        stmt = (
            select(ScheduleRow.__table__)
            .where(ScheduleRow.community_id == community_id)
            .order_by(ScheduleRow.id)
        )
        async with self._reader.connect() as conn:
            return [schedule_from_row(r) for r in (await conn.execute(stmt)).mappings()]

    async def delete_schedule(self, community_id: int, schedule_id: int) -> Schedule | None:
        """Delete a community's schedule; None if it has no such schedule."""
        stmt = (
            delete(ScheduleRow)
            .where(ScheduleRow.id == schedule_id, ScheduleRow.community_id == community_id)
            .returning(*ScheduleRow.__table__.c)
        )
        async with self._engine.begin() as conn:
            row = (await conn.execute(stmt)).mappings().first()
        return None if row is None else schedule_from_row(row)

    async def due_schedules(self, platform: str, now: datetime, limit: int) -> list[DueSchedule]:
        """Schedules of a platform whose next run is at or before `now`, oldest first."""
        s = ScheduleRow.__table__.c
        c = CommunityRow.__table__.c
        p = PlayerRow.__table__.c
        stmt = (
            select(
                *s,
                *(col.label(f"c_{col.key}") for col in c),
                *(col.label(f"p_{col.key}") for col in p),
            )
            .join(CommunityRow, CommunityRow.id == ScheduleRow.community_id)
            .join(PlayerRow, PlayerRow.id == ScheduleRow.created_by)
            .where(
                ScheduleRow.platform == platform,
                ScheduleRow.next_run_at <= literal(now, UTCDateTime()),
            )
            .order_by(ScheduleRow.next_run_at, ScheduleRow.id)
            .limit(limit)
        )
        async with self._reader.connect() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [
            DueSchedule(
                schedule=schedule_from_row(r),
                community=community_from_row({col.key: r[f"c_{col.key}"] for col in c}),
                host=player_from_row({col.key: r[f"p_{col.key}"] for col in p}),
            )
            for r in rows
        ]

    async def move_schedule(self, move: ScheduleMove) -> bool:
        """Set next_run_at if it still is `expected` (the exactly-once claim of a slot)."""
        values: dict[str, Any] = {"next_run_at": move.next_run_at}
        if move.ran_at is not None:
            values["last_run_at"] = move.ran_at
        stmt = (
            update(ScheduleRow)
            .where(
                ScheduleRow.id == move.schedule_id,
                ScheduleRow.next_run_at == literal(move.expected, UTCDateTime()),
            )
            .values(**values)
        )
        async with self._engine.begin() as conn:
            return bool((await conn.execute(stmt)).rowcount)

    # Stats

    async def find_player(self, platform: str, external_id: str) -> Player | None:
        """A player by platform id, without creating one."""
        stmt = select(PlayerRow.__table__).where(
            PlayerRow.platform == platform, PlayerRow.external_id == external_id
        )
        async with self._reader.connect() as conn:
            row = (await conn.execute(stmt)).mappings().first()
        return None if row is None else player_from_row(row)

    async def player_answers(self, community_id: int, player_id: int) -> list[AnswerFact]:
        """A player's scored answers in a community (the player's index, no other's rows)."""
        stmt = (
            select(
                RoundRow.question["deck"].as_string().label("deck"),
                RoundRow.question["tags"].label("tags"),
                RoundRow.opened_at,
                AnswerRow.answered_at,
                AnswerRow.correct,
                AnswerRow.streak,
            )
            .join(RoundRow, RoundRow.id == AnswerRow.round_id)
            .join(QuizRow, QuizRow.id == RoundRow.quiz_id)
            .where(
                AnswerRow.player_id == player_id,
                QuizRow.community_id == community_id,
                AnswerRow.correct.is_not(None),
            )
            .order_by(AnswerRow.answered_at)
        )
        async with self._reader.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return [
            AnswerFact(
                deck=r.deck or "?",
                tags=tuple(str(t) for t in (r.tags or ())),
                correct=bool(r.correct),
                seconds=max(0.0, (r.answered_at - r.opened_at).total_seconds()),
                streak=int(r.streak),
            )
            for r in rows
        ]
