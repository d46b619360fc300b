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
from typing import Protocol, TextIO

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
    """Lines of a pipe or file, each read when it is asked for.

    A line is read by a daemon thread of its own (any stream works): a process that
    ends meanwhile, on Ctrl-C, does not wait for a line nobody will type, as it would
    for a thread of asyncio's pool, which is joined at exit. A caller that gives up on
    a line (its task cancelled) leaves it to the next `next_line`.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._reading: asyncio.Future[str] | None = None

    def session(self) -> AbstractContextManager[object]:
        return ExitStack()

    def abandon(self) -> None:
        """The waiting `next_line` is cancelled by its caller; the line stays for the next."""

    async def next_line(self) -> str | None:
        if self._reading is None:
            self._reading = _read_line(self._stream)
        line = await asyncio.shield(self._reading)
        self._reading = None
        return END_OF_INPUT if line == "" else line.strip()


def _read_line(stream: TextIO) -> asyncio.Future[str]:
    """`stream.readline()`, run by a daemon thread; its line ("" at the end) or error."""
    loop = asyncio.get_running_loop()
    line: asyncio.Future[str] = loop.create_future()

    def deliver(result: str | BaseException) -> None:
        if line.done():  # cancelled meanwhile
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
    return line


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
