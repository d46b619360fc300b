"""`python -m bench`: run the benchmarks, print a table each, write bench/results.json.

    python -m bench                       # everything, PostgreSQL then SQLite
    python -m bench --only p1,p3          # some of them
    python -m bench --databases sqlite    # SQLite only
    python -m bench --quick               # a tenth of the size, for a quick look
    python -m bench --tiny                # tiny sizes: checks the code runs, measures nothing
    python -m bench --profile p1          # also write a pyinstrument profile per run

PostgreSQL comes from BENCH_DATABASE_URL (default: the local test database); the
benchmarks work in a schema of their own, `quizbench`, and drop it when done.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench.common import RESULTS_PATH, Database, Results, WallTimes, databases, table

# name -> (module, what it measures)
BENCHMARKS: dict[str, tuple[str, str]] = {
    "p1": ("bench.answer_path", "answer path vs the raw driver"),
    "p2": ("bench.click_to_ack", "click-to-ack over real HTTP (Slack)"),
    "p3": ("bench.leaderboard", "leaderboard flat in history"),
    "p4": ("bench.round_close", "closing and scoring a 500-answer round"),
    "p5": ("bench.discord_click", "Discord click to first response vs bare discord.py"),
    "p6": ("bench.reveal_latency", "close to reveal through the outbox vs a direct post"),
    "p7": ("bench.ticker", "one tick of the ticker, flat in idle communities"),
    "p4m": ("bench.memory", "10,000 running quizzes in one process"),
}

Runner = Callable[..., Awaitable[None]]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--only", default=",".join(BENCHMARKS), help="comma-separated: p1,p2,...")
    parser.add_argument(
        "--databases", default="postgresql,sqlite", help="comma-separated: postgresql,sqlite"
    )
    parser.add_argument("--tiny", action="store_true", help="tiny sizes, for the smoke test")
    parser.add_argument("--quick", action="store_true", help="a tenth of the size, a quick look")
    parser.add_argument("--output", type=Path, default=RESULTS_PATH, help="results JSON file")
    parser.add_argument("--strict", action="store_true", help="exit with 1 when a target is missed")
    parser.add_argument(
        "--profile", default="", help="comma-separated benchmarks to profile with pyinstrument"
    )
    return parser.parse_args(argv)


async def run_benchmark(
    name: str, db: Database, results: Results, *, size: str, profile_dir: Path | None
) -> None:
    """Run one benchmark on one database at a size: "full", "quick" or "tiny"."""
    module: Any = importlib.import_module(BENCHMARKS[name][0])
    params = sized(module, size)
    if profile_dir is None:
        await module.run(db, results, params)
        return
    from pyinstrument import Profiler

    profiler = Profiler(async_mode="enabled")
    with profiler:
        await module.run(db, results, params)
    path = profile_dir / f"{name}-{db.name}.txt"
    write_text(path, profiler.output_text(unicode=True, show_all=False))
    print(f"profile: {path}")


async def run_chosen(
    chosen: list[str],
    dbs: list[Database],
    results: Results,
    wall: WallTimes,
    *,
    size: str,
    profiled: set[str],
) -> None:
    """Run the chosen benchmarks on the databases, one after the other, each timed into
    `wall`: nothing else of the run beside what is measured (P4b's children once ran
    beside the others at the lowest priority and still took the CPU that P1's and P2's
    bursts on PostgreSQL wanted: their baseline ran at half its speed)."""
    for name in chosen:
        module: Any = importlib.import_module(BENCHMARKS[name][0])
        if hasattr(module, "run_all") and name not in profiled:
            with wall.timed(name, "all"):
                await module.run_all(dbs, results, sized(module, size))
            continue
        for db in dbs:
            profile_dir = RESULTS_PATH.parent / "profiles" if name in profiled else None
            with wall.timed(name, db.name):
                await run_benchmark(name, db, results, size=size, profile_dir=profile_dir)


def sized(module: Any, size: str) -> Any:
    """A benchmark module's Params at a size: "full", "quick" (a tenth) or "tiny"."""
    if size == "tiny":
        return module.Params.tiny()
    if size == "quick":
        return module.Params().quick()
    return module.Params()


def write_text(path: Path, content: str) -> None:
    """Write a file, making its folder if need be."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)


async def main(argv: list[str] | None = None) -> int:
    """Run what the command line asks; with --strict, 1 when a target was missed."""
    args = parse_args(argv)
    chosen = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in chosen if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
        return 2
    profiled = {n.strip() for n in args.profile.split(",") if n.strip()}
    results = Results()
    wall = WallTimes()
    started = time.perf_counter()
    size = "tiny" if args.tiny else "quick" if args.quick else "full"
    with tempfile.TemporaryDirectory(prefix="quizbench-") as workdir:
        dbs = databases([d.strip() for d in args.databases.split(",")], Path(workdir))
        await run_chosen(chosen, dbs, results, wall, size=size, profiled=profiled)
        for db in dbs:
            await db.drop()
    elapsed = time.perf_counter() - started
    wall.record(results, elapsed)
    results.write(args.output)
    print()
    print(wall.table(elapsed))
    rows = [
        [name, r.value, r.unit, r.target, "yes" if r.met else "NO"]
        for name, r in results.figures.items()
        if r.target != "reference"
    ]
    print()
    print(table("Targets", ["figure", "value", "unit", "target", "met"], rows))
    missed = results.missed()
    print(
        f"\n{len(rows) - len(missed)} of {len(rows)} targets met in {elapsed:.0f} s; "
        f"results in {args.output}"
    )
    return 1 if missed and args.strict else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
