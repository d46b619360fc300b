"""`Outbox.write_in`'s statements at the driver's level (see `bot.store.driver`).

Every close, every quiz start and every count edit writes to the outbox and, where this
process sends the rows, leases the first row of each free lane in the same transaction.
Built as SQLAlchemy expressions at each call, those three statements cost more in
Python than the database spends on them; here they are strings, built once per shape
(how many rows, whether any is deduplicated), and their rows plain tuples. They say
what `Outbox.claim_outbox`'s expressions say: the lease and the lane rule are the same.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.outbox import UNFINISHED, OutboxItem, OutboxKind, OutboxMessage
from bot.store.driver import Driver
from bot.store.tables import OutboxRow

PENDING, SENDING = UNFINISHED
_COLUMNS = [c.name for c in OutboxRow.__table__.c]
_WRITTEN = (
    "platform, channel_id, community_id, quiz_id, round_id, kind, payload, status,"
    " attempts, not_before, created_at, dedupe_key"
)
_WIDTH = len(_WRITTEN.split(", "))
_REVEAL = OutboxKind.REVEAL.value
# The rows `ids` that no earlier unfinished row of their lane holds back, leased; with
# each reveal's question message (its round's), read in the same statement.
_LEASE = (
    f"UPDATE outbox SET status = '{SENDING}', lease_until = $1, attempts = outbox.attempts + 1,"
    " dedupe_key = NULL"  # a newer count edit now gets a row of its own
    " WHERE outbox.id IN ({ids}) AND NOT EXISTS (SELECT 1 FROM outbox AS earlier"
    " WHERE earlier.platform = outbox.platform AND earlier.channel_id = outbox.channel_id"
    f" AND earlier.id < outbox.id AND earlier.status IN ('{PENDING}', '{SENDING}'))"
    " RETURNING " + ", ".join(f"outbox.{c}" for c in _COLUMNS) + ","
    f" CASE WHEN outbox.kind = '{_REVEAL}' AND outbox.round_id IS NOT NULL THEN"
    " (SELECT rounds.message_ref FROM rounds WHERE rounds.id = outbox.round_id) END"
)
_KINDS = {k.value: k for k in OutboxKind}


@functools.lru_cache(maxsize=64)
def insert_statement(rows: int, deduplicated: bool, returning: bool) -> str:
    """INSERT of `rows` outbox rows in one statement (skipping a row whose dedupe key is
    taken, if any has one), returning the new ids if asked."""
    values = ", ".join(
        "(" + ", ".join(f"${r * _WIDTH + c + 1}" for c in range(_WIDTH)) + ")" for r in range(rows)
    )
    statement = f"INSERT INTO outbox ({_WRITTEN}) VALUES {values}"
    if deduplicated:
        statement += " ON CONFLICT (dedupe_key) DO NOTHING"
    return statement + (" RETURNING id" if returning else "")


@functools.lru_cache(maxsize=64)
def lease_statement(rows: int) -> str:
    """`_LEASE` for `rows` ids ($2 on)."""
    return _LEASE.format(ids=", ".join(f"${n + 2}" for n in range(rows)))


def row_values(
    driver: Driver,
    batch_ids: tuple[str, int, int | None],
    messages: Sequence[OutboxMessage],
    keys: Sequence[str | None],
    now: datetime,
) -> list[Any]:
    """The parameters of `insert_statement` for the messages (platform, community and
    quiz in `batch_ids`) and their dedupe keys."""
    platform, community_id, quiz_id = batch_ids
    at = driver.moment(now)
    params: list[Any] = []
    for m, key in zip(messages, keys, strict=True):
        payload = json.dumps(dict(m.payload), separators=(",", ":"))
        params += (platform, m.channel_id, community_id, quiz_id, m.round_id, m.kind.value,
                   payload, PENDING, 0, at, at, key)  # fmt: skip
    return params


async def lease_written(
    driver: Driver, conn: AsyncConnection, ids: list[int], lease_until: datetime
) -> list[OutboxItem]:
    """Lease the rows `ids` that are first of their lanes: the items, in id order."""
    rows = await driver.rows(conn, lease_statement(len(ids)), (driver.moment(lease_until), *ids))
    items = []
    for row in rows:
        r = dict(zip(_COLUMNS, row, strict=False))
        item = OutboxItem(
            id=int(r["id"]),
            platform=str(r["platform"]),
            channel_id=str(r["channel_id"]),
            community_id=int(r["community_id"]),
            quiz_id=r["quiz_id"],
            round_id=r["round_id"],
            kind=_KINDS[str(r["kind"])],
            payload=json.loads(str(r["payload"])),
            attempts=int(r["attempts"]),
            created_at=driver.read_moment(r["created_at"]),
            round_ref=row[-1],
        )
        items.append(item)
    return sorted(items, key=lambda i: i.id)
