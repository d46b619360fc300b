"""P4b: peak resident memory of one process running `quizzes` quizzes at once.

A child process (`python -m bench.memory URL QUIZZES PLAYERS`) runs one engine on one
store: it starts every quiz (one channel each, 64 at a time) and lets `players` players
answer round 1 of each (64 clicks in flight), then waits for the background work (count
refreshes) to finish, every quiz still running. It reports its peak RSS (VmHWM from
/proc/self/status) and its RSS once the interpreter and the bot's modules were loaded,
before any work.
"""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import Database, NullChat, Results, bench_bank, now, print_figures

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


async def play(url: str, quizzes: int, players: int) -> dict[str, Any]:
    """The child's work; what it measured."""
    from bench.answer_path import run_tasks
    from bot.core.clock import ManualClock
    from bot.core.engine import QuizEngine
    from bot.core.model import CommunityRef, PlayerRef, StartRequest

    loaded_kb = memory_kb("VmRSS")
    db = Database("postgresql" if url.startswith("postgresql") else "sqlite", url)
    store = db.store()
    bank = bench_bank()
    await store.sync_questions(bank.all_questions())
    clock = ManualClock()
    engine = QuizEngine(
        store, bank, NullChat(), platform=PLATFORM, clock=clock, rng=random.Random(1)
    )
    guilds = [CommunityRef(f"guild-{g}", f"Guild {g}") for g in range(10)]
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

    first = await run_tasks(list(range(quizzes)), TASKS, start)
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


async def count_open(store: Any) -> int:
    """Open rounds in the database: quizzes still running."""
    from sqlalchemy import func, select

    from bot.store.tables import RoundRow

    async with store.engine.connect() as conn:
        stmt = select(func.count()).select_from(RoundRow).where(RoundRow.status == "open")
        return int((await conn.execute(stmt)).scalar_one())


async def run(db: Database, results: Results, params: Params | None = None) -> None:
    """Measure P4b on one database (in a child process) and record its figures."""
    params = params or Params()
    await db.reset()
    output = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bench.memory", db.url, str(params.quizzes), str(params.players)],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPOSITORY,
    )
    if output.returncode != 0:
        raise RuntimeError(f"memory child failed:\n{output.stderr}")
    child = json.loads(output.stdout.strip().splitlines()[-1])
    prefix = f"{METRIC}.{db.name}."
    results.reference(prefix + "loaded_rss_mb", child["loaded_kb"] / 1024, "MB")
    results.reference(prefix + "final_rss_mb", child["rss_kb"] / 1024, "MB")
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
    print_figures(
        f"P4 memory on {db.name}: {params.quizzes:,} running quizzes in one process, "
        f"{params.players} players each",
        results,
        prefix,
    )


def main(argv: list[str]) -> None:
    """The child: run, then print one JSON line."""
    url, quizzes, players = argv[0], int(argv[1]), int(argv[2])
    print(json.dumps(asyncio.run(play(url, quizzes, players))))


if __name__ == "__main__":
    main(sys.argv[1:])
