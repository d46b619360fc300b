"""P5: Discord click to first response, the quiz bot vs a bare discord.py client.

The fake Discord (`tests/fake_discord`) runs in a process of its own
(`bench.discord_fake`) and shards the bot in two: the quiz bot runs shard 0, with
`rounds` guilds and one open question in each; the baseline runs shard 1, one guild
with one message, a copy of a question (its embed and buttons, so that its clicks carry
the bot's payload), whose persistent buttons' callback only sends an ephemeral response.
Both are real discord.py clients in this process, connected at once, logged in with
the same token, as two processes of one sharded bot would be; the bot plays on the
real store as `quizbot serve discord` does.

The fake sends `clicks` button clicks from new players, `in_flight` at a time, and
times each from its INTERACTION_CREATE going out on the gateway to the first
interaction callback coming in. Baseline and bot bursts alternate `pairs` times, after
`warmup` pairs that are played but not timed; the ratio target takes the median of the
pairs' ratios. Afterwards every click on the
bot must be in the database exactly once.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import discord
from discord import ui

from bench.click_to_ack import stored_clicks
from bench.common import Database, Results, bench_bank, median, percentile, print_figures
from bench.discord_fake import BASELINE_BUTTON
from bot.adapters.discord.chat import DiscordChat
from bot.adapters.discord.client import QuizBot, point_at
from bot.adapters.discord.shards import ShardPlan
from bot.config import Settings
from bot.core.clock import SystemClock
from bot.core.engine import QuizEngine
from bot.core.model import CommunityRef, PlayerRef, StartRequest
from bot.ops.metrics import Metrics, PrometheusEvents
from bot.runtime import rhythm_for, settle_heap
from bot.store import SqlStore

METRIC = "p5_discord_click"
DEADLINE = 3.0  # seconds Discord waits for the first response
REPOSITORY = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Params:
    """The burst."""

    clicks: int = 500
    rounds: int = 10
    in_flight: int = 50
    pairs: int = 7
    # pairs played first and not measured: a bot in use is warm (its pool's connections
    # open with their statements prepared, the first calls' caches filled). Two on
    # PostgreSQL's account: after one, the first measured bot burst still prepared 27
    # statements on connections it was the first to use (none did after it), and it
    # was the run's worst pair, 2.2 to 3.5 times its baseline, in seven runs of eight
    warmup: int = 2

    @classmethod
    def tiny(cls) -> Params:
        """A size for the smoke test."""
        return cls(clicks=20, rounds=2, in_flight=5, pairs=1)

    def quick(self) -> Params:
        """A tenth of the size: a tenth of the clicks per burst."""
        return replace(self, clicks=self.clicks // 10, in_flight=self.in_flight // 10)


@dataclass(frozen=True)
class Burst:
    """What the fake measured of one burst."""

    latencies: list[float]
    clicks: list[tuple[str, str]]  # (message id, user id)
    missed: int
    deferred: int
    seconds: float
    cpu_seconds: float = 0.0  # CPU this process (the client measured) spent on the burst


class FakeProcess:
    """`python -m bench.discord_fake` and its line protocol."""

    def __init__(self, process: asyncio.subprocess.Process, hello: dict[str, Any]) -> None:
        self.process = process
        self.hello = hello

    @classmethod
    async def start(cls, rounds: int) -> FakeProcess:
        """Start the fake and read its first line."""
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.discord_fake",
            str(rounds),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            cwd=REPOSITORY,
        )
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 30)
        return cls(process, json.loads(line))

    async def mirror(self, message: str) -> dict[str, Any]:
        """Have the fake copy a message into the baseline's guild (see `bench.discord_fake`)."""
        return await self._ask({"op": "mirror", "message": message})

    async def _ask(self, command: dict[str, Any]) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write((json.dumps(command) + "\n").encode())
        await self.process.stdin.drain()
        answer: dict[str, Any] = json.loads(
            await asyncio.wait_for(self.process.stdout.readline(), 120)
        )
        return answer

    async def burst(self, messages: list[str], prefix: str, params: Params, first: int) -> Burst:
        """Have the fake send one burst of clicks and measure it."""
        command = {
            "op": "burst",
            "messages": messages,
            "prefix": prefix,
            "clicks": params.clicks,
            "in_flight": params.in_flight,
            "first": first,
        }
        cpu = time.process_time()
        data = await self._ask(command)
        cpu = time.process_time() - cpu
        clicks = [(str(m), str(u)) for m, u in data["clicks"]]
        return Burst(
            data["latencies"], clicks, data["missed"], data["deferred"], data["seconds"], cpu
        )

    async def stop(self) -> None:
        """Close its stdin and wait for it to end."""
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), 10)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()


