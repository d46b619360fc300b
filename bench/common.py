"""What every benchmark shares: databases, timing, percentiles, results and tables."""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.bank import QuestionBank
from bot.core.cards import QuestionCard, RevealCard, SummaryCard
from bot.core.model import Choice, Deck, Question, QuestionKind
from bot.store import SqlStore, create_engine
from bot.store.tables import Base

DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
"""The local test database; the benchmarks keep to a schema of their own in it."""

SCHEMA = "quizbench"
"""The PostgreSQL schema every benchmark recreates, so the test suite's `public` is untouched."""

RESULTS_PATH = Path(__file__).with_name("results.json")

# ---- results ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    """One figure: a measured value, its unit, the target it is held to and whether it met it.

    Figures that only give context (a baseline, a raw time) have the target "reference"
    and count as met.
    """

    value: float
    unit: str
    target: str = "reference"
    met: bool = True


REFERENCE = "reference"


@dataclass
class Results:
    """Every figure of a run, by metric name (`p1_answer_path.postgresql.ratio`, ...)."""

    figures: dict[str, Result] = field(default_factory=dict)

    def add(self, name: str, result: Result) -> Result:
        """Record a figure (a later one of the same name replaces it)."""
        self.figures[name] = result
        return result

    def reference(self, name: str, value: float, unit: str) -> Result:
        """Record a figure that has no target of its own."""
        return self.add(name, Result(round_figure(value), unit))

    def at_least(
        self, name: str, value: float, unit: str, minimum: float, *, baseline: str
    ) -> Result:
        """Record a figure whose target is `value >= minimum`, as a ratio of (or a count
        of) `baseline`: a figure measured in the same run, or what was sent."""
        met = value >= minimum
        return self.add(
            name, Result(round_figure(value), unit, target(">=", minimum, baseline), met)
        )

    def at_most(
        self, name: str, value: float, unit: str, maximum: float, *, baseline: str
    ) -> Result:
        """Record a figure whose target is `value <= maximum`, as a ratio of `baseline`."""
        met = value <= maximum
        return self.add(
            name, Result(round_figure(value), unit, target("<=", maximum, baseline), met)
        )

    def as_json(self) -> dict[str, dict[str, Any]]:
        """{metric: {"value", "unit", "target", "met"}}."""
        return {name: asdict(result) for name, result in self.figures.items()}

    def write(self, path: Path) -> None:
        """Merge into `path`: figures of benchmarks not run this time are kept."""
        merged: dict[str, Any] = {}
        if path.exists():
            try:
                merged = json.loads(path.read_text())
            except ValueError:
                merged = {}
        merged.update(self.as_json())
        path.write_text(json.dumps(dict(sorted(merged.items())), indent=2) + "\n")

    def missed(self) -> list[str]:
        """Names of the figures that missed their target."""
        return [name for name, r in self.figures.items() if not r.met]


def target(op: str, bound: float, baseline: str) -> str:
    """A target's text: `<= 1.5 x p4_round_close.postgresql.floor_ms`."""
    return f"{op} {bound:g} {baseline}"


def round_figure(value: float) -> float:
    """Three significant digits are all a noisy machine can vouch for."""
    if value == 0 or not math.isfinite(value):
        return value
    digits = max(0, 2 - math.floor(math.log10(abs(value))))
    return round(value, digits)


# ---- timing ----------------------------------------------------------------------------


def now() -> float:
    """A monotonic clock in seconds."""
    return time.perf_counter()


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation between closest ranks."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Sequence[float]) -> float:
    """The 50th percentile."""
    return percentile(values, 50)


# ---- wall times of a run ------------------------------------------------------------------

RUN_METRIC = "bench_run"
"""The prefix of a run's own wall times in results.json (references, never targets)."""

_schema_seconds = [0.0]  # time spent in Database.reset, for the run's wall-time table


@dataclass
class WallTimes:
    """How long each benchmark took on each database, and how much of it went to
    recreating the schema: what `python -m bench` prints at its end."""

    seconds: dict[tuple[str, str], tuple[float, float]] = field(default_factory=dict)

    @contextmanager
    def timed(self, name: str, database: str) -> Iterator[None]:
        """Time the block as benchmark `name` on `database` ("all": every database at once)."""
        started, schema = now(), _schema_seconds[0]
        try:
            yield
        finally:
            self.seconds[(name, database)] = (now() - started, _schema_seconds[0] - schema)

    def record(self, results: Results, total: float) -> None:
        """The wall times as reference figures: `bench_run.p3.sqlite.wall_s`, ..."""
        for (name, database), (wall, _) in self.seconds.items():
            results.reference(f"{RUN_METRIC}.{name}.{database}.wall_s", wall, "s")
        results.reference(f"{RUN_METRIC}.total_wall_s", total, "s")

    def table(self, total: float) -> str:
        """A table of the wall times."""
        rows: list[list[object]] = [
            [name, database, round_figure(wall), round_figure(schema)]
            for (name, database), (wall, schema) in self.seconds.items()
        ]
        rows.append(["total", "", round_figure(total), ""])
        return table("Wall times", ["benchmark", "database", "s", "schema resets s"], rows)


# ---- tables -----------------------------------------------------------------------------


