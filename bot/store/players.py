"""`Players`: get-or-create players, a burst of first lookups in one read and one upsert,
and the upsert the answer writer runs in its own transaction for first clicks."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import String, bindparam, select, text, tuple_
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.model import Player
from bot.core.ports import PlayerKey
from bot.store.codec import Row, player_from_row
from bot.store.db import Database, as_arrays
from bot.store.group_commit import GroupCommit
from bot.store.tables import PlayerRow

# Lookups arriving together are served together, at most this many at a time.
PLAYER_BATCH = 200

# On PostgreSQL the keys go as arrays through unnest, so that one prepared statement
# serves every batch size (a multi-row VALUES is new SQL, and a new prepare, per size).
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
# {platform}, {external_id}, {display_name}: the three arrays' placeholders
_UPSERT_PLAYERS = (
    "INSERT INTO players (platform, external_id, display_name)"
    " SELECT * FROM unnest({platform}, {external_id}, {display_name})"
    " ON CONFLICT (platform, external_id) DO UPDATE SET display_name = excluded.display_name"
    " RETURNING id, platform, external_id, display_name"
)
_PG_UPSERT_PLAYERS = (
    text(
        _UPSERT_PLAYERS.format(
            platform=":platform", external_id=":external_id", display_name=":display_name"
        )
    )
    .bindparams(
        bindparam("platform", type_=postgresql.ARRAY(String())),
        bindparam("external_id", type_=postgresql.ARRAY(String())),
        bindparam("display_name", type_=postgresql.ARRAY(String())),
    )
    .columns(*PlayerRow.__table__.c)
)
# the same, at the driver's level (asyncpg's placeholders): `bot.store.answer_batch`
PG_UPSERT_PLAYERS_SQL = _UPSERT_PLAYERS.format(
    platform="$1::varchar[]", external_id="$2::varchar[]", display_name="$3::varchar[]"
)


class Players:
    """The `players` table; `close()` finishes the lookups under way."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._lookup, self._upsert = self._batch_statements()
        self._batches: GroupCommit[PlayerKey, Player] = GroupCommit(
            self._serve_batch, max_batch=PLAYER_BATCH
        )

    async def close(self) -> None:
        """Wait for the lookups under way."""
        await self._batches.wait_idle()

    async def player(self, platform: str, external_id: str, display_name: str) -> Player:
        """Get or create a player; `display_name` updates the stored one when it differs.

        Lookups arriving together (a burst of first clicks) share one read and at most
        one write: see `_serve_batch`.
        """
        return await self._batches.submit(PlayerKey(platform, external_id, display_name))

    async def players(self, player_ids: Collection[int]) -> Mapping[int, Player]:
        """Players by id."""
        if not player_ids:
            return {}
        async with self._db.reader.connect() as conn:
            rows = await conn.execute(
                select(PlayerRow.__table__).where(PlayerRow.id.in_(list(player_ids)))
            )
            return {r["id"]: player_from_row(r) for r in rows.mappings()}

    def _batch_statements(self) -> tuple[Any, Any]:
        """`_serve_batch`'s statements, built once: look up, and create or rename."""
        if self._db.postgres:
            return _PG_LOOKUP_PLAYERS, _PG_UPSERT_PLAYERS
        players = PlayerRow.__table__.c
        lookup = select(*players).where(
            tuple_(players.platform, players.external_id).in_(bindparam("keys", expanding=True))
        )
        upsert = self._db.insert(PlayerRow)
        return lookup, upsert.on_conflict_do_update(
            index_elements=["platform", "external_id"],
            set_={"display_name": upsert.excluded.display_name},
        ).returning(*players)

    async def _serve_batch(self, batch: Sequence[PlayerKey]) -> list[Player]:
        """Look up a batch of players in one read; create or rename, in one upsert, only
        those that need it."""
        wanted = {(k.platform, k.external_id): k.display_name for k in batch}
        known: dict[tuple[str, str], Player] = {}
        async with self._db.reader.connect() as conn:
            keys: Any = (
                {"platform": [k[0] for k in wanted], "external_id": [k[1] for k in wanted]}
                if self._db.postgres
                else {"keys": list(wanted)}
            )
            rows = await conn.execute(self._lookup, keys)
            for row in rows.mappings():
                player = player_from_row(row)
                known[(player.platform, player.external_id)] = player
        stale = [
            PlayerKey(key[0], key[1], name)
            for key, name in wanted.items()
            if key not in known or known[key].display_name != name
        ]
        if stale:
            async with self._db.write(urgent=True) as conn:
                known.update(await self.upsert(conn, stale))
        return [known[(k.platform, k.external_id)] for k in batch]

    async def upsert(
        self, conn: AsyncConnection, keys: Collection[PlayerKey]
    ) -> dict[tuple[str, str], Player]:
        """Create or rename the players of `keys` in one statement, in `conn`'s
        transaction; the players by (platform, external_id). Of two keys of one player,
        the last one's name wins."""
        rows = player_upserts(keys)
        params: Any = as_arrays(rows) if self._db.postgres else rows
        return players_by_key((await conn.execute(self._upsert, params)).mappings())


def player_upserts(keys: Collection[PlayerKey]) -> list[dict[str, str]]:
    """The upsert's rows: one per player, the last key's name, in key order (so that
    concurrent upserts lock the same rows in the same order)."""
    names = {(k.platform, k.external_id): k.display_name for k in keys}
    return [
        {"platform": key[0], "external_id": key[1], "display_name": name}
        for key, name in sorted(names.items())
    ]


def players_by_key(rows: Iterable[Row]) -> dict[tuple[str, str], Player]:
    """Players by (platform, external_id)."""
    players = (player_from_row(row) for row in rows)
    return {(p.platform, p.external_id): p for p in players}
