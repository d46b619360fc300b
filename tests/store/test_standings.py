"""Leaderboards: top N in board order, the asker's own rank, past periods."""

from __future__ import annotations

from datetime import timedelta

from bot.core.model import QuizStatus, ScoreDelta, SubjectKind
from bot.core.ports import CloseContext, CloseDecision, Decide, StandingsQuery
from bot.store import SqlStore
from tests.store.helpers import T0, start_quiz


def award(points: dict[int, tuple[int, int]], periods: tuple[str, ...]) -> Decide:
    """A decide that adds the given (points, correct) per player id to `periods`."""

    def decide(ctx: CloseContext) -> CloseDecision:
        return CloseDecision(
            answers=(),
            team_votes=(),
            deltas=tuple(
                ScoreDelta(SubjectKind.PLAYER, pid, p, c, 1) for pid, (p, c) in points.items()
            ),
            periods=periods,
            quiz_status=QuizStatus.FINISHED,
            next_round=None,
        )

    return decide


async def scored_round(store: SqlStore, channel: str, decide: Decide) -> None:
    """Open and close a one-round quiz with a `decide` that awards fixed points."""
    _, _, first = await start_quiz(store, channel=channel, questions=1)
    closed = await store.close_round(first.id, T0 + timedelta(seconds=1), decide)
    assert closed is not None


async def test_top_n_my_rank_and_past_periods(store: SqlStore) -> None:
    community = await store.community("test", "guild", "Guild")
    players = [await store.player("test", f"p{i}", f"P{i}") for i in range(8)]
    ids = [p.id for p in players]
    # P0..P7: points and correct answers, with ties broken by correct, then id.
    week = {
        ids[0]: (300, 3),
        ids[1]: (500, 5),
        ids[2]: (300, 4),
        ids[3]: (100, 1),
        ids[4]: (300, 3),
        ids[5]: (0, 0),
        ids[6]: (700, 7),
        ids[7]: (200, 2),
    }
    await scored_round(store, "a", award(week, ("2026-W47", "all")))
    await scored_round(store, "b", award({ids[5]: (1000, 1)}, ("2026-W48", "all")))

    def player_board(period: str, limit: int, me_id: int) -> StandingsQuery:
        return StandingsQuery(community.id, period, SubjectKind.PLAYER, limit, me_id)

    board = await store.standings(player_board("2026-W47", 3, ids[3]))
    assert [(r.rank, r.name, r.points) for r in board.rows] == [
        (1, "P6", 700),
        (2, "P1", 500),
        (3, "P2", 300),
    ]
    assert board.me is not None
    assert (board.me.rank, board.me.name, board.me.points, board.me.correct) == (7, "P3", 100, 1)

    tie = await store.standings(player_board("2026-W47", 3, ids[4]))
    assert tie.me is not None and tie.me.rank == 5  # behind P0 at the same score, lower id
    top = await store.standings(player_board("2026-W47", 3, ids[1]))
    assert top.me == top.rows[1]

    all_time = await store.standings(player_board("all", 2, ids[5]))
    assert [(r.name, r.points) for r in all_time.rows] == [("P5", 1000), ("P6", 700)]
    assert all_time.me == all_time.rows[0]
    latest = await store.standings(player_board("2026-W48", 10, ids[0]))
    assert [r.name for r in latest.rows] == ["P5"]
    assert latest.me is None
    empty = await store.standings(player_board("2025-W01", 10, ids[0]))
    assert empty.rows == () and empty.me is None
    teams = StandingsQuery(community.id, "all", SubjectKind.TEAM, 10)
    assert (await store.standings(teams)).rows == ()
