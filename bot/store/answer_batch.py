"""The answer batch's statements, at the driver's level: `PostgresAnswerBatch` on
asyncpg's own connection, `SqliteAnswerBatch` on aiosqlite's.

`AnswerWriter._write_batch` runs a burst's batch in a transaction of its own on the
driver's connection (`Database.driver_transaction`). Through SQLAlchemy, its begin,
execute and commit around the batch's three or four statements were 40% of the batch's
CPU on PostgreSQL (520 to 322 us of CPU a click, in batches of three); on SQLite each
statement was four hops to the connection's thread (cursor, execute, fetch, close)
where aiosqlite's `execute_fetchall` makes one, and the batch holds SQLite's one
writer for all of them. The rules (which clicks a batch writes, which it leaves to the
one-answer path, which met an earlier answer) stay in `bot.store.answers`; here are only
the statements and their rows.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, Protocol

from bot.core.model import Answer, Player
from bot.core.ports import PlayerKey
from bot.store.codec import answer_from_row
from bot.store.db import ANSWER_COLUMNS, as_arrays
from bot.store.driver import Driver, sqlite_moment, sqlite_placeholders, utc
from bot.store.players import PG_UPSERT_PLAYERS_SQL, player_upserts, players_by_key

# the answers table's columns, as the model declares them
_ANSWER_KEYS = tuple(c.name for c in ANSWER_COLUMNS)
_ANSWER_VALUES = ", ".join(_ANSWER_KEYS)

# PostgreSQL: columns as arrays through unnest, so that one prepared statement serves
# every batch size (a multi-row VALUES is new SQL, and a new prepare, per size).
_PG_LOCK_ROUNDS = (
    "SELECT id, closes_at FROM rounds WHERE id = ANY($1::bigint[]) AND status = 'open'"
    " ORDER BY id FOR SHARE OF rounds SKIP LOCKED"
)
_PG_TEAMS_OF = (
    "SELECT m.community_id, m.player_id, m.team_id FROM team_members AS m"
    " JOIN unnest($1::bigint[], $2::bigint[]) AS k(community_id, player_id)"
    " ON m.community_id = k.community_id AND m.player_id = k.player_id"
)
_PG_INSERT_ANSWERS = (
    "INSERT INTO answers (round_id, player_id, selected, answered_at, team_id)"
    " SELECT v.round_id, v.player_id, v.selected::json, v.answered_at, v.team_id"
    " FROM unnest($1::bigint[], $2::bigint[], $3::varchar[], $4::timestamptz[], $5::bigint[])"
    " AS v(round_id, player_id, selected, answered_at, team_id)"
    " ON CONFLICT (round_id, player_id) DO NOTHING RETURNING round_id, player_id"
)
_PG_EARLIER_ANSWERS = (
    f"SELECT {_ANSWER_VALUES} FROM answers"
    " JOIN unnest($1::bigint[], $2::bigint[]) AS k(round_id, player_id)"
    " USING (round_id, player_id)"
)


# SQLite: a batch takes the one writer (BEGIN IMMEDIATE), so its rounds need no lock of
# their own. A batch's rows go as one JSON parameter (an array of arrays) through
# json_each, so that one statement serves every batch size: a multi-row VALUES is new
# SQL per size, and each connection of the pool would keep a prepared statement of every
# size it met.
def _column(n: int) -> str:
    return f"json_extract(k.value, '$[{n}]')"


_SQLITE_OPEN_ROUNDS = (
    "SELECT id, closes_at FROM rounds"
    " WHERE id IN (SELECT value FROM json_each($1)) AND status = 'open'"
)
_SQLITE_TEAMS_OF = (
    "SELECT m.community_id, m.player_id, m.team_id FROM json_each($1) AS k"
    f" JOIN team_members AS m ON m.community_id = {_column(0)} AND m.player_id = {_column(1)}"
)
# `WHERE true`: SQLite would read the ON of ON CONFLICT as a join's after the FROM
_SQLITE_INSERT_ANSWERS = (
    "INSERT INTO answers (round_id, player_id, selected, answered_at, team_id)"
    f" SELECT {', '.join(_column(n) for n in range(5))} FROM json_each($1) AS k WHERE true"
    " ON CONFLICT (round_id, player_id) DO NOTHING RETURNING round_id, player_id"
)
_SQLITE_EARLIER_ANSWERS = (
    f"SELECT {', '.join('a.' + c for c in _ANSWER_KEYS)}"
    " FROM json_each($1) AS k JOIN answers AS a"
    f" ON a.round_id = {_column(0)} AND a.player_id = {_column(1)}"
)
_SQLITE_UPSERT_PLAYERS = (
    "INSERT INTO players (platform, external_id, display_name)"
    f" SELECT {', '.join(_column(n) for n in range(3))} FROM json_each($1) AS k WHERE true"
    " ON CONFLICT (platform, external_id) DO UPDATE SET display_name = excluded.display_name"
    " RETURNING id, platform, external_id, display_name"
)

# its readers take either driver's values (SQLite's text, asyncpg's decoded ones)
_READ = Driver(postgres=False)


def _answer(values: dict[str, Any]) -> Answer:
    """An Answer from a driver's row of `_ANSWER_KEYS` (its JSON as text or decoded,
    its moment as the driver gives it), through the store's one `answer_from_row`."""
    values["selected"] = _READ.read_json(values["selected"])
    values["answered_at"] = _READ.read_moment(values["answered_at"])
    if values["correct"] is not None:
        values["correct"] = bool(values["correct"])  # SQLite's 0 or 1
    return answer_from_row(values)


