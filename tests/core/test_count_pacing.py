"""The answers-so-far line waits for its last edits to be out before it reads again,
so that a slow chat (or a busy outbox) slows the edits down instead of piling them up."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from typing import Any, cast

from bot.core.cards import QuestionCard
from bot.core.clock import ManualClock
from bot.core.model import StartRequest
from bot.core.ports import OpenRoundCount, Store

from .helpers import GUILD, HOST, RecordingChat, make_engine, user

TWO = StartRequest(decks=("basics",), questions=2, seconds=20)


class CountedReads:
    """A store that counts its answers-so-far reads."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.count_reads = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def open_round_counts(self, round_ids: Collection[int]) -> list[OpenRoundCount]:
        self.count_reads += 1
        return await self._store.open_round_counts(round_ids)


class HeldEdits(RecordingChat):
    """A chat whose question edits wait at a gate, as a rate-limited platform's would."""

    def __init__(self) -> None:
        super().__init__()
        self.editing = asyncio.Event()
        self.gate = asyncio.Event()

    async def update_question(
        self, channel_id: str, message_ref: str, card: QuestionCard, *, key: str
    ) -> None:
        self.editing.set()
        await self.gate.wait()
        await super().update_question(channel_id, message_ref, card, key=key)


async def test_no_count_is_read_while_the_last_edit_is_still_going_out(store: Store) -> None:
    clock, chat = ManualClock(), HeldEdits()
    counted = CountedReads(store)
    engine = make_engine(cast(Store, counted), chat, clock)
    await engine.start(GUILD, "chan", HOST, TWO)
    round_id = chat.current.round_id
    await engine.record_answer(round_id, user(1), (0,))
    await chat.editing.wait()  # the first edit is on its way, and held
    reads = counted.count_reads

    for n in (2, 3):
        await engine.record_answer(round_id, user(n), (0,))
    for _ in range(20):
        await asyncio.sleep(0)
    assert counted.count_reads == reads  # nothing read while the edit is held

    chat.gate.set()
    await engine.idle()
    assert chat.updates[-1].answered == 3  # the next refresh shows every answer
