"""`Outbox`: the messages the channels must see, written beside the change that calls
for them, and claimed, finished, retried or failed by the dispatchers of every process.

A lane is a (platform, channel) pair: a claim takes only the earliest unfinished row of
each lane, so a channel's messages go out one at a time, in the order written. On
PostgreSQL the claim locks rows with FOR UPDATE SKIP LOCKED, so two dispatchers never
take the same row; SQLite has one writer, so its claim needs no lock.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Exists,
    Integer,
    and_,
    bindparam,
    exists,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import InstrumentedAttribute, aliased

from bot.core.model import QuizStatus
from bot.core.outbox import (
    UNFINISHED,
    OutboxBatch,
    OutboxClaim,
    OutboxItem,
    OutboxKind,
    OutboxMessage,
    OutboxSender,
    OutboxStats,
    OutboxStatus,
    QuestionShown,
)
from bot.store import outbox_sql
from bot.store.db import CLOSED, OPEN, RUNNING, Database
from bot.store.driver import Driver
from bot.store.tables import OutboxRow, PlayerRow, QuizRow, RoundRow, UTCDateTime

PENDING = OutboxStatus.PENDING.value
SENDING = OutboxStatus.SENDING.value
ERROR_LENGTH = 500
_COLUMNS = OutboxRow.__table__.c


def dedupe_key(message: OutboxMessage) -> str | None:
    """A round's pending count edit is one row, however many refreshes ask for it."""
    if message.kind is OutboxKind.COUNT:
        return f"count-{message.round_id}"
    return None


def _item(row: dict[str, object]) -> OutboxItem:
    return OutboxItem(
        id=int(row["id"]),  # type: ignore[call-overload]
        platform=str(row["platform"]),
        channel_id=str(row["channel_id"]),
        community_id=int(row["community_id"]),  # type: ignore[call-overload]
        quiz_id=row["quiz_id"],  # type: ignore[arg-type]
        round_id=row["round_id"],  # type: ignore[arg-type]
        kind=OutboxKind(str(row["kind"])),
        payload=json.loads(str(row["payload"])),
        attempts=int(row["attempts"]),  # type: ignore[call-overload]
        created_at=row["created_at"],  # type: ignore[arg-type]
    )


