"""`WriterTurns`: SQLite's one writer, taken in turns, the clicks' writes first.

On SQLite every write of this process queues for the one writer (see `Database.write`).
A click's answer is acknowledged only once its batch has committed, and the platforms
give 3 s for that; a close, an outbox row's bookkeeping or a board can start a few
milliseconds later without anyone seeing it. With one queue in arrival order, a burst's
answer batches waited behind the early closes the burst itself set off (a 100-answer
close holds the writer about 3 ms, a 500-answer one 10 to 20 ms). Here a turn asked
for as urgent goes before the others; once the oldest other write has waited
`max_wait` seconds, the others and the urgent ones take turns, one each, so that a
steady stream of clicks cannot hold back a close for long.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

# Seconds a write that is not urgent waits at most behind urgent ones.
MAX_WAIT = 0.25


class WriterTurns:
    """One writer at a time: urgent turns first, the others in order of arrival; once
    the oldest other has waited `max_wait`, others and urgent ones alternate."""

    def __init__(
        self, *, max_wait: float = MAX_WAIT, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._max_wait = max_wait
        self._clock = clock
        self._busy = False
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._others: deque[tuple[float, asyncio.Future[None]]] = deque()
        # the last turn went to an other that had waited too long, before urgent ones
        self._overdue_went = False

    @property
    def waiting(self) -> int:
        """How many writes wait for their turn."""
        return len(self._urgent) + len(self._others)

    @asynccontextmanager
    async def turn(self, *, urgent: bool = False) -> AsyncIterator[None]:
        """Hold the writer for the block."""
        await self._acquire(urgent)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, urgent: bool) -> None:
        if not self._busy and not self._urgent and not self._others:
            self._busy = True
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if urgent:
            self._urgent.append(turn)
        else:
            self._others.append((self._clock(), turn))
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                # given the turn just as it gave up: pass it on
                self._release()
            else:
                self._forget(turn)
            raise

    def _forget(self, turn: asyncio.Future[None]) -> None:
        if turn in self._urgent:
            self._urgent.remove(turn)
            return
        for entry in self._others:
            if entry[1] is turn:
                self._others.remove(entry)
                return

    def _release(self) -> None:
        """Give the writer to the next in turn, or free it."""
        while True:
            turn = self._next()
            if turn is None:
                self._busy = False
                return
            if not turn.done():  # not given up meanwhile
                turn.set_result(None)
                return

    def _next(self) -> asyncio.Future[None] | None:
        overdue = bool(self._others) and self._clock() - self._others[0][0] >= self._max_wait
        if self._urgent and (not overdue or self._overdue_went):
            self._overdue_went = False
            return self._urgent.popleft()
        if self._others:
            self._overdue_went = bool(self._urgent)
            return self._others.popleft()[1]
        return None
