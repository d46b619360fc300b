"""Every benchmark runs at a tiny size on SQLite and reports its figures (no timing is
checked: this only keeps `python -m bench` from rotting)."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from bench import memory
from bench.__main__ import BENCHMARKS, sized
from bench.common import Database, Results, WallTimes
from bench.memory import REPOSITORY

EXPECTED = {
    "p1": ["engine_answers_per_s", "raw_inserts_per_s", "accepted", "early_closes", "ratio"],
    "p2": [
        "p50_ms",
        "p99_ms",
        "max_ms",
        "clicks_per_s",
        "baseline_p99_ms",
        "baseline_clicks_per_s",
        "p99_vs_baseline",
        "throughput_vs_baseline",
        "p99_vs_3s_deadline",
        "stored_exactly_once",
    ],
    "p3": ["median_ms_small", "median_ms_large", "ratio"],
    "p4": ["median_ms", "p90_ms", "floor_ms", "scoring_ms", "vs_floor"],
    "p4m": ["peak_rss_mb", "running_quizzes"],
    "p5": ["p50_ms", "p99_ms", "baseline_p99_ms", "p99_vs_baseline", "stored_exactly_once"],
    "p6": ["p99_ms", "direct_p99_ms", "p99_vs_direct"],
    "p7": ["baseline_tick_ms", "tick_ms", "ratio"],
}


@pytest.mark.parametrize("name", sorted(BENCHMARKS))
async def test_benchmark_reports_its_figures(name: str, tmp_path: Path) -> None:
    module = importlib.import_module(BENCHMARKS[name][0])
    results = Results()
    db = Database("sqlite", f"sqlite+aiosqlite:///{tmp_path / 'bench.db'}")
    await module.run(db, results, module.Params.tiny())
    figures = results.as_json()
    prefix = f"{module.METRIC}.sqlite."
    for figure in EXPECTED[name]:
        entry = figures[prefix + figure]
        assert set(entry) == {"value", "unit", "target", "met"}
        assert isinstance(entry["value"], int | float)


@pytest.mark.parametrize("name", sorted(BENCHMARKS))
def test_every_benchmark_has_a_quick_size(name: str) -> None:
    # `python -m bench --quick` sizes every benchmark with Params().quick()
    params = sized(importlib.import_module(BENCHMARKS[name][0]), "quick")
    full = sized(importlib.import_module(BENCHMARKS[name][0]), "full")
    assert params != full


def test_results_file_shape(tmp_path: Path) -> None:
    results = Results()
    results.at_least("m.a", 0.7, "x", 0.5, baseline="x m.base")
    results.at_most("m.b", 3.0, "x", 2.0, baseline="x m.base")
    results.reference("m.c", 12.345, "ms")
    path = tmp_path / "results.json"
    results.write(path)
    assert results.missed() == ["m.b"]
    assert '"target": ">= 0.5 x m.base"' in path.read_text()


async def test_memory_children_report_their_figures(tmp_path: Path) -> None:
    db = Database("sqlite", f"sqlite+aiosqlite:///{tmp_path / 'bench.db'}")
    results = Results()
    await memory.run_all([db], results, memory.Params.tiny())
    figures = results.as_json()
    assert figures["p4_memory.sqlite.running_quizzes"]["value"] == memory.Params.tiny().quizzes
    assert figures["p4_memory.sqlite.running_quizzes"]["met"] is True
    assert figures["p4_memory.sqlite.peak_rss_mb"]["value"] > 0


def test_wall_times_are_reference_figures() -> None:
    wall = WallTimes()
    with wall.timed("p7", "sqlite"):
        pass
    results = Results()
    wall.record(results, 2.5)
    figures = results.as_json()
    assert figures["bench_run.p7.sqlite.wall_s"]["target"] == "reference"
    assert figures["bench_run.total_wall_s"] == {
        "value": 2.5,
        "unit": "s",
        "target": "reference",
        "met": True,
    }
    assert "p7" in wall.table(2.5)


def test_the_memory_child_loads_only_what_it_measures() -> None:
    # its "loaded" baseline is the interpreter with the engine and the store; bot.runtime
    # would add the ops side's (prometheus, pydantic settings, aiohttp: 25 MB more,
    # counted as if the running quizzes held them)
    code = (
        "import sys, bench.memory, bench.answer_path;"
        "print(sorted(m for m in sys.modules if m in ('bot.runtime', 'bot.ops.metrics')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPOSITORY
    )
    assert out.stdout.strip() == "[]"
