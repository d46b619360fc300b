"""Work the engine runs beside a click or a close: a failure is logged, never raised."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

from bot.core.ports import EngineEvents

log = logging.getLogger("bot.core.engine")  # failures are the engine's to report


class BackgroundWork:
    """The engine's background tasks, kept so that `idle` can wait for them."""

    def __init__(self, events: EngineEvents) -> None:
        self.events = events
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, work: Awaitable[None]) -> None:
        """Run `work` in the background, guarded."""
        task = asyncio.ensure_future(self.guarded(work, "background", {}))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def guarded(self, work: Awaitable[None], kind: str, ids: dict[str, int]) -> None:
        """Run `work`, logging and counting a failure instead of raising it."""
        try:
            await work
        except Exception:
            log.exception("%s failed", kind, extra=ids)
            self.events.error(kind)

    @property
    def busy(self) -> bool:
        """Whether any task is still running."""
        return bool(self._tasks)

    async def idle(self) -> None:
        """Wait until every background task, and any it started, is done."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks))
