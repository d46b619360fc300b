"""Graceful shutdown: the Shutdown helper, then SIGTERM to a real Slack HTTP bot.

The end-to-end test runs `quizbot serve slack --http` as a subprocess on SQLite,
talking to the mock Slack Web API, and sends it signed clicks over HTTP as Slack
does; SIGTERM comes in the middle of the burst, and every click the bot
acknowledged must have its answer in the database.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.core.clock import ManualClock
from bot.core.errors import QuizError
from bot.core.model import StartRequest
from bot.ops.shutdown import Shutdown
from bot.store import SqlStore, upgrade
from tests.core.helpers import CHANNEL, GUILD, RecordingChat, make_engine
from tests.core.helpers import HOST as CONSOLE_HOST
from tests.mock_slack.requests import Reply, SlackRequests, User
from tests.mock_slack.server import MockSlack

BOT_TOKEN = "xoxb-1111-2222-shutdownsecret"
SIGNING_SECRET = "5ec2e75ec2e75ec2e75ec2e75ec2e7aa"
CLICKERS = [User(f"U{n:04d}", f"player{n}") for n in range(60)]
HOST = User("UHOST", "host")
SHUTDOWN_LIMIT = 10.0
ACK_LIMIT = 3.0  # Slack gives up on a request not answered within 3 s
DECK = """\
name: drill
title: Drill
questions:
  - id: drill/one
    prompt: One plus one?
    choices:
      - correct: "2"
      - wrong: "3"
  - id: drill/two
    prompt: Two plus two?
    choices:
      - correct: "4"
      - wrong: "5"
"""


def free_port() -> int:
    """A local port nothing listens on (yet)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def mock() -> AsyncIterator[MockSlack]:
    """The mock Slack Web API, started."""
    server = MockSlack()
    await server.start()
    yield server
    await server.close()


async def wait_until_serving(url: str, process: asyncio.subprocess.Process) -> None:
    """Poll /healthz until the bot answers (it imports, migrates and syncs decks first)."""
    async with aiohttp.ClientSession() as http:
        for _ in range(300):
            if process.returncode is not None:
                raise AssertionError(f"the bot exited with {process.returncode}")
            try:
                async with http.get(url) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError("the bot did not start serving")


async def click(slack: SlackRequests, user: User, message: object, label: str) -> Reply | None:
    """One click; None if the bot did not answer it in time (it was going away)."""
    try:
        return await asyncio.wait_for(
            slack.click(user, message, label),  # type: ignore[arg-type]
            ACK_LIMIT,
        )
    except (aiohttp.ClientError, OSError, TimeoutError):
        return None


async def exit_time(process: asyncio.subprocess.Process) -> float:
    """The event-loop time at which the process exited."""
    await process.wait()
    return asyncio.get_running_loop().time()


