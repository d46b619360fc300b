"""P4's floor: the writes closing a round makes, as bare driver statements.

On a round holding the same answers as the one the engine closes, in the same
community and for the same players (so the same score rows), one transaction on the
raw driver (asyncpg; sqlite3 via aiosqlite) does what the store's close does, with no
Python scoring: mark the round closed, read its answers with their players' and teams'
names, write every answer's points, insert one team answer per team, and upsert the
score rows of every player and team, week and all time, in the store's lock order.
The values written are fixed (every answer right, 10 points); only their shape is
what a close writes.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import aiosqlite
import asyncpg

from bench.common import SCHEMA, Database

_CLOSE = "UPDATE rounds SET status = 'closed', closed_at = {at} WHERE id = {id} AND status = 'open'"
_READ = (
    "SELECT answers.*, players.display_name AS player_name, teams.name AS team_name"
    " FROM answers JOIN players ON players.id = answers.player_id"
    " LEFT OUTER JOIN teams ON teams.id = answers.team_id"
    " WHERE answers.round_id = {id} ORDER BY answers.answered_at, answers.player_id"
)
_TEAM_ANSWER = (
    "INSERT INTO team_answers (round_id, team_id, selected, votes, members_voted, correct,"
    " points) VALUES ({p})"
)
_UPSERT_END = (
    " ON CONFLICT (community_id, period, subject_kind, subject_id) DO UPDATE SET"
    " points = scores.points + excluded.points,"
    " correct = scores.correct + excluded.correct,"
    " answered = scores.answered + excluded.answered"
)
_PG_POINTS = (
    "UPDATE answers SET correct = v.correct, points = v.points, streak = v.streak"
    " FROM unnest($2::bigint[], $3::bool[], $4::int[], $5::int[])"
    " AS v(player_id, correct, points, streak)"
    " WHERE answers.round_id = $1 AND answers.player_id = v.player_id"
)
_PG_SCORES = (
    "INSERT INTO scores (community_id, period, subject_kind, subject_id, points, correct,"
    " answered) SELECT $1, v.period, v.kind, v.subject, v.points, v.correct, v.answered"
    " FROM unnest($2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::int[], $7::int[])"
    " WITH ORDINALITY AS v(period, kind, subject, points, correct, answered, n)"
    " ORDER BY v.n" + _UPSERT_END
)
_SQLITE_POINTS = (
    "UPDATE answers SET correct = ?, points = ?, streak = ? WHERE round_id = ? AND player_id = ?"
)
_SQLITE_SCORES = (
    "INSERT INTO scores (community_id, period, subject_kind, subject_id, points, correct,"
    " answered) VALUES (?, ?, ?, ?, ?, ?, ?)" + _UPSERT_END
)


def score_keys(
    periods: tuple[str, ...], players: list[int], teams: list[int]
) -> list[tuple[str, str, int]]:
    """(period, kind, subject) of every score row a close adds to, in the store's lock order."""
    subjects = [("player", p) for p in players] + [("team", t) for t in teams]
    return sorted((period, kind, s) for period in periods for kind, s in subjects)


class CloseFloor:
    """One raw connection that closes rounds with bare statements."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._pg: asyncpg.Connection | None = None
        self._lite: aiosqlite.Connection | None = None

    async def open(self) -> None:
        """Connect (PostgreSQL: the bench schema; SQLite: the store's pragmas)."""
        if self._db.postgres:
            self._pg = await asyncpg.connect(
                self._db.asyncpg_dsn, server_settings={"search_path": SCHEMA}
            )
            return
        self._lite = await aiosqlite.connect(self._db.sqlite_path, isolation_level=None)
        for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL"):
            await self._lite.execute(f"PRAGMA {pragma}")

    async def close(self) -> None:
        """Disconnect."""
        if self._pg is not None:
            await self._pg.close()
        if self._lite is not None:
            await self._lite.close()

    async def close_round(
        self, round_id: int, community_id: int, periods: tuple[str, ...], at: datetime
    ) -> int:
        """Close and score one round in one transaction; the answers it read."""
        if self._pg is not None:
            return await self._close_pg(self._pg, round_id, community_id, periods, at)
        assert self._lite is not None
        return await self._close_sqlite(self._lite, round_id, community_id, periods, at)

    async def _close_pg(
        self,
        conn: asyncpg.Connection,
        round_id: int,
        community_id: int,
        periods: tuple[str, ...],
        at: datetime,
    ) -> int:
        async with conn.transaction():
            await conn.execute(_CLOSE.format(at="$2", id="$1"), round_id, at)
            rows = await conn.fetch(_READ.format(id="$1"), round_id)
            players = [r["player_id"] for r in rows]
            n = len(players)
            await conn.execute(_PG_POINTS, round_id, players, [True] * n, [10] * n, [1] * n)
            teams = sorted({r["team_id"] for r in rows if r["team_id"] is not None})
            await conn.executemany(
                _TEAM_ANSWER.format(p="$1, $2, $3, $4, $5, $6, $7"),
                [(round_id, t, "[0]", 10, 10, True, 10) for t in teams],
            )
            keys = score_keys(periods, players, teams)
            await conn.execute(
                _PG_SCORES,
                community_id,
                *(list(column) for column in zip(*keys, strict=True)),
                [10] * len(keys),
                [1] * len(keys),
                [1] * len(keys),
            )
        return n

    async def _close_sqlite(
        self,
        conn: aiosqlite.Connection,
        round_id: int,
        community_id: int,
        periods: tuple[str, ...],
        at: datetime,
    ) -> int:
        stamp = at.replace(tzinfo=None).isoformat(sep=" ")
        await conn.execute("BEGIN IMMEDIATE")
        try:
            await conn.execute(_CLOSE.format(at="?", id="?"), (stamp, round_id))
            async with conn.execute(_READ.format(id="?"), (round_id,)) as cursor:
                columns = [d[0] for d in cursor.description]
                rows: list[dict[str, Any]] = [
                    dict(zip(columns, r, strict=True)) for r in await cursor.fetchall()
                ]
            players = [r["player_id"] for r in rows]
            await conn.executemany(_SQLITE_POINTS, [(1, 10, 1, round_id, p) for p in players])
            teams = sorted({r["team_id"] for r in rows if r["team_id"] is not None})
            await conn.executemany(
                _TEAM_ANSWER.format(p="?, ?, ?, ?, ?, ?, ?"),
                [(round_id, t, json.dumps([0]), 10, 10, 1, 10) for t in teams],
            )
            await conn.executemany(
                _SQLITE_SCORES,
                [(community_id, *key, 10, 1, 1) for key in score_keys(periods, players, teams)],
            )
            await conn.execute("COMMIT")
        except BaseException:
            await conn.execute("ROLLBACK")
            raise
        return len(players)
