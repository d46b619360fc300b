"""Drive a real `quizbot` subprocess in a pseudo-terminal, as a person at a keyboard would."""

from __future__ import annotations

import contextlib
import os
import pty
import re
import select
import signal
import sys
import time
from pathlib import Path

ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[=>]|\r")
CURSOR_QUERY = b"\x1b[6n"


class Terminal:
    """A `python -m bot ARGS` process on a pty of 100x30; `screen` is what it printed."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: become quizbot
            os.chdir(cwd)
            os.execve(sys.executable, [sys.executable, "-m", "bot", *args], env)
        self.raw = b""
        self.status: int | None = None

    @property
    def screen(self) -> str:
        """The output without terminal control sequences."""
        return ANSI.sub(b"", self.raw).decode("utf-8", "replace")

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return True
        try:
            chunk = os.read(self.fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            return False
        if not chunk:
            return False
        if CURSOR_QUERY in chunk:  # prompt_toolkit asks where the cursor is
            os.write(self.fd, b"\x1b[1;1R")
        self.raw += chunk
        return True

    def expect(self, text: str, timeout: float = 30) -> None:
        """Read until `text` is on the screen."""
        deadline = time.monotonic() + timeout
        while text not in self.screen:
            if time.monotonic() > deadline or not self._read(0.1):
                raise AssertionError(f"{text!r} never appeared; screen:\n{self.screen}")

    def type(self, keys: str) -> None:
        """Type keys (\\x03 is Ctrl-C, \\x04 is Ctrl-D)."""
        os.write(self.fd, keys.encode())

    def wait(self, timeout: float = 30) -> int:
        """Read to the end and return the exit status."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self._read(0.1):
                break
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                self._read(0.1)
                self.status = os.waitstatus_to_exitcode(status)
                return self.status
        if self.status is None:
            _, status = os.waitpid(self.pid, 0) if time.monotonic() < deadline else self.kill()
            self.status = os.waitstatus_to_exitcode(status)
        return self.status

    def kill(self) -> tuple[int, int]:
        """End the child for good."""
        os.kill(self.pid, signal.SIGKILL)
        return os.waitpid(self.pid, 0)

    def close(self) -> None:
        """Reap the child if it still runs and close the terminal."""
        if self.status is None:
            with contextlib.suppress(ProcessLookupError, ChildProcessError):
                self.kill()
        os.close(self.fd)