class Outbox:
    """The `outbox` table."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._driver = Driver(db.postgres, direct=True)
        self._senders: list[OutboxSender] = []
        self._claims = {c: _claim_statement(db.postgres, of_channel=c) for c in (False, True)}

    def deliver_as_written(self, sender: OutboxSender) -> None:
        """Hand `sender` the rows it can send at once, as they are written. Two senders
        of the same lanes on one store (engines sharing it) would not know whose write
        it was: then neither is handed rows, and both claim them as usual."""
        self._senders.append(sender)

    def stop_delivering_as_written(self, sender: OutboxSender) -> None:
        """No more rows for `sender`."""
        if sender in self._senders:
            self._senders.remove(sender)

    async def write_in(self, conn: AsyncConnection, batch: OutboxBatch, now: datetime) -> None:
        """Write a batch in `conn`'s transaction (that of the change calling for it).

        Where this process delivers the platform's rows, the first row of each free lane
        is claimed here too and handed to the sender once the transaction commits.
        """
        platform, messages = batch.platform, batch.messages
        if not messages:
            return
        driver = self._driver
        if driver.postgres:
            # one writer per lane at a time, so that a lane's rows are numbered in the
            # order their transactions commit and "the first of its lane" is the truth
            # when checked below (READ COMMITTED sees no row of an uncommitted writer)
            for channel in sorted({m.channel_id for m in messages}):
                await driver.execute(conn, _LANE_LOCK_SQL, (f"{platform}:{channel}",))
        # driver-level statements, built once per shape (bot.store.outbox_sql)
        keys = [dedupe_key(m) for m in messages]
        ids = (platform, batch.community_id, batch.quiz_id)
        params = outbox_sql.row_values(driver, ids, messages, keys, now)
        deduplicated = any(k is not None for k in keys)
        sender = self._sender(platform, messages)
        if sender is None or not self._db.writing(conn):
            statement = outbox_sql.insert_statement(len(messages), deduplicated, False)
            await driver.execute(conn, statement, params)
            return
        statement = outbox_sql.insert_statement(len(messages), deduplicated, True)
        written = [r[0] for r in await driver.rows(conn, statement, params)]
        claimed = (
            await outbox_sql.lease_written(driver, conn, written, now + sender.lease)
            if written
            else []
        )
        if claimed:
            self._db.after_commit(conn, lambda: sender.take(claimed))

    def _sender(self, platform: str, messages: Sequence[OutboxMessage]) -> OutboxSender | None:
        """The one sender of this process that takes all of these messages' rows, if any:
        of the whole platform, else of the messages' one channel."""
        channels = {m.channel_id for m in messages}
        for channel in (None, *channels) if len(channels) == 1 else (None,):
            lanes = (platform, channel)
            senders = [s for s in self._senders if (s.platform, s.channel_id) == lanes]
            if senders:
                return senders[0] if len(senders) == 1 else None
        return None

    async def add_outbox(self, batches: Sequence[OutboxBatch], now: datetime) -> None:
        """Write batches together, in a transaction of their own (count edits: one
        refresh's edits, whatever the number of communities, cost one commit)."""
        async with self._db.write() as conn:
            for batch in batches:
                await self.write_in(conn, batch, now)

    async def claim_outbox(self, claim: OutboxClaim) -> list[OutboxItem]:
        """Claim the due first rows of the platform's lanes (of one channel, if given) until
        `claim.lease_until`; a row whose earlier claim's lease ran out is due again."""
        query = self._claims[claim.channel_id is not None]
        params: dict[str, object] = {
            "platform": claim.platform,
            "now": claim.now,
            "limit": claim.limit,
            "channel": claim.channel_id,
        }
        async with self._db.write() as conn:
            ids = list((await conn.execute(query, params)).scalars())
            return await _lease(conn, ids, claim.lease_until) if ids else []

    async def outbox_done(self, item_id: int, now: datetime, message_ref: str | None) -> None:
        """A row was delivered."""
        async with self._db.write() as conn:
            await _finish(conn, item_id, RowEnd(OutboxStatus.DONE, now, message_ref=message_ref))

    async def outbox_done_many(self, item_ids: Sequence[int], now: datetime) -> None:
        """Rows were delivered: one transaction for a dispatcher's whole pass."""
        if not item_ids:
            return
        async with self._db.write() as conn:
            await conn.execute(
                update(OutboxRow)
                .where(OutboxRow.id.in_(list(item_ids)))
                .values(status=OutboxStatus.DONE.value, done_at=now, lease_until=None)
            )

    async def question_shown(self, shown: QuestionShown, now: datetime) -> None:
        """A question was posted: the row is done, the round knows its message and, when
        the question came late, opens and closes at the `moved` times."""
        round_id, message_ref, moved = shown.round_id, shown.message_ref, shown.moved
        values: dict[str, object] = {"message_ref": message_ref}
        async with self._db.write() as conn:
            await _finish(conn, shown.item_id, RowEnd(OutboxStatus.DONE, now, message_ref))
            await conn.execute(update(RoundRow).where(RoundRow.id == round_id).values(**values))
            if moved is not None:
                await conn.execute(
                    update(RoundRow)
                    .where(RoundRow.id == round_id, RoundRow.status == OPEN)
                    .values(opened_at=moved[0], closes_at=moved[1])
                )

    async def retry_outbox(self, item_id: int, not_before: datetime, error: str) -> None:
        """A row failed for now: pending again from `not_before`."""
        async with self._db.write() as conn:
            await conn.execute(
                update(OutboxRow)
                .where(OutboxRow.id == item_id)
                .values(
                    status=PENDING,
                    not_before=not_before,
                    lease_until=None,
                    last_error=error[:ERROR_LENGTH],
                )
            )

    async def drop_outbox(self, item_id: int, now: datetime, reason: str) -> None:
        """A row is no longer wanted (a count edit of a closed round)."""
        async with self._db.write() as conn:
            await _finish(conn, item_id, RowEnd(OutboxStatus.DROPPED, now, error=reason))

    async def fail_outbox(self, item: OutboxItem, now: datetime, error: str) -> str | None:
        """A row can never be delivered: it fails and, if its quiz still runs, the quiz
        stops (open rounds closed unscored, its other pending rows dropped).

        Returns the host's platform id when this stopped a quiz, to tell them why.
        """
        async with self._db.write() as conn:
            await _finish(conn, item.id, RowEnd(OutboxStatus.FAILED, now, error=error))
            if item.quiz_id is None:
                return None
            stopped = await conn.execute(
                update(QuizRow)
                .where(QuizRow.id == item.quiz_id, QuizRow.status == RUNNING)
                .values(status=QuizStatus.STOPPED.value)
                .returning(QuizRow.host_id)
            )
            host_id = stopped.scalar()
            if host_id is None:
                return None
            await conn.execute(
                update(RoundRow)
                .where(RoundRow.quiz_id == item.quiz_id, RoundRow.status == OPEN)
                .values(status=CLOSED, closed_at=now)
            )
            await conn.execute(
                update(OutboxRow)
                .where(OutboxRow.quiz_id == item.quiz_id, OutboxRow.status.in_(UNFINISHED))
                .values(
                    status=OutboxStatus.DROPPED.value,
                    done_at=now,
                    dedupe_key=None,
                    last_error="the quiz stopped",
                )
            )
            host = await conn.execute(select(PlayerRow.external_id).where(PlayerRow.id == host_id))
            return host.scalar()

    async def outbox_stats(self, platform: str | None, now: datetime) -> OutboxStats:
        """How many rows wait (pending or sending), and the age of the oldest."""
        query = select(func.count(), func.min(OutboxRow.created_at)).where(
            OutboxRow.status.in_(UNFINISHED)
        )
        if platform is not None:
            query = query.where(OutboxRow.platform == platform)
        async with self._db.reader.connect() as conn:
            count, oldest = (await conn.execute(query)).one()
        if oldest is None:
            return OutboxStats(depth=int(count), oldest_age=0.0)
        oldest_at = UTCDateTime().process_result_value(oldest, self._db.engine.dialect)
        assert oldest_at is not None
        return OutboxStats(depth=int(count), oldest_age=max(0.0, (now - oldest_at).total_seconds()))

    async def next_outbox_time(self, platform: str, channel_id: str | None) -> datetime | None:
        """When the next row of these lanes can be claimed (the earliest retry time or
        lease end among the lanes' first rows); None when no row waits."""
        heads = select(
            func.min(OutboxRow.not_before).filter(OutboxRow.status == PENDING),
            func.min(OutboxRow.lease_until).filter(OutboxRow.status == SENDING),
        ).where(OutboxRow.platform == platform, OutboxRow.status.in_(UNFINISHED), ~_blocked())
        if channel_id is not None:
            heads = heads.where(OutboxRow.channel_id == channel_id)
        async with self._db.reader.connect() as conn:
            times = (await conn.execute(heads)).one()
        return min((t for t in times if t is not None), default=None)