def stored_answers(db: Path) -> dict[str, str]:
    """Slack user id -> status of the round answered, from the database."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT p.external_id, r.status FROM answers a"
            " JOIN players p ON p.id = a.player_id JOIN rounds r ON r.id = a.round_id"
        ).fetchall()
    return {external_id: status for external_id, status in rows}


# ---- the helper ---------------------------------------------------------------------------


async def test_a_signal_stops_new_quizzes_at_once(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'stop.db'}"
    upgrade(url)
    store = SqlStore.from_url(url)
    try:
        engine = make_engine(store, RecordingChat(), ManualClock())
        shutdown = Shutdown()
        shutdown.attach(engine)
        shutdown.request(signal.SIGTERM)

        assert shutdown.requested.is_set() and shutdown.signal_name == "SIGTERM"
        with pytest.raises(QuizError, match="restarting"):
            await engine.start(GUILD, CHANNEL, CONSOLE_HOST, StartRequest(questions=1))
    finally:
        await store.close()


async def test_sigterm_sets_the_event_and_handlers_come_off_again() -> None:
    shutdown = Shutdown()
    shutdown.install()
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(shutdown.requested.wait(), 1.0)
    finally:
        shutdown.uninstall()
    assert shutdown.signal_name == "SIGTERM"
    assert 0 < shutdown.remaining() <= shutdown.seconds


async def test_in_flight_work_is_awaited_but_not_the_callers_tasks() -> None:
    caller_side = asyncio.create_task(asyncio.sleep(30))  # e.g. the task awaiting serve()
    shutdown = Shutdown(seconds=5.0)
    shutdown.install()
    try:
        done: list[str] = []

        async def recording() -> None:
            await asyncio.sleep(0.05)
            done.append("answer stored")

        work = asyncio.create_task(recording())  # like Bolt's listener task after ack()
        shutdown.request()
        started = asyncio.get_running_loop().time()

        assert await shutdown.finish_in_flight() is True
        assert work.done() and done == ["answer stored"]
        assert asyncio.get_running_loop().time() - started < 1.0
    finally:
        shutdown.uninstall()
        caller_side.cancel()


async def test_work_past_the_deadline_is_left() -> None:
    shutdown = Shutdown(seconds=0.1)
    shutdown.install()
    try:
        stuck = asyncio.create_task(asyncio.sleep(30))
        shutdown.request()

        assert await shutdown.finish_in_flight() is False
        assert not stuck.done()
        stuck.cancel()
    finally:
        shutdown.uninstall()


# ---- end to end ---------------------------------------------------------------------------


async def test_sigterm_mid_burst_keeps_every_acknowledged_answer(
    tmp_path: Path, mock: MockSlack
) -> None:
    decks = tmp_path / "decks"
    decks.mkdir()
    (decks / "drill.yaml").write_text(DECK, encoding="utf-8")
    db = tmp_path / "shutdown.db"
    upgrade(f"sqlite+aiosqlite:///{db}")
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))},
        "DATABASE_URL": f"sqlite+aiosqlite:///{db}",
        "QUESTIONS_DIR": str(decks),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": mock.base_url,
        "LOG_LEVEL": "DEBUG",
        "LOG_FORMAT": "json",
        "METRICS_PORT": "",
    }
    # the log goes to a file: a pipe nobody reads until the end would fill up and
    # block the bot on a write
    log_file = tmp_path / "bot.log"
    with log_file.open("wb") as log_sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli.main",
            "serve",
            "slack",
            "--http",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            cwd=tmp_path,  # no .env of the developer's
            env=env,
            stdout=log_sink,
            stderr=log_sink,
        )
    slack = SlackRequests(f"http://127.0.0.1:{port}/slack/events", mock, SIGNING_SECRET)
    try:
        await wait_until_serving(f"http://127.0.0.1:{port}/healthz", process)
        reply = await slack.command(HOST, "start drill 2 120s")
        assert reply.status == 200
        await mock.wait_for(lambda: bool(mock.calls_to("chat.postMessage")), seconds=10)
        question = mock.last_message(slack.channel)

        # the first half of the burst is in flight when SIGTERM comes; the second half
        # is sent while the bot shuts down
        first = [asyncio.create_task(click(slack, u, question, "A")) for u in CLICKERS[:30]]
        await asyncio.wait(first, return_when=asyncio.FIRST_COMPLETED)
        loop = asyncio.get_running_loop()
        process.send_signal(signal.SIGTERM)
        signalled = loop.time()
        exited = asyncio.create_task(exit_time(process))
        second = [asyncio.create_task(click(slack, u, question, "A")) for u in CLICKERS[30:]]
        replies = await asyncio.gather(*first, *second)
        took = await asyncio.wait_for(exited, SHUTDOWN_LIMIT + 5) - signalled
    finally:
        await slack.close()
        if process.returncode is None:
            process.kill()
            await process.wait()

    log = log_file.read_text(encoding="utf-8")
    assert process.returncode == 0, log[-3000:]
    assert took < SHUTDOWN_LIMIT
    acknowledged = {u.id for u, r in zip(CLICKERS, replies, strict=True) if r and r.status == 200}
    assert acknowledged, "no click was acknowledged before the shutdown"
    answers = stored_answers(db)
    assert acknowledged <= set(answers), f"lost: {sorted(acknowledged - set(answers))}"
    # nothing closed the round on the way out: the next process will
    assert set(answers.values()) == {"open"}
    assert "shutting down" in log
    for secret in (BOT_TOKEN, SIGNING_SECRET, "shutdownsecret"):
        assert secret not in log
