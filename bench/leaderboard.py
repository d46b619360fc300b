"""P3: the weekly leaderboard (top 10 and "my rank") stays flat as the history grows.

The history is bulk-loaded (COPY on PostgreSQL, executemany on SQLite), never through
the engine: communities of `players` members play one quiz of `rounds_per_week` rounds
a week, everyone answers every round, and the scores table holds each player's week and
all-time rows as closing rounds would have left them.

First the measured community has `recent_weeks` weeks (`small_answers` answers in all);
the board of its current week is timed through `engine.leaderboard`, asked by the
player ranked last (the longest rank count). Then older weeks and other communities are
added up to `large_answers` answers, with the current week untouched, and the very same
board is timed again.
"""

from __future__ import annotations

import json
import random
import sqlite3
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from sqlalchemy import insert, text

from bench.common import (
    SCHEMA,
    Database,
    NullChat,
    Results,
    bench_bank,
    median,
    now,
    percentile,
    print_figures,
)
from bot.core.clock import ManualClock
from bot.core.engine import QuizEngine
from bot.core.model import CommunityRef, PlayerRef, QuizOptions, SubjectKind
from bot.core.periods import ALL_TIME, week_label
from bot.core.ports import StandingsQuery
from bot.store import SqlStore
from bot.store.codec import options_to_json
from bot.store.tables import AnswerRow, CommunityRow, PlayerRow, QuizRow, RoundRow

METRIC = "p3_leaderboard"
PLATFORM = "bench"
NOW = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)  # a Wednesday
ANSWER_COLUMNS = (
    "round_id",
    "player_id",
    "selected",
    "answered_at",
    "team_id",
    "correct",
    "points",
    "streak",
)
SELECTED = [json.dumps([n]) for n in range(4)]
ANSWER_PLAYER_INDEX = next(
    i for i in AnswerRow.__table__.indexes if i.name == "ix_answers_player_id"
)
SCORE_COLUMNS = (
    "community_id",
    "period",
    "subject_kind",
    "subject_id",
    "points",
    "correct",
    "answered",
)


