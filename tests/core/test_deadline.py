"""Work that is slow gets the early act (a late ack, a defer) first; quick work none."""

from __future__ import annotations

import asyncio

import pytest

from bot.core.deadline import act_if_slow


async def test_quick_work_is_not_acted_on() -> None:
    acts: list[str] = []

    async def act() -> None:
        acts.append("acted")

    async def quick() -> int:
        return 7

    assert await act_if_slow(quick(), 0.05, act) == 7
    await asyncio.sleep(0.1)  # the timer was cancelled: nothing acts later either
    assert acts == []


async def test_slow_work_is_acted_on_first_and_the_act_is_over_when_it_returns() -> None:
    events: list[str] = []
    gate = asyncio.Event()

    async def act() -> None:
        events.append("act started")
        await gate.wait()
        events.append("act done")

    async def slow() -> str:
        await asyncio.sleep(0.05)
        events.append("work done")
        gate.set()
        return "ok"

    assert await act_if_slow(slow(), 0.01, act) == "ok"
    assert events == ["act started", "work done", "act done"]


async def test_slow_work_that_fails_still_has_its_act_finished() -> None:
    events: list[str] = []

    async def act() -> None:
        await asyncio.sleep(0.02)
        events.append("acted")

    async def failing() -> None:
        await asyncio.sleep(0.05)
        raise ConnectionError("database away")

    with pytest.raises(ConnectionError):
        await act_if_slow(failing(), 0.01, act)
    assert events == ["acted"]
