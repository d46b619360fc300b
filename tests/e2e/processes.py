"""Real `python -m bot.cli.main ...` processes against the loopback fakes.

Each process gets a clean environment (no SLACK_/DISCORD_ settings of the developer's,
no proxies: the Socket Mode client reads HTTP(S)_PROXY and ignores NO_PROXY), runs in
a directory of its own (no .env), and logs to a file: a pipe nobody reads until the
end would fill up and block the bot on a write.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import aiohttp

START_SECONDS = 60.0  # imports, migrations, deck sync of a cold process on a busy machine
POLL = 0.05

DECK = """\
name: pairs
title: Pairs
description: Single-answer questions
questions:
  - id: pairs-1
    prompt: Which is even?
    choices:
      - correct: "2"
      - wrong: "3"
  - id: pairs-2
    prompt: Which is odd?
    choices:
      - correct: "3"
      - wrong: "4"
  - id: pairs-3
    prompt: Which is prime?
    choices:
      - correct: "5"
      - wrong: "6"
  - id: pairs-4
    prompt: Which is a square?
    choices:
      - correct: "9"
      - wrong: "8"
"""

_DROPPED = ("SLACK_", "DISCORD_", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")


def free_port() -> int:
    """A local port nothing listens on (yet)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_decks(root: Path) -> Path:
    """A questions directory with the four-question `pairs` deck."""
    decks = root / "decks"
    decks.mkdir(parents=True, exist_ok=True)
    (decks / "pairs.yaml").write_text(DECK, encoding="utf-8")
    return decks


def new_log(root: Path) -> Path:
    """A fresh log file in `root` (created if need be), one per process started there."""
    root.mkdir(parents=True, exist_ok=True)
    return root / f"bot-{len(list(root.glob('bot-*.log')))}.log"


def clean_env(settings: Mapping[str, str]) -> dict[str, str]:
    """The test process's environment without chat settings or proxies, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_DROPPED)}
    env.update({"LOG_FORMAT": "text", "METRICS_PORT": "", **settings})
    return env


@dataclass
class BotProcess:
    """One running `quizbot` command."""

    process: asyncio.subprocess.Process
    log_file: Path

    @classmethod
    async def start(cls, root: Path, args: list[str], settings: Mapping[str, str]) -> BotProcess:
        """Start `quizbot ARGS` in `root` with `settings` as its environment."""
        log_file = new_log(root)
        with log_file.open("wb") as sink:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot.cli.main",
                *args,
                cwd=root,
                env=clean_env(settings),
                stdout=sink,
                stderr=sink,
            )
        return cls(process, log_file)

    @property
    def log(self) -> str:
        """Everything the process wrote so far."""
        return self.log_file.read_text(encoding="utf-8", errors="replace")

    async def wait_for_log(self, text: str, seconds: float = START_SECONDS) -> None:
        """Wait until the log shows `text` (fail if the process exits first)."""
        await self.wait_until(lambda: text in self.log, seconds, f"{text!r} in the log")

    async def wait_until(self, condition: Callable[[], bool], seconds: float, what: str) -> None:
        """Poll `condition` until it holds; fail if the process exits or time runs out."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not condition():
            if self.process.returncode is not None:
                raise AssertionError(
                    f"exited with {self.process.returncode} before {what}:\n{self.log[-3000:]}"
                )
            if loop.time() > deadline:
                raise AssertionError(f"no {what} within {seconds} s:\n{self.log[-3000:]}")
            await asyncio.sleep(POLL)

    async def wait_until_serving(self, url: str) -> None:
        """Poll a /healthz URL until the bot answers 200."""
        async with aiohttp.ClientSession() as http:

            async def ok() -> bool:
                try:
                    async with http.get(url) as response:
                        return response.status == 200
                except aiohttp.ClientError:
                    return False

            loop = asyncio.get_running_loop()
            deadline = loop.time() + START_SECONDS
            while not await ok():
                if self.process.returncode is not None or loop.time() > deadline:
                    raise AssertionError(
                        f"not serving (exit {self.process.returncode}):\n{self.log[-3000:]}"
                    )
                await asyncio.sleep(POLL)

    async def stop(self, signum: signal.Signals = signal.SIGTERM) -> tuple[int, float]:
        """Send a signal; the exit status and how long the exit took."""
        loop = asyncio.get_running_loop()
        sent = loop.time()
        self.process.send_signal(signum)
        code = await asyncio.wait_for(self.process.wait(), START_SECONDS)
        return code, loop.time() - sent

    async def exit_code(self, seconds: float = START_SECONDS) -> int:
        """Wait for the process to end by itself."""
        return await asyncio.wait_for(self.process.wait(), seconds)

    def kill(self) -> None:
        """SIGKILL: no cleanup at all, as a crash or an OOM kill."""
        if self.process.returncode is None:
            self.process.kill()

    async def reap(self) -> None:
        """Make sure the process is gone (for a test's `finally`)."""
        self.kill()
        await self.process.wait()

    def error_lines(self) -> list[str]:
        """The `quizbot: ...` lines the command ended with."""
        return [line for line in self.log.splitlines() if line.startswith("quizbot: ")]
