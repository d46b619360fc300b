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
from datetime import timedelta

from sqlalchemy import insert, select

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
from bot.core.model import CommunityRef, Mode, PlayerRef, StartRequest
from bot.store import SqlStore
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


async def run(db: Database, results: Results, params: Params | None = None) -> None:
    """Measure P4a on one database and record its figures."""
    params = params or Params()
    clock = ManualClock()
    store, engine, team_of = await setup(db, params, clock)
    rng = random.Random(5)
    request = StartRequest(decks=("bench",), questions=ROUNDS, seconds=30, mode=Mode.TEAMS)
    samples: list[float] = []
    try:
        for q in range(params.quizzes):
            quiz = await engine.start(GUILD, f"chan-{q}", HOST, request)
            for _ in range(ROUNDS):
                rnd = await store.open_round(quiz.id)
                assert rnd is not None
                async with store.engine.begin() as conn:
                    await conn.execute(
                        insert(AnswerRow),
                        [
                            {
                                "round_id": rnd.id,
                                "player_id": player,
                                "selected": [rng.randrange(4)],
                                "answered_at": rnd.opened_at
                                + timedelta(seconds=rng.uniform(0, 29)),
                                "team_id": team,
                            }
                            for player, team in team_of.items()
                        ],
                    )
                clock.advance(30)
                started = now()
                closed = await engine.close_round(rnd.id)
                samples.append(now() - started)
                assert closed is not None and len(closed.decision.answers) == params.answers
                assert len(closed.decision.team_votes) == params.teams
    finally:
        await store.close()
    prefix = f"{METRIC}.{db.name}."
    results.reference(prefix + "closes", len(samples), "rounds")
    results.reference(prefix + "p90_ms", percentile(samples, 90) * 1000, "ms")
    results.reference(prefix + "max_ms", max(samples) * 1000, "ms")
    results.at_most(prefix + "median_ms", median(samples) * 1000, "ms", 100)
    print_figures(
        f"P4 round close on {db.name}: {params.answers} answers in {params.teams} teams, "
        f"{len(samples)} closes",
        results,
        prefix,
    )
