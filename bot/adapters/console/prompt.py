"""Where the terminal game reads answers: a prompt line at a terminal, lines on a pipe.

At a terminal the countdown and the Ctrl-D hint live in prompt_toolkit's bottom
toolbar, redrawn in place, so they never land in the middle of what is being typed;
whatever the game prints goes above the input line.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack, suppress
from typing import Any, Protocol, TextIO

END_OF_INPUT = None


class Interrupted(Exception):
    """Ctrl-C at the prompt."""


class AnswerInput(Protocol):
    """A source of typed lines; `None` is the end of input."""

    async def next_line(self) -> str | None:
        """The next line the player typed."""
        ...

    def session(self) -> AbstractContextManager[object]:
        """What must be held open while the game runs."""
        ...

    def abandon(self) -> None:
        """Give up the line being read: `next_line` returns "" soon."""
        ...


class PipeInput:
    """Lines of a pipe or file, read by a thread (it works for any stream)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lines: asyncio.Queue[str | None] | None = None

    def session(self) -> AbstractContextManager[object]:
        return ExitStack()

    def _start(self) -> asyncio.Queue[str | None]:
        loop = asyncio.get_running_loop()
        lines: asyncio.Queue[str | None] = asyncio.Queue()
        stream = self._stream

        def read() -> None:
            for line in stream:
                loop.call_soon_threadsafe(lines.put_nowait, line.strip())
            loop.call_soon_threadsafe(lines.put_nowait, END_OF_INPUT)

        threading.Thread(target=read, name="stdin-reader", daemon=True).start()
        return lines

    def abandon(self) -> None:
        """The waiting `next_line` is cancelled by its caller; the line stays queued."""

    async def next_line(self) -> str | None:
        if self._lines is None:
            self._lines = self._start()
        return await self._lines.get()


async def line_unless(stream: TextIO, interrupted: asyncio.Event) -> str | None:
    """The next line of `stream` ("" at its end), or None once `interrupted` is set.

    The line is read by a daemon thread of its own, one line at a time: a process that
    ends meanwhile (Ctrl-C) does not wait for a line nobody will type, as it would for
    a thread of asyncio's pool, which is joined at exit.
    """
    loop = asyncio.get_running_loop()
    line: asyncio.Future[str] = loop.create_future()

    def deliver(result: str | BaseException) -> None:
        if line.done():  # given up on (Ctrl-C)
            return
        if isinstance(result, BaseException):
            line.set_exception(result)
        else:
            line.set_result(result)

    def read() -> None:
        result: str | BaseException
        try:
            result = stream.readline()
        except BaseException as exc:  # handed to the waiting task
            result = exc
        with suppress(RuntimeError):  # the loop is closed: the process is ending
            loop.call_soon_threadsafe(deliver, result)

    threading.Thread(target=read, name="stdin-line", daemon=True).start()
    stop: asyncio.Future[Any] = asyncio.ensure_future(interrupted.wait())
    try:
        await asyncio.wait({line, stop}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.cancel()
    if line.done():
        return line.result()
    line.cancel()
    return None


class TerminalInput:
    """A prompt_toolkit prompt with a live status toolbar."""

    def __init__(self, status: Callable[[], str]) -> None:
        from prompt_toolkit import PromptSession

        self._status = status
        self._prompt: PromptSession[str] = PromptSession()

    def session(self) -> AbstractContextManager[object]:
        from prompt_toolkit.patch_stdout import patch_stdout

        return patch_stdout(raw=True)

    def abandon(self) -> None:
        # ending the prompt the way a key binding would leaves the terminal as it
        # was; cancelling prompt_async mid-render can leave it waiting for ever
        app = self._prompt.app
        if app.is_running and not app.future.done():  # type: ignore[union-attr]
            app.exit(result="")

    async def next_line(self) -> str | None:
        try:
            line = await self._prompt.prompt_async(
                "answer › ",
                bottom_toolbar=self._status,
                refresh_interval=0.5,
                handle_sigint=False,  # the game owns SIGINT between prompts too
            )
        except EOFError:
            return END_OF_INPUT
        except KeyboardInterrupt:
            raise Interrupted from None
        return line.strip()
