"""`Listen`: the app's listeners, answered the moment they acknowledge.

With Bolt's default (`process_before_response=False`) a request's listener runs as a
task while Bolt polls every 10 ms for its `ack()`. A click is acknowledged only after
its answer has committed, so under a burst each click is polled many times, and those
wake-ups cost as much CPU as the rest of the click. So the app runs with
`process_before_response=True` and every listener is registered through `Listen`,
which starts the listener as a task and returns as soon as it has called `ack()` (an
event, not a poll): the 200 goes out at once, and the rest of the listener goes on in
the background, as with Bolt's default. A failure before the ack reaches Bolt (its
error handler, a 500); one after it goes to the same error handler here.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.adapters.slack.chat import Body

log = logging.getLogger(__name__)

Listener = Callable[..., Coroutine[Any, Any, None]]
OnError = Callable[[Exception, Body], Awaitable[None]]


class Listen:
    """Registers listeners on a Bolt app (made with process_before_response=True) so
    that Slack is answered at their `ack()`."""

    def __init__(
        self, app: AsyncApp, on_error: OnError, *, command_middleware: Sequence[Any] = ()
    ) -> None:
        self.app = app
        self.on_error = on_error
        # run for slash commands only (once one matched), not for every request as the
        # app's own middleware would: a click does not pay for what only commands need
        self.command_middleware = list(command_middleware)
        self._running: set[asyncio.Task[None]] = set()  # the listeners' rest, after the ack

    def command(self, name: str, listener: Listener, *, matchers: Sequence[Any] = ()) -> None:
        """A slash command."""
        register = self.app.command(
            name, matchers=list(matchers) or None, middleware=self.command_middleware or None
        )
        register(self.answered_at_ack(listener))

    def action(self, constraint: Any, listener: Listener) -> None:
        """A block action (a button, a checkbox)."""
        self.app.action(constraint)(self.answered_at_ack(listener))

    def view(self, callback_id: str, listener: Listener) -> None:
        """A modal's submission."""
        self.app.view(callback_id)(self.answered_at_ack(listener))

    def answered_at_ack(self, listener: Listener) -> Listener:
        """`listener`, returning to Bolt once it has acknowledged (or ended)."""

        # wraps() keeps the listener's signature: Bolt passes arguments by their names
        @functools.wraps(listener)
        async def until_acked(**kwargs: Any) -> None:
            loop = asyncio.get_running_loop()
            # one future, settled by the ack or by the listener's end, whichever is first
            # (cheaper, per click, than waiting on an event and the task together)
            settled: asyncio.Future[bool] = loop.create_future()
            ack = kwargs["ack"]

            async def noted_ack(*args: Any, **options: Any) -> Any:
                try:
                    return await ack(*args, **options)
                finally:
                    if not settled.done():
                        settled.set_result(True)

            def ended(_: asyncio.Task[None]) -> None:
                if not settled.done():
                    settled.set_result(False)

            task: asyncio.Task[None] = loop.create_task(listener(**{**kwargs, "ack": noted_ack}))
            task.add_done_callback(ended)
            if not await settled:
                task.result()  # ended without an ack: a failure reaches Bolt (a 500)
                return
            self._running.add(task)
            task.add_done_callback(functools.partial(self._finished, body=kwargs.get("body")))

        return until_acked

    def _finished(self, task: asyncio.Task[None], *, body: Body | None) -> None:
        self._running.discard(task)
        if task.cancelled() or task.exception() is None:
            return
        error = task.exception()
        assert isinstance(error, Exception)
        report = asyncio.ensure_future(self.on_error(error, body or {}))
        report.add_done_callback(_log_failed_report)


def _log_failed_report(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("reporting a listener's failure failed", exc_info=task.exception())
