"""`AnswerWriter`: first answers (a burst of clicks in one transaction), changed answers,
and the counts the engine shows while a round is open."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    and_,
    any_,
    bindparam,
    cast,
    func,
    literal,
    null,
    select,
    union,
    update,
)
from sqlalchemy.dialects import postgresql

from bot.core.model import Answer
from bot.core.ports import AnswerInsert, AnswerOutcome, OpenRoundCount, PlayerKey
from bot.store.answer_batch import answer_batch
from bot.store.codec import answer_from_row, round_from_row
from bot.store.db import ANSWER_COLUMNS, OPEN, ROUND_COLUMNS, Database
from bot.store.driver import utc
from bot.store.group_commit import GroupCommit
from bot.store.tables import AnswerRow, Id, RoundRow, TeamMemberRow, UTCDateTime

# At most this many clicks per transaction: a burst's batches stay small enough that
# the first click of a batch is not held up long by the last.
ANSWER_BATCH = 200


@dataclass(frozen=True)
class PendingAnswer:
    """A click waiting to be written: `add_answer`'s arguments. `player` is the
    player's id, or only their key (a player new to the caller)."""

    round_id: int
    player: int | PlayerKey
    selected: tuple[int, ...]
    answered_at: datetime
    team_community_id: int | None


@dataclass(frozen=True)
class WriteAlone:
    """A batch's word for a click it left to `_add_alone`, with the player's id (the
    batch created the player if it was new)."""

    player_id: int


