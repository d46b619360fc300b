"""Group commit: a burst of clicks is written in few transactions, and every click still
gets the outcome it would have had alone."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from bot.core.model import Mode
from bot.core.ports import AnswerOutcome
from bot.store import SqlStore
from bot.store.group_commit import GroupCommit
from tests.store.helpers import T0, decide, start_quiz


class Recorder:
    """A batch writer that records its batches and can be told to fail or wait."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.fail_next = False
        self.gate: asyncio.Event | None = None

    async def write(self, items: Sequence[int]) -> list[int]:
        self.batches.append(list(items))
        if self.gate is not None:
            await self.gate.wait()
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("disk full")
        return [i * 10 for i in items]


async def test_callers_arriving_together_share_one_write() -> None:
    recorder = Recorder()
    commits = GroupCommit(recorder.write, max_batch=4)

    results = await asyncio.gather(*(commits.submit(i) for i in range(10)))

    assert results == [i * 10 for i in range(10)]
    assert recorder.batches == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


async def test_a_lone_caller_is_written_at_once() -> None:
    recorder = Recorder()
    commits = GroupCommit(recorder.write)

    assert await commits.submit(7) == 70
    assert await commits.submit(8) == 80
    assert recorder.batches == [[7], [8]]


async def test_a_failed_batch_fails_its_callers_only() -> None:
    recorder = Recorder()
    recorder.fail_next = True
    recorder.gate = asyncio.Event()
    commits = GroupCommit(recorder.write)
    first = asyncio.ensure_future(commits.submit(1))
    await asyncio.sleep(0)
    second = asyncio.ensure_future(commits.submit(2))  # waits for the next batch
    await asyncio.sleep(0)
    recorder.gate.set()

    with pytest.raises(RuntimeError, match="disk full"):
        await first
    assert await second == 20


async def test_a_caller_giving_up_does_not_cancel_its_batch() -> None:
    recorder = Recorder()
    recorder.gate = asyncio.Event()
    commits = GroupCommit(recorder.write)
    quitter = asyncio.ensure_future(commits.submit(1))
    stayer = asyncio.ensure_future(commits.submit(2))
    await asyncio.sleep(0)
    quitter.cancel()
    recorder.gate.set()

    assert await stayer == 20
    await commits.wait_idle()
    assert recorder.batches == [[1, 2]]


async def test_a_mixed_burst_gets_each_click_its_own_outcome(store: SqlStore) -> None:
    community_id, _, first = await start_quiz(store, channel="solo")
    _, _, closed = await start_quiz(store, channel="gone")
    _, _, teams = await start_quiz(store, channel="teams", mode=Mode.TEAMS)
    assert await store.close_round(closed.id, T0 + timedelta(seconds=1), decide) is not None
    players = [await store.player("test", f"p{i}", f"P{i}") for i in range(6)]
    await store.create_team(community_id, "Owls", players[0].id)
    ada, bob, cy, dee, eve, fay = (p.id for p in players)
    await store.add_answer(first.id, eve, (2,), T0 + timedelta(seconds=1))
    now = T0 + timedelta(seconds=2)

    results = await asyncio.gather(
        store.add_answer(first.id, ada, (1, 0), now),
        store.add_answer(first.id, bob, (2,), now),
        store.add_answer(first.id, bob, (0,), now),  # Bob's second click, same burst
        store.add_answer(first.id, eve, (0,), now),  # Eve answered before the burst
        store.add_answer(closed.id, cy, (0,), now),  # a closed round
        store.add_answer(first.id, dee, (0,), first.closes_at),  # too late
        store.add_answer(teams.id, ada, (1,), now, community_id),  # Ada is in Owls
        store.add_answer(teams.id, fay, (1,), now, community_id),  # Fay is in no team
    )

    outcomes = [r.outcome for r in results]
    assert outcomes == [
        AnswerOutcome.INSERTED,
        AnswerOutcome.INSERTED,
        AnswerOutcome.DUPLICATE,
        AnswerOutcome.DUPLICATE,
        AnswerOutcome.CLOSED,
        AnswerOutcome.CLOSED,
        AnswerOutcome.INSERTED,
        AnswerOutcome.NO_TEAM,
    ]
    answers = [r.answer for r in results]
    assert answers[0] is not None and answers[0].selected == (0, 1)
    assert answers[2] is not None and answers[2].selected == (2,)  # Bob's first click
    assert answers[3] is not None and answers[3].selected == (2,)  # Eve's earlier answer
    assert answers[6] is not None and answers[6].team_id is not None
    assert await store.count_answers(first.id) == 3
    assert await store.count_answers(teams.id) == 1


async def test_a_burst_of_first_clicks_gets_one_player_per_person(store: SqlStore) -> None:
    await store.player("test", "old", "Old name")

    players = await asyncio.gather(
        *(store.player("test", f"u{i % 5}", f"User {i % 5}") for i in range(20)),
        store.player("test", "old", "New name"),
    )

    *burst, renamed = players
    assert len({p.id for p in burst}) == 5
    assert {p.external_id: p.display_name for p in burst} == {
        f"u{i}": f"User {i}" for i in range(5)
    }
    assert renamed.display_name == "New name"
    assert (await store.player("test", "old", "New name")).id == renamed.id
    assert (await store.players([renamed.id]))[renamed.id].display_name == "New name"


async def test_a_click_that_fails_does_not_fail_its_batch(store: SqlStore) -> None:
    _, _, first = await start_quiz(store)
    ada = await store.player("test", "p1", "Ada")
    now = T0 + timedelta(seconds=2)

    good, bad = await asyncio.gather(
        store.add_answer(first.id, ada.id, (0,), now),
        store.add_answer(first.id, 999_999, (0,), now),  # no such player
        return_exceptions=True,
    )

    assert not isinstance(good, BaseException)
    assert good.outcome is AnswerOutcome.INSERTED
    assert isinstance(bad, IntegrityError)
    assert await store.count_answers(first.id) == 1


async def test_one_bad_item_fails_alone() -> None:
    async def write(items: Sequence[int]) -> list[int]:
        if 13 in items:
            raise ValueError("unlucky")
        return [i * 10 for i in items]

    commits: GroupCommit[int, int] = GroupCommit(write)
    results = await asyncio.gather(
        *(commits.submit(i) for i in (12, 13, 14)), return_exceptions=True
    )

    assert results[0] == 120 and results[2] == 140
    assert isinstance(results[1], ValueError)
