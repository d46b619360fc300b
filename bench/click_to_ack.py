"""P2: click-to-ack over real HTTP, Slack adapter in HTTP mode vs a Bolt app that only acks.

This process serves the bot: the adapter's Bolt app (`bot.adapters.slack.app.build_app`) on
`http_app`, on 127.0.0.1, with the engine on the real store and its Web API client on
the mock Slack (`tests/mock_slack`), which runs in a process of its own. `rounds` quizzes
are started, one per channel; then another process sends `clicks` signed block_actions
clicks, one per player, spread over the open rounds, `in_flight` at a time, and times
each from request to response (the ack).

Baseline, same run, same burst, same client: a minimal Bolt app on the same HTTP
wrapper, on the same Web API client, whose action listener only calls `ack()`. Baseline
and bot bursts alternate `pairs` times, each pair with new players, after `warmup` pairs
that are played but not timed; the ratio targets are the medians of the pairs' ratios,
and every pair's ratios are reported.

Afterwards every click must be in the database exactly once.
"""

from __future__ import annotations

import asyncio
import gc
import json
import random
import re
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from sqlalchemy import select

from bench.common import (
    Database,
    Results,
    bench_bank,
    median,
    now,
    percentile,
    print_figures,
)
from bot.adapters.slack import chat as slack_adapter
from bot.adapters.slack.acks import AckAfterCommit
from bot.adapters.slack.app import CHAT_UPDATES_PER_MINUTE, build_app, http_app
from bot.adapters.slack.blocks import ANSWER_ACTION, question_blocks
from bot.adapters.slack.chat import SlackChat, http_session, web_client
from bot.core.cards import question_card
from bot.core.clock import SystemClock
from bot.core.engine import QuizEngine
from bot.core.model import CommunityRef, PlayerRef, StartRequest
from bot.runtime import settle_heap
from bot.store import SqlStore
from bot.store.tables import AnswerRow
from tests.mock_slack.requests import SlackRequests, User
from tests.mock_slack.server import TEAM_ID, Message, MockSlack