class AnswerWriter:
    """The `answers` table; `close()` finishes the answers being written."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._inserts = {teams: self._one_answer_insert(teams) for teams in (False, True)}
        self._batch = answer_batch(db.postgres)
        self._counts = self._counts_statement()
        self._batches: GroupCommit[PendingAnswer, AnswerInsert | WriteAlone] = GroupCommit(
            self._write_batch, max_batch=ANSWER_BATCH
        )

    async def close(self) -> None:
        """Wait for the answers being written."""
        await self._batches.wait_idle()

    async def add_answer(
        self,
        round_id: int,
        player: int | PlayerKey,
        selected: Collection[int],
        now: datetime,
        team_community_id: int | None = None,
    ) -> AnswerInsert:
        """Record a first answer (the positions `selected`, in any order), if the round is
        open and not past due; `player` is the player's id or, when not known yet, their
        key (the player is then created in the same transaction as the answer).

        Clicks arriving together are written together (`_write_batch`, one transaction
        for the lot, the players new to the callers included); the few a batch cannot
        settle on its own (a round it could not lock, a second click of the same player
        in the batch) are then written alone with `_add_alone`. Either way this returns
        only after the answer is committed, with the player's id.
        """
        pending = PendingAnswer(round_id, player, tuple(sorted(selected)), now, team_community_id)
        result = await self._batches.submit(pending)
        if isinstance(result, AnswerInsert):
            return result
        return await self._add_alone(pending, result.player_id)

    async def _add_alone(self, pending: PendingAnswer, player_id: int) -> AnswerInsert:
        """One answer in one statement: INSERT ... SELECT from the open round ... ON
        CONFLICT DO NOTHING; when nothing was inserted a second query tells DUPLICATE
        from CLOSED and NO_TEAM."""
        params = {
            "a_round": pending.round_id,
            "a_player": player_id,
            "a_selected": list(pending.selected),
            "a_now": pending.answered_at,
            "a_community": pending.team_community_id,
        }
        stmt = self._inserts[pending.team_community_id is not None]
        if self._db.postgres:
            # one statement, one round trip: it commits on its own
            async with self._db.single_statement.connect() as conn:
                row = (await conn.execute(stmt, params)).mappings().first()
        else:
            async with self._db.write(urgent=True) as conn:
                row = (await conn.execute(stmt, params)).mappings().first()
        if row is not None:
            return AnswerInsert(AnswerOutcome.INSERTED, player_id, answer_from_row(row))
        return await self._explain_missed(pending, player_id)

    async def _write_batch(self, batch: Sequence[PendingAnswer]) -> list[AnswerInsert | WriteAlone]:
        """Write a batch of first answers in one transaction, creating the players known
        only by their keys first; `WriteAlone` for each answer the batch leaves to
        `_add_alone`.

        The batch's open rounds are locked FOR SHARE on PostgreSQL, in id order (so two
        batches cannot deadlock) and SKIP LOCKED: a round a close is holding is left to
        the one-answer path, which waits for the close and then reports it, instead of
        holding up every other round's clicks. A close therefore either waits for this
        batch to commit and sees its answers, or has committed before the batch looks.
        """
        results: list[AnswerInsert | None] = [None] * len(batch)
        # `tx`: the driver's connection (asyncpg's or aiosqlite's), for `self._batch`
        async with self._db.driver_transaction() as tx:
            player_ids = await self._player_ids(tx, batch)
            closes_at, teams = await self._lock_rounds_and_read_teams(tx, batch, player_ids)
            rows, team_ids = self._writable(batch, player_ids, closes_at, teams)
            if rows:
                await self._insert_batch(tx, batch, player_ids, rows, team_ids, results)
        return [
            WriteAlone(player_ids[i]) if result is None else result
            for i, result in enumerate(results)
        ]

    async def _player_ids(self, tx: Any, batch: Sequence[PendingAnswer]) -> list[int]:
        """Each click's player id: as given, or from one upsert of the players known
        only by their keys (created, or renamed, in the batch's transaction)."""
        keys = [p.player for p in batch if isinstance(p.player, PlayerKey)]
        if not keys:
            return [p.player for p in batch if isinstance(p.player, int)]
        created = await self._batch.upsert_players(tx, keys)
        return [
            p.player
            if isinstance(p.player, int)
            else created[(p.player.platform, p.player.external_id)].id
            for p in batch
        ]

    async def _lock_rounds_and_read_teams(
        self, tx: Any, batch: Sequence[PendingAnswer], player_ids: Sequence[int]
    ) -> tuple[dict[int, datetime], dict[tuple[int, int], int]]:
        """Lock the batch's open rounds (their deadlines by id) and read the teams of its
        players in teams mode ((community, player) -> team)."""
        round_ids = sorted({p.round_id for p in batch})
        team_keys = {
            (p.team_community_id, player_id)
            for p, player_id in zip(batch, player_ids, strict=True)
            if p.team_community_id is not None
        }
        return await self._batch.lock_rounds_and_read_teams(tx, round_ids, team_keys)

    @staticmethod
    def _writable(
        batch: Sequence[PendingAnswer],
        player_ids: Sequence[int],
        closes_at: dict[int, datetime],
        teams: dict[tuple[int, int], int],
    ) -> tuple[dict[tuple[int, int], int], dict[int, int]]:
        """The answers this batch writes: (round, player) -> index in the batch, and
        index in the batch -> the player's team in teams mode."""
        rows: dict[tuple[int, int], int] = {}
        team_ids: dict[int, int] = {}
        for i, (p, player_id) in enumerate(zip(batch, player_ids, strict=True)):
            key = (p.round_id, player_id)
            deadline = closes_at.get(p.round_id)
            if (
                deadline is None
                or deadline <= p.answered_at
                or key in rows
                or (
                    p.team_community_id is not None
                    and (p.team_community_id, player_id) not in teams
                )
            ):
                # not locked here, late, a second click or no team: written alone
                # afterwards, where `_explain_missed` says which
                continue
            rows[key] = i
            if p.team_community_id is not None:
                team_ids[i] = teams[(p.team_community_id, player_id)]
        return rows, team_ids

    async def _insert_batch(
        self,
        tx: Any,
        batch: Sequence[PendingAnswer],
        player_ids: Sequence[int],
        rows: dict[tuple[int, int], int],
        team_ids: dict[int, int],
        results: list[AnswerInsert | None],
    ) -> None:
        """Insert the writable answers in one statement and fill in `results`: INSERTED,
        or DUPLICATE with the earlier answer met on the unique key."""
        answers = [
            # as stored: not scored until the round closes
            Answer(
                round_id=batch[i].round_id,
                player_id=player_ids[i],
                selected=batch[i].selected,
                answered_at=utc(batch[i].answered_at),
                team_id=team_ids.get(i),
            )
            # key order: concurrent batches meet on the unique index in one order
            for _, i in sorted(rows.items())
        ]
        inserted = await self._batch.insert_answers(tx, answers)
        for answer in answers:
            key = (answer.round_id, answer.player_id)
            if key in inserted:
                i = rows.pop(key)
                results[i] = AnswerInsert(AnswerOutcome.INSERTED, player_ids[i], answer)
        if not rows:
            return
        # what is left met an earlier answer on the unique key
        for answer in await self._batch.answers_of(tx, list(rows)):
            i = rows[(answer.round_id, answer.player_id)]
            results[i] = AnswerInsert(AnswerOutcome.DUPLICATE, player_ids[i], answer)

    def _one_answer_insert(self, teams: bool) -> Any:
        """`_add_alone`'s statement, built once with bound parameters.

        INSERT ... SELECT from the open round (locked FOR SHARE on PostgreSQL, so a
        concurrent close waits for this insert to commit, and then sees it) ... ON
        CONFLICT DO NOTHING RETURNING the row. In teams mode the player's team is joined
        in, so a player in no team inserts nothing.
        """
        now = bindparam("a_now", type_=UTCDateTime())
        team_col: Any = cast(null(), Id)
        source = select(RoundRow.id).where(
            RoundRow.id == bindparam("a_round", type_=Id),
            RoundRow.status == OPEN,
            RoundRow.closes_at > now,
        )
        if teams:
            team_col = TeamMemberRow.team_id
            source = source.join(
                TeamMemberRow,
                and_(
                    TeamMemberRow.community_id == bindparam("a_community", type_=Id),
                    TeamMemberRow.player_id == bindparam("a_player", type_=Id),
                ),
            )
        source = source.add_columns(
            bindparam("a_player", type_=Id),
            bindparam("a_selected", type_=JSON()),
            now,
            team_col,
        )
        if self._db.postgres:
            source = source.with_for_update(read=True, of=RoundRow)
        return (
            self._db.insert(AnswerRow)
            .from_select(["round_id", "player_id", "selected", "answered_at", "team_id"], source)
            .on_conflict_do_nothing(index_elements=["round_id", "player_id"])
            .returning(*ANSWER_COLUMNS)
        )

    async def _explain_missed(self, pending: PendingAnswer, player_id: int) -> AnswerInsert:
        """Why `_add_alone` inserted nothing: an earlier answer, a closed round or no team."""
        round_id = pending.round_id
        team_community_id = pending.team_community_id
        team_id: Any = literal(None)
        if team_community_id is not None:
            team_id = (
                select(TeamMemberRow.team_id)
                .where(
                    TeamMemberRow.community_id == team_community_id,
                    TeamMemberRow.player_id == player_id,
                )
                .scalar_subquery()
            )
        stmt = (
            select(RoundRow.status, RoundRow.closes_at, team_id.label("team_id"), *ANSWER_COLUMNS)
            .select_from(RoundRow)
            .outerjoin(
                AnswerRow,
                and_(AnswerRow.round_id == RoundRow.id, AnswerRow.player_id == player_id),
            )
            .where(RoundRow.id == round_id)
        )
        async with self._db.reader.connect() as conn:
            row = (await conn.execute(stmt)).mappings().first()
        if row is None:
            return AnswerInsert(AnswerOutcome.CLOSED, player_id)
        if row["player_id"] is not None:
            existing = answer_from_row(
                {c.key: row[c.key] for c in ANSWER_COLUMNS} | {"round_id": round_id}
            )
            return AnswerInsert(AnswerOutcome.DUPLICATE, player_id, existing)
        if row["status"] != OPEN or row["closes_at"] <= pending.answered_at:
            return AnswerInsert(AnswerOutcome.CLOSED, player_id)
        if team_community_id is not None and row["team_id"] is None:
            return AnswerInsert(AnswerOutcome.NO_TEAM, player_id)
        # The round closed between the insert and this read.
        return AnswerInsert(AnswerOutcome.CLOSED, player_id)

    async def change_answer(
        self, round_id: int, player_id: int, selected: tuple[int, ...], now: datetime
    ) -> bool:
        """Replace a player's selection while the round is still open; False if not.

        The answer's time moves to `now`: speed points are for the final choice.
        """
        open_round = select(RoundRow.id).where(
            RoundRow.id == round_id,
            RoundRow.status == OPEN,
            RoundRow.closes_at > literal(now, UTCDateTime()),
        )
        if self._db.postgres:
            open_round = open_round.with_for_update(read=True)
        stmt = (
            update(AnswerRow)
            .where(
                AnswerRow.round_id.in_(open_round.scalar_subquery()),
                AnswerRow.round_id == round_id,
                AnswerRow.player_id == player_id,
            )
            .values(selected=sorted(selected), answered_at=now)
        )
        async with self._db.write(urgent=True) as conn:
            result = await conn.execute(stmt)
        return bool(result.rowcount)

    async def count_answers(self, round_id: int) -> int:
        """How many players answered a round so far."""
        stmt = select(func.count()).select_from(AnswerRow).where(AnswerRow.round_id == round_id)
        async with self._db.reader.connect() as conn:
            return int((await conn.execute(stmt)).scalar_one())

    async def open_round_counts(self, round_ids: Collection[int]) -> list[OpenRoundCount]:
        """The rounds among `round_ids` still open, each with its answer count, in one read."""
        if not round_ids:
            return []
        async with self._db.reader.connect() as conn:
            rows = (await conn.execute(self._counts, {"ids": sorted(round_ids)})).mappings().all()
        return [OpenRoundCount(round_from_row(row), int(row["answered"])) for row in rows]

    def _counts_statement(self) -> Any:
        """`open_round_counts`' statement, built once: it runs for every count refresh
        and every count edit sent."""
        answered = (
            select(func.count())
            .select_from(AnswerRow)
            .where(AnswerRow.round_id == RoundRow.id)
            .scalar_subquery()
        )
        if self._db.postgres:
            wanted = RoundRow.id == any_(bindparam("ids", type_=postgresql.ARRAY(Id)))
        else:
            wanted = RoundRow.id.in_(bindparam("ids", expanding=True))
        return (
            select(*ROUND_COLUMNS, answered.label("answered"))
            .where(wanted, RoundRow.status == OPEN)
            .order_by(RoundRow.id)
        )

    async def missing_expected(self, quiz_id: int, round_id: int, roster: Collection[int]) -> int:
        """How many expected players have not answered this round yet, counted in SQL.

        Expected: the roster plus everyone who answered an earlier round of the quiz.
        """
        current = select(RoundRow.position).where(RoundRow.id == round_id).scalar_subquery()
        earlier = (
            select(AnswerRow.player_id.label("player_id"))
            .join(RoundRow, RoundRow.id == AnswerRow.round_id)
            .where(RoundRow.quiz_id == quiz_id, RoundRow.position < current)
        )
        on_roster = [select(literal(pid, Id).label("player_id")) for pid in sorted(set(roster))]
        expected = union(earlier, *on_roster).subquery()
        answered_here = (
            select(AnswerRow.player_id)
            .where(AnswerRow.round_id == round_id, AnswerRow.player_id == expected.c.player_id)
            .exists()
        )
        stmt = select(func.count()).select_from(expected).where(~answered_here)
        async with self._db.reader.connect() as conn:
            return int((await conn.execute(stmt)).scalar_one())