@dataclass(frozen=True)
class Params:
    """The sizes of the two histories and how often the board is asked for."""

    players: int = 500
    rounds_per_week: int = 5
    recent_weeks: int = 4
    small_answers: int = 10_000
    large_answers: int = 1_000_000
    repeats: int = 200
    chunk: int = 50_000

    @classmethod
    def tiny(cls) -> Params:
        """A size for the smoke test."""
        return cls(
            players=20,
            rounds_per_week=2,
            recent_weeks=2,
            small_answers=80,
            large_answers=800,
            repeats=5,
        )

    def quick(self) -> Params:
        """A tenth of the size: 100,000 answers of history against the same 10,000."""
        return replace(self, large_answers=self.large_answers // 10, repeats=self.repeats // 4)

    @property
    def answers_per_week(self) -> int:
        """Answers a community gives in a week."""
        return self.players * self.rounds_per_week


@dataclass
class History:
    """What has been loaded so far, and what waits in buffers for the next bulk load."""

    db: Database
    store: SqlStore
    params: Params
    communities: int = 0
    players: int = 0
    quizzes: int = 0
    rounds: int = 0
    answers: int = 0
    quiz_rows: list[dict[str, Any]] = field(default_factory=list)
    round_rows: list[dict[str, Any]] = field(default_factory=list)
    answer_rows: list[tuple[Any, ...]] = field(default_factory=list)
    score_rows: list[tuple[Any, ...]] = field(default_factory=list)
    all_time: dict[tuple[int, int], list[int]] = field(default_factory=dict)
    answer_index_dropped: bool = False

    def add_week(self, community_id: int, members: list[int], week: int) -> None:
        """One week (`week` weeks before NOW) of one community: quiz, rounds, answers,
        scores; buffered, and loaded in bulk once enough has piled up."""
        params = self.params
        rng = random.Random(community_id * 1000 + week)
        start = NOW - timedelta(weeks=week, days=2)
        self.quizzes += 1
        options = QuizOptions(decks=("bench",), questions=params.rounds_per_week, seconds=30)
        self.quiz_rows.append(
            {
                "id": self.quizzes,
                "community_id": community_id,
                "platform": PLATFORM,
                "channel_id": f"chan-{community_id}",
                "host_id": members[0],
                "options": options_to_json(options),
                "question_ids": [f"bench-{p}" for p in range(1, params.rounds_per_week + 1)],
                "status": "finished",
                "created_at": start,
            }
        )
        totals: dict[int, list[int]] = {m: [0, 0, 0] for m in members}
        for position in range(1, params.rounds_per_week + 1):
            self.rounds += 1
            opened = start + timedelta(minutes=position)
            self.round_rows.append(
                {
                    "id": self.rounds,
                    "quiz_id": self.quizzes,
                    "position": position,
                    "question_id": f"bench-{position}",
                    "question": {},
                    "opened_at": opened,
                    "closes_at": opened + timedelta(seconds=30),
                    "closed_at": opened + timedelta(seconds=30),
                    "status": "closed",
                }
            )
            times = self.stamps([opened + timedelta(seconds=s) for s in range(30)])
            for member in members:
                draw = rng.random()
                correct = draw < 0.6
                points = 500 + int(draw * 833) if correct else 0
                self.answer_rows.append(
                    (
                        self.rounds,
                        member,
                        SELECTED[member % 4],
                        times[member % 30],
                        None,
                        correct,
                        points,
                        0,
                    )
                )
                total = totals[member]
                total[0] += points
                total[1] += int(correct)
                total[2] += 1
        label = week_label(start, "UTC", 0)
        for member, t in totals.items():
            self.score_rows.append((community_id, label, "player", member, t[0], t[1], t[2]))
            kept = self.all_time.setdefault((community_id, member), [0, 0, 0])
            for i in range(3):
                kept[i] += t[i]
        self.answers += len(members) * params.rounds_per_week

    def stamps(self, moments: list[datetime]) -> list[Any]:
        """Datetimes as the bulk load takes them: as they are for COPY, naive UTC text
        (as the store keeps them) for SQLite, converted here once per round rather than
        once per answer."""
        if self.db.postgres:
            return moments
        return [sqlite_stamp(m) for m in moments]

    async def flush(self, *, force: bool = False) -> None:
        """Bulk-load the buffers once they hold `chunk` answers (or now, with force)."""
        if not force and len(self.answer_rows) < self.params.chunk:
            return
        if self.quiz_rows:
            async with self.store.engine.begin() as conn:
                await conn.execute(insert(QuizRow), self.quiz_rows)
                await conn.execute(insert(RoundRow), self.round_rows)
        await copy_rows(self.db, self.store, "answers", ANSWER_COLUMNS, self.answer_rows)
        await copy_rows(self.db, self.store, "scores", SCORE_COLUMNS, self.score_rows)
        self.quiz_rows, self.round_rows, self.answer_rows, self.score_rows = [], [], [], []

    async def drop_answer_index(self) -> None:
        """Load the answers without their player index, which `finish` builds again:
        one sort instead of a million inserts in player order. The board reads only
        the scores, whose indexes are kept."""
        async with self.store.engine.begin() as conn:
            await conn.run_sync(ANSWER_PLAYER_INDEX.drop)
        self.answer_index_dropped = True

    async def finish(self) -> None:
        """Load what is buffered and rewrite the all-time rows from the running totals."""
        await self.flush(force=True)
        async with self.store.engine.begin() as conn:
            await conn.execute(text("DELETE FROM scores WHERE period = 'all'"))
        rows = [(c, ALL_TIME, "player", m, t[0], t[1], t[2]) for (c, m), t in self.all_time.items()]
        await copy_rows(self.db, self.store, "scores", SCORE_COLUMNS, rows)
        async with self.store.engine.begin() as conn:
            if self.answer_index_dropped:
                await conn.run_sync(ANSWER_PLAYER_INDEX.create)
                self.answer_index_dropped = False
            await conn.execute(text("ANALYZE"))  # as autovacuum would, after a bulk load


def community_ref(n: int) -> CommunityRef:
    """Community number n (0 is the measured one)."""
    return CommunityRef(f"guild-{n}", f"Guild {n}")


def player_ref(community: int, k: int) -> PlayerRef:
    """Member k of community n."""
    return PlayerRef(f"c{community}-p{k}", f"Player {community}.{k}")


async def copy_rows(
    db: Database, store: SqlStore, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    """Bulk-load rows: COPY on PostgreSQL, executemany on SQLite."""
    if not rows:
        return
    if db.postgres:
        conn = await copy_connection(db)
        try:
            await conn.copy_records_to_table(table, records=rows, columns=list(columns))
        finally:
            await conn.close()
        return
    await store.engine.dispose()  # nothing else holds the file while sqlite3 writes
    marks = ", ".join("?" for _ in columns)
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
    # rows come with their datetimes as text already (History.stamps); a fresh sqlite3
    # connection does not check foreign keys, and the rows are consistent by making
    conn = sqlite3.connect(db.sqlite_path)
    try:
        # straight into the file, no WAL to copy it from again; back to WAL for the store
        conn.execute("PRAGMA journal_mode=MEMORY")
        conn.execute("PRAGMA synchronous=OFF")
        with conn:
            conn.executemany(sql, rows)
        conn.execute("PRAGMA journal_mode=WAL")
    finally:
        conn.close()


async def copy_connection(db: Database) -> asyncpg.Connection:
    """A connection for COPY that skips the foreign-key triggers (the rows are consistent
    by making, and checking 2 million references costs more than the copy itself);
    without the privilege for that, a plain one."""
    settings = {"search_path": SCHEMA}
    try:
        return await asyncpg.connect(
            db.asyncpg_dsn, server_settings={**settings, "session_replication_role": "replica"}
        )
    except asyncpg.InsufficientPrivilegeError:
        return await asyncpg.connect(db.asyncpg_dsn, server_settings=settings)


def sqlite_stamp(moment: datetime) -> str:
    """A datetime as the store keeps it on SQLite: naive UTC text."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")


async def add_community(store: SqlStore, history: History) -> tuple[int, list[int]]:
    """A community with its members; (community id, member ids)."""
    n = history.communities
    history.communities += 1
    ref = community_ref(n)
    first = history.players + 1
    async with store.engine.begin() as conn:
        await conn.execute(
            insert(CommunityRow),
            [
                {
                    "id": n + 1,
                    "platform": PLATFORM,
                    "external_id": ref.external_id,
                    "name": ref.name,
                    "timezone": "UTC",
                    "week_start": 0,
                    "settings": {"timezone": "UTC"},
                }
            ],
        )
        await conn.execute(
            insert(PlayerRow),
            [
                {
                    "id": first + k,
                    "platform": PLATFORM,
                    "external_id": player_ref(n, k).external_id,
                    "display_name": player_ref(n, k).display_name,
                }
                for k in range(history.params.players)
            ],
        )
    history.players += history.params.players
    return n + 1, list(range(first, first + history.params.players))


async def time_board(engine: QuizEngine, me: PlayerRef, repeats: int) -> list[float]:
    """Seconds per weekly board with "my rank", asked `repeats` times after a warm-up."""
    guild = community_ref(0)
    for _ in range(max(3, repeats // 10)):
        card = await engine.leaderboard(guild, period="week", me=me)
    assert card.me is not None and len(card.rows) == 10
    samples = []
    for _ in range(repeats):
        started = now()
        await engine.leaderboard(guild, period="week", me=me)
        samples.append(now() - started)
    return samples


async def last_ranked(store: SqlStore, community_id: int, members: list[int]) -> PlayerRef:
    """The member ranked last on the current week's board."""
    week = week_label(NOW, "UTC", 0)
    standings = await store.standings(
        StandingsQuery(community_id, week, SubjectKind.PLAYER, len(members))
    )
    worst = standings.rows[-1].subject_id
    return player_ref(0, members.index(worst))


async def run(db: Database, results: Results, params: Params | None = None) -> None:
    """Measure P3 on one database and record its figures."""
    params = params or Params()
    await db.reset()
    store = db.store()
    history = History(db, store, params)
    per_week = params.answers_per_week
    weeks = max(params.recent_weeks, params.large_answers // 8 // per_week)
    try:
        measured, members = await add_community(store, history)
        for week in range(params.recent_weeks):
            history.add_week(measured, members, week)
        await history.finish()
        small_answers = history.answers
        engine = QuizEngine(
            store, bench_bank(), NullChat(), platform=PLATFORM, clock=ManualClock(NOW)
        )
        me = await last_ranked(store, measured, members)
        small = await time_board(engine, me, params.repeats)

        # older weeks of the measured community, then other communities as long
        started = now()
        await history.drop_answer_index()
        for week in range(params.recent_weeks, weeks):
            history.add_week(measured, members, week)
            await history.flush()
        while history.answers + per_week <= params.large_answers:
            other, others = await add_community(store, history)
            for week in range(weeks):
                if history.answers + per_week > params.large_answers:
                    break
                history.add_week(other, others, week)
                await history.flush()
        await history.finish()
        load_seconds = now() - started
        engine = QuizEngine(
            store, bench_bank(), NullChat(), platform=PLATFORM, clock=ManualClock(NOW)
        )
        large = await time_board(engine, me, params.repeats)
        large_answers = history.answers
        score_rows = await count_rows(store, "scores")
    finally:
        await store.close()

    prefix = f"{METRIC}.{db.name}."
    results.reference(prefix + "small_history_answers", small_answers, "answers")
    results.reference(prefix + "large_history_answers", large_answers, "answers")
    results.reference(prefix + "large_history_score_rows", score_rows, "rows")
    results.reference(prefix + "median_ms_small", median(small) * 1000, "ms")
    results.reference(prefix + "p99_ms_small", percentile(small, 99) * 1000, "ms")
    results.reference(prefix + "median_ms_large", median(large) * 1000, "ms")
    results.reference(prefix + "p99_ms_large", percentile(large, 99) * 1000, "ms")
    results.reference(prefix + "bulk_load_s", load_seconds, "s")
    results.at_most(
        prefix + "ratio",
        median(large) / median(small),
        "x small",
        2.0,
        baseline=f"x {prefix}median_ms_small",
    )
    print_figures(
        f"P3 leaderboard on {db.name}: weekly top 10 + my rank ({params.players} players "
        f"on the board), {small_answers:,} then {large_answers:,} answers, "
        f"{params.repeats} boards each",
        results,
        prefix,
    )


async def count_rows(store: SqlStore, table: str) -> int:
    """Rows in a table."""
    async with store.engine.connect() as conn:
        return int((await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())
