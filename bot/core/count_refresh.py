"""The answers-so-far line of open questions, refreshed at a bounded rate.

Every interval, one read fetches the counts of all rounds that took answers since the
last refresh, whatever the number of open rounds; each round's question is then
edited at most once per interval, within the chat platforms' edit rate limits.

The interval runs from the end of the last refresh, and a refresh ends once its edits
are out (`show` returns then): when sending them takes longer than the interval, as in
a burst that also closes rounds, the edits slow down instead of queueing up, and the
clicks and closes keep the store and the loop.

A platform that limits message edits per community gives `edits_per_minute` (Slack's
chat.update is Tier 3: about 50 a minute per app per workspace). After a refresh whose
busiest community got n edits, the next waits at least n minutes / `edits_per_minute`:
a workspace with many questions open sees their counts less often, instead of being
answered 429, whose Retry-After would also hold up the reveals in those channels' lanes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection

from bot.core.ports import OpenRoundCount

ReadCounts = Callable[[Collection[int]], Awaitable[list[OpenRoundCount]]]
# shows fresh counts; returns the most edits that one community got
ShowCounts = Callable[[list[OpenRoundCount]], Awaitable[int]]


class CountRefresher:
    """Collects rounds whose count changed and hands their fresh counts on, in batches."""

    def __init__(
        self,
        interval: float,
        read: ReadCounts,
        show: ShowCounts,
        edits_per_minute: float | None = None,
    ) -> None:
        self.interval = interval
        self.edits_per_minute = edits_per_minute
        self._gap = interval  # from the end of the last refresh to the next
        self._read = read
        self._show = show
        self._wanted: set[int] = set()  # rounds that took answers since the refresh
        self._running = False
        self._refreshed_at = float("-inf")
        self._stopping = False
        self._pause: asyncio.Future[None] | None = None  # the wait for the next turn

    def want(self, round_id: int) -> bool:
        """Show a round's new count at the next refresh; True when the caller must start
        `run` (no refresh is running)."""
        self._wanted.add(round_id)
        if self._running:
            return False
        self._running = True
        return True

    def stop(self) -> None:
        """No more refreshes (the process is shutting down): one waiting for its turn
        is dropped, at once, rather than waited out (after a paced refresh that can be
        a minute); one whose edits are going out finishes. The counts are only a
        display: the next answer, or the reveal, brings them up to date."""
        self._stopping = True
        if self._pause is not None:
            self._pause.cancel()

    async def run(self) -> None:
        """Refresh every `interval` while rounds want it."""
        loop = asyncio.get_running_loop()
        try:
            while self._wanted and not self._stopping:
                wait = self._refreshed_at + self._gap - loop.time()
                if wait > 0:
                    await self._wait_turn(wait)
                    if self._stopping:
                        return
                # stamped before the read, so that answers arriving meanwhile wait a
                # full interval instead of refreshing at once
                self._refreshed_at = loop.time()
                due, self._wanted = self._wanted, set()
                edits = await self._show(await self._read(due))
                self._refreshed_at = loop.time()
                self._gap = self.interval
                if self.edits_per_minute:
                    self._gap = max(self.interval, edits * 60.0 / self.edits_per_minute)
        finally:
            self._running = False

    async def _wait_turn(self, seconds: float) -> None:
        """Sleep until the next refresh is due, or until `stop`."""
        self._pause = asyncio.ensure_future(asyncio.sleep(seconds))
        try:
            # asyncio.wait: a pause cancelled by `stop` ends the wait without raising
            await asyncio.wait({self._pause})
        finally:
            self._pause.cancel()
            self._pause = None