class AckButton(ui.Button[ui.View]):
    """A button of the baseline's persistent view: it only answers, privately."""

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message("ok", ephemeral=True)


class Baseline(discord.AutoShardedClient):
    """A bare discord.py client on shard 1 of 2 with a persistent view."""

    def __init__(self) -> None:
        super().__init__(intents=discord.Intents(guilds=True), shard_count=2, shard_ids=[1])

    def answer(self, custom_ids: list[str]) -> None:
        """Answer clicks on these buttons (a copy of a question's, see `bench.discord_fake`)."""
        view = ui.View(timeout=None)
        for custom_id in custom_ids:
            view.add_item(AckButton(label=custom_id, custom_id=custom_id))
        self.add_view(view)


async def connect(client: discord.Client, token: str) -> asyncio.Task[None]:
    """Log in and connect; the task runs the gateway until the client closes."""
    await client.login(token)
    task = asyncio.create_task(client.connect())
    await asyncio.wait_for(client.wait_until_ready(), 30)
    return task


async def open_rounds(engine: QuizEngine, store: SqlStore, guilds: list[list[str]]) -> list[str]:
    """Start one quiz per guild; the question message id of each first round."""
    request = StartRequest(decks=("bench",), questions=5, seconds=600)
    messages = []
    for guild_id, channel_id in guilds:
        community = CommunityRef(guild_id, "study")
        quiz = await engine.start(community, channel_id, PlayerRef("1", "host"), request)
        rnd = await store.open_round(quiz.id)
        assert rnd is not None and rnd.message_ref is not None
        messages.append(rnd.message_ref)
    return messages


async def run(db: Database, results: Results, params: Params | None = None) -> None:
    """Measure P5 on one database and record its figures."""
    params = params or Params()
    await db.reset()
    fake = await FakeProcess.start(params.rounds)
    hello = fake.hello
    point_at(Settings(discord_api_url=hello["api_url"], discord_gateway_url=hello["gateway_url"]))
    store = db.store()
    bot = QuizBot(guild_ready_timeout=0.05, shards=ShardPlan(2, (0,)))
    baseline = Baseline()
    tasks: list[asyncio.Task[None]] = []
    baselines: list[Burst] = []
    bots: list[Burst] = []
    try:
        bank = bench_bank()
        await store.sync_questions(bank.all_questions())
        metrics = Metrics()
        engine = QuizEngine(
            store,
            bank,
            DiscordChat(bot),
            platform="discord",
            clock=SystemClock(),
            events=PrometheusEvents(metrics),
        )
        bot.attach(engine, rhythm_for(engine))
        bot.metrics = metrics
        tasks.append(await connect(bot, hello["token"]))
        tasks.append(await connect(baseline, hello["token"]))
        messages = await open_rounds(engine, store, hello["bot_guilds"])
        # the baseline's message: a copy of a question, so that both parse the same payload
        copy = await fake.mirror(messages[0])
        baseline.answer(copy["custom_ids"])
        settle_heap()  # as `quizbot serve` does once started
        warm: list[Burst] = []
        for pair in range(params.warmup + params.pairs):
            first = pair * params.clicks
            # both clients run in this process: each burst starts with the garbage of
            # the one before collected, not collected on its time
            gc.collect()
            base = await fake.burst([copy["message"]], BASELINE_BUTTON, params, first)
            gc.collect()
            played = await fake.burst(messages, "quiz:a:", params, first)
            if pair < params.warmup:
                warm.append(played)
            else:
                baselines.append(base)
                bots.append(played)
            await engine.idle()  # the next pair starts from a quiet bot, as the first did
        round_of = {m: r for m, r in await message_rounds(store, messages)}
        rows = await stored_clicks(store, list(round_of.values()))
    finally:
        await bot.close()
        await baseline.close()
        for task in tasks:
            await task
        await store.close()
        await fake.stop()
    expected = {(round_of[m], u) for burst in warm + bots for m, u in burst.clicks}
    record(results, db, params, baselines, bots, rows, expected, warm)