METRIC = "p2_click_to_ack"
SECRET = "bench-signing-secret"
BOT_TOKEN = "xoxb-bench"
DEADLINE = 3.0  # seconds Slack waits for an ack
REPOSITORY = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Params:
    """The burst."""

    clicks: int = 1_000
    rounds: int = 10
    in_flight: int = 100
    # baseline and bot bursts alternate this many times, each with new players; the
    # targets take the median of the pairs' ratios, since one burst's p99 is at the
    # mercy of whatever else this machine runs in that second
    pairs: int = 7
    # pairs played first and not measured: a bot in use is warm (its pool's connections
    # open with their statements prepared, the first calls' caches filled)
    warmup: int = 1

    @classmethod
    def tiny(cls) -> Params:
        """A size for the smoke test."""
        return cls(clicks=20, rounds=2, in_flight=5, pairs=1)

    def quick(self) -> Params:
        """A tenth of the size: a tenth of the clicks per burst."""
        return replace(self, clicks=self.clicks // 10, in_flight=self.in_flight // 10)


@dataclass(frozen=True)
class Burst:
    """What the clicking process measured."""

    latencies: list[float]
    statuses: dict[str, int]
    seconds: float

    @property
    def rate(self) -> float:
        """Clicks acknowledged per second."""
        return len(self.latencies) / self.seconds


async def start_mock() -> tuple[asyncio.subprocess.Process, int]:
    """The mock Web API in its own process; (process, port)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.click_client",
        "mock",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        cwd=REPOSITORY,
    )
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), 30)
    return process, int(line)


async def stop_mock(process: asyncio.subprocess.Process) -> None:
    """Close the mock's stdin and wait for it to end."""
    assert process.stdin is not None
    process.stdin.close()
    try:
        await asyncio.wait_for(process.wait(), 10)
    except TimeoutError:
        process.kill()
        await process.wait()


async def serve(application: web.Application) -> tuple[web.AppRunner, int]:
    """Serve an aiohttp application on 127.0.0.1; (runner, port)."""
    runner = web.AppRunner(application, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server: Any = site._server
    return runner, int(server.sockets[0].getsockname()[1])


async def send_burst(port: int, bodies: list[str], in_flight: int, workdir: Path) -> Burst:
    """Have another process send the clicks to the app on `port`."""
    spec = workdir / f"burst-{port}.json"
    await asyncio.to_thread(
        spec.write_text,
        json.dumps(
            {
                "url": f"http://127.0.0.1:{port}/slack/events",
                "health_url": f"http://127.0.0.1:{port}/healthz",
                "secret": SECRET,
                "in_flight": in_flight,
                "bodies": bodies,
            }
        ),
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.click_client",
        "burst",
        str(spec),
        stdout=asyncio.subprocess.PIPE,
        cwd=REPOSITORY,
    )
    out, _ = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError("the clicking process failed")
    data = json.loads(out.decode().strip().splitlines()[-1])
    return Burst(data["latencies"], data["statuses"], data["seconds"])


class ReceiptClock:
    """Counts the bot's receipts (replies to response_urls) and when the last one went.

    The bot acknowledges a click first and sends its receipt after, a few at a time:
    this tells how far the receipts trail the acks of a burst.
    """

    def __init__(self) -> None:
        self.sent = 0
        self.last = 0.0
        self._changed = asyncio.Event()
        self._real = slack_adapter._post_reply

        async def timed(session: Any, url: str, payload: dict[str, Any]) -> None:
            await self._real(session, url, payload)
            self.sent += 1
            self.last = now()
            self._changed.set()

        slack_adapter._post_reply = timed

    async def wait_for(self, count: int, seconds: float) -> None:
        """Return once `count` receipts went (or `seconds` passed)."""
        async with asyncio.timeout(seconds):
            while self.sent < count:
                self._changed.clear()
                await self._changed.wait()

    def stop(self) -> None:
        """Stop counting."""
        slack_adapter._post_reply = self._real


def baseline_app(client: Any) -> AsyncApp:
    """A Bolt app whose action listener only acknowledges."""
    app = AsyncApp(client=client, signing_secret=SECRET, name="baseline")

    async def only_ack(ack: AsyncAck) -> None:
        await ack()

    app.action(re.compile(".*"))(only_ack)
    return app


async def open_rounds(
    engine: QuizEngine, store: SqlStore, rounds: int
) -> list[tuple[int, Message]]:
    """Start one quiz per channel; (round id, question message) of each first round."""
    community = CommunityRef(TEAM_ID, "study")
    request = StartRequest(decks=("bench",), questions=5, seconds=600)
    opened = []
    for r in range(rounds):
        quiz = await engine.start(community, f"C{r:04d}", PlayerRef("UHOST", "host"), request)
        rnd = await store.open_round(quiz.id)
        assert rnd is not None and rnd.message_ref is not None
        blocks = question_blocks(question_card(quiz, rnd, 0))
        opened.append((rnd.id, Message(f"C{r:04d}", rnd.message_ref, "question", blocks)))
    return opened


def click_bodies(
    requests: SlackRequests, opened: list[tuple[int, Message]], clicks: int, first: int = 0
) -> tuple[list[str], set[tuple[int, str]]]:
    """One click per player (players `first`, `first + 1`, ...) on a random choice of
    their round; (bodies, (round, user))."""
    rng = random.Random(11 + first)
    bodies, expected = [], set()
    for n in range(first, first + clicks):
        round_id, message = opened[n % len(opened)]
        user = User(f"U{n:05d}", f"player{n}")
        action = button(message, rng.randrange(4))
        bodies.append(requests.actions_body(user, message, action))
        expected.add((round_id, user.id))
    return bodies, expected


def button(message: Message, position: int) -> dict[str, Any]:
    """The answer button for choice `position` of a question message, as an action."""
    action_id = f"{ANSWER_ACTION}_{position}"
    for block in message.blocks:
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            if element.get("action_id") == action_id:
                return {
                    "type": "button",
                    "block_id": block["block_id"],
                    "action_id": action_id,
                    "text": element["text"],
                    "value": element["value"],
                }
    raise LookupError(f"no {action_id} button")


async def stored_clicks(store: SqlStore, round_ids: list[int]) -> list[tuple[int, str]]:
    """(round id, Slack user id) of every stored answer of the rounds."""
    from bot.store.tables import PlayerRow

    stmt = (
        select(AnswerRow.round_id, PlayerRow.external_id)
        .join(PlayerRow, PlayerRow.id == AnswerRow.player_id)
        .where(AnswerRow.round_id.in_(round_ids))
    )
    async with store.engine.connect() as conn:
        return [(r.round_id, r.external_id) for r in await conn.execute(stmt)]


async def wait_for_answers(
    store: SqlStore, round_ids: list[int], count: int, seconds: float
) -> list[tuple[int, str]]:
    """Stored clicks once `count` are in (or `seconds` have passed)."""
    deadline = now() + seconds
    while True:
        rows = await stored_clicks(store, round_ids)
        if len(rows) >= count or now() > deadline:
            return rows
        await asyncio.sleep(0.2)


async def run(db: Database, results: Results, params: Params | None = None) -> None:
    """Measure P2 on one database and record its figures."""
    params = params or Params()
    await db.reset()
    mock_process, mock_port = await start_mock()
    store = db.store()
    runners: list[web.AppRunner] = []
    receipts = ReceiptClock()
    # one HTTP session for every call to Slack, as `quizbot serve slack` has
    session = http_session()
    try:
        bank = bench_bank()
        await store.sync_questions(bank.all_questions())
        client = web_client(
            BOT_TOKEN, f"http://127.0.0.1:{mock_port}/api/", session=session, jitter=0.0
        )
        # the answers-so-far edits keep Slack's chat.update limit, as `quizbot serve slack`'s
        engine = QuizEngine(
            store,
            bank,
            SlackChat(client),
            platform="slack",
            clock=SystemClock(),
            count_edits_per_minute=CHAT_UPDATES_PER_MINUTE,
        )
        opened = await open_rounds(engine, store, params.rounds)
        settle_heap()  # as `quizbot serve` does once started
        mock = MockSlack()
        mock.port = mock_port
        requests = SlackRequests("", mock, SECRET)
        round_ids = [rid for rid, _ in opened]
        expected: set[tuple[int, str]] = set()
        receipt_lags: list[float] = []
        baselines: list[Burst] = []
        bots: list[Burst] = []
        with tempfile.TemporaryDirectory(prefix="quizbench-p2-") as tmp:
            workdir = Path(tmp)
            runner, baseline_port = await serve(http_app(baseline_app(client)))
            runners.append(runner)
            # as `quizbot serve slack --http` serves it
            acks = AckAfterCommit()
            app = build_app(engine, client, signing_secret=SECRET, acks=acks)
            runner, bot_port = await serve(http_app(app, in_flight=acks.in_flight))
            runners.append(runner)
            warm: list[Burst] = []
            for pair in range(params.warmup + params.pairs):
                bodies, clicks = click_bodies(requests, opened, params.clicks, pair * params.clicks)
                expected |= clicks
                # both apps run in this process: each burst starts with the garbage of
                # the one before collected, not collected on its time
                gc.collect()
                base = await send_burst(baseline_port, bodies, params.in_flight, workdir)
                gc.collect()
                played = await send_burst(bot_port, bodies, params.in_flight, workdir)
                acked = now()
                await receipts.wait_for(len(expected), 60.0)
                if pair < params.warmup:
                    warm.append(played)
                else:
                    baselines.append(base)
                    bots.append(played)
                    receipt_lags.append(max(0.0, receipts.last - acked))
                # the next pair starts once this one's clicks are stored and the messages
                # due are out; the answers-so-far edits keep chat.update's pace (one
                # refresh of the ten questions, then 12 s) and may go out in a later
                # burst, as they would in use
                await wait_for_answers(store, round_ids, len(expected), 60.0)
                await engine.dispatcher.idle()
            # as `quizbot serve` stops: a count refresh waiting for its turn is dropped
            await engine.shutdown()
        rows = await stored_clicks(store, round_ids)
    finally:
        receipts.stop()
        for runner in runners:
            await runner.cleanup()
        await session.close()
        await store.close()
        await stop_mock(mock_process)

    once = len(set(rows) & expected) if len(rows) == len(set(rows)) else 0
    prefix = f"{METRIC}.{db.name}."
    ms = 1000
    for name, bursts in (("baseline_", baselines), ("", bots)):
        latencies = [t for burst in bursts for t in burst.latencies]
        results.reference(prefix + name + "p50_ms", median(latencies) * ms, "ms")
        results.reference(prefix + name + "p99_ms", percentile(latencies, 99) * ms, "ms")
        results.reference(prefix + name + "max_ms", max(latencies) * ms, "ms")
        results.reference(
            prefix + name + "clicks_per_s", median([b.rate for b in bursts]), "clicks/s"
        )
    p99_ratios = [
        percentile(bot.latencies, 99) / percentile(base.latencies, 99)
        for base, bot in zip(baselines, bots, strict=True)
    ]
    rate_ratios = [bot.rate / base.rate for base, bot in zip(baselines, bots, strict=True)]
    for n, (p99_ratio, rate_ratio) in enumerate(zip(p99_ratios, rate_ratios, strict=True), 1):
        results.reference(prefix + f"pair{n}_p99_vs_baseline", p99_ratio, "x baseline")
        results.reference(prefix + f"pair{n}_throughput_vs_baseline", rate_ratio, "x")
    results.reference(
        prefix + "receipts_done_after_last_ack_ms", max(receipt_lags) * ms, "ms (worst pair)"
    )
    p99 = percentile([t for burst in bots for t in burst.latencies], 99)
    acked = sum(burst.statuses.get("200", 0) for burst in warm + bots)
    total = params.clicks * (params.warmup + params.pairs)
    sent = "of the clicks sent"
    pairs = f"(median of {params.pairs} pairs)"
    results.at_least(prefix + "acked_200", acked, "clicks", total, baseline=sent)
    results.at_most(
        prefix + "p99_vs_baseline",
        median(p99_ratios),
        "x baseline",
        1.5,
        baseline=f"x {prefix}baseline_p99_ms {pairs}",
    )
    results.at_least(
        prefix + "throughput_vs_baseline",
        median(rate_ratios),
        "x",
        0.67,
        baseline=f"x {prefix}baseline_clicks_per_s {pairs}",
    )
    results.at_most(
        prefix + "p99_vs_3s_deadline", p99 / DEADLINE, "x 3 s", 0.33, baseline="x Slack's 3 s"
    )
    results.at_least(prefix + "stored_exactly_once", once, "clicks", total, baseline=sent)
    results.at_most(prefix + "stored_extra", len(rows) - once, "rows", 0, baseline="rows")
    print_figures(
        f"P2 click-to-ack on {db.name}: {params.pairs} x (baseline, bot) bursts of "
        f"{params.clicks:,} signed clicks from new players on {params.rounds} open rounds, "
        f"{params.in_flight} in flight, after {params.warmup} unmeasured pair(s)",
        results,
        prefix,
    )
