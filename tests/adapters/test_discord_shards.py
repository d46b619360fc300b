"""Two `quizbot serve discord` processes share one bot: shards 0 and 1 of 2, one PostgreSQL.

Real subprocesses on the fake Discord: each answers the clicks of its own shard's
guild only, every round is revealed once, and a process killed with -9 leaves its
guild's rounds to the other process, which closes and reveals them on time.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.store import create_engine
from tests.conftest import _reset_postgresql
from tests.fake_discord import FakeDiscord, FakeGuild, InteractionRecord, message_text
from tests.fake_discord.harness import choice_letters

REPOSITORY = Path(__file__).resolve().parents[2]
SECONDS = 5  # the shortest round /quiz start allows
DECK = """\
name: pairs
title: Pairs
description: Two single-answer questions
questions:
  - id: pairs-1
    prompt: Which is even?
    choices:
      - correct: "2"
      - wrong: "3"
    explanation: 2 divides by 2.
  - id: pairs-2
    prompt: Which is odd?
    choices:
      - correct: "3"
      - wrong: "4"
    explanation: 3 does not divide by 2.
"""


@pytest.fixture
async def postgresql_url() -> str:
    """The PostgreSQL test database, emptied, with the current schema."""
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url:
        pytest.skip("TEST_DATABASE_URL is not set")
    await _reset_postgresql(url)
    return url


class BotProcess:
    """`python -m bot serve discord` running some shards, in a folder of its own."""

    def __init__(self, fake: FakeDiscord, url: str, workdir: Path, shard: int) -> None:
        self.shard = shard
        self.workdir = workdir
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.endswith("_PROXY")},
            "PYTHONPATH": str(REPOSITORY),
            "DATABASE_URL": url,
            "QUESTIONS_DIR": str(workdir.parent / "decks"),
            "DISCORD_TOKEN": fake.token,
            "DISCORD_API_URL": fake.api_url,
            "DISCORD_GATEWAY_URL": fake.gateway_url,
            "DISCORD_SHARD_COUNT": "2",
            "DISCORD_SHARD_IDS": str(shard),
        }
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        """Start the process; its log goes to a file beside it."""
        self.workdir.mkdir(exist_ok=True)
        log = (self.workdir / "log.txt").open("ab")
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "serve",
            "discord",
            cwd=self.workdir,
            env=self.env,
            stdout=log,
            stderr=log,
        )

    async def kill(self) -> None:
        """kill -9: no shutdown of any kind."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> None:
        """SIGTERM, as a deploy stops it."""
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 15)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()

    def log(self) -> str:
        """What the process logged so far."""
        return (self.workdir / "log.txt").read_text(errors="replace")


async def poll(check: Callable[[], bool], what: str, seconds: float = 15.0) -> None:
    """Wait until `check()` holds, looking every 50 ms."""
    async with asyncio.timeout(seconds):
        # the state lives in the fake's dicts, with no event to wait on
        while not check():  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    assert check(), what


@pytest.fixture
async def sharded(
    postgresql_url: str, tmp_path: Path
) -> AsyncIterator[tuple[FakeDiscord, list[BotProcess]]]:
    """The fake Discord with a guild on each of 2 shards, and the two bot processes."""
    (tmp_path / "decks").mkdir()
    (tmp_path / "decks" / "pairs.yaml").write_text(DECK)
    fake = FakeDiscord(time_scale=1.0, recommended_shards=2)
    await fake.start()
    fake.add_guild(shard=0, count=2)
    fake.add_guild(shard=1, count=2)
    bots = [BotProcess(fake, postgresql_url, tmp_path / f"shard{n}", n) for n in (0, 1)]
    try:
        for bot in bots:
            await bot.start()
        await poll(lambda: sorted(fake.connected_shards()) == [(0, 2), (1, 2)], "both up", 30)
        yield fake, bots
    finally:
        for bot in bots:
            await bot.stop()
        await fake.close()
        for bot in bots:
            print(f"--- shard {bot.shard} log ---\n{bot.log()}")


def guilds(fake: FakeDiscord) -> tuple[FakeGuild, FakeGuild]:
    """The guild of shard 0 and the guild of shard 1."""
    on = {g.shard(2): g for g in list(fake.guilds.values())[1:]}
    return on[0], on[1]


