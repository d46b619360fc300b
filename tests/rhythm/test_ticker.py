"""The runtime's ticker runs the weekly rhythm of the engine's store and chat."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from bot.core.clock import ManualClock
from bot.runtime import rhythm_for, run_ticker
from bot.store import SqlStore

from .helpers import ADMIN, CHANNEL, GUILD, make_process


async def test_the_ticker_starts_a_due_scheduled_quiz(store: SqlStore) -> None:
    clock = ManualClock(datetime(2026, 11, 23, 12, 0, tzinfo=UTC))
    process = make_process(store, clock)
    rhythm = rhythm_for(process.engine)
    assert rhythm is not None and rhythm.board is process.chat  # the chat is a BoardPort
    await rhythm.schedule(GUILD, CHANNEL, ADMIN, ["daily", "12:30", "1"], is_admin=True)
    clock.set(datetime(2026, 11, 23, 12, 30, 5, tzinfo=UTC))
    stop = asyncio.Event()
    ticker = asyncio.create_task(run_ticker(process.engine, stop, 0.01, rhythm_interval=0.01))
    for _ in range(200):
        if process.chat.questions:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await ticker
    assert [q.total for q in process.chat.questions] == [1]