async def message_rounds(store: SqlStore, messages: list[str]) -> list[tuple[str, int]]:
    """(question message id, round id) of the open rounds."""
    from sqlalchemy import select

    from bot.store.tables import RoundRow

    stmt = select(RoundRow.message_ref, RoundRow.id).where(RoundRow.message_ref.in_(messages))
    async with store.engine.connect() as conn:
        return [(str(r.message_ref), int(r.id)) for r in await conn.execute(stmt)]


def record(
    results: Results,
    db: Database,
    params: Params,
    baselines: list[Burst],
    bots: list[Burst],
    rows: list[tuple[int, str]],
    expected: set[tuple[int, str]],
    warm: list[Burst],
) -> None:
    """The figures of one run (the warm-up's bursts count in what was answered and
    stored, not in the times)."""
    once = len(set(rows) & expected) if len(rows) == len(set(rows)) else 0
    prefix = f"{METRIC}.{db.name}."
    ms = 1000
    for name, bursts in (("baseline_", baselines), ("", bots)):
        latencies = [t for burst in bursts for t in burst.latencies]
        results.reference(prefix + name + "p50_ms", median(latencies) * ms, "ms")
        results.reference(prefix + name + "p99_ms", percentile(latencies, 99) * ms, "ms")
        results.reference(prefix + name + "max_ms", max(latencies) * ms, "ms")
        results.reference(
            prefix + name + "clicks_per_s",
            median([len(b.latencies) / b.seconds for b in bursts]),
            "clicks/s",
        )
        results.reference(
            prefix + name + "cpu_ms_per_click",
            median([b.cpu_seconds / max(1, len(b.latencies)) for b in bursts]) * ms,
            "ms",
        )
    p99_ratios = [
        percentile(bot.latencies, 99) / percentile(base.latencies, 99)
        for base, bot in zip(baselines, bots, strict=True)
    ]
    for n, ratio in enumerate(p99_ratios, 1):
        results.reference(prefix + f"pair{n}_p99_vs_baseline", ratio, "x baseline")
    total = params.clicks * (params.warmup + params.pairs)
    p99 = percentile([t for burst in bots for t in burst.latencies], 99)
    results.reference(prefix + "deferred", sum(b.deferred for b in bots), "clicks")
    sent = f"{total} clicks sent"
    answered = sum(len(b.latencies) for b in warm + bots)
    results.at_least(prefix + "answered", answered, "clicks", total, baseline=sent)
    results.at_most(
        prefix + "p99_vs_baseline",
        median(p99_ratios),
        "x baseline",
        1.5,
        baseline=f"x {prefix}baseline_p99_ms (median of {params.pairs} pairs)",
    )
    results.at_most(
        prefix + "p99_vs_3s_deadline", p99 / DEADLINE, "x 3 s", 0.33, baseline="x Discord's 3 s"
    )
    results.at_least(prefix + "stored_exactly_once", once, "clicks", total, baseline=sent)
    results.at_most(prefix + "stored_extra", len(rows) - once, "rows", 0, baseline="rows")
    print_figures(
        f"P5 Discord click to first response on {db.name}: {params.pairs} x (baseline, bot) "
        f"bursts of {params.clicks:,} button clicks from new players on {params.rounds} open "
        f"rounds, {params.in_flight} in flight, after {params.warmup} unmeasured pair(s)",
        results,
        prefix,
    )
