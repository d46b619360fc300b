"""P1: the answer path (engine.record_answer on the real store) against the raw driver.

Workload: `answers` clicks from `players` players across `rounds` open rounds, from
`tasks` concurrent tasks. Every round is round 2 of its quiz and its players all
answered round 1, so each click runs the whole path of a real game: the insert, the
count refresh (rate-bounded) and the early-close check, and the last click of a round
closes it in the background.

Baseline: the same rows as single-row INSERTs on the raw driver (asyncpg; sqlite3 via
aiosqlite), one transaction each, from as many tasks on a pool of the same size as the
store's engine.

The two alternate `pairs` times, each pair on a new database, and the target takes the
median of the pairs' ratios: on this 2-core machine the baseline alone moved by half
from one run to the next (13,000 to 21,000 inserts a second on SQLite, 12,000 to 17,000
on PostgreSQL, with the bot's rate steady), so one pair's ratio was mostly the machine's.
"""

from __future__ import annotations

import asyncio
import functools
import json
import random
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiosqlite
import asyncpg
from sqlalchemy import delete, insert, select

from bench.common import SCHEMA, Database, NullChat, Results, bench_bank, median, now, print_figures
from bot.core.clock import ManualClock
from bot.core.engine import QuizEngine
from bot.core.model import CommunityRef, PlayerRef, RoundStatus, StartRequest
from bot.store import SqlStore
from bot.store.tables import AnswerRow, PlayerRow, RoundRow

METRIC = "p1_answer_path"
PLATFORM = "bench"
GUILD = CommunityRef("bench-guild", "Bench guild")
HOST = PlayerRef("host", "Host")
# Group commit should beat a transaction per click on PostgreSQL; on SQLite the answers
# share the one writer with the closes the burst triggers, which raw inserts do not.
RATIO_TARGET = {"postgresql": 1.0, "sqlite": 0.8}


@dataclass(frozen=True)
class Params:
    """The size of the workload."""

    answers: int = 20_000
    players: int = 2_000
    rounds: int = 200
    tasks: int = 64
    pairs: int = 3

    @classmethod
    def tiny(cls) -> Params:
        """A size for the smoke test."""
        return cls(answers=200, players=40, rounds=10, tasks=8, pairs=1)

    def quick(self) -> Params:
        """A tenth of the size."""
        return Params(
            self.answers // 10, self.players // 10, self.rounds // 10, self.tasks, self.pairs
        )


@dataclass(frozen=True)
class Click:
    """One answer: who clicks which choice of which round."""

    round_id: int
    player: PlayerRef
    player_id: int
    position: int


def player_ref(n: int) -> PlayerRef:
    """Player number n."""
    return PlayerRef(f"p{n}", f"Player {n}")


async def run_tasks(
    items: Sequence[Any], tasks: int, work: Callable[[Any], Awaitable[Any]]
) -> list[Any]:
    """Run `work` on every item from `tasks` concurrent tasks; results in item order."""
    results: list[Any] = [None] * len(items)
    next_index = iter(range(len(items)))

    async def worker() -> None:
        for i in next_index:
            results[i] = await work(items[i])

    await asyncio.gather(*(worker() for _ in range(tasks)))
    return results


def pool_size(store: SqlStore) -> int:
    """How many connections the store's engine may hold at once."""
    pool: Any = store.engine.pool
    return int(pool.size() + max(pool._max_overflow, 0))