def question(fake: FakeDiscord, guild: FakeGuild, number: int) -> dict[str, object] | None:
    """Question `number` of the guild's quiz, once posted."""
    heading = f"Question {number}/"
    found = [m for m in fake.bot_posts(guild) if heading in message_text(m)]
    return found[-1] if found else None


def reveals(fake: FakeDiscord, guild: FakeGuild, number: int) -> int:
    """How many reveals of question `number` the guild's channel shows."""
    return len([m for m in fake.bot_posts(guild) if f"Answer {number}/" in message_text(m)])


def answered_once(record: InteractionRecord, shard: int) -> None:
    """Delivered on one connection, of `shard`, and answered exactly once."""
    assert record.delivered_to == [(shard, 2)]
    assert len(record.callbacks) == 1, record.callbacks


async def start_and_click(fake: FakeDiscord, guild: FakeGuild, shard: int) -> None:
    """Start a 2-question quiz in `guild`, and have three players answer question 1."""
    host = fake.user(f"Host {shard}")
    before = question(fake, guild, 1)
    started = await fake.slash(
        host, "quiz start", guild=guild, deck="pairs", questions=2, seconds=SECONDS
    )
    answered_once(started, shard)
    await poll(lambda: question(fake, guild, 1) not in (None, before), "question 1 posted", 5)
    message = question(fake, guild, 1)
    assert message is not None
    letters = choice_letters(message)
    right = letters["2"] if "Which is even?" in message_text(message) else letters["3"]
    clicks = [fake.click(p, str(message["id"]), right) for p in fake.users(3, f"P{shard}")]
    for record in await asyncio.gather(*clicks):
        answered_once(record, shard)
        assert "Locked in" in record.text


async def questions_recorded(url: str, within: float = 5.0) -> None:
    """Wait until every posted question's outbox row is marked done."""
    engine = create_engine(url)
    try:
        deadline = asyncio.get_running_loop().time() + within
        while True:
            async with engine.connect() as conn:
                waiting = await conn.scalar(
                    text("SELECT count(*) FROM outbox WHERE kind = 'question' AND status <> 'done'")
                )
            if not waiting:
                return
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{waiting} question rows still not recorded")
            await asyncio.sleep(0.05)
    finally:
        await engine.dispose()


async def test_two_processes_split_the_shards_and_cover_for_each_other(
    sharded: tuple[FakeDiscord, list[BotProcess]], postgresql_url: str
) -> None:
    fake, bots = sharded
    first, second = guilds(fake)
    await asyncio.gather(start_and_click(fake, first, 0), start_and_click(fake, second, 1))

    # both first rounds close on time, each revealed once
    def both_revealed() -> bool:
        return bool(reveals(fake, first, 1) and reveals(fake, second, 1))

    await poll(both_revealed, "reveal 1", SECONDS + 4)
    await poll(lambda: question(fake, second, 2) is not None, "question 2 posted", 5)
    # a process killed between posting a question and recording it leaves the row to
    # its lease (the resend is a no-op by its nonce): that is not what this test is about
    await questions_recorded(postgresql_url)

    # shard 1's process dies; its guild's round still closes on time, posted by shard 0's
    await bots[1].kill()
    await poll(lambda: (1, 2) not in fake.connected_shards(), "shard 1 down", 5)
    posted = asyncio.get_running_loop().time()
    await poll(lambda: reveals(fake, second, 2) == 1, "reveal 2 by shard 0", SECONDS + 4)
    assert asyncio.get_running_loop().time() - posted < SECONDS + 3
    await poll(lambda: reveals(fake, first, 2) == 1, "reveal 2 in guild 0", SECONDS + 4)

    # back up, its guild answers clicks again
    await bots[1].start()
    await poll(lambda: (1, 2) in fake.connected_shards(), "shard 1 back", 30)
    await start_and_click(fake, second, 1)

    await asyncio.sleep(0.3)  # a duplicate post would land by now
    for guild in (first, second):
        assert reveals(fake, guild, 1) == 1 and reveals(fake, guild, 2) == 1
    assert not fake.violations, fake.violations
    for bot in bots:
        assert "Traceback" not in bot.log(), bot.log()
