"""`SqlStore`: the core's `Store` protocol on SQLAlchemy 2 async (SQLite or PostgreSQL).

Every method is one transaction. Writes on SQLite start with BEGIN IMMEDIATE (see
`bot.store.database`), so concurrent writers queue instead of failing; on PostgreSQL
the statements take the row locks that make answers and closes race safely.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Integer,
    String,
    and_,
    any_,
    bindparam,
    case,
    cast,
    delete,
    func,
    literal,
    null,
    or_,
    select,
    text,
    tuple_,
    union,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.core.errors import ChannelBusyError, TeamError
from bot.core.model import (
    Answer,
    Community,
    Player,
    Question,
    Quiz,
    QuizStatus,
    Round,
    RoundStatus,
    ScoreRow,
    Standings,
    SubjectKind,
    Team,
    TeamRoster,
)
from bot.core.ports import (
    AnswerInsert,
    AnswerOutcome,
    CloseContext,
    ClosedRound,
    Decide,
    NewQuiz,
    NewRound,
    OpenRoundCount,
)
from bot.store.codec import (
    answer_from_row,
    community_from_row,
    options_to_json,
    player_from_row,
    question_to_json,
    quiz_from_row,
    round_from_row,
    round_question_to_json,
    team_from_row,
)
from bot.store.database import READ_ONLY, create_engine
from bot.store.group_commit import GroupCommit
from bot.store.tables import (
    AnswerRow,
    CommunityRow,
    Id,
    PlayerRow,
    QuestionRow,
    QuizRow,
    RoundRow,
    ScoreRowTable,
    TeamAnswerRow,
    TeamMemberRow,
    TeamRow,
    UTCDateTime,
)

log = logging.getLogger(__name__)

CHANNEL_BUSY = "A quiz is already running in this channel; /quiz stop ends it"

_OPEN = RoundStatus.OPEN.value
_CLOSED = RoundStatus.CLOSED.value
_RUNNING = QuizStatus.RUNNING.value

_ROUNDS = RoundRow.__table__.c
_ANSWERS = AnswerRow.__table__.c
# At most this many clicks per transaction: a burst's batches stay small enough that
# the first click of a batch is not held up long by the last.
_ANSWER_BATCH = 200

Insert = sqlite.Insert | postgresql.Insert

# Closing a round on PostgreSQL: the answers' points and the score deltas each go in
# one statement over arrays (unnest), in the order given (the lock order of scores).
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


# Batches on PostgreSQL: columns as arrays through unnest, so that one prepared statement
# serves every batch size (a multi-row VALUES is new SQL, and a new prepare, per size).
_PG_INSERT_ANSWERS = (
    text(
        "INSERT INTO answers (round_id, player_id, selected, answered_at, team_id)"
        " SELECT v.round_id, v.player_id, v.selected::json, v.answered_at, v.team_id"
        " FROM unnest(:round_id, :player_id, :selected, :answered_at, :team_id)"
        " AS v(round_id, player_id, selected, answered_at, team_id)"
        " ON CONFLICT (round_id, player_id) DO NOTHING"
        " RETURNING round_id, player_id, selected, answered_at, team_id, correct, points, streak"
    )
    .bindparams(
        bindparam("round_id", type_=postgresql.ARRAY(BigInteger())),
        bindparam("player_id", type_=postgresql.ARRAY(BigInteger())),
        bindparam("selected", type_=postgresql.ARRAY(String())),
        bindparam("answered_at", type_=postgresql.ARRAY(DateTime(timezone=True))),
        bindparam("team_id", type_=postgresql.ARRAY(BigInteger())),
    )
    .columns(*_ANSWERS)
)
_PG_LOOKUP_PLAYERS = (
    text(
        "SELECT players.id, players.platform, players.external_id, players.display_name"
        " FROM players JOIN unnest(:platform, :external_id) AS k(platform, external_id)"
        " ON players.platform = k.platform AND players.external_id = k.external_id"
    )
    .bindparams(
        bindparam("platform", type_=postgresql.ARRAY(String())),
        bindparam("external_id", type_=postgresql.ARRAY(String())),
    )
    .columns(*PlayerRow.__table__.c)
)
_PG_UPSERT_PLAYERS = (
    text(
        "INSERT INTO players (platform, external_id, display_name)"
        " SELECT * FROM unnest(:platform, :external_id, :display_name)"
        " ON CONFLICT (platform, external_id) DO UPDATE SET display_name = excluded.display_name"
        " RETURNING id, platform, external_id, display_name"
    )
    .bindparams(
        bindparam("platform", type_=postgresql.ARRAY(String())),
        bindparam("external_id", type_=postgresql.ARRAY(String())),
        bindparam("display_name", type_=postgresql.ARRAY(String())),
    )
    .columns(*PlayerRow.__table__.c)
)


def _as_arrays(rows: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """Rows of the same keys as one list per key: the parameters of an unnest."""
    return {key: [row[key] for row in rows] for key in rows[0]}


@dataclass(frozen=True)
class PlayerKey:
    """A player lookup waiting to be served: `player`'s arguments."""

    platform: str
    external_id: str
    display_name: str


