"""The answers-so-far line waits for its last edits to be out before it reads again,
so that a slow chat (or a busy outbox) slows the edits down instead of piling them up."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from typing import Any, cast

import pytest

from bot.core import count_refresh
from bot.core.bank import QuestionBank
from bot.core.cards import QuestionCard
from bot.core.clock import ManualClock
from bot.core.engine import QuizEngine
from bot.core.model import StartRequest
from bot.core.ports import OpenRoundCount, Store

from .helpers import BASICS, GUILD, HOST, RecordingChat, make_engine, user

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


async def two_refreshes(
    monkeypatch: pytest.MonkeyPatch, first_edits: int, edits_per_minute: float | None
) -> list[float]:
    """Two refreshes, the first editing `first_edits` questions of one community and
    more answers arriving while its edits go out; the waits the refresher asked for."""
    waits: list[float] = []
    real_sleep = asyncio.sleep

    async def noted_sleep(seconds: float) -> None:
        waits.append(seconds)
        await real_sleep(0)

    monkeypatch.setattr(count_refresh.asyncio, "sleep", noted_sleep)
    shown: list[int] = []
    more = asyncio.Event()

    async def read(round_ids: Collection[int]) -> list[OpenRoundCount]:
        return []

    async def show(counts: list[OpenRoundCount]) -> int:
        shown.append(1)
        await more.wait()  # the edits go out while more answers come in
        return first_edits if len(shown) == 1 else 1

    refresher = count_refresh.CountRefresher(2.0, read, show, edits_per_minute)
    assert refresher.want(1)
    run = asyncio.ensure_future(refresher.run())
    while not shown:
        await real_sleep(0)
    assert not refresher.want(2)
    more.set()
    await run
    assert len(shown) == 2
    return waits


async def test_a_platforms_edit_limit_spaces_out_a_busy_communitys_refreshes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Slack allows about 50 chat.update calls a minute per workspace: after a refresh
    # that edited 10 of one workspace's questions, the next waits 10 / 50 of a minute
    waits = await two_refreshes(monkeypatch, 10, edits_per_minute=50)
    assert waits and min(waits) > 2.0
    assert round(max(waits), 1) == 12.0  # 10 edits at 50 a minute, not the 2 s interval


async def test_without_a_limit_refreshes_keep_their_interval(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    waits = await two_refreshes(monkeypatch, 10, edits_per_minute=None)
    assert waits and max(waits) <= 2.0


async def test_shutting_down_drops_a_refresh_waiting_for_its_turn(store: Store) -> None:
    # one edit a minute: after the first refresh the next would wait a whole minute
    chat = HeldEdits()
    engine = QuizEngine(
        store,
        QuestionBank([BASICS]),
        chat,
        platform="test",
        clock=ManualClock(),
        count_edits_per_minute=1,
    )
    await engine.start(GUILD, "chan", HOST, TWO)
    round_id = chat.current.round_id
    await engine.record_answer(round_id, user(1), (0,))
    await chat.editing.wait()
    await engine.record_answer(round_id, user(2), (0,))  # wants a second refresh
    chat.gate.set()
    # the second refresh waits its turn (a minute away); shutting down does not
    await asyncio.wait_for(engine.shutdown(), 5.0)
    assert [u.answered for u in chat.updates] == [1]
