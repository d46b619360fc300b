"""Rows taken as they are written: the first row of a free lane goes straight to this
process's dispatcher once its transaction commits, and never two rows of one lane."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.core.model import CommunityRef
from bot.core.outbox import (
    OutboxBatch,
    OutboxClaim,
    OutboxItem,
    OutboxKind,
    OutboxMessage,
    OutboxSender,
)
from bot.store import SqlStore

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=1)


class Taken:
    """A sender that notes what it is handed (and sends nothing)."""

    def __init__(self, platform: str = "test", channel_id: str | None = None) -> None:
        self.items: list[OutboxItem] = []
        self.sender = OutboxSender(platform, channel_id, LEASE, self.items.extend)


def count_edit(channel: str, round_id: int) -> list[OutboxMessage]:
    return [OutboxMessage(OutboxKind.COUNT, channel, round_id)]


async def community_id(store: SqlStore) -> int:
    return (await store.community("test", CommunityRef("G1", "Guild").external_id, "Guild")).id


async def test_the_first_row_of_a_free_lane_is_taken_after_commit_and_the_rest_wait(
    store: SqlStore,
) -> None:
    taken = Taken()
    store.deliver_as_written(taken.sender)
    cid = await community_id(store)
    messages = [
        OutboxMessage(OutboxKind.REVEAL, "lane-a", None, {"card": {}}),
        OutboxMessage(OutboxKind.SUMMARY, "lane-a", None, {}),
        OutboxMessage(OutboxKind.REVEAL, "lane-b", None, {"card": {}}),
    ]
    await store.add_outbox([OutboxBatch("test", cid, None, messages)], NOW)
    assert [(i.channel_id, i.kind) for i in taken.items] == [
        ("lane-a", OutboxKind.REVEAL),
        ("lane-b", OutboxKind.REVEAL),
    ]
    assert all(i.attempts == 1 for i in taken.items)
    # the taken rows are leased: no dispatcher claims them, nor the summary behind one
    assert await store.claim_outbox(OutboxClaim("test", None, NOW, NOW + LEASE, 10)) == []
    # until the lease ends, as for any claim of a process that died
    later = NOW + LEASE + timedelta(seconds=1)
    again = await store.claim_outbox(OutboxClaim("test", None, later, later + LEASE, 10))
    assert sorted(i.id for i in again) == sorted(i.id for i in taken.items)


async def test_nothing_is_taken_by_a_rolled_back_write_or_for_another_platform(
    store: SqlStore,
) -> None:
    taken = Taken(platform="slack")
    store.deliver_as_written(taken.sender)
    cid = await community_id(store)
    await store.add_outbox([OutboxBatch("discord", cid, None, count_edit("lane", 1))], NOW)
    assert taken.items == []
    claimed = await store.claim_outbox(OutboxClaim("discord", None, NOW, NOW + LEASE, 10))
    assert [i.kind for i in claimed] == [OutboxKind.COUNT]
    store.stop_delivering_as_written(taken.sender)
    await store.add_outbox([OutboxBatch("slack", cid, None, count_edit("lane", 2))], NOW)
    assert taken.items == []


async def test_two_stores_on_one_database_never_take_two_rows_of_a_lane(
    database_url: str,
) -> None:
    stores = [SqlStore.from_url(database_url) for _ in range(2)]
    takers = [Taken() for _ in stores]
    try:
        for store, taker in zip(stores, takers, strict=True):
            store.deliver_as_written(taker.sender)
        cid = await community_id(stores[0])
        await community_id(stores[1])  # both pools connected: the writes overlap
        # forty writers of each lane at once, from two processes: the first written is
        # taken, every other waits behind it (the lane is in flight)
        lanes = [f"lane-{n}" for n in range(5)]
        await asyncio.gather(
            *(
                stores[n % 2].add_outbox(
                    [OutboxBatch("test", cid, None, count_edit(lane, 100 * k + n))], NOW
                )
                for k, lane in enumerate(lanes)
                for n in range(40)
            )
        )
        taken = sorted((i.channel_id, i.id) for t in takers for i in t.items)
        heads = sorted((i.channel_id, i.id) for i in await _rows(stores[0]))
        assert taken == heads and [lane for lane, _ in heads] == lanes
    finally:
        for store in stores:
            await store.close()


async def _rows(store: SqlStore) -> list[OutboxItem]:
    later = NOW + LEASE + timedelta(seconds=1)
    return await store.claim_outbox(OutboxClaim("test", None, later, later + LEASE, 100))
