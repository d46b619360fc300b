"""P4b: peak resident memory of one process running `quizzes` quizzes at once.

A child process (`python -m bench.memory URL QUIZZES PLAYERS [TRACE [SCHEMA]]`) runs
one engine on one store: it starts a tenth of the quizzes through the engine (one
channel each, 64 at a time), copies the rest in as quizzes other processes of the bot
started, lets `players` players answer round 1 of each (64 clicks in flight), then
waits for the background work (count refreshes) to finish, every quiz still running.
It reports its peak RSS (VmHWM from /proc/self/status) and its RSS once the
interpreter and the bot's modules were loaded, before any work.

`python -m bench` runs one child a database side by side (their time is not measured,
and memory is per process), with nothing else of the run beside them.
"""

from __future__ import annotations

import asyncio
import gc
import json
import random
import sys
import tempfile
import tracemalloc
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from bench.common import SCHEMA, Database, NullChat, Results, bench_bank, now, print_figures

METRIC = "p4_memory"
PLATFORM = "bench"
TASKS = 64
REPOSITORY = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Params:
    """How many quizzes run at once, and players in each."""

    quizzes: int = 10_000
    players: int = 2

    @classmethod
    def tiny(cls) -> Params:
        """A size for the smoke test."""
        return cls(quizzes=10, players=2)

    def quick(self) -> Params:
        """A tenth of the size."""
        return Params(self.quizzes // 10, self.players)


def memory_kb(field: str) -> int:
    """A VmXXX line of /proc/self/status, in kB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


async def play(url: str, quizzes: int, players: int, schema: str = SCHEMA) -> dict[str, Any]:
    """The child's work; what it measured."""
    from bench.answer_path import run_tasks
    from bot.core.clock import ManualClock
    from bot.core.engine import QuizEngine
    from bot.core.model import CommunityRef, PlayerRef, StartRequest

    loaded_kb = memory_kb("VmRSS")
    db = Database("postgresql" if url.startswith("postgresql") else "sqlite", url, schema)
    # what is measured is this process's memory: commits need not wait for the disk
    durability = {"server_settings": {"synchronous_commit": "off"}} if db.postgres else {}
    store = db.store(connect_args=durability)
    bank = bench_bank()
    await store.sync_questions(bank.all_questions())
    clock = ManualClock()
    engine = QuizEngine(
        store, bank, NullChat(), platform=PLATFORM, clock=clock, rng=random.Random(1)
    )
    # as `quizbot serve` once started (bot.runtime.settle_heap, not imported here: it
    # brings the ops server's modules along): the startup heap out of the collector's
    # sight, so that full collections walk only what the running quizzes hold
    gc.collect()
    gc.freeze()
    # ten channels a community, as a busy study server has them
    guilds = [CommunityRef(f"guild-{g}", f"Guild {g}") for g in range(max(1, quizzes // 10))]
    request = StartRequest(decks=("bench",), questions=5, seconds=30)
    started = now()

    async def start(q: int) -> int:
        quiz = await engine.start(
            guilds[q % len(guilds)], f"chan-{q}", PlayerRef(f"host-{q}", f"Host {q}"), request
        )
        rnd = await store.open_round(quiz.id)
        assert rnd is not None
        return rnd.id

    async def answer_all(round_ids: list[int]) -> int:
        clicks = [
            (rid, PlayerRef(f"q{q}-p{k}", f"Player {q}.{k}"))
            for q, rid in enumerate(round_ids)
            for k in range(players)
        ]

        async def click(c: tuple[int, PlayerRef]) -> str:
            receipt = await engine.record_answer(c[0], c[1], [0])
            return receipt.kind.value

        kinds = await run_tasks(clicks, TASKS, click)
        return sum(kind == "accepted" for kind in kinds)

    # a tenth start through the engine; the rest are running quizzes whose clicks reach
    # this process (started by another of the bot's processes): their rows are copied
    through_engine = max(1, quizzes // 10)
    first = await run_tasks(list(range(through_engine)), TASKS, start)
    first += await seed_running(store, first[0], quizzes - through_engine)
    accepted = await answer_all(first)
    await engine.idle()
    running = await count_open(store)
    result = {
        "loaded_kb": loaded_kb,
        "peak_kb": memory_kb("VmHWM"),
        "rss_kb": memory_kb("VmRSS"),
        "accepted": accepted,
        "open_rounds": running,
        "seconds": now() - started,
    }
    await store.close()
    return result


async def seed_running(store: Any, template_round: int, count: int) -> list[int]:
    """`count` more running quizzes, copies of a started one's quiz and open round, each
    in a channel of its own; their open rounds' ids."""
    from sqlalchemy import insert, select

    from bot.store.tables import QuizRow, RoundRow

    round_ids: list[int] = []
    async with store.engine.begin() as conn:
        rounds, quizzes = RoundRow.__table__, QuizRow.__table__
        rnd = (await conn.execute(select(rounds).where(rounds.c.id == template_round))).one()
        quiz = (await conn.execute(select(quizzes).where(quizzes.c.id == rnd.quiz_id))).one()
        quiz_values = {k: v for k, v in quiz._mapping.items() if k != "id"}
        round_values = {k: v for k, v in rnd._mapping.items() if k != "id"}
        for first in range(0, count, 1_000):
            chunk = range(first, min(count, first + 1_000))
            quiz_ids = (
                await conn.execute(
                    insert(QuizRow).returning(QuizRow.id, sort_by_parameter_order=True),
                    [{**quiz_values, "channel_id": f"seeded-{n}"} for n in chunk],
                )
            ).scalars()
            ids = (
                await conn.execute(
                    insert(RoundRow).returning(RoundRow.id, sort_by_parameter_order=True),
                    [{**round_values, "quiz_id": q} for q in quiz_ids],
                )
            ).scalars()
            round_ids += list(ids)
    return round_ids


async def count_open(store: Any) -> int:
    """Open rounds in the database: quizzes still running."""
    from sqlalchemy import func, select

    from bot.store.tables import RoundRow

    async with store.engine.connect() as conn:
        stmt = select(func.count()).select_from(RoundRow).where(RoundRow.status == "open")
        return int((await conn.execute(stmt)).scalar_one())


@dataclass
class Child:
    """One running child: its process and the database it works in."""

    db: Database
    process: asyncio.subprocess.Process
    params: Params
    output: IO[bytes]  # files, not pipes: a child never blocks on a full pipe
    errors: IO[bytes]

    @classmethod
    async def start(cls, db: Database, params: Params, trace: int = 0) -> Child:
        """Start the child on a fresh database."""
        await db.reset()
        command = [sys.executable, "-m", "bench.memory", db.url, str(params.quizzes)]
        command += [str(params.players), str(trace), db.schema]
        # closed by `result`
        output, errors = tempfile.TemporaryFile(), tempfile.TemporaryFile()  # noqa: SIM115
        process = await asyncio.create_subprocess_exec(
            *command, stdout=output, stderr=errors, cwd=REPOSITORY
        )
        return cls(db, process, params, output, errors)

    async def result(self) -> dict[str, Any]:
        """Wait for the child; what it measured."""
        await self.process.wait()
        with self.output, self.errors:
            self.output.seek(0)
            self.errors.seek(0)
            if self.process.returncode != 0:
                raise RuntimeError(f"memory child failed:\n{self.errors.read().decode()}")
            lines = self.output.read().decode().strip().splitlines()
        result: dict[str, Any] = json.loads(lines[-1])
        return result


async def measure(db: Database, params: Params, trace: int = 0) -> dict[str, Any]:
    """Run the child on a fresh database; what it measured."""
    child = await Child.start(db, params, trace)
    return await child.result()


async def run(db: Database, results: Results, params: Params | None = None) -> None:
    """Measure P4b on one database (in a child process) and record its figures."""
    params = params or Params()
    record(db, results, params, await measure(db, params))


async def run_all(dbs: list[Database], results: Results, params: Params) -> None:
    """Measure P4b on every database at once: one child each, side by side (their time
    is not measured, and memory is per process)."""
    children = await asyncio.gather(*(measure(db, params) for db in dbs))
    for db, child in zip(dbs, children, strict=True):
        record(db, results, params, child)


def record(db: Database, results: Results, params: Params, child: dict[str, Any]) -> None:
    """The figures of one child."""
    prefix = f"{METRIC}.{db.name}."
    results.reference(prefix + "loaded_rss_mb", child["loaded_kb"] / 1024, "MB")
    results.reference(prefix + "final_rss_mb", child["rss_kb"] / 1024, "MB")
    above = (child["peak_kb"] - child["loaded_kb"]) * 1024 / params.quizzes
    results.reference(prefix + "bytes_per_quiz_above_loaded", above, "bytes (peak)")
    results.reference(prefix + "answers", child["accepted"], "answers")
    results.reference(prefix + "seconds", child["seconds"], "s")
    results.at_least(
        prefix + "running_quizzes",
        child["open_rounds"],
        "quizzes",
        params.quizzes,
        baseline="of the quizzes started",
    )
    results.at_most(
        prefix + "peak_rss_mb",
        child["peak_kb"] / 1024,
        "MB",
        150,
        baseline=f"MB in all ({prefix}loaded_rss_mb of it the loaded interpreter)",
    )
    for n, (where, size) in enumerate(child.get("top", []), 1):
        print(f"  tracemalloc #{n}: {size / 1024:,.0f} KiB at {where}")
    print_figures(
        f"P4 memory on {db.name}: {params.quizzes:,} running quizzes in one process, "
        f"{params.players} players each",
        results,
        prefix,
    )


def main(argv: list[str]) -> None:
    """The child: run, then print one JSON line. With a last argument N > 0, tracemalloc
    runs from the loaded baseline on and the N biggest allocation sites still held at
    the end are reported (slower: for finding what holds the memory, not for its size)."""
    url, quizzes, players = argv[0], int(argv[1]), int(argv[2])
    trace = int(argv[3]) if len(argv) > 3 else 0
    schema = argv[4] if len(argv) > 4 else SCHEMA
    if trace:
        tracemalloc.start(8)
    result = asyncio.run(play(url, quizzes, players, schema))
    if trace:
        stats = tracemalloc.take_snapshot().statistics("traceback")
        result["top"] = [(_site(s.traceback), s.size) for s in stats[:trace]]
    print(json.dumps(result))


def _site(traceback: tracemalloc.Traceback) -> str:
    """The innermost frames of an allocation that are the bot's or the bench's own."""
    own = [f for f in traceback if "/bot/" in f.filename or "/bench/" in f.filename]
    frames = own[:2] or list(traceback)[:1]
    return " < ".join(f"{Path(f.filename).name}:{f.lineno}" for f in frames)


if __name__ == "__main__":
    main(sys.argv[1:])
