"""Closing rounds: exactly once across stores and processes, scores added exactly once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.core.errors import ChannelBusyError
from bot.core.model import QuizStatus, RoundStatus, SubjectKind
from bot.core.ports import ClosedRound, StandingsQuery
from bot.store import SqlStore
from tests.store.helpers import POINTS, SECONDS, T0, decide, new_round, start_quiz, week_label


async def test_two_stores_close_due_rounds_exactly_once(database_url: str) -> None:
    first_store = SqlStore.from_url(database_url)
    second_store = SqlStore.from_url(database_url)
    try:
        rounds = []
        for channel in range(8):
            community_id, _, first = await start_quiz(first_store, channel=f"c{channel}")
            player = await first_store.player("test", f"p{channel}", f"Player {channel}")
            await first_store.add_answer(first.id, player.id, (0,), T0 + timedelta(seconds=1))
            rounds.append((first, player.id))
        due = T0 + timedelta(seconds=SECONDS + 1)

        results = await asyncio.gather(
            first_store.close_due_rounds("test", due, decide),
            second_store.close_due_rounds("test", due, decide),
            *(
                s.close_round(r.id, due, decide)
                for r, _ in rounds
                for s in (first_store, second_store)
            ),
        )

        closed: list[ClosedRound] = [*results[0], *results[1]]
        closed += [r for r in results[2:] if isinstance(r, ClosedRound)]
        assert sorted(c.context.round.id for c in closed) == sorted(r.id for r, _ in rounds)
        for c in closed:
            assert c.next_round is not None and c.next_round.position == 2
        assert await first_store.due_round_ids("test", due) == []
        for first, _ in rounds:
            loaded = await second_store.round(first.id)
            assert loaded is not None and loaded.status is RoundStatus.CLOSED
            assert loaded.closed_at == due
        for period in ("all", week_label(due)):
            board = await second_store.standings(
                StandingsQuery(community_id, period, SubjectKind.PLAYER, 20)
            )
            assert [(r.points, r.correct, r.answered) for r in board.rows] == [(POINTS, 1, 1)] * 8
    finally:
        await first_store.close()
        await second_store.close()


async def test_close_round_twice_returns_none(store: SqlStore) -> None:
    community_id, _, first = await start_quiz(store, questions=1)
    ada = await store.player("test", "p1", "Ada")
    await store.add_answer(first.id, ada.id, (0,), T0 + timedelta(seconds=1))
    now = T0 + timedelta(seconds=2)

    closed = await store.close_round(first.id, now, decide)
    assert closed is not None
    assert closed.quiz.status is QuizStatus.FINISHED
    assert closed.next_round is None
    assert await store.close_round(first.id, now, decide) is None
    quiz = await store.quiz(first.quiz_id)
    assert quiz is not None and quiz.status is QuizStatus.FINISHED
    assert await store.running_quiz(community_id, "chan") is None
    board = await store.standings(StandingsQuery(community_id, "all", SubjectKind.PLAYER, 10))
    assert [(r.name, r.points) for r in board.rows] == [("Ada", POINTS)]


async def test_fresh_store_closes_a_round_opened_by_another(database_url: str) -> None:
    opener = SqlStore.from_url(database_url)
    community_id, _, first = await start_quiz(opener, questions=2)
    ada = await opener.player("test", "p1", "Ada")
    await opener.add_answer(first.id, ada.id, (0,), T0 + timedelta(seconds=3))
    await opener.set_message_ref(first.id, "msg-1")
    await opener.close()  # the process that opened the round is gone

    fresh = SqlStore.from_url(database_url)
    try:
        due = first.closes_at + timedelta(seconds=5)
        assert await fresh.due_round_ids("other-platform", due) == []
        assert await fresh.due_round_ids("test", due) == [first.id]
        closed = await fresh.close_due_rounds("test", due, decide)
        assert len(closed) == 1
        ctx = closed[0].context
        assert ctx.round.message_ref == "msg-1"
        assert ctx.round.status is RoundStatus.CLOSED
        assert [(a.player_id, a.selected) for a in ctx.answers] == [(ada.id, (0,))]
        assert ctx.player_names == {ada.id: "Ada"}
        assert ctx.previous_answered is None
        nxt = closed[0].next_round
        assert nxt is not None
        assert await fresh.open_round(first.quiz_id) == nxt
        # Round 2 sees round 1's streaks.
        await fresh.add_answer(nxt.id, ada.id, (0,), nxt.opened_at + timedelta(seconds=1))
        again = await fresh.close_round(nxt.id, nxt.opened_at + timedelta(seconds=2), decide)
        assert again is not None
        assert again.context.previous_streaks == {ada.id: 1}
        assert again.context.previous_answered == 1
        assert again.decision.answers[0].streak == 2
        totals = await fresh.quiz_totals(first.quiz_id, SubjectKind.PLAYER)
        assert [(r.rank, r.name, r.points, r.correct, r.answered) for r in totals] == [
            (1, "Ada", 2 * POINTS, 2, 2)
        ]
        board = await fresh.standings(
            StandingsQuery(community_id, "all", SubjectKind.PLAYER, 5, ada.id)
        )
        assert board.me is not None and board.me.points == 2 * POINTS
    finally:
        await fresh.close()


async def test_answers_in_close_context_are_in_time_order(store: SqlStore) -> None:
    _, _, first = await start_quiz(store)
    ids = []
    for i, offset in enumerate((5, 1, 3, 1)):
        player = await store.player("test", f"p{i}", f"P{i}")
        ids.append(player.id)
        await store.add_answer(first.id, player.id, (i % 3,), T0 + timedelta(seconds=offset))
    closed = await store.close_round(first.id, T0 + timedelta(seconds=6), decide)
    assert closed is not None
    order = [a.player_id for a in closed.context.answers]
    assert order == [ids[1], ids[3], ids[2], ids[0]]
    right = await store.add_answer(first.id, ids[0], (1,), T0 + timedelta(seconds=7))
    wrong = await store.add_answer(first.id, ids[1], (0,), T0 + timedelta(seconds=7))
    assert right.answer is not None and wrong.answer is not None
    assert (right.answer.correct, right.answer.points, right.answer.streak) == (True, POINTS, 1)
    assert (wrong.answer.correct, wrong.answer.points, wrong.answer.streak) == (False, 0, 0)


async def test_one_running_quiz_per_channel(store: SqlStore) -> None:
    community_id, _, first = await start_quiz(store, questions=1)
    with pytest.raises(ChannelBusyError, match="already running in this channel"):
        await start_quiz(store)
    # Another channel is free, and so is this one once the quiz is over.
    await start_quiz(store, channel="elsewhere")
    assert await store.close_round(first.id, T0 + timedelta(seconds=1), decide) is not None
    _, _, again = await start_quiz(store, now=T0 + timedelta(minutes=1))
    running = await store.running_quiz(community_id, "chan")
    assert running is not None and running.id == again.quiz_id


async def test_concurrent_starts_in_one_channel_leave_one_quiz(database_url: str) -> None:
    stores = [SqlStore.from_url(database_url) for _ in range(2)]
    try:
        await start_quiz(stores[0], channel="warmup")
        results = await asyncio.gather(
            *(start_quiz(stores[i % 2]) for i in range(10)), return_exceptions=True
        )
        assert sum(not isinstance(r, BaseException) for r in results) == 1
        assert all(isinstance(r, ChannelBusyError) for r in results if isinstance(r, BaseException))
    finally:
        for s in stores:
            await s.close()


async def test_recent_question_ids_newest_first(store: SqlStore) -> None:
    community_id, _, first = await start_quiz(store, questions=3)
    closed = await store.close_round(first.id, T0 + timedelta(seconds=1), decide)
    assert closed is not None and closed.next_round is not None
    assert await store.recent_question_ids(community_id, "chan", 10) == ["q2", "q1"]
    assert await store.recent_question_ids(community_id, "chan", 1) == ["q2"]
    assert await store.recent_question_ids(community_id, "other", 10) == []
    assert new_round(2, T0).question == closed.next_round.question
