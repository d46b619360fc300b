"""Where the terminal game writes: a pipe gets plain lines, a terminal gets rich output.

A reader that goes away (`quizbot play | head -4`) is not an error: the screen notes it
and the game stops its quiz quietly.
"""

from __future__ import annotations

import asyncio
import errno
import os
import select
import stat
import sys
from typing import TextIO

from rich.console import Console
from rich.markdown import Markdown


class Screen:
    """One output stream for the game; `closed` once the reader has gone."""

    def __init__(self, out: TextIO, *, rich: bool = False) -> None:
        self.out = out
        self.closed = False
        # file=None makes rich write to whatever sys.stdout is at the time, so that
        # prompt_toolkit's patch_stdout can keep the output above the input line
        self._console = Console(highlight=False, soft_wrap=False) if rich else None

    def line(self, text: str) -> None:
        """Print plain text."""
        console = self._console
        if console is None:
            self._write(lambda: print(text, file=self.out, flush=True))
        else:
            self._write(lambda: console.print(text, markup=False))

    def markdown(self, text: str, plain: str) -> None:
        """Markdown on a terminal, `plain` on a pipe."""
        console = self._console
        if console is None:
            self.line(plain)
            return
        self._write(lambda: console.print(Markdown(text)))

    def note(self, text: str) -> None:
        """A dim status line on a terminal, plain on a pipe."""
        console = self._console
        if console is None:
            self.line(text)
            return
        self._write(lambda: console.print(text, style="dim", markup=False))

    def _write(self, write: object) -> None:
        if self.closed:
            return
        try:
            write()  # type: ignore[operator]
        except BrokenPipeError:
            self._reader_gone()
        except OSError as exc:
            if exc.errno != errno.EPIPE:
                raise
            self._reader_gone()

    async def watch_reader(self, interval: float = 0.2) -> None:
        """On a pipe, notice the reader leaving before anything more is printed (the
        write end of a pipe whose reader closed polls as POLLERR)."""
        try:
            fd = self.out.fileno()
        except (AttributeError, OSError, ValueError):
            return
        if not stat.S_ISFIFO(os.fstat(fd).st_mode):
            return
        poller = select.poll()
        poller.register(fd, select.POLLERR | select.POLLHUP)
        while not self.closed:
            if poller.poll(0):
                self._reader_gone()
                return
            await asyncio.sleep(interval)

    def _reader_gone(self) -> None:
        self.closed = True
        # Python flushes stdout once more at exit; point it at /dev/null so that the
        # closed pipe does not print "Exception ignored ... BrokenPipeError" then
        if self.out is sys.stdout:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