@dataclass(frozen=True)
class RowEnd:
    """How a row's life ended: its status, when, and what to note on it."""

    status: OutboxStatus
    at: datetime
    message_ref: str | None = None
    error: str | None = None


async def _finish(conn: AsyncConnection, item_id: int, end: RowEnd) -> None:
    values: dict[str, object] = {"status": end.status.value, "done_at": end.at, "lease_until": None}
    if end.message_ref is not None:
        values["message_ref"] = end.message_ref
    if end.error is not None:
        values["last_error"] = end.error[:ERROR_LENGTH]
    await conn.execute(update(OutboxRow).where(OutboxRow.id == item_id).values(**values))


_LANE_LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtext($1))"


async def _lease(
    conn: AsyncConnection,
    ids: list[int],
    lease_until: datetime,
    *where: ColumnElement[bool],
) -> list[OutboxItem]:
    """Claim the rows `ids` (those of them matching `where`) until `lease_until`: the
    items, in lane order, with their reveals' question messages."""
    rows = await conn.execute(
        update(OutboxRow)
        .where(OutboxRow.id.in_(ids), *where)
        .values(
            status=SENDING,
            lease_until=lease_until,
            attempts=OutboxRow.attempts + 1,
            dedupe_key=None,  # a newer count edit now gets a row of its own
        )
        .returning(*_COLUMNS)
    )
    claimed = [_item(dict(r)) for r in rows.mappings()]
    if not claimed:
        return []
    refs = await _reveal_refs(conn, claimed)
    claimed = [replace(i, round_ref=refs.get(i.round_id)) if i.round_id else i for i in claimed]
    return sorted(claimed, key=lambda i: i.id)


async def _reveal_refs(conn: AsyncConnection, items: list[OutboxItem]) -> dict[int, str]:
    """The question messages of the claimed reveals' rounds, by round id."""
    round_ids = [i.round_id for i in items if i.kind is OutboxKind.REVEAL and i.round_id]
    if not round_ids:
        return {}
    query = select(RoundRow.id, RoundRow.message_ref).where(RoundRow.id.in_(round_ids))
    return {r.id: r.message_ref for r in await conn.execute(query) if r.message_ref is not None}


def _claim_statement(postgres: bool, *, of_channel: bool) -> Any:
    """`claim_outbox`'s query, built once (it runs at every pass of every dispatcher):
    the ids of the platform's (channel's) due rows that are the first of their lane."""
    now = bindparam("now", type_=UTCDateTime())
    due = or_(
        and_(OutboxRow.status == PENDING, OutboxRow.not_before <= now),
        and_(OutboxRow.status == SENDING, OutboxRow.lease_until <= now),
    )
    query = select(OutboxRow.id).where(
        OutboxRow.platform == bindparam("platform"), due, ~_blocked()
    )
    if of_channel:
        query = query.where(OutboxRow.channel_id == bindparam("channel"))
    query = query.order_by(OutboxRow.id).limit(bindparam("limit", type_=Integer()))
    if postgres:
        query = query.with_for_update(of=OutboxRow, skip_locked=True)
    return query


def _blocked() -> Exists:
    """SQL: an earlier row of the same lane is unfinished (this row must wait)."""
    earlier = aliased(OutboxRow)
    return exists().where(
        earlier.platform == OutboxRow.platform,
        earlier.channel_id == OutboxRow.channel_id,
        earlier.id < OutboxRow.id,
        earlier.status.in_(UNFINISHED),
    )


def question_undelivered(
    round_id_column: ColumnElement[int] | InstrumentedAttribute[int],
) -> Exists:
    """SQL: the round's question is still waiting in the outbox (its deadline must not
    pass before anyone saw it)."""
    return exists().where(
        OutboxRow.round_id == round_id_column,
        OutboxRow.kind == OutboxKind.QUESTION.value,
        OutboxRow.status.in_(UNFINISHED),
    )
