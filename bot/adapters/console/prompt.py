"""Where the terminal game reads answers: a prompt line at a terminal, lines on a pipe.

At a terminal the countdown and the Ctrl-D hint live in prompt_toolkit's bottom
toolbar, redrawn in place, so they never land in the middle of what is being typed;
whatever the game prints goes above the input line.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
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
