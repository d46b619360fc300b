"""The outbox end to end through the engine and the real store: what a change of state
writes is delivered once, in order, whatever the chat or the process does."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta

import pytest

from bot.core.bank import QuestionBank
from bot.core.clock import ManualClock
from bot.core.delivery import RetryLater
from bot.core.dispatch import LEASE, MAX_ATTEMPTS, Dispatcher
from bot.core.engine import QuizEngine
from bot.core.errors import CannotPostError
from bot.core.model import QuizStatus, Scoring, StartRequest
from bot.core.outbox import OutboxBatch, OutboxKind, OutboxMessage
from bot.store import SqlStore

from .helpers import BASICS, CHANNEL, GUILD, HOST, right_positions, user
from .outbox_helpers import (
    Call,
    FlakyChat,
    dies_on,
    every_third,
    outbox_statuses,
    settle,
    undeliverable_on,
)

THREE = StartRequest(decks=("basics",), questions=3, seconds=20, scoring=Scoring.ACCURACY)


def engine_on(store: SqlStore, chat: FlakyChat, clock: ManualClock, seed: int = 7) -> QuizEngine:
    return QuizEngine(
        store,
        QuestionBank([BASICS]),
        chat,
        platform="test",
        clock=clock,
        rng=random.Random(seed),
        refresh_interval=0.0,
    )


async def answer_elsewhere(store: SqlStore, round_id: int, n: int, clock: ManualClock) -> None:
    """Player n answers through another process (no count refresh here)."""
    player = await store.player("test", f"u{n}", f"User {n}")
    await store.add_answer(round_id, player.id, (0,), clock.now())


async def play_to_the_end(
    engine: QuizEngine, chat: FlakyChat, clock: ManualClock, store: SqlStore
) -> None:
    """Answer each question right, let it run out, deliver, until the summary."""
    for _ in range(10):
        await settle(engine, clock, store)
        if chat.summaries:
            return
        card = chat.current
        await engine.record_answer(card.round_id, user(1), right_positions(card))
        clock.advance(21)
        await engine.close_due_rounds()
    raise AssertionError("the quiz never ended")


def expected_calls(chat: FlakyChat) -> list[tuple[str, int]]:
    rounds = [card.round_id for card in chat.questions]
    calls: list[tuple[str, int]] = []
    for round_id in rounds:
        calls += [("question", round_id), ("reveal", round_id)]
    return [*calls, ("summary", chat.summaries[0].quiz_id)]


async def test_a_flaky_chat_gets_every_message_once_and_in_order(
    store: SqlStore, caplog: pytest.LogCaptureFixture
) -> None:
    clock = ManualClock()
    chat = FlakyChat(fault=every_third)
    engine = engine_on(store, chat, clock)
    await engine.start(GUILD, CHANNEL, HOST, THREE)
    await play_to_the_end(engine, chat, clock, store)

    shown = [(kind, n) for kind, n, _ in chat.delivered if kind != "count"]
    assert shown == expected_calls(chat)
    assert len(chat.questions) == 3
    keys = [key for *_, key in chat.delivered]
    assert len(set(keys)) == len(keys)  # one key per message ...
    retried = [a for a in chat.attempts if chat.attempts.count(a) > 1]
    assert retried and all(a in chat.delivered for a in retried)  # ... kept across retries
    statuses = await outbox_statuses(store)
    assert {status for kind, status in statuses if kind != "count"} == {"done"}
    assert {status for kind, status in statuses if kind == "count"} <= {"done", "dropped"}


async def test_a_close_whose_process_died_is_shown_by_the_next_process(
    database_url: str,
) -> None:
    clock = ManualClock()
    first_store, second_store = SqlStore.from_url(database_url), SqlStore.from_url(database_url)
    try:
        dead_chat = FlakyChat()
        dead = engine_on(first_store, dead_chat, clock)
        await dead.start(GUILD, CHANNEL, HOST, THREE)
        card = dead_chat.current
        await answer_elsewhere(first_store, card.round_id, 1, clock)
        clock.advance(21)
        # the close commits, and the process dies before it could post anything: it had
        # claimed the reveal as it wrote it, so the reveal waits for that claim's lease
        dead_chat.fault = dies_on("reveal")
        await dead.close_round(card.round_id)
        await dead.idle()
        await first_store.close()

        chat = FlakyChat()
        fresh = engine_on(second_store, chat, clock)
        await fresh.idle()
        assert chat.delivered == []  # the lease still holds
        clock.advance(LEASE.total_seconds())
        await fresh.idle()
        assert [(k, n) for k, n, _ in chat.delivered] == [
            ("reveal", card.round_id),
            ("question", chat.current.round_id),
        ]
        assert chat.reveals[0].answered == 1
        rnd = await second_store.open_round(chat.current.quiz_id)
        assert rnd is not None and rnd.message_ref == f"msg-{rnd.id}"
        # a close by a process that delivers nothing itself (its rows wait unclaimed)
        # is shown at once by the next process that polls
        clock.advance(21)
        closed = await second_store.close_round(rnd.id, clock.now(), fresh._decider())
        assert closed is not None
        await play_to_the_end(fresh, chat, clock, second_store)
        assert [(k, n) for k, n, _ in chat.delivered][2:4] == [
            ("reveal", rnd.id),
            ("question", chat.questions[1].round_id),
        ]
        assert len(chat.summaries) == 1 and len(chat.reveals) == 3
        assert dead_chat.delivered == [("question", card.round_id, dead_chat.delivered[0][2])]
    finally:
        await second_store.close()


async def test_two_dispatchers_never_send_a_row_twice_and_keep_each_lane_in_order(
    database_url: str,
) -> None:
    clock = ManualClock()
    stores = [SqlStore.from_url(database_url) for _ in range(2)]
    shared: list[tuple[str, str, int]] = []
    chats = [FlakyChat(channel_log=shared, delay=0.003) for _ in stores]
    try:
        writer = engine_on(stores[0], FlakyChat(), clock)
        expected: dict[str, list[tuple[str, int]]] = {}
        quizzes = [await writer.start(GUILD, f"lane-{n}", HOST, THREE) for n in range(12)]
        await writer.dispatcher.shutdown()  # from now on its rows wait for the two below
        for quiz in quizzes:
            # two closes commit and nothing is delivered: reveal 1, question 2 (closed
            # before shown: dropped), reveal 2 and, two rounds without answers, the
            # summary wait in the lane
            closed = []
            for _ in range(2):
                rnd = await stores[0].open_round(quiz.id)
                assert rnd is not None
                await stores[0].close_round(rnd.id, clock.now(), writer._decider())
                closed.append(rnd.id)
            expected[quiz.channel_id] = [
                ("reveal", closed[0]),
                ("reveal", closed[1]),
                ("summary", quiz.id),
            ]
        dispatchers = [
            Dispatcher(store, chat, platform="test", clock=clock)
            for store, chat in zip(stores, chats, strict=True)
        ]
        await asyncio.gather(*(d.drain() for d in dispatchers), *(d.drain() for d in dispatchers))
        for channel, calls in expected.items():
            assert [(k, n) for c, k, n in shared if c == channel] == calls
        assert len(shared) == 3 * len(expected)  # none twice
    finally:
        for store in stores:
            await store.close()


async def test_a_late_question_moves_its_deadline(store: SqlStore) -> None:
    clock = ManualClock()
    refused = {"first": True}

    def busy_once(n: int, call: Call) -> Exception | None:
        if call[0] == "question" and refused.pop("first", False):
            return RetryLater("429 Too Many Requests", retry_after=30)
        return None

    chat = FlakyChat(fault=busy_once)
    engine = engine_on(store, chat, clock)
    quiz = await engine.start(GUILD, CHANNEL, HOST, THREE)
    assert chat.questions == []  # the platform said: retry in 30 s
    started = clock.now()
    clock.advance(25)  # past the round's 20 s: but nobody has seen the question
    assert await engine.close_due_rounds() == 0
    clock.advance(5)
    await engine.idle()
    shown = chat.current
    assert shown.closes_at == started + timedelta(seconds=50)  # 20 s from when it showed
    rnd = await store.open_round(quiz.id)
    assert rnd is not None
    assert (rnd.opened_at, rnd.closes_at) == (started + timedelta(seconds=30), shown.closes_at)
    clock.advance(19)
    assert await engine.close_due_rounds() == 0
    clock.advance(2)
    assert await engine.close_due_rounds() == 1


async def test_a_count_edit_is_computed_when_sent_and_dropped_after_the_close(
    store: SqlStore, database_url: str
) -> None:
    clock = ManualClock()
    # the edits and the close come from another process, so they wait for this one
    elsewhere = SqlStore.from_url(database_url)
    chat = FlakyChat()
    engine = engine_on(store, chat, clock)
    quiz = await engine.start(GUILD, CHANNEL, HOST, THREE)
    card = chat.current
    count = [OutboxMessage(OutboxKind.COUNT, CHANNEL, card.round_id)]
    # a refresh writes an edit; two more answers come before it is sent, and a second
    # refresh of the same round merges into the pending edit
    await elsewhere.add_outbox([OutboxBatch("test", quiz.community_id, None, count)], clock.now())
    for n in (1, 2):
        await answer_elsewhere(elsewhere, card.round_id, n, clock)
    await elsewhere.add_outbox([OutboxBatch("test", quiz.community_id, None, count)], clock.now())
    await engine.idle()
    assert [c.answered for c in chat.updates] == [2]

    # an edit written just before the close reaches the lane before the reveal: dropped
    await elsewhere.add_outbox([OutboxBatch("test", quiz.community_id, None, count)], clock.now())
    clock.advance(21)
    await elsewhere.close_round(card.round_id, clock.now(), engine._decider())
    await elsewhere.close()
    await engine.idle()
    assert [c.answered for c in chat.updates] == [2]
    assert [k for k, *_ in chat.delivered] == ["question", "count", "reveal", "question"]
    statuses = await outbox_statuses(store)
    assert statuses.count(("count", "dropped")) == 1
    assert statuses.count(("count", "done")) == 1


async def test_an_undeliverable_reveal_stops_the_quiz_and_tells_the_host(
    store: SqlStore, caplog: pytest.LogCaptureFixture
) -> None:
    clock = ManualClock()
    chat = FlakyChat(fault=undeliverable_on("reveal"))
    engine = engine_on(store, chat, clock)
    quiz = await engine.start(GUILD, CHANNEL, HOST, THREE)
    clock.advance(21)
    await engine.close_due_rounds()
    await settle(engine, clock, store)

    stopped = await store.quiz(quiz.id)
    assert stopped is not None and stopped.status is QuizStatus.STOPPED
    assert [k for k, *_ in chat.delivered] == ["question"]  # no second question
    assert await store.open_round(quiz.id) is None
    assert await outbox_statuses(store) == [
        ("question", "done"),
        ("reveal", "failed"),
        ("question", "dropped"),
    ]
    [(host, text)] = chat.host_notes
    assert host == HOST.external_id and "missing permission" in text
    assert "cannot be delivered: missing permission; the quiz is stopped" in caplog.text
    # the channel is free again
    chat.fault = None
    await engine.start(GUILD, CHANNEL, HOST, THREE)


async def test_a_start_that_cannot_post_says_so_and_a_failing_chat_is_given_up(
    store: SqlStore,
) -> None:
    clock = ManualClock()
    chat = FlakyChat(fault=undeliverable_on("question"))
    engine = engine_on(store, chat, clock)
    with pytest.raises(CannotPostError, match="missing permission"):
        await engine.start(GUILD, CHANNEL, HOST, THREE)

    # a platform that keeps failing for now is tried MAX_ATTEMPTS times, then given up
    chat.fault = lambda n, call: RetryLater("500 Internal Server Error")
    quiz = await engine.start(GUILD, CHANNEL, HOST, THREE)
    await settle(engine, clock, store)
    assert len(chat.attempts) == 1 + MAX_ATTEMPTS
    stopped = await store.quiz(quiz.id)
    assert stopped is not None and stopped.status is QuizStatus.STOPPED
    assert await store.open_round(quiz.id) is None
