"""P4a: closing and scoring a round of `answers` answers in `teams` teams.

Teams quizzes of five rounds run one after the other; before each close, the round's
answers are bulk-inserted (every player votes, spread over the round), then
`engine.close_round` is timed: it marks the round closed, reads the answers and the
previous round's streaks, scores players and team votes, writes answers, team answers
and both score periods, opens the next round (or ends the quiz and sums it up), and
shows the reveal, all through the real store.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select

from bench.close_floor import CloseFloor
from bench.common import (
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
from bot.core.model import CommunityRef, Mode, PlayerRef, Round, StartRequest
from bot.core.periods import ALL_TIME, week_label
from bot.core.ports import ClosedRound
from bot.runtime import settle_heap
from bot.store import SqlStore
from bot.store.closing import score_rows
from bot.store.tables import AnswerRow, PlayerRow, TeamMemberRow, TeamRow

METRIC = "p4_round_close"
PLATFORM = "bench"
GUILD = CommunityRef("bench-guild", "Bench guild")
HOST = PlayerRef("host", "Host")
ROUNDS = 5


@dataclass(frozen=True)
class Params:
    """Round size and how many quizzes are played (five closes each)."""

    answers: int = 500
    teams: int = 50
    quizzes: int = 4

    @classmethod
    def tiny(cls) -> Params:
        """A size for the smoke test."""
        return cls(answers=20, teams=4, quizzes=1)

    def quick(self) -> Params:
        """The same round, closed a quarter as often."""
        return Params(self.answers, self.teams, 1)


async def setup(
    db: Database, params: Params, clock: ManualClock
) -> tuple[SqlStore, QuizEngine, dict[int, int]]:
    """Store, engine, players in teams; returns {player id: team id}."""
    await db.reset()
    store = db.store()
    bank = bench_bank()
    await store.sync_questions(bank.all_questions())
    engine = QuizEngine(
        store, bank, NullChat(), platform=PLATFORM, clock=clock, rng=random.Random(3)
    )
    community = await engine.community(GUILD)
    async with store.engine.begin() as conn:
        await conn.execute(
            insert(PlayerRow),
            [
                {"platform": PLATFORM, "external_id": f"p{n}", "display_name": f"Player {n}"}
                for n in range(params.answers)
            ],
        )
        await conn.execute(
            insert(TeamRow),
            [
                {"community_id": community.id, "name": f"Team {t}", "disbanded": False}
                for t in range(params.teams)
            ],
        )
        players = list((await conn.execute(select(PlayerRow.id).order_by(PlayerRow.id))).scalars())
        teams = list((await conn.execute(select(TeamRow.id).order_by(TeamRow.id))).scalars())
        team_of = {p: teams[i % len(teams)] for i, p in enumerate(players)}
        await conn.execute(
            insert(TeamMemberRow),
            [
                {"community_id": community.id, "player_id": p, "team_id": t}
                for p, t in team_of.items()
            ],
        )
    return store, engine, team_of


async def add_answers(
    store: SqlStore, round_id: int, opened_at: datetime, answers: list[dict[str, Any]]
) -> None:
    """Bulk-insert a round's answers (player, team, choice, seconds into the round)."""
    async with store.engine.begin() as conn:
        await conn.execute(
            insert(AnswerRow),
            [
                {
                    "round_id": round_id,
                    "player_id": a["player"],
                    "team_id": a["team"],
                    "selected": [a["choice"]],
                    "answered_at": opened_at + timedelta(seconds=a["seconds"]),
                }
                for a in answers
            ],
        )


async def open_round(store: SqlStore, quiz_id: int) -> Round:
    """A quiz's open round."""
    rnd = await store.open_round(quiz_id)
    assert rnd is not None
    return rnd


async def run(db: Database, results: Results, params: Params | None = None) -> None:
    """Measure P4a on one database and record its figures."""
    params = params or Params()
    clock = ManualClock()
    store, engine, team_of = await setup(db, params, clock)
    settle_heap()  # as `quizbot serve` does once started
    rng = random.Random(5)
    request = StartRequest(decks=("bench",), questions=ROUNDS, seconds=30, mode=Mode.TEAMS)
    samples: list[float] = []
    floors: list[float] = []
    scoring: list[float] = []
    floor = CloseFloor(db)
    await floor.open()
    try:
        for q in range(params.quizzes):
            quiz = await engine.start(GUILD, f"chan-{q}", HOST, request)
            for r in range(ROUNDS):
                rnd = await open_round(store, quiz.id)
                # the floor's round: same community, players, teams and answers
                twin_quiz = await engine.start(GUILD, f"floor-{q}-{r}", HOST, request)
                twin = await open_round(store, twin_quiz.id)
                answers = [
                    {
                        "player": p,
                        "team": t,
                        "choice": rng.randrange(4),
                        "seconds": rng.uniform(0, 29),
                    }
                    for p, t in team_of.items()
                ]
                await add_answers(store, rnd.id, rnd.opened_at, answers)
                await add_answers(store, twin.id, twin.opened_at, answers)
                # the twin quiz's first question goes out in the background (the outbox
                # dispatcher): let it finish now, not during the floor or the close,
                # where it would share the writer and the event loop with what is timed
                await engine.idle()
                clock.advance(30)
                periods = (week_label(clock.now(), "UTC"), ALL_TIME)
                started = now()
                read = await floor.close_round(
                    twin.id, twin_quiz.community_id, periods, clock.now()
                )
                floors.append(now() - started)
                assert read == params.answers
                started = now()
                closed = await engine.close_round(rnd.id)
                samples.append(now() - started)
                assert closed is not None and len(closed.decision.answers) == params.answers
                assert len(closed.decision.team_votes) == params.teams
                assert set(closed.decision.periods) == set(periods)
                scoring.append(time_scoring(engine, closed))
                # the close's reveal and next question go out now, not during the next
                # floor or close, where they would share the writer with what is timed
                await engine.idle()
    finally:
        await floor.close()
        await store.close()
    record(db, results, params, samples, floors, scoring)


def time_scoring(engine: QuizEngine, closed: ClosedRound) -> float:
    """Seconds of the close's Python: scoring the round again from what the close read
    (engine.decide), and building its score rows."""
    started = now()
    decision = engine.decide(closed.context)
    score_rows(decision)
    return now() - started


def record(
    db: Database,
    results: Results,
    params: Params,
    samples: list[float],
    floors: list[float],
    scoring: list[float],
) -> None:
    """The figures of a run."""
    prefix = f"{METRIC}.{db.name}."
    ms = 1000
    results.reference(prefix + "closes", len(samples), "rounds")
    results.reference(prefix + "median_ms", median(samples) * ms, "ms")
    results.reference(prefix + "p90_ms", percentile(samples, 90) * ms, "ms")
    results.reference(prefix + "max_ms", max(samples) * ms, "ms")
    results.reference(prefix + "floor_ms", median(floors) * ms, "ms")
    results.reference(prefix + "scoring_ms", median(scoring) * ms, "ms")
    results.reference(
        prefix + "rest_ms", (median(samples) - median(floors) - median(scoring)) * ms, "ms"
    )
    results.at_most(
        prefix + "vs_floor",
        median(samples) / median(floors),
        "x floor",
        1.5,
        baseline=f"x {prefix}floor_ms",
    )
    print_figures(
        f"P4 round close on {db.name}: {params.answers} answers in {params.teams} teams, "
        f"{len(samples)} closes (medians)",
        results,
        prefix,
    )
