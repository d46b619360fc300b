"""Stopping a serving bot on SIGTERM or SIGINT without losing an acknowledged answer.

A serve function uses it like this:

    shutdown = Shutdown()
    shutdown.install()                    # SIGTERM/SIGINT -> shutdown.requested
    async with running(settings, chat, platform=...) as runtime:
        shutdown.attach(runtime.engine)   # a signal stops new quizzes at once
        ...start the server and the ticker with stop=shutdown.requested...
        await shutdown.requested.wait()
        ...stop the server (no new clicks), await the ticker...
        await shutdown.finish_in_flight()
    # running() then closes the store; open rounds stay for the next process

Nothing closes rounds on the way out: a round is closed in one transaction by
whichever process gets to it, so the next process (or another worker) scores
it later. What must not be lost is work already under way: Slack's Bolt, for one,
acknowledges a click and records the answer in a task of its own afterwards, so
the answer of an acknowledged click may still be on its way to the database when
the signal comes. `finish_in_flight` waits for that work, bounded by the deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Collection
from typing import Any

from bot.core.engine import QuizEngine

log = logging.getLogger(__name__)

# docker stops a container with SIGKILL 10 s after SIGTERM unless told otherwise
# (docker-compose.yml gives 15 s), so everything must be over well within 10 s.
SHUTDOWN_SECONDS = 9.0
SIGNALS = (signal.SIGTERM, signal.SIGINT)
# how long an HTTP server waits for requests in progress when it stops:
# `web.AppRunner(app, shutdown_timeout=HTTP_GRACE_SECONDS)` (aiohttp's default is 60 s)
HTTP_GRACE_SECONDS = 2.0


class Shutdown:
    """Turns SIGTERM/SIGINT into an orderly stop that ends within `seconds`."""

    def __init__(
        self, seconds: float = SHUTDOWN_SECONDS, *, requested: asyncio.Event | None = None
    ) -> None:
        self.seconds = seconds
        # an event the caller already waits on (a serve function's `stop`) may be reused
        self.requested = requested or asyncio.Event()
        self.signal_name: str | None = None
        self._engine: QuizEngine | None = None
        self._deadline: float | None = None
        self._installed: list[signal.Signals] = []
        # tasks that ran before the bot started (the caller's own) are not in-flight work
        self._earlier: set[asyncio.Task[Any]] | None = None

    def _note_earlier_tasks(self) -> None:
        if self._earlier is None:
            self._earlier = asyncio.all_tasks()

    def install(self) -> None:
        """Handle SIGTERM and SIGINT on the running loop (a no-op off the main thread)."""
        self._note_earlier_tasks()
        loop = asyncio.get_running_loop()
        for signum in SIGNALS:
            # off the main thread (tests) or on Windows there are no loop signal handlers
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(signum, self.request, signum)
                self._installed.append(signum)

    def uninstall(self) -> None:
        """Give the signals back to their default handling."""
        loop = asyncio.get_running_loop()
        for signum in self._installed:
            loop.remove_signal_handler(signum)
        self._installed.clear()

    def attach(self, engine: QuizEngine) -> None:
        """The engine to stop taking quizzes when the signal comes (at once if it came)."""
        self._note_earlier_tasks()
        self._engine = engine
        if self.requested.is_set():
            engine.accepting = False

    def request(self, signum: int | None = None) -> None:
        """Start shutting down (the signal handler; tests call it directly)."""
        if self._deadline is not None:
            log.info("already shutting down")
            return
        self.signal_name = signal.Signals(signum).name if signum is not None else "request"
        self._deadline = asyncio.get_running_loop().time() + self.seconds
        if self._engine is not None:
            # from here on /quiz start is refused; clicks on open rounds still count
            self._engine.accepting = False
        log.info("%s: shutting down within %.0f s", self.signal_name, self.seconds)
        self.requested.set()

    def remaining(self) -> float:
        """Seconds left before the deadline (the full budget if no signal came yet)."""
        if self._deadline is None:
            return self.seconds
        return max(0.0, self._deadline - asyncio.get_running_loop().time())

    async def finish_in_flight(self, *, keep: Collection[asyncio.Task[Any]] = ()) -> bool:
        """Wait, until the deadline, for the engine's background work and every task started
        since `install` or `attach` (answers being recorded, rounds being closed); False if
        some did not end.

        Call it after the server stopped taking requests and the ticker ended, so what is
        left is work already started. Tasks in `keep` (long-lived ones) are not waited for.
        """
        if self._engine is not None:
            self._engine.accepting = False
        skip = {asyncio.current_task(), *keep, *(self._earlier or ())}
        pending = {t for t in asyncio.all_tasks() if t not in skip}
        if self._engine is not None:
            pending.add(asyncio.ensure_future(self._engine.idle()))
        if not pending:
            return True
        _, late = await asyncio.wait(pending, timeout=self.remaining())
        if late:
            log.warning("shutdown deadline: %d task(s) still running were left", len(late))
            return False
        log.info("in-flight work finished")
        return True
