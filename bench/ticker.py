"""P7: one tick of the ticker, flat in the number of idle communities.

Workload: `communities` communities, each with a weekly board channel and a daily
scheduled quiz, nothing due: their last week's board is settled (their next board check
is the end of the current week, as a tick leaves it) and their schedules run tomorrow.
One tick is what `bot.runtime.run_ticker` does each time round: the due-round claims
(`engine.close_due_rounds`) and the weekly rhythm (`Rhythm.run_due`: due weekly boards,
due scheduled quizzes). It is timed `ticks` times.

Baseline, same run: the same tick with `baseline` such communities.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from bench.common import Database, NullChat, Results, bench_bank, median, now, print_figures
from bot.core.clock import ManualClock
from bot.core.engine import QuizEngine
from bot.core.model import Community
from bot.core.rhythm.boards import week_end
from bot.core.rhythm.cards import WeeklyBoardCard
from bot.core.rhythm.report import RhythmReport
from bot.core.rhythm.service import Rhythm
from bot.core.rhythm.settings import CHANNEL, WEEKLY_SINCE
from bot.store.rhythm import SqlRhythmStore
from bot.store.tables import CommunityRow, PlayerRow, ScheduleRow

METRIC = "p7_ticker"
PLATFORM = "bench"
_CHUNK = 2_000


@dataclass(frozen=True)
class Params:
    """Communities measured, communities of the baseline, ticks timed per size."""

    communities: int = 10_000
    baseline: int = 100
    ticks: int = 30

    @classmethod
    def tiny(cls) -> Params:
        """A size for the smoke test."""
        return cls(communities=20, baseline=2, ticks=3)

    def quick(self) -> Params:
        """A tenth of the size."""
        return Params(self.communities // 10, max(1, self.baseline // 10), self.ticks)


class NullBoard:
    """A BoardPort that posts nothing (nothing is due: a post would be a bug)."""

    def __init__(self) -> None:
        self.posted = 0

    async def post_board(
        self, channel_id: str, card: WeeklyBoardCard, image: bytes | None, *, key: str
    ) -> None:
        self.posted += 1


async def add_idle_communities(db: Database, count: int, clock: ManualClock) -> None:
    """`count` communities with a board channel and a daily 09:00 quiz, nothing due."""
    store = db.store()
    moment = clock.now()
    try:
        async with store.engine.begin() as conn:
            host = (
                await conn.execute(
                    insert(PlayerRow)
                    .values(platform=PLATFORM, external_id="host", display_name="Host")
                    .returning(PlayerRow.id)
                )
            ).scalar_one()
            for first in range(0, count, _CHUNK):
                size = min(_CHUNK, count - first)
                await add_chunk(conn, range(first, first + size), host, moment)
    finally:
        await store.close()


async def add_chunk(conn: AsyncConnection, numbers: range, host: int, moment: datetime) -> None:
    """One chunk of idle communities and their schedules."""
    rows = [
        {
            "platform": PLATFORM,
            "external_id": f"guild-{n}",
            "name": f"Guild {n}",
            "timezone": "UTC",
            "week_start": 0,
            "settings": {CHANNEL: f"board-{n}", WEEKLY_SINCE: "2026-W01"},
        }
        for n in numbers
    ]
    for row in rows:
        # as a tick leaves them once last week's board is settled: next check at the
        # week's end (every one is in UTC, so the same moment)
        row["next_board_at"] = week_end(Community(0, PLATFORM, "", "", "UTC", 0), moment)
    ids = await conn.execute(insert(CommunityRow).returning(CommunityRow.id), rows)
    communities = list(ids.scalars())
    tomorrow = moment + timedelta(days=1)
    await conn.execute(
        insert(ScheduleRow),
        [
            {
                "community_id": cid,
                "platform": PLATFORM,
                "channel_id": f"quiz-{cid}",
                "created_by": host,
                "cadence": "daily",
                "weekday": None,
                "local_time": "09:00",
                "decks": ["bench"],
                "questions": 5,
                "next_run_at": tomorrow.replace(hour=9, minute=0),
                "created_at": moment,
            }
            for cid in communities
        ],
    )


async def time_ticks(db: Database, ticks: int, clock: ManualClock) -> list[float]:
    """Seconds of each of `ticks` ticks, the clock a second on each time."""
    store = db.store()
    board = NullBoard()
    engine = QuizEngine(store, bench_bank(), NullChat(), platform=PLATFORM, clock=clock)
    rhythm = Rhythm(engine, SqlRhythmStore(store), board=board)
    samples = []
    try:
        await tick(engine, rhythm)  # connections opened, statements prepared
        for _ in range(ticks):
            clock.advance(1)
            started = now()
            report = await tick(engine, rhythm)
            samples.append(now() - started)
            assert not report.boards and not report.schedules, report
        assert board.posted == 0
    finally:
        await store.close()
    return samples


async def tick(engine: QuizEngine, rhythm: Rhythm) -> RhythmReport:
    """What bot.runtime.run_ticker does each time round."""
    await engine.close_due_rounds()
    return await rhythm.run_due()


async def run(db: Database, results: Results, params: Params | None = None) -> None:
    """Measure P7 on one database and record its figures."""
    params = params or Params()
    # mid-week, mid-day: no week ends and no 09:00 slot comes during the ticks
    clock = ManualClock(datetime(2026, 11, 25, 12, 0, tzinfo=UTC))
    medians = {}
    for size in (params.baseline, params.communities):
        await db.reset()
        await add_idle_communities(db, size, clock)
        medians[size] = median(await time_ticks(db, params.ticks, clock))
    prefix = f"{METRIC}.{db.name}."
    small, large = medians[params.baseline], medians[params.communities]
    results.reference(prefix + "baseline_tick_ms", small * 1000, "ms")
    results.reference(prefix + "tick_ms", large * 1000, "ms")
    results.at_most(
        prefix + "ratio", large / small, "x baseline", 2, baseline=f"x {prefix}baseline_tick_ms"
    )
    print_figures(
        f"P7 ticker on {db.name}: one tick with {params.communities:,} idle communities "
        f"vs {params.baseline:,}, median of {params.ticks}",
        results,
        prefix,
    )
