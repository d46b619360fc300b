"""SQLite's one writer taken in turns: a click's write goes before a close waiting for
the writer, and a close that has waited long enough gets its turn anyway."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.core.ports import AnswerOutcome
from bot.store import SqlStore
from bot.store.writer_turns import WriterTurns
from tests.store.helpers import T0, start_quiz


class Clock:
    """Monotonic seconds the test moves."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def _queue(
    turns: WriterTurns, order: list[str], names: list[tuple[str, bool]]
) -> list[asyncio.Task[None]]:
    """Start a write per (name, urgent), in that order, each waiting for its turn."""

    async def write(name: str, urgent: bool) -> None:
        async with turns.turn(urgent=urgent):
            order.append(name)

    tasks = []
    for name, urgent in names:
        tasks.append(asyncio.create_task(write(name, urgent)))
        await _settle()
    return tasks


async def test_clicks_go_before_the_writes_waiting_ahead_of_them() -> None:
    turns = WriterTurns(max_wait=0.25, clock=Clock())
    order: list[str] = []
    async with turns.turn():
        tasks = await _queue(
            turns,
            order,
            [("close 1", False), ("click 1", True), ("close 2", False), ("click 2", True)],
        )
        assert turns.waiting == 4
    await asyncio.gather(*tasks)

    assert order == ["click 1", "click 2", "close 1", "close 2"]
    assert turns.waiting == 0


async def test_a_write_that_waited_too_long_takes_turns_with_the_clicks() -> None:
    clock = Clock()
    turns = WriterTurns(max_wait=0.25, clock=clock)
    order: list[str] = []
    async with turns.turn():
        tasks = await _queue(
            turns,
            order,
            [("close 1", False), ("close 2", False)] + [(f"click {n}", True) for n in range(3)],
        )
        clock.now = 0.3  # both closes have waited past max_wait
    await asyncio.gather(*tasks)

    assert order == ["close 1", "click 0", "close 2", "click 1", "click 2"]


async def test_a_writer_that_gives_up_passes_its_turn_on() -> None:
    turns = WriterTurns(clock=Clock())
    order: list[str] = []
    async with turns.turn():
        gone, *rest = await _queue(
            turns, order, [("gone", True), ("click", True), ("close", False)]
        )
        gone.cancel()
        await _settle()
    await asyncio.gather(*rest)

    assert order == ["click", "close"]
    # and the writer is free again
    async with turns.turn():
        order.append("later")
    assert order[-1] == "later"


async def test_a_writer_cancelled_as_it_gets_the_turn_frees_the_writer() -> None:
    turns = WriterTurns(clock=Clock())
    order: list[str] = []
    first = asyncio.Event()

    async def hold() -> None:
        async with turns.turn():
            await first.wait()

    holder = asyncio.create_task(hold())
    await _settle()
    (waiter,) = await _queue(turns, order, [("cancelled", True)])
    first.set()
    await asyncio.sleep(0)  # the holder releases: the waiter is given the turn...
    waiter.cancel()  # ...and is cancelled before it runs
    await asyncio.gather(holder, waiter, return_exceptions=True)

    async with asyncio.timeout(1):
        async with turns.turn():
            order.append("next")
    assert order == ["next"]


async def test_a_click_is_written_before_a_close_waiting_for_the_writer(store: SqlStore) -> None:
    if store.db.postgres:
        pytest.skip("PostgreSQL's writers do not queue in this process")
    _, _, first = await start_quiz(store)
    ada = await store.player("test", "p1", "Ada")
    order: list[str] = []

    async def close() -> None:
        async with store.db.write():
            order.append("close")

    async def click() -> None:
        result = await store.add_answer(first.id, ada.id, (0,), T0 + timedelta(seconds=2))
        assert result.outcome is AnswerOutcome.INSERTED
        order.append("click")

    async with store.db.write():
        closing = asyncio.create_task(close())
        await _settle()
        clicking = asyncio.create_task(click())
        await _settle()
    await asyncio.gather(closing, clicking)

    assert order == ["click", "close"]