def table(title: str, headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A plain-text table with a title line, right-aligned numbers."""
    cells = [[_cell(c) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    lines = [title, "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    for row in cells:
        lines.append(
            "  ".join(
                c.rjust(w) if _numeric(c) else c.ljust(w) for c, w in zip(row, widths, strict=True)
            )
        )
    return "\n".join(lines)


def figure_rows(results: Results, prefix: str) -> list[list[object]]:
    """Rows (figure, value, unit, target, met) of the figures whose names start with prefix."""
    rows: list[list[object]] = []
    for name, r in results.figures.items():
        if name.startswith(prefix):
            verdict = "" if r.target == REFERENCE else ("yes" if r.met else "NO")
            rows.append([name.removeprefix(prefix), r.value, r.unit, r.target, verdict])
    return rows


def print_figures(title: str, results: Results, prefix: str) -> None:
    """Print the figures under `prefix` as a table."""
    print()
    print(table(title, ["figure", "value", "unit", "target", "met"], figure_rows(results, prefix)))


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _numeric(cell: str) -> bool:
    return cell.replace(",", "").replace(".", "").replace("-", "").isdigit()


# ---- databases ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Database:
    """One database a benchmark runs on: `postgresql` (in SCHEMA unless told another)
    or `sqlite` (a temp file)."""

    name: str
    url: str
    schema: str = SCHEMA

    @property
    def postgres(self) -> bool:
        """Whether this is PostgreSQL."""
        return self.name == "postgresql"

    def engine(self, **kwargs: Any) -> AsyncEngine:
        """An engine as the bot makes it (bot.store.create_engine), on the bench schema."""
        if self.postgres:
            connect_args = dict(kwargs.pop("connect_args", {}))
            connect_args.setdefault("server_settings", {})["search_path"] = self.schema
            kwargs["connect_args"] = connect_args
        return create_engine(self.url, **kwargs)

    def store(self, **kwargs: Any) -> SqlStore:
        """A SqlStore on a new engine (see `engine`)."""
        return SqlStore(self.engine(**kwargs))

    @property
    def asyncpg_dsn(self) -> str:
        """The URL as plain asyncpg takes it."""
        return make_url(self.url).set(drivername="postgresql").render_as_string(False)

    @property
    def sqlite_path(self) -> str:
        """The file of a SQLite database."""
        database = make_url(self.url).database
        assert database is not None
        return database

    async def reset(self) -> None:
        """An empty database with the current schema."""
        started = now()
        try:
            await self._reset()
        finally:
            _schema_seconds[0] += now() - started

    async def _reset(self) -> None:
        if self.postgres:
            # dropped and made again on one connection, in one transaction
            engine = self.engine()
            try:
                async with engine.begin() as conn:
                    await conn.execute(text(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE"))
                    await conn.execute(text(f"CREATE SCHEMA {self.schema}"))
                    await conn.run_sync(create_tables)
            finally:
                await engine.dispose()
            return
        remove_sqlite_files(self.sqlite_path)
        engine = self.engine()
        try:
            async with engine.begin() as conn:
                await conn.run_sync(create_tables)
        finally:
            await engine.dispose()

    async def drop(self) -> None:
        """Remove what `reset` made."""
        if self.postgres:
            engine = create_engine(self.url)
            try:
                async with engine.begin() as conn:
                    await conn.execute(text(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE"))
            finally:
                await engine.dispose()
        else:
            remove_sqlite_files(self.sqlite_path)


def create_tables(conn: Connection) -> None:
    """The store's tables in an empty schema (no existence checks: nothing is there)."""
    Base.metadata.create_all(conn, checkfirst=False)


def remove_sqlite_files(path: str) -> None:
    """Delete a SQLite database with its WAL and shared-memory files."""
    for suffix in ("", "-wal", "-shm"):
        Path(path + suffix).unlink(missing_ok=True)


def postgres_url() -> str:
    """BENCH_DATABASE_URL, or the local test database."""
    return os.environ.get("BENCH_DATABASE_URL") or DEFAULT_POSTGRES_URL


def databases(names: Sequence[str], workdir: Path) -> list[Database]:
    """The databases to run on, PostgreSQL first."""
    chosen = []
    if "postgresql" in names:
        chosen.append(Database("postgresql", postgres_url()))
    if "sqlite" in names:
        chosen.append(Database("sqlite", f"sqlite+aiosqlite:///{workdir / 'bench.db'}"))
    return chosen


# ---- the game's test doubles --------------------------------------------------------------


def _question(n: int) -> Question:
    choices = (Choice(f"right {n}", True), *(Choice(f"wrong {n}.{k}", False) for k in range(3)))
    return Question(
        f"bench-{n}", "bench", QuestionKind.SINGLE, f"Question {n}?", choices, f"Because {n}"
    )


BENCH_DECK = Deck(
    name="bench",
    title="Benchmark",
    description="single-answer questions with four choices",
    questions=tuple(_question(n) for n in range(1, 21)),
)


def bench_bank() -> QuestionBank:
    """A bank with the benchmark deck only."""
    return QuestionBank([BENCH_DECK])


class NullChat:
    """A ChatPort that shows nothing and keeps nothing: message refs only."""

    def __init__(self) -> None:
        self.posted = 0

    async def post_question(self, channel_id: str, card: QuestionCard, *, key: str) -> str:
        self.posted += 1
        return f"msg-{card.round_id}"

    async def update_question(
        self, channel_id: str, message_ref: str, card: QuestionCard, *, key: str
    ) -> None:
        return None

    async def post_reveal(
        self, channel_id: str, message_ref: str | None, card: RevealCard, *, key: str
    ) -> None:
        return None

    async def post_summary(self, channel_id: str, card: SummaryCard, *, key: str) -> None:
        return None

    async def notify_host(self, channel_id: str, host_external_id: str, text: str) -> None:
        return None