async def setup(
    db: Database, params: Params, clock: ManualClock
) -> tuple[SqlStore, QuizEngine, list[Click]]:
    """Players, quizzes whose round 1 everyone answered, and the clicks for their round 2."""
    await db.reset()
    store = db.store()
    bank = bench_bank()
    await store.sync_questions(bank.all_questions())
    engine = QuizEngine(
        store, bank, NullChat(), platform=PLATFORM, clock=clock, rng=random.Random(1)
    )
    async with store.engine.begin() as conn:
        await conn.execute(
            insert(PlayerRow),
            [
                {"platform": PLATFORM, "external_id": p.external_id, "display_name": p.display_name}
                for p in map(player_ref, range(params.players))
            ],
        )
        ids = {
            r.external_id: r.id
            for r in await conn.execute(select(PlayerRow.external_id, PlayerRow.id))
        }
    # They answered round 1 through this process, so the engine knows their ids, as it
    # does in a running game: warm its player cache through its own lookup.
    await run_tasks(list(map(player_ref, range(params.players))), 64, engine.player_id)
    # Players come in groups; each group plays `rounds / groups` quizzes side by side.
    per_round = params.answers // params.rounds
    groups = max(1, params.players // per_round)
    members = [[player_ref(g * per_round + k) for k in range(per_round)] for g in range(groups)]
    request = StartRequest(decks=("bench",), questions=5, seconds=600)

    async def first_round(r: int) -> int:
        quiz = await engine.start(GUILD, f"chan-{r}", HOST, request)
        rnd = await store.open_round(quiz.id)
        assert rnd is not None
        return rnd.id

    # the first start stores the community and the host; the others can go side by side
    first_rounds = [await first_round(0)]
    first_rounds += await run_tasks(list(range(1, params.rounds)), 16, first_round)
    answered_at = clock.now()
    async with store.engine.begin() as conn:
        await conn.execute(
            insert(AnswerRow),
            [
                {
                    "round_id": rid,
                    "player_id": ids[p.external_id],
                    "selected": [0],
                    "answered_at": answered_at,
                }
                for r, rid in enumerate(first_rounds)
                for p in members[r % groups]
            ],
        )
    clock.advance(1)
    await run_tasks(first_rounds, 8, engine.close_round)
    await engine.idle()
    clock.advance(1)
    rng = random.Random(7)
    clicks: list[Click] = []
    seconds = await run_tasks(first_rounds, 16, functools.partial(_next_open_round, store))
    for r, second in enumerate(seconds):
        for p in members[r % groups]:
            clicks.append(Click(second, p, ids[p.external_id], rng.randrange(4)))
    rng.shuffle(clicks)
    return store, engine, clicks


async def _next_open_round(store: SqlStore, first_round: int) -> int:
    first = await store.round(first_round)
    assert first is not None
    rnd = await store.open_round(first.quiz_id)
    assert rnd is not None and rnd.position == 2 and rnd.status is RoundStatus.OPEN
    return rnd.id


async def engine_run(
    engine: QuizEngine, clicks: Sequence[Click], tasks: int
) -> tuple[float, float, Counter[str]]:
    """Seconds until every receipt is back, seconds until background work is done, receipts."""

    async def click(c: Click) -> str:
        receipt = await engine.record_answer(c.round_id, c.player, [c.position])
        return receipt.kind.value

    started = now()
    kinds = await run_tasks(clicks, tasks, click)
    answered = now() - started
    await engine.idle()
    return answered, now() - started, Counter(kinds)


async def raw_postgres(
    db: Database, clicks: Sequence[Click], tasks: int, size: int, at: datetime
) -> float:
    """Seconds for the raw asyncpg single-row INSERTs."""
    pool = await asyncpg.create_pool(
        db.asyncpg_dsn,
        min_size=size,
        max_size=size,
        server_settings={"search_path": SCHEMA},
    )
    sql = "INSERT INTO answers (round_id, player_id, selected, answered_at) VALUES ($1, $2, $3, $4)"

    async def insert_one(c: Click) -> None:
        await pool.execute(sql, c.round_id, c.player_id, json.dumps([c.position]), at)

    try:
        started = now()
        await run_tasks(clicks, tasks, insert_one)
        return now() - started
    finally:
        await pool.close()


async def raw_sqlite(
    db: Database, clicks: Sequence[Click], tasks: int, size: int, at: datetime
) -> float:
    """Seconds for raw single-row INSERTs on aiosqlite connections (the store's pragmas)."""
    connections: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
    opened = []
    for _ in range(size):
        conn = await aiosqlite.connect(db.sqlite_path, timeout=30, isolation_level=None)
        for pragma in (
            "journal_mode=WAL",
            "foreign_keys=ON",
            "busy_timeout=30000",
            "synchronous=NORMAL",
        ):
            await conn.execute(f"PRAGMA {pragma}")
        opened.append(conn)
        connections.put_nowait(conn)
    stamp = at.replace(tzinfo=None).isoformat(sep=" ")
    sql = (
        "INSERT INTO answers (round_id, player_id, selected, answered_at, points, streak)"
        " VALUES (?, ?, ?, ?, 0, 0)"
    )

    async def insert_one(c: Click) -> None:
        conn = await connections.get()
        try:
            await conn.execute(sql, (c.round_id, c.player_id, json.dumps([c.position]), stamp))
        finally:
            connections.put_nowait(conn)

    try:
        started = now()
        await run_tasks(clicks, tasks, insert_one)
        return now() - started
    finally:
        for conn in opened:
            await conn.close()


@dataclass(frozen=True)
class Pair:
    """One pair's figures: the baseline's and the bot's rates, and what the bot did."""

    clicks: int
    raw_rate: float
    engine_rate: float
    drained_rate: float
    accepted: int
    early_closes: int
    rounds: int  # the rounds the clicks answer
    pool: int

    @property
    def ratio(self) -> float:
        """The bot's rate over the baseline's."""
        return self.engine_rate / self.raw_rate


async def run_pair(db: Database, params: Params) -> Pair:
    """One pair on a new database: the raw inserts, then the bot on the same clicks."""
    clock = ManualClock()
    # imported here: the memory child (bench.memory) borrows `run_tasks` from this
    # module and must not load the ops server's modules that bot.runtime brings
    from bot.runtime import settle_heap

    store, engine, clicks = await setup(db, params, clock)
    settle_heap()  # as `quizbot serve` does once started
    try:
        size = pool_size(store)
        at = clock.now()
        raw = raw_postgres if db.postgres else raw_sqlite
        raw_seconds = await raw(db, clicks, params.tasks, size, at)
        async with store.engine.begin() as conn:
            await conn.execute(
                delete(AnswerRow).where(AnswerRow.round_id.in_({c.round_id for c in clicks}))
            )
        answered, drained, kinds = await engine_run(engine, clicks, params.tasks)
        rounds = {c.round_id for c in clicks}
        closed = await _closed_rounds(store, rounds)
    finally:
        await store.close()
    n = len(clicks)
    return Pair(
        n,
        n / raw_seconds,
        n / answered,
        n / drained,
        kinds.get("accepted", 0),
        closed,
        len(rounds),
        size,
    )


async def run(db: Database, results: Results, params: Params | None = None) -> None:
    """Measure P1 on one database and record its figures."""
    params = params or Params()
    pairs = [await run_pair(db, params) for _ in range(params.pairs)]
    prefix = f"{METRIC}.{db.name}."
    results.reference(
        prefix + "engine_answers_per_s", median([p.engine_rate for p in pairs]), "answers/s"
    )
    results.reference(
        prefix + "raw_inserts_per_s", median([p.raw_rate for p in pairs]), "inserts/s"
    )
    results.reference(
        prefix + "engine_drained_answers_per_s",
        median([p.drained_rate for p in pairs]),
        "answers/s",
    )
    for n, pair in enumerate(pairs, 1):
        results.reference(prefix + f"pair{n}_ratio", pair.ratio, "x raw")
    answers = sum(p.clicks for p in pairs)
    sent = "of the clicks sent"
    accepted = sum(p.accepted for p in pairs)
    results.at_least(prefix + "accepted", accepted, "answers", answers, baseline=sent)
    results.at_least(
        prefix + "early_closes",
        sum(p.early_closes for p in pairs),
        "rounds",
        sum(p.rounds for p in pairs),
        baseline="of the rounds answered",
    )
    results.at_least(
        prefix + "ratio",
        median([p.ratio for p in pairs]),
        "x raw",
        RATIO_TARGET[db.name],
        baseline=f"x {prefix}raw_inserts_per_s (median of {params.pairs} pairs)",
    )
    print_figures(
        f"P1 answer path on {db.name}: {params.pairs} x (raw, bot) runs of "
        f"{params.answers:,} answers, {params.players:,} players, "
        f"{params.rounds} rounds, {params.tasks} tasks, pool {pairs[0].pool}",
        results,
        prefix,
    )


async def _closed_rounds(store: SqlStore, round_ids: set[int]) -> int:
    async with store.engine.connect() as conn:
        rows = await conn.execute(
            select(RoundRow.id).where(
                RoundRow.id.in_(round_ids), RoundRow.status == RoundStatus.CLOSED.value
            )
        )
        return len(rows.all())
