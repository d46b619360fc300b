"""The answer batch's statements on PostgreSQL, at the driver's level.

`AnswerWriter._write_batch` runs a burst's batch on asyncpg's own connection, in a
transaction of its own (`Database.driver_transaction`): SQLAlchemy's begin, execute and
commit around the batch's three or four statements were 40% of its CPU, and a burst's
clicks come a few to a batch (520 to 322 us of CPU a click, in batches of three). The
rules (which clicks a batch writes, which it leaves to the one-answer path, which met an
earlier answer) stay in `bot.store.answers`; here are only the statements and their rows.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from bot.core.model import Answer
from bot.store.codec import answer_from_row
from bot.store.db import as_arrays
from bot.store.driver import utc

# Columns as arrays through unnest, so that one prepared statement serves every batch
# size (a multi-row VALUES is new SQL, and a new prepare, per size).
_PG_LOCK_ROUNDS = (
    "SELECT id, closes_at FROM rounds WHERE id = ANY($1::bigint[]) AND status = 'open'"
    " ORDER BY id FOR SHARE OF rounds SKIP LOCKED"
)
_PG_TEAMS_OF = (
    "SELECT m.community_id, m.player_id, m.team_id FROM team_members AS m"
    " JOIN unnest($1::bigint[], $2::bigint[]) AS k(community_id, player_id)"
    " ON m.community_id = k.community_id AND m.player_id = k.player_id"
)
_ANSWER_VALUES = "round_id, player_id, selected, answered_at, team_id, correct, points, streak"
_PG_INSERT_ANSWERS = (
    "INSERT INTO answers (round_id, player_id, selected, answered_at, team_id)"
    " SELECT v.round_id, v.player_id, v.selected::json, v.answered_at, v.team_id"
    " FROM unnest($1::bigint[], $2::bigint[], $3::varchar[], $4::timestamptz[], $5::bigint[])"
    " AS v(round_id, player_id, selected, answered_at, team_id)"
    f" ON CONFLICT (round_id, player_id) DO NOTHING RETURNING {_ANSWER_VALUES}"
)
_PG_EARLIER_ANSWERS = (
    f"SELECT {_ANSWER_VALUES} FROM answers"
    " JOIN unnest($1::bigint[], $2::bigint[]) AS k(round_id, player_id)"
    " USING (round_id, player_id)"
)


def answer_from_record(row: Any) -> Answer:
    """An Answer from an asyncpg row of `_ANSWER_VALUES` (its JSON as text, its moment
    as asyncpg gives it), through the store's one `answer_from_row`."""
    values = dict(row)
    if isinstance(values["selected"], str):
        values["selected"] = json.loads(values["selected"])
    values["answered_at"] = utc(values["answered_at"])
    return answer_from_row(values)


async def lock_rounds_and_read_teams(
    pg: Any, round_ids: list[int], team_keys: Collection[tuple[int, int]]
) -> tuple[dict[int, datetime], dict[tuple[int, int], int]]:
    """Lock the batch's open rounds FOR SHARE, in id order, SKIP LOCKED (their deadlines
    by id), and read the teams of its players in teams mode ((community, player) -> team)."""
    locked = await pg.fetch(_PG_LOCK_ROUNDS, round_ids)
    teams: dict[tuple[int, int], int] = {}
    if team_keys:
        communities, players = zip(*team_keys, strict=True)
        members = await pg.fetch(_PG_TEAMS_OF, list(communities), list(players))
        teams = {(m[0], m[1]): m[2] for m in members}
    return {r[0]: utc(r[1]) for r in locked}, teams


async def insert_answers(pg: Any, values: list[dict[str, Any]]) -> list[Answer]:
    """Insert the batch's writable answers in one statement; the answers inserted (a
    row that met an earlier answer on the unique key inserts nothing)."""
    columns = as_arrays(values)
    columns["selected"] = [json.dumps(v) for v in columns["selected"]]
    return [answer_from_record(r) for r in await pg.fetch(_PG_INSERT_ANSWERS, *columns.values())]


async def answers_of(pg: Any, keys: Sequence[tuple[int, int]]) -> list[Answer]:
    """The stored answers of these (round, player) keys."""
    rows = await pg.fetch(_PG_EARLIER_ANSWERS, [k[0] for k in keys], [k[1] for k in keys])
    return [answer_from_record(r) for r in rows]