class AnswerBatch(Protocol):
    """A dialect's statements of an answer batch, on the driver's connection `tx`."""

    async def upsert_players(
        self, tx: Any, keys: Collection[PlayerKey]
    ) -> dict[tuple[str, str], Player]:
        """Create or rename these players; the players by (platform, external_id)."""

    async def lock_rounds_and_read_teams(
        self, tx: Any, round_ids: list[int], team_keys: Collection[tuple[int, int]]
    ) -> tuple[dict[int, datetime], dict[tuple[int, int], int]]:
        """The batch's open rounds (their deadlines by id), locked against a close, and
        the teams of its players in teams mode ((community, player) -> team)."""

    async def insert_answers(self, tx: Any, answers: Sequence[Answer]) -> set[tuple[int, int]]:
        """Insert the batch's writable answers in one statement; the (round, player) keys
        inserted (a row that met an earlier answer on the unique key inserts nothing)."""

    async def answers_of(self, tx: Any, keys: Sequence[tuple[int, int]]) -> list[Answer]:
        """The stored answers of these (round, player) keys."""


class PostgresAnswerBatch:
    """`AnswerBatch` on asyncpg's connection."""

    async def upsert_players(
        self, tx: Any, keys: Collection[PlayerKey]
    ) -> dict[tuple[str, str], Player]:
        columns = as_arrays(player_upserts(keys))
        return players_by_key(await tx.fetch(PG_UPSERT_PLAYERS_SQL, *columns.values()))

    async def lock_rounds_and_read_teams(
        self, tx: Any, round_ids: list[int], team_keys: Collection[tuple[int, int]]
    ) -> tuple[dict[int, datetime], dict[tuple[int, int], int]]:
        # FOR SHARE, in id order (two batches cannot deadlock), SKIP LOCKED (a round a
        # close holds is left to the one-answer path)
        locked = await tx.fetch(_PG_LOCK_ROUNDS, round_ids)
        teams: dict[tuple[int, int], int] = {}
        if team_keys:
            communities, players = zip(*team_keys, strict=True)
            members = await tx.fetch(_PG_TEAMS_OF, list(communities), list(players))
            teams = {(m[0], m[1]): m[2] for m in members}
        return {r[0]: utc(r[1]) for r in locked}, teams

    async def insert_answers(self, tx: Any, answers: Sequence[Answer]) -> set[tuple[int, int]]:
        rows = await tx.fetch(
            _PG_INSERT_ANSWERS,
            [a.round_id for a in answers],
            [a.player_id for a in answers],
            [json.dumps(list(a.selected)) for a in answers],
            [a.answered_at for a in answers],
            [a.team_id for a in answers],
        )
        return {(r[0], r[1]) for r in rows}

    async def answers_of(self, tx: Any, keys: Sequence[tuple[int, int]]) -> list[Answer]:
        rows = await tx.fetch(_PG_EARLIER_ANSWERS, [k[0] for k in keys], [k[1] for k in keys])
        return [_answer(dict(r)) for r in rows]


class SqliteAnswerBatch:
    """`AnswerBatch` on aiosqlite's connection, in a BEGIN IMMEDIATE transaction."""

    async def upsert_players(
        self, tx: Any, keys: Collection[PlayerKey]
    ) -> dict[tuple[str, str], Player]:
        rows = [list(row.values()) for row in player_upserts(keys)]
        found = await _fetch(tx, _SQLITE_UPSERT_PLAYERS, rows)
        keys_of = ("id", "platform", "external_id", "display_name")
        return players_by_key(dict(zip(keys_of, r, strict=True)) for r in found)

    async def lock_rounds_and_read_teams(
        self, tx: Any, round_ids: list[int], team_keys: Collection[tuple[int, int]]
    ) -> tuple[dict[int, datetime], dict[tuple[int, int], int]]:
        found = await _fetch(tx, _SQLITE_OPEN_ROUNDS, round_ids)
        teams: dict[tuple[int, int], int] = {}
        if team_keys:
            members = await _fetch(tx, _SQLITE_TEAMS_OF, list(team_keys))
            teams = {(m[0], m[1]): m[2] for m in members}
        return {r[0]: _READ.read_moment(r[1]) for r in found}, teams

    async def insert_answers(self, tx: Any, answers: Sequence[Answer]) -> set[tuple[int, int]]:
        # the selection as the JSON text that SQLAlchemy's JSON type stores
        selected = [json.dumps(list(a.selected)) for a in answers]
        values = [
            (a.round_id, a.player_id, text, sqlite_moment(a.answered_at), a.team_id)
            for a, text in zip(answers, selected, strict=True)
        ]
        rows = await _fetch(tx, _SQLITE_INSERT_ANSWERS, values)
        return {(r[0], r[1]) for r in rows}

    async def answers_of(self, tx: Any, keys: Sequence[tuple[int, int]]) -> list[Answer]:
        rows = await _fetch(tx, _SQLITE_EARLIER_ANSWERS, list(keys))
        return [_answer(dict(zip(_ANSWER_KEYS, r, strict=True))) for r in rows]


async def _fetch(lite: Any, statement: str, rows: Sequence[Any]) -> Any:
    """A statement over `rows` as its one JSON parameter, on aiosqlite's connection: one
    hop to its thread."""
    return await lite.execute_fetchall(sqlite_placeholders(statement), (json.dumps(rows),))


def answer_batch(postgres: bool) -> AnswerBatch:
    """The dialect's answer batch statements."""
    return PostgresAnswerBatch() if postgres else SqliteAnswerBatch()
