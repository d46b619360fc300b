"""Run a piece of work, and act first if it is slow: the platforms' 3 s to answer.

Slack wants its 200 and Discord its interaction response within 3 s, and both are
sent only once the work they acknowledge (an answer's commit) is done. When the work
takes longer than a few seconds' margin, the adapter acknowledges first (Slack's late
ack, Discord's defer) and the real answer follows. One mechanism for both, and cheap
per click: the work runs in the caller's task, and a timer starts the early act.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def act_if_slow(
    work: Awaitable[T], seconds: float, act: Callable[[], Awaitable[object]]
) -> T:
    """`work`'s result; if it is not done after `seconds`, `act` starts then (in a task
    of its own) and has finished by the time this returns or raises."""
    loop = asyncio.get_running_loop()
    acting: asyncio.Future[object] | None = None

    def start() -> None:
        nonlocal acting
        acting = asyncio.ensure_future(act())

    timer = loop.call_later(seconds, start)
    try:
        return await work
    finally:
        timer.cancel()
        if acting is not None:
            await acting
