"""Acknowledge a click only once its answer is committed.

Slack does not resend a click it got a 200 for, so the 200 goes out after the answer's
transaction: an acknowledged answer survives a crash. Slack drops a click that is not
acknowledged within 3 s, so a write that takes longer than `late_after` is acknowledged
anyway; the member then gets the receipt (or a failure line) by response_url when the
write finishes, and the late ack is counted.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from slack_bolt.context.ack.async_ack import AsyncAck

from bot.core.deadline import act_if_slow

log = logging.getLogger(__name__)

LATE_ACK_SECONDS = 2.0  # Slack's deadline is 3 s; the 200 needs time to get there
# how long a reply waits for the clicks being written to be acknowledged first
REPLY_YIELDS_SECONDS = 1.0

T = TypeVar("T")


def _no_count() -> None:
    """Count nothing."""


class ClicksInFlight:
    """The clicks between their write's start and their ack, and a wait for there to be
    none: replies yield to them.

    Under a burst every click's reply (its receipt) costs about as much of this
    process's CPU as the click itself; sent while clicks are waiting, the receipts would
    hold up the acks, which Slack needs within 3 s and which say that the answers are
    safe. So a reply waits until no click is waiting for its ack, or until the first
    waiting reply has waited `at_most` seconds, whichever is first: in a quiet channel
    it goes at once. One timer serves all the waiting replies.
    """

    def __init__(self, at_most: float = REPLY_YIELDS_SECONDS) -> None:
        self.at_most = at_most
        self.count = 0
        self._waiting: list[asyncio.Future[None]] = []
        self._timer: asyncio.TimerHandle | None = None

    def enter(self) -> None:
        """A click's write starts."""
        self.count += 1

    def leave(self) -> None:
        """A click is acknowledged."""
        self.count -= 1
        if self.count == 0:
            self._release()

    async def until_quiet(self) -> None:
        """Return once no click is waiting for its ack (or the wait ran out)."""
        if self.count == 0:
            return
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._waiting.append(waiter)
        if self._timer is None:
            self._timer = loop.call_later(self.at_most, self._release)
        await waiter

    def _release(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        waiting, self._waiting = self._waiting, []
        for waiter in waiting:
            if not waiter.done():
                waiter.set_result(None)


class AckAfterCommit:
    """Runs a click's write, then acknowledges; at `late_after` seconds, acknowledges first."""

    def __init__(
        self, *, late_after: float = LATE_ACK_SECONDS, on_late: Callable[[], None] = _no_count
    ) -> None:
        self.late_after = late_after
        self.on_late = on_late
        self.in_flight = ClicksInFlight()

    async def record(self, ack: AsyncAck, write: Awaitable[T]) -> T | None:
        """`write`'s result, acknowledged after it committed (or late, after `late_after`).

        A write that fails is acknowledged too, logged, and None returned: the caller
        tells the member. (Raising it would reach Bolt, which then overwrites the ack it
        has not sent yet and answers Slack 404.)
        """
        acked_late = False

        async def ack_first() -> None:
            nonlocal acked_late
            acked_late = True
            self.on_late()
            log.warning("an answer took over %.1f s to commit; acked first", self.late_after)
            await ack()

        self.in_flight.enter()
        try:
            try:
                result: T | None = await act_if_slow(write, self.late_after, ack_first)
            except Exception:
                log.exception("recording an answer failed")
                result = None
            if not acked_late:
                await ack()
        finally:
            self.in_flight.leave()
        return result
