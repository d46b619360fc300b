"""Durable chat output on Discord, through real `quizbot serve discord` processes on the
fake Discord (REST and gateway in the test's event loop): kill -9 after a close, and
503s on 1 in 3 creates and edits. On SQLite: the PostgreSQL side of the outbox is the
Slack tests' (tests/e2e/test_slack_outbox.py)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from tests.e2e.db import scalar, wait_for_value
from tests.e2e.processes import BotProcess, write_decks
from tests.e2e.slack_bot import expected_sequence
from tests.fake_discord import FakeDiscord
from tests.fake_discord.harness import choice_letters
from tests.fake_discord.payloads import Json
from tests.fake_discord.server import FakeUser, buttons

WAIT = 60.0  # a poll ends as soon as it holds: this only bounds a failure
RIGHT = ("2", "3", "5", "9")  # the pairs deck's right answers
POSTS = r"POST /channels/\d+/messages"
EDITS = r"PATCH /channels/\d+/messages/\d+"
_KINDS = ((re.compile(r"^Question (\d+)/"), "Q"), (re.compile(r"^✅ Answer (\d+)/"), "A"))


def kind_of(message: Json) -> str:
    title = str((message.get("embeds") or [{}])[0].get("title") or "")
    for pattern, kind in _KINDS:
        match = pattern.match(title)
        if match:
            return f"{kind}{match.group(1)}"
    return "S" if title.startswith("🏁") else "?"


def kinds(fake: FakeDiscord) -> list[str]:
    return [kind_of(m) for m in fake.bot_posts()]


def question(fake: FakeDiscord, n: int) -> Json:
    return [m for m in fake.bot_posts() if kind_of(m).startswith("Q")][n - 1]


async def wait_kinds(fake: FakeDiscord, wanted: list[str], bot: BotProcess) -> None:
    await bot.wait_until(lambda: kinds(fake)[: len(wanted)] == wanted, WAIT, f"{wanted}")


async def start(root: Path, fake: FakeDiscord, url: str) -> BotProcess:
    settings = {
        "DATABASE_URL": url,
        "QUESTIONS_DIR": str(write_decks(root)),
        "DISCORD_TOKEN": fake.token,
        "DISCORD_API_URL": fake.api_url,
        "DISCORD_GATEWAY_URL": fake.gateway_url,
        "LOG_LEVEL": "INFO",
    }
    fake.identified.clear()
    bot = await BotProcess.start(root, ["serve", "discord"], settings)
    try:
        await bot.wait_until(fake.identified.is_set, WAIT, "a gateway IDENTIFY")
    except BaseException:
        await bot.reap()
        raise
    return bot


async def answer(fake: FakeDiscord, users: list[FakeUser], n: int, bot: BotProcess) -> None:
    await wait_kinds(fake, expected_sequence(n)[: 2 * n - 1], bot)
    message = question(fake, n)
    letter = next(v for text, v in choice_letters(message).items() if text in RIGHT)
    await asyncio.gather(*(fake.click(u, message["id"], letter) for u in users))


async def test_kill_9_after_a_close_the_next_discord_process_reveals_once(
    tmp_path: Path, fake: FakeDiscord, sqlite_bot_database_url: str
) -> None:
    host, player = fake.user("Host"), fake.user("Player")
    first = await start(tmp_path / "one", fake, sqlite_bot_database_url)
    try:
        await fake.slash(host, "quiz start", deck="pairs", questions=2, seconds=5)
        await answer(fake, [player], 1, first)
        fake.faults.add(POSTS, kind=503)  # the reveal cannot get out
        await wait_for_value(
            sqlite_bot_database_url, "SELECT status FROM outbox WHERE kind = 'reveal'", "pending"
        )
        first.kill()
        await first.process.wait()
    finally:
        await first.reap()
    fake.faults.clear()
    assert kinds(fake) == ["Q1"]
    second = await start(tmp_path / "two", fake, sqlite_bot_database_url)
    try:
        await answer(fake, [player], 2, second)  # the one player: an early close
        await wait_kinds(fake, expected_sequence(2), second)
    finally:
        await second.reap()
    assert kinds(fake) == expected_sequence(2)
    assert all(b.get("disabled") for n in (1, 2) for b in buttons(question(fake, n)))
    assert await scalar(sqlite_bot_database_url, "SELECT status FROM quizzes") == "finished"


async def test_503_on_1_in_3_creates_and_edits_shows_everything_once_in_order(
    tmp_path: Path, fake: FakeDiscord, sqlite_bot_database_url: str
) -> None:
    fake.faults.add(POSTS, kind=503, pattern="1/3")
    fake.faults.add(EDITS, kind=503, pattern="1/3")
    host, players = fake.user("Host"), fake.users(3)
    bot = await start(tmp_path, fake, sqlite_bot_database_url)
    try:
        await fake.slash(host, "quiz start", deck="pairs", questions=3, seconds=5)
        for n in (1, 2, 3):
            await answer(fake, players, n, bot)
        await wait_kinds(fake, expected_sequence(3), bot)
    finally:
        await bot.reap()
    assert kinds(fake) == expected_sequence(3)
    assert fake.faults.count(503) >= 3
    for n in (1, 2, 3):
        assert all(b.get("disabled") for b in buttons(question(fake, n)))
        edits = fake.edits.get(question(fake, n)["id"], [])
        closed = [i for i, e in enumerate(edits) if "components" in e and _all_disabled(e)]
        assert closed and not any(
            not _all_disabled(e) for e in edits[closed[0] :] if "components" in e
        )


def _all_disabled(edit: Json) -> bool:
    return all(b.get("disabled") for b in buttons(edit))
