"""Answers: one per player per round, whatever the concurrency, and never lost by a close."""

from __future__ import annotations

import asyncio
from datetime import UTC, timedelta

from bot.core.model import RoundStatus
from bot.core.ports import AnswerOutcome, ClosedRound
from bot.store import SqlStore
from tests.store.helpers import SECONDS, T0, decide, start_quiz


async def test_concurrent_identical_clicks_give_one_answer(store: SqlStore) -> None:
    _, _, first = await start_quiz(store)
    player = await store.player("test", "p1", "Ada")
    now = T0 + timedelta(seconds=2)

    results = await asyncio.gather(
        *(store.add_answer(first.id, player.id, (1,), now) for _ in range(200))
    )

    outcomes = [r.outcome for r in results]
    assert outcomes.count(AnswerOutcome.INSERTED) == 1
    assert outcomes.count(AnswerOutcome.DUPLICATE) == 199
    assert await store.count_answers(first.id) == 1
    for r in results:
        assert r.answer is not None
        assert r.answer.selected == (1,)
        assert r.answer.answered_at == now


async def test_answer_after_deadline_or_close_is_closed(store: SqlStore) -> None:
    _, _, first = await start_quiz(store)
    ada = await store.player("test", "p1", "Ada")
    bob = await store.player("test", "p2", "Bob")

    late = await store.add_answer(first.id, ada.id, (0,), first.closes_at)
    assert late.outcome is AnswerOutcome.CLOSED
    assert late.answer is None

    ok = await store.add_answer(first.id, bob.id, (2, 0), T0 + timedelta(seconds=1))
    assert ok.outcome is AnswerOutcome.INSERTED
    assert ok.answer is not None and ok.answer.selected == (0, 2)
    assert await store.close_round(first.id, T0 + timedelta(seconds=3), decide) is not None

    after = await store.add_answer(first.id, ada.id, (0,), T0 + timedelta(seconds=4))
    assert after.outcome is AnswerOutcome.CLOSED
    again = await store.add_answer(first.id, bob.id, (1,), T0 + timedelta(seconds=4))
    assert again.outcome is AnswerOutcome.DUPLICATE
    assert again.answer is not None and again.answer.selected == (0, 2)
    assert (await store.add_answer(999_999, ada.id, (0,), T0)).outcome is AnswerOutcome.CLOSED


async def test_change_answer_only_while_open(store: SqlStore) -> None:
    _, _, first = await start_quiz(store)
    ada = await store.player("test", "p1", "Ada")
    assert not await store.change_answer(first.id, ada.id, (1,), T0)
    await store.add_answer(first.id, ada.id, (1,), T0 + timedelta(seconds=1))

    assert await store.change_answer(first.id, ada.id, (2,), T0 + timedelta(seconds=5))
    dup = await store.add_answer(first.id, ada.id, (0,), T0 + timedelta(seconds=6))
    assert dup.answer is not None
    assert dup.answer.selected == (2,)
    assert dup.answer.answered_at == T0 + timedelta(seconds=5)
    assert not await store.change_answer(first.id, ada.id, (0,), first.closes_at)


async def race_answers_against_close(answering: SqlStore, closing: SqlStore, channel: str) -> None:
    """40 players click while another store closes the round halfway through."""
    _, _, first = await start_quiz(answering, channel=channel, questions=1)
    players = [await answering.player("test", f"{channel}-{i}", f"P{i}") for i in range(40)]
    now = T0 + timedelta(seconds=1)
    halfway = asyncio.Event()
    done: list[int] = []

    async def click(player_id: int, delay: float) -> tuple[int, AnswerOutcome]:
        await asyncio.sleep(delay)
        result = await answering.add_answer(first.id, player_id, (0,), now)
        done.append(player_id)
        if len(done) == len(players) // 2:
            halfway.set()
        return player_id, result.outcome

    async def close() -> ClosedRound | None:
        # Close while the second half of the clicks is still arriving.
        await halfway.wait()
        return await closing.close_round(first.id, now, decide)

    clicks = [click(p.id, 0.0005 * i) for i, p in enumerate(players)]
    *results, closed = await asyncio.gather(*clicks, close())
    assert isinstance(closed, ClosedRound)

    accepted = {pid for pid, outcome in results if outcome is AnswerOutcome.INSERTED}
    refused = {pid for pid, outcome in results if outcome is AnswerOutcome.CLOSED}
    assert accepted | refused == {p.id for p in players}
    assert {a.player_id for a in closed.context.answers} == accepted
    assert await answering.count_answers(first.id) == len(accepted)


async def test_answer_versus_close_never_loses_an_accepted_answer(database_url: str) -> None:
    answering = SqlStore.from_url(database_url)
    closing = SqlStore.from_url(database_url)
    try:
        for attempt in range(3):
            await race_answers_against_close(answering, closing, f"race{attempt}")
    finally:
        await answering.close()
        await closing.close()


async def test_expected_players_and_counts(store: SqlStore) -> None:
    _, _, first = await start_quiz(store)
    ada = await store.player("test", "p1", "Ada")
    bob = await store.player("test", "p2", "Bob")
    cy = await store.player("test", "p3", "Cy")

    assert await store.missing_expected(first.quiz_id, first.id, [ada.id]) == 1
    await store.add_answer(first.id, ada.id, (0,), T0 + timedelta(seconds=1))
    await store.add_answer(first.id, bob.id, (1,), T0 + timedelta(seconds=2))
    assert await store.missing_expected(first.quiz_id, first.id, [ada.id]) == 0
    assert await store.count_answers(first.id) == 2

    closed = await store.close_round(first.id, T0 + timedelta(seconds=3), decide)
    assert closed is not None and closed.next_round is not None
    second = closed.next_round
    assert second.position == 2
    assert second.status is RoundStatus.OPEN
    # Ada and Bob answered round 1, Cy is on the roster.
    assert await store.missing_expected(first.quiz_id, second.id, [cy.id]) == 3
    await store.add_answer(second.id, bob.id, (0,), second.opened_at + timedelta(seconds=1))
    assert await store.missing_expected(first.quiz_id, second.id, [cy.id]) == 2


async def test_datetimes_come_back_aware_utc(store: SqlStore) -> None:
    _, _, first = await start_quiz(store)
    loaded = await store.round(first.id)
    assert loaded is not None
    assert loaded.opened_at == T0
    assert loaded.opened_at.tzinfo is not None
    assert loaded.opened_at.utcoffset() == timedelta(0)
    assert loaded.closes_at == T0 + timedelta(seconds=SECONDS)
    other_zone = T0.astimezone(UTC).astimezone(tz=None)
    assert loaded.opened_at == other_zone