@dataclass(frozen=True)
class PendingAnswer:
    """A click waiting to be written: `add_answer`'s arguments."""

    round_id: int
    player_id: int
    selected: tuple[int, ...]
    answered_at: datetime
    team_community_id: int | None


class SqlStore:
    """The `bot.core.ports.Store` on an async SQLAlchemy engine; `close()` when done."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._postgres = engine.dialect.name == "postgresql"
        # On PostgreSQL a read, or a write of one statement, needs no BEGIN and COMMIT
        # round trips: READ COMMITTED gives each statement its own snapshot either way.
        single: dict[str, Any] = {"isolation_level": "AUTOCOMMIT"} if self._postgres else {}
        self._reader = engine.execution_options(**{READ_ONLY: True}, **single)
        self._single_statement = engine.execution_options(**single)
        self._answer_inserts = {teams: self._answer_insert(teams) for teams in (False, True)}
        self._batch_rounds, self._batch_insert = self._answer_batch_statements()
        self._players_lookup, self._players_upsert = self._player_batch_statements()
        self._player_batches: GroupCommit[PlayerKey, Player] = GroupCommit(
            self._player_batch, max_batch=_ANSWER_BATCH
        )
        self._answer_batches: GroupCommit[PendingAnswer, AnswerInsert | None] = GroupCommit(
            self._write_answer_batch, max_batch=_ANSWER_BATCH
        )
        # SQLite has one writer at a time: queue this process's writers here, in order,
        # rather than in SQLite's busy handler, which polls with sleeps of up to 100 ms.
        self._write_lock = None if self._postgres else asyncio.Lock()

    @classmethod
    def from_url(cls, url: str) -> SqlStore:
        """A store on a new engine for `url` (no migration is run)."""
        return cls(create_engine(url))

    @property
    def engine(self) -> AsyncEngine:
        """The engine underneath, for tests and maintenance."""
        return self._engine

    async def close(self) -> None:
        """Finish the answers being written, then close every pooled connection."""
        await self._player_batches.wait_idle()
        await self._answer_batches.wait_idle()
        await self._engine.dispose()

    async def __aenter__(self) -> SqlStore:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        """A connection in a write transaction, committed on success."""
        if self._write_lock is None:
            async with self._engine.begin() as conn:
                yield conn
            return
        async with self._write_lock, self._engine.begin() as conn:
            yield conn

    def _insert(self, table: Any) -> Insert:
        """The dialect's INSERT, which knows ON CONFLICT."""
        if self._postgres:
            return postgresql.insert(table)
        return sqlite.insert(table)

    # Communities and players

    async def community(self, platform: str, external_id: str, name: str) -> Community:
        """Get or create a community; `name` updates the stored one when it differs."""
        async with self._reader.connect() as conn:
            row = (
                (
                    await conn.execute(
                        select(CommunityRow.__table__).where(
                            CommunityRow.platform == platform,
                            CommunityRow.external_id == external_id,
                        )
                    )
                )
                .mappings()
                .first()
            )
        if row is not None and row["name"] == name:
            return community_from_row(row)
        ins = self._insert(CommunityRow).values(
            platform=platform, external_id=external_id, name=name, settings={}
        )
        stmt = ins.on_conflict_do_update(
            index_elements=["platform", "external_id"], set_={"name": ins.excluded.name}
        ).returning(*CommunityRow.__table__.c)
        async with self._write() as conn:
            return community_from_row((await conn.execute(stmt)).mappings().one())

    async def save_community(self, community: Community) -> Community:
        """Store a community's name, timezone, week start and settings."""
        stmt = (
            update(CommunityRow)
            .where(CommunityRow.id == community.id)
            .values(
                name=community.name,
                timezone=community.timezone,
                week_start=community.week_start,
                settings=dict(community.settings),
            )
            .returning(*CommunityRow.__table__.c)
        )
        async with self._write() as conn:
            return community_from_row((await conn.execute(stmt)).mappings().one())

    async def player(self, platform: str, external_id: str, display_name: str) -> Player:
        """Get or create a player; `display_name` updates the stored one when it differs.

        Lookups arriving together (a burst of first clicks) share one read and at most
        one write: see `_player_batch`.
        """
        return await self._player_batches.submit(PlayerKey(platform, external_id, display_name))

    def _player_batch_statements(self) -> tuple[Any, Any]:
        """`_player_batch`'s statements, built once: look up, and create or rename."""
        if self._postgres:
            return _PG_LOOKUP_PLAYERS, _PG_UPSERT_PLAYERS
        players = PlayerRow.__table__.c
        lookup = select(*players).where(
            tuple_(players.platform, players.external_id).in_(bindparam("keys", expanding=True))
        )
        upsert = self._insert(PlayerRow)
        return lookup, upsert.on_conflict_do_update(
            index_elements=["platform", "external_id"],
            set_={"display_name": upsert.excluded.display_name},
        ).returning(*players)

    async def _player_batch(self, batch: Sequence[PlayerKey]) -> list[Player]:
        """Look up a batch of players in one read; create or rename, in one upsert, only
        those that need it."""
        wanted = {(k.platform, k.external_id): k.display_name for k in batch}
        known: dict[tuple[str, str], Player] = {}
        async with self._reader.connect() as conn:
            keys: Any = (
                {"platform": [k[0] for k in wanted], "external_id": [k[1] for k in wanted]}
                if self._postgres
                else {"keys": list(wanted)}
            )
            rows = await conn.execute(self._players_lookup, keys)
            for row in rows.mappings():
                player = player_from_row(row)
                known[(player.platform, player.external_id)] = player
        stale = [
            {"platform": key[0], "external_id": key[1], "display_name": name}
            # key order: concurrent upserts lock the same rows in the same order
            for key, name in sorted(wanted.items())
            if key not in known or known[key].display_name != name
        ]
        if stale:
            async with self._write() as conn:
                params: Any = _as_arrays(stale) if self._postgres else stale
                for row in (await conn.execute(self._players_upsert, params)).mappings():
                    player = player_from_row(row)
                    known[(player.platform, player.external_id)] = player
        return [known[(k.platform, k.external_id)] for k in batch]

    async def players(self, player_ids: Collection[int]) -> Mapping[int, Player]:
        """Players by id."""
        if not player_ids:
            return {}
        async with self._reader.connect() as conn:
            rows = await conn.execute(
                select(PlayerRow.__table__).where(PlayerRow.id.in_(list(player_ids)))
            )
            return {r["id"]: player_from_row(r) for r in rows.mappings()}

    # Questions

    async def sync_questions(self, questions: Sequence[Question]) -> int:
        """Upsert questions by id with their content hash; returns how many changed."""
        if not questions:
            return 0
        by_id = {q.id: q for q in questions}
        async with self._write() as conn:
            known: dict[str, str] = {}
            ids = list(by_id)
            for start in range(0, len(ids), 500):
                rows = await conn.execute(
                    select(QuestionRow.id, QuestionRow.content_hash).where(
                        QuestionRow.id.in_(ids[start : start + 500])
                    )
                )
                known.update({r.id: r.content_hash for r in rows})
            changed = [
                {
                    "id": q.id,
                    "deck": q.deck,
                    "kind": q.kind.value,
                    "content_hash": digest,
                    "prompt": q.prompt,
                    "data": question_to_json(q),
                }
                for q in by_id.values()
                if known.get(q.id) != (digest := q.content_hash())
            ]
            if changed:
                ins = self._insert(QuestionRow)
                stmt = ins.on_conflict_do_update(
                    index_elements=["id"],
                    set_={
                        col: ins.excluded[col]
                        for col in ("deck", "kind", "content_hash", "prompt", "data")
                    },
                )
                await conn.execute(stmt, changed)
        return len(changed)

    async def recent_question_ids(
        self, community_id: int, channel_id: str, limit: int
    ) -> list[str]:
        """Question ids of the channel's latest rounds, newest first, at most `limit`."""
        stmt = (
            select(RoundRow.question_id)
            .join(QuizRow, QuizRow.id == RoundRow.quiz_id)
            .where(QuizRow.community_id == community_id, QuizRow.channel_id == channel_id)
            .order_by(RoundRow.opened_at.desc(), RoundRow.id.desc())
            .limit(limit)
        )
        async with self._reader.connect() as conn:
            return list((await conn.execute(stmt)).scalars())

    # Quizzes and rounds

    async def create_quiz(self, quiz: NewQuiz, first_round: NewRound) -> tuple[Quiz, Round]:
        """Create a running quiz with its first open round (`first_round.quiz_id` is ignored).

        Raises ChannelBusyError if the channel already has a running quiz (a partial
        unique index on running quizzes decides).
        """
        try:
            async with self._write() as conn:
                quiz_row = (
                    (
                        await conn.execute(
                            self._insert(QuizRow)
                            .values(
                                community_id=quiz.community_id,
                                platform=quiz.platform,
                                channel_id=quiz.channel_id,
                                host_id=quiz.host_id,
                                options=options_to_json(quiz.options),
                                question_ids=list(quiz.question_ids),
                                status=_RUNNING,
                                created_at=quiz.created_at,
                            )
                            .returning(*QuizRow.__table__.c)
                        )
                    )
                    .mappings()
                    .one()
                )
                round_ = await self._insert_round(conn, quiz_row["id"], first_round)
        except IntegrityError:
            if await self.running_quiz(quiz.community_id, quiz.channel_id) is not None:
                raise ChannelBusyError(CHANNEL_BUSY) from None
            raise
        return quiz_from_row(quiz_row), round_

    async def _insert_round(self, conn: AsyncConnection, quiz_id: int, new: NewRound) -> Round:
        """Insert an open round of a quiz."""
        row = (
            (
                await conn.execute(
                    self._insert(RoundRow)
                    .values(
                        quiz_id=quiz_id,
                        position=new.position,
                        question_id=new.question.question_id,
                        question=round_question_to_json(new.question),
                        opened_at=new.opened_at,
                        closes_at=new.closes_at,
                        status=_OPEN,
                    )
                    .returning(*_ROUNDS)
                )
            )
            .mappings()
            .one()
        )
        return round_from_row(row)

    async def quiz(self, quiz_id: int) -> Quiz | None:
        """A quiz by id."""
        async with self._reader.connect() as conn:
            return await self._quiz(conn, quiz_id)

    async def _quiz(self, conn: AsyncConnection, quiz_id: int) -> Quiz | None:
        row = (
            (await conn.execute(select(QuizRow.__table__).where(QuizRow.id == quiz_id)))
            .mappings()
            .first()
        )
        return None if row is None else quiz_from_row(row)

    async def running_quiz(self, community_id: int, channel_id: str) -> Quiz | None:
        """The channel's running quiz, if any."""
        stmt = select(QuizRow.__table__).where(
            QuizRow.community_id == community_id,
            QuizRow.channel_id == channel_id,
            QuizRow.status == _RUNNING,
        )
        async with self._reader.connect() as conn:
            row = (await conn.execute(stmt)).mappings().first()
        return None if row is None else quiz_from_row(row)

    async def running_quizzes(self, community_id: int) -> list[Quiz]:
        """Every running quiz of a community, oldest first."""
        stmt = (
            select(QuizRow.__table__)
            .where(QuizRow.community_id == community_id, QuizRow.status == _RUNNING)
            .order_by(QuizRow.id)
        )
        async with self._reader.connect() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [quiz_from_row(row) for row in rows]

    async def round(self, round_id: int) -> Round | None:
        """A round by id."""
        async with self._reader.connect() as conn:
            row = (
                (await conn.execute(select(RoundRow.__table__).where(RoundRow.id == round_id)))
                .mappings()
                .first()
            )
        return None if row is None else round_from_row(row)

    async def open_round(self, quiz_id: int) -> Round | None:
        """The quiz's open round, if any."""
        stmt = (
            select(RoundRow.__table__)
            .where(RoundRow.quiz_id == quiz_id, RoundRow.status == _OPEN)
            .order_by(RoundRow.position.desc())
            .limit(1)
        )
        async with self._reader.connect() as conn:
            row = (await conn.execute(stmt)).mappings().first()
        return None if row is None else round_from_row(row)

    async def set_message_ref(self, round_id: int, message_ref: str) -> None:
        """Remember the chat message that shows a round."""
        async with self._write() as conn:
            await conn.execute(
                update(RoundRow).where(RoundRow.id == round_id).values(message_ref=message_ref)
            )

    # Answers

    async def add_answer(
        self,
        round_id: int,
        player_id: int,
        selected: tuple[int, ...],
        now: datetime,
        team_community_id: int | None = None,
    ) -> AnswerInsert:
        """Record a first answer, if the round is open and not past due.

        Clicks arriving together are written together (`_write_answer_batch`, one
        transaction for the lot); the few a batch cannot settle on its own (a round it
        could not lock, a second click of the same player in the batch) are then
        written alone with `_add_answer_alone`. Either way this returns only after the
        answer is committed.
        """
        pending = PendingAnswer(
            round_id, player_id, tuple(sorted(selected)), now, team_community_id
        )
        result = await self._answer_batches.submit(pending)
        if result is not None:
            return result
        return await self._add_answer_alone(pending)

    async def _add_answer_alone(self, pending: PendingAnswer) -> AnswerInsert:
        """One answer in one statement: INSERT ... SELECT from the open round ... ON
        CONFLICT DO NOTHING; when nothing was inserted a second query tells DUPLICATE
        from CLOSED and NO_TEAM."""
        params = {
            "a_round": pending.round_id,
            "a_player": pending.player_id,
            "a_selected": list(pending.selected),
            "a_now": pending.answered_at,
            "a_community": pending.team_community_id,
        }
        stmt = self._answer_inserts[pending.team_community_id is not None]
        if self._postgres:
            # one statement, one round trip: it commits on its own
            async with self._single_statement.connect() as conn:
                row = (await conn.execute(stmt, params)).mappings().first()
        else:
            async with self._write() as conn:
                row = (await conn.execute(stmt, params)).mappings().first()
        if row is not None:
            return AnswerInsert(AnswerOutcome.INSERTED, answer_from_row(row))
        return await self._explain_missed_answer(
            pending.round_id, pending.player_id, pending.answered_at, pending.team_community_id
        )

    async def _write_answer_batch(
        self, batch: Sequence[PendingAnswer]
    ) -> list[AnswerInsert | None]:
        """Write a batch of first answers in one transaction; None for each answer the
        batch leaves to `_add_answer_alone`.

        The batch's open rounds are locked FOR SHARE on PostgreSQL, in id order (so two
        batches cannot deadlock) and SKIP LOCKED: a round a close is holding is left to
        the one-answer path, which waits for the close and then reports it, instead of
        holding up every other round's clicks. A close therefore either waits for this
        batch to commit and sees its answers, or has committed before the batch looks.
        """
        results: list[AnswerInsert | None] = [None] * len(batch)
        round_ids = sorted({p.round_id for p in batch})
        team_keys = {
            (p.team_community_id, p.player_id) for p in batch if p.team_community_id is not None
        }
        async with self._write() as conn:
            locked = await conn.execute(self._batch_rounds, {"ids": round_ids})
            closes_at = {r.id: r.closes_at for r in locked}
            teams: dict[tuple[int, int], int] = {}
            if team_keys:
                members = select(
                    TeamMemberRow.community_id, TeamMemberRow.player_id, TeamMemberRow.team_id
                ).where(tuple_(TeamMemberRow.community_id, TeamMemberRow.player_id).in_(team_keys))
                teams = {(m[0], m[1]): m[2] for m in await conn.execute(members)}
            rows: dict[tuple[int, int], int] = {}  # (round, player) -> index in the batch
            team_ids: dict[int, int] = {}  # index in the batch -> the player's team
            for i, p in enumerate(batch):
                key = (p.round_id, p.player_id)
                deadline = closes_at.get(p.round_id)
                if (
                    deadline is None
                    or deadline <= p.answered_at
                    or key in rows
                    or (
                        p.team_community_id is not None
                        and (p.team_community_id, p.player_id) not in teams
                    )
                ):
                    # not locked here, late, a second click or no team: written alone
                    # afterwards, where `_explain_missed_answer` says which
                    continue
                rows[key] = i
                if p.team_community_id is not None:
                    team_ids[i] = teams[(p.team_community_id, p.player_id)]
            if not rows:
                return results
            values = [
                {
                    "round_id": batch[i].round_id,
                    "player_id": batch[i].player_id,
                    "selected": list(batch[i].selected),
                    "answered_at": batch[i].answered_at,
                    "team_id": team_ids.get(i),
                }
                # key order: concurrent batches meet on the unique index in one order
                for _, i in sorted(rows.items())
            ]
            params: Any = values
            if self._postgres:
                params = _as_arrays(values)
                params["selected"] = [json.dumps(v) for v in params["selected"]]
            # on SQLite an executemany, which SQLAlchemy sends as one multi-row INSERT
            for row in (await conn.execute(self._batch_insert, params)).mappings():
                i = rows.pop((row["round_id"], row["player_id"]))
                results[i] = AnswerInsert(AnswerOutcome.INSERTED, answer_from_row(row))
            if rows:
                # what is left met an earlier answer on the unique key
                earlier = select(*_ANSWERS).where(
                    tuple_(AnswerRow.round_id, AnswerRow.player_id).in_(list(rows))
                )
                for row in (await conn.execute(earlier)).mappings():
                    i = rows[(row["round_id"], row["player_id"])]
                    results[i] = AnswerInsert(AnswerOutcome.DUPLICATE, answer_from_row(row))
        return results

    def _answer_insert(self, teams: bool) -> Any:
        """add_answer's statement, built once with bound parameters.

        INSERT ... SELECT from the open round (locked FOR SHARE on PostgreSQL, so a
        concurrent close waits for this insert to commit, and then sees it) ... ON
        CONFLICT DO NOTHING RETURNING the row. In teams mode the player's team is joined
        in, so a player in no team inserts nothing.
        """
        now = bindparam("a_now", type_=UTCDateTime())
        team_col: Any = cast(null(), Id)
        source = select(RoundRow.id).where(
            RoundRow.id == bindparam("a_round", type_=Id),
            RoundRow.status == _OPEN,
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
        if self._postgres:
            source = source.with_for_update(read=True, of=RoundRow)
        return (
            self._insert(AnswerRow)
            .from_select(["round_id", "player_id", "selected", "answered_at", "team_id"], source)
            .on_conflict_do_nothing(index_elements=["round_id", "player_id"])
            .returning(*_ANSWERS)
        )

    def _answer_batch_statements(self) -> tuple[Any, Any]:
        """`_write_answer_batch`'s statements, built once: lock the open rounds, insert."""
        if self._postgres:
            # = ANY(array): one prepared statement whatever the number of rounds
            ids = bindparam("ids", type_=postgresql.ARRAY(Id))
            rounds = (
                select(RoundRow.id, RoundRow.closes_at)
                .where(RoundRow.id == any_(ids), RoundRow.status == _OPEN)
                .order_by(RoundRow.id)
                .with_for_update(read=True, of=RoundRow, skip_locked=True)
            )
        else:
            rounds = select(RoundRow.id, RoundRow.closes_at).where(
                RoundRow.id.in_(bindparam("ids", expanding=True)), RoundRow.status == _OPEN
            )
        if self._postgres:
            return rounds, _PG_INSERT_ANSWERS
        insert_answers = (
            self._insert(AnswerRow)
            .on_conflict_do_nothing(index_elements=["round_id", "player_id"])
            .returning(*_ANSWERS)
        )
        return rounds, insert_answers

    async def _explain_missed_answer(
        self, round_id: int, player_id: int, now: datetime, team_community_id: int | None
    ) -> AnswerInsert:
        """Why add_answer inserted nothing: an earlier answer, a closed round or no team."""
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
            select(RoundRow.status, RoundRow.closes_at, team_id.label("team_id"), *_ANSWERS)
            .select_from(RoundRow)
            .outerjoin(
                AnswerRow,
                and_(AnswerRow.round_id == RoundRow.id, AnswerRow.player_id == player_id),
            )
            .where(RoundRow.id == round_id)
        )
        async with self._reader.connect() as conn:
            row = (await conn.execute(stmt)).mappings().first()
        if row is None:
            return AnswerInsert(AnswerOutcome.CLOSED)
        if row["player_id"] is not None:
            existing = answer_from_row(
                {c.key: row[c.key] for c in _ANSWERS} | {"round_id": round_id}
            )
            return AnswerInsert(AnswerOutcome.DUPLICATE, existing)
        if row["status"] != _OPEN or row["closes_at"] <= now:
            return AnswerInsert(AnswerOutcome.CLOSED)
        if team_community_id is not None and row["team_id"] is None:
            return AnswerInsert(AnswerOutcome.NO_TEAM)
        # The round closed between the insert and this read.
        return AnswerInsert(AnswerOutcome.CLOSED)

    async def change_answer(
        self, round_id: int, player_id: int, selected: tuple[int, ...], now: datetime
    ) -> bool:
        """Replace a player's selection while the round is still open; False if not.

        The answer's time moves to `now`: speed points are for the final choice.
        """
        open_round = select(RoundRow.id).where(
            RoundRow.id == round_id,
            RoundRow.status == _OPEN,
            RoundRow.closes_at > literal(now, UTCDateTime()),
        )
        if self._postgres:
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
        async with self._write() as conn:
            result = await conn.execute(stmt)
        return bool(result.rowcount)

    async def count_answers(self, round_id: int) -> int:
        """How many players answered a round so far."""
        stmt = select(func.count()).select_from(AnswerRow).where(AnswerRow.round_id == round_id)
        async with self._reader.connect() as conn:
            return int((await conn.execute(stmt)).scalar_one())

    async def open_round_counts(self, round_ids: Collection[int]) -> list[OpenRoundCount]:
        """The rounds among `round_ids` still open, each with its answer count, in one read."""
        if not round_ids:
            return []
        answered = (
            select(func.count())
            .select_from(AnswerRow)
            .where(AnswerRow.round_id == RoundRow.id)
            .scalar_subquery()
        )
        stmt = (
            select(*_ROUNDS, answered.label("answered"))
            .where(RoundRow.id.in_(sorted(round_ids)), RoundRow.status == _OPEN)
            .order_by(RoundRow.id)
        )
        async with self._reader.connect() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [OpenRoundCount(round_from_row(row), int(row["answered"])) for row in rows]

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
        async with self._reader.connect() as conn:
            return int((await conn.execute(stmt)).scalar_one())

    # Closing rounds

    async def close_round(self, round_id: int, now: datetime, decide: Decide) -> ClosedRound | None:
        """Close an open round and apply `decide` in the same transaction.

        A conditional update (open -> closed) makes this happen once: a second caller,
        in this process or another, gets None.
        """
        async with self._write() as conn:
            return await self._close(conn, round_id, now, decide)

    async def close_due_rounds(
        self, platform: str, now: datetime, decide: Decide, limit: int = 50
    ) -> list[ClosedRound]:
        """Close every open round of `platform` whose deadline has passed, each in its own
        transaction; on PostgreSQL due rounds are claimed with FOR UPDATE SKIP LOCKED.

        A round whose close fails is logged and left open for the next call.
        """
        closed: list[ClosedRound] = []
        failed: set[int] = set()
        if not self._postgres:
            for due_id in await self.due_round_ids(platform, now, limit):
                try:
                    result = await self.close_round(due_id, now, decide)
                except Exception:
                    log.exception("closing round %s failed", due_id)
                    continue
                if result is not None:
                    closed.append(result)
            return closed
        while len(closed) + len(failed) < limit:
            claim = (
                self._due_rounds(platform, now, 1)
                .where(RoundRow.id.not_in(failed))
                .with_for_update(of=RoundRow, skip_locked=True)
            )
            round_id: int | None = None
            try:
                async with self._write() as conn:
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

    def _due_rounds(self, platform: str, now: datetime, limit: int) -> Any:
        """SELECT the ids of `platform`'s open rounds past their deadline, oldest first."""
        return (
            select(RoundRow.id)
            .join(QuizRow, QuizRow.id == RoundRow.quiz_id)
            .where(
                RoundRow.status == _OPEN,
                RoundRow.closes_at <= literal(now, UTCDateTime()),
                QuizRow.platform == platform,
            )
            .order_by(RoundRow.closes_at, RoundRow.id)
            .limit(limit)
        )

    async def due_round_ids(self, platform: str, now: datetime, limit: int = 50) -> list[int]:
        """Ids of open rounds of `platform` past their deadline (no lock taken)."""
        async with self._reader.connect() as conn:
            return list((await conn.execute(self._due_rounds(platform, now, limit))).scalars())

    async def _close(
        self, conn: AsyncConnection, round_id: int, now: datetime, decide: Decide
    ) -> ClosedRound | None:
        """Mark a round closed if it is open, then score it with `decide`, in `conn`'s
        transaction."""
        row = (
            (
                await conn.execute(
                    update(RoundRow)
                    .where(RoundRow.id == round_id, RoundRow.status == _OPEN)
                    .values(status=_CLOSED, closed_at=now)
                    .returning(*_ROUNDS)
                )
            )
            .mappings()
            .first()
        )
        if row is None:
            return None
        context = await self._close_context(conn, round_from_row(row), now)
        decision = decide(context)
        quiz = context.quiz

        if decision.answers and self._postgres:
            # one statement for the whole round, not one UPDATE per answer
            await conn.execute(
                _PG_SCORE_ANSWERS,
                {
                    "round_id": round_id,
                    "players": [a.player_id for a in decision.answers],
                    "correct": [a.correct for a in decision.answers],
                    "points": [a.points for a in decision.answers],
                    "streaks": [a.streak for a in decision.answers],
                },
            )
        elif decision.answers:
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
                    for a in decision.answers
                ],
            )
        if decision.team_votes:
            await conn.execute(
                self._insert(TeamAnswerRow),
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
                    for v in decision.team_votes
                ],
            )
        scores = sorted(
            (
                {
                    "community_id": quiz.community_id,
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
        if scores and self._postgres:
            await conn.execute(
                _PG_ADD_SCORES,
                {
                    "community_id": quiz.community_id,
                    **{
                        key: [s[column] for s in scores]
                        for key, column in (
                            ("periods", "period"),
                            ("kinds", "subject_kind"),
                            ("subjects", "subject_id"),
                            ("points", "points"),
                            ("correct", "correct"),
                            ("answered", "answered"),
                        )
                    },
                },
            )
        elif scores:
            ins = self._insert(ScoreRowTable)
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
        next_round = None
        if decision.next_round is not None:
            next_round = await self._insert_round(conn, quiz.id, decision.next_round)
        if decision.quiz_status != quiz.status:
            await conn.execute(
                update(QuizRow)
                .where(QuizRow.id == quiz.id)
                .values(status=decision.quiz_status.value)
            )
            quiz = Quiz(**{**vars(quiz), "status": decision.quiz_status})
        return ClosedRound(context=context, decision=decision, quiz=quiz, next_round=next_round)

    async def _close_context(
        self, conn: AsyncConnection, round_: Round, now: datetime
    ) -> CloseContext:
        """Read what scoring needs, inside the closing transaction."""
        quiz = await self._quiz(conn, round_.quiz_id)
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
        # the answers with their players' and teams' names, in one read
        rows = (
            await conn.execute(
                select(
                    AnswerRow.__table__,
                    PlayerRow.display_name.label("player_name"),
                    TeamRow.name.label("team_name"),
                )
                .join(PlayerRow, PlayerRow.id == AnswerRow.player_id)
                .outerjoin(TeamRow, TeamRow.id == AnswerRow.team_id)
                .where(AnswerRow.round_id == round_.id)
                .order_by(AnswerRow.answered_at, AnswerRow.player_id)
            )
        ).mappings()
        answers_list: list[Answer] = []
        player_names: dict[int, str] = {}
        team_names: dict[int, str] = {}
        for r in rows:
            answer = answer_from_row(r)
            answers_list.append(answer)
            player_names[answer.player_id] = r["player_name"]
            if answer.team_id is not None:
                team_names[answer.team_id] = r["team_name"]
        answers = tuple(answers_list)
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

    # Teams

    async def create_team(self, community_id: int, name: str, creator_id: int) -> Team:
        """Create a team and put its creator in it; TeamError if the name is taken or the
        creator is already in a team."""
        name = " ".join(name.split())
        if not name:
            raise TeamError("A team needs a name")
        try:
            async with self._write() as conn:
                await self._refuse_if_in_team(conn, community_id, creator_id)
                taken = await self._live_team(conn, community_id, name)
                if taken is not None:
                    raise TeamError(f"Team '{taken.name}' already exists")
                row = (
                    (
                        await conn.execute(
                            self._insert(TeamRow)
                            .values(community_id=community_id, name=name, disbanded=False)
                            .returning(*TeamRow.__table__.c)
                        )
                    )
                    .mappings()
                    .one()
                )
                team = team_from_row(row)
                await conn.execute(
                    self._insert(TeamMemberRow).values(
                        community_id=community_id, player_id=creator_id, team_id=team.id
                    )
                )
                return team
        except IntegrityError:
            # A concurrent request won the race; say which rule it broke.
            async with self._reader.connect() as conn:
                await self._refuse_if_in_team(conn, community_id, creator_id)
                taken = await self._live_team(conn, community_id, name)
            if taken is not None:
                raise TeamError(f"Team '{taken.name}' already exists") from None
            raise

    async def join_team(self, community_id: int, name: str, player_id: int) -> Team:
        """Join a team by name (case-insensitive); TeamError if none or already in one."""
        name = " ".join(name.split())
        try:
            async with self._write() as conn:
                await self._refuse_if_in_team(conn, community_id, player_id)
                team = await self._live_team(conn, community_id, name, lock=True)
                if team is None:
                    raise TeamError(f"No team named '{name}'")
                await conn.execute(
                    self._insert(TeamMemberRow).values(
                        community_id=community_id, player_id=player_id, team_id=team.id
                    )
                )
                return team
        except IntegrityError:
            async with self._reader.connect() as conn:
                await self._refuse_if_in_team(conn, community_id, player_id)
            raise

    async def leave_team(self, community_id: int, player_id: int) -> Team:
        """Leave the player's team; TeamError if in none.

        An emptied team is disbanded: its name is free again, and the row stays for the
        history (answers, scores) that names it.
        """
        async with self._write() as conn:
            team = await self._team_of(conn, community_id, player_id)
            if team is None:
                raise TeamError("You are not in a team")
            lock = select(TeamRow.id).where(TeamRow.id == team.id)
            if self._postgres:
                # Serialise leavers (and joiners) of one team, so the last one disbands it.
                await conn.execute(lock.with_for_update())
            await conn.execute(
                delete(TeamMemberRow).where(
                    TeamMemberRow.community_id == community_id,
                    TeamMemberRow.player_id == player_id,
                )
            )
            left = (
                await conn.execute(
                    select(func.count())
                    .select_from(TeamMemberRow)
                    .where(TeamMemberRow.team_id == team.id)
                )
            ).scalar_one()
            if not left:
                await conn.execute(
                    update(TeamRow).where(TeamRow.id == team.id).values(disbanded=True)
                )
            return team

    async def team_of(self, community_id: int, player_id: int) -> Team | None:
        """The player's team in a community."""
        async with self._reader.connect() as conn:
            return await self._team_of(conn, community_id, player_id)

    async def teams(self, community_id: int) -> list[TeamRoster]:
        """Every team of a community with its members, by name."""
        stmt = (
            select(TeamRow.__table__, PlayerRow.__table__.c.id.label("player_id"))
            .add_columns(PlayerRow.platform, PlayerRow.external_id, PlayerRow.display_name)
            .join(TeamMemberRow, TeamMemberRow.team_id == TeamRow.id)
            .join(PlayerRow, PlayerRow.id == TeamMemberRow.player_id)
            .where(TeamRow.community_id == community_id, TeamRow.disbanded.is_(False))
            .order_by(func.lower(TeamRow.name), TeamRow.id, TeamMemberRow.joined_at, PlayerRow.id)
        )
        rosters: dict[int, tuple[Team, list[Player]]] = {}
        async with self._reader.connect() as conn:
            for r in (await conn.execute(stmt)).mappings():
                entry = rosters.setdefault(r["id"], (team_from_row(r), []))
                entry[1].append(
                    Player(
                        id=r["player_id"],
                        platform=r["platform"],
                        external_id=r["external_id"],
                        display_name=r["display_name"],
                    )
                )
        return [TeamRoster(team=t, members=tuple(m)) for t, m in rosters.values()]

    async def _team_of(
        self, conn: AsyncConnection, community_id: int, player_id: int
    ) -> Team | None:
        row = (
            (
                await conn.execute(
                    select(TeamRow.__table__)
                    .join(TeamMemberRow, TeamMemberRow.team_id == TeamRow.id)
                    .where(
                        TeamMemberRow.community_id == community_id,
                        TeamMemberRow.player_id == player_id,
                    )
                )
            )
            .mappings()
            .first()
        )
        return None if row is None else team_from_row(row)

    async def _refuse_if_in_team(
        self, conn: AsyncConnection, community_id: int, player_id: int
    ) -> None:
        current = await self._team_of(conn, community_id, player_id)
        if current is not None:
            raise TeamError(f"You are already in team '{current.name}'; /quiz team leave first")

    async def _live_team(
        self, conn: AsyncConnection, community_id: int, name: str, lock: bool = False
    ) -> Team | None:
        stmt = select(TeamRow.__table__).where(
            TeamRow.community_id == community_id,
            func.lower(TeamRow.name) == name.lower(),
            TeamRow.disbanded.is_(False),
        )
        if lock and self._postgres:
            stmt = stmt.with_for_update(read=True)
        row = (await conn.execute(stmt)).mappings().first()
        return None if row is None else team_from_row(row)

    # Leaderboards

    async def standings(
        self,
        community_id: int,
        period: str,
        subject_kind: SubjectKind,
        limit: int,
        me_id: int | None = None,
    ) -> Standings:
        """Top `limit` rows of a score period (an index range scan) and `me_id`'s own row.

        Ranks follow the board's order (points, then correct answers, then id), so they
        are unique; `me_id`'s rank is a count over the same index.
        """
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
        async with self._reader.connect() as conn:
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
            .where(RoundRow.quiz_id == quiz_id, RoundRow.status == _CLOSED)
            .group_by(subject, name_col)
            .order_by(points.desc(), correct.desc(), subject)
        )
        async with self._reader.connect() as conn:
            result = await conn.execute(stmt)
            return [
                self._score_row(rank, subject_kind, r)
                for rank, r in enumerate(result.mappings(), start=1)
            ]
