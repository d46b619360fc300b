"""The weekly board: posted when the week ends in the community's timezone, exactly once
across processes, restarts and downtime."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.core.clock import ManualClock
from bot.core.dispatch import FIRST_BACKOFF, MAX_BACKOFF
from bot.core.dispatch import MAX_ATTEMPTS as DELIVERY_ATTEMPTS
from bot.core.jobs import JobRequest, JobStatus
from bot.core.model import Mode
from bot.core.rhythm.boards import LEASE, WEEKLY_BOARD
from bot.core.rhythm.report import RunOutcome
from bot.store import SqlStore
from bot.store.rhythm import SqlRhythmStore

from .helpers import BOARD_CHANNEL, GUILD, Process, make_process, play, user

BERLIN = "Europe/Berlin"
# A Tuesday of week 2026-W48 (Mon 23 Nov - Sun 29 Nov); the week ends Mon 30 Nov 00:00
# CET = Sun 29 Nov 23:00 UTC.
W48_TUESDAY = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
W48_END = datetime(2026, 11, 29, 23, 0, tzinfo=UTC)


async def setup_community(process: Process, timezone: str = BERLIN) -> None:
    """Berlin time and the weekly board in BOARD_CHANNEL."""
    rhythm = process.rhythm
    await rhythm.config(GUILD, BOARD_CHANNEL, ["timezone", timezone], is_admin=True)
    await rhythm.config(GUILD, BOARD_CHANNEL, ["channel", "here"], is_admin=True)


async def play_a_quiz(process: Process, clock: ManualClock) -> None:
    """Users 1-3 play two questions: 1 gets both right, 2 one, 3 none."""
    rounds = [
        {1: (True, 2.0), 2: (True, 4.0), 3: (False, 1.0)},
        {1: (True, 3.0), 2: (False, 5.0), 3: (False, 2.0)},
    ]
    await play(process, clock, rounds)


@pytest.mark.parametrize(
    ("tuesday", "last_minute", "week_end", "week", "days"),
    [
        # summer time starts Sun 29 Mar 02:00: the week ends Mon 00:00 CEST = 22:00 UTC
        (
            datetime(2026, 3, 24, 10, tzinfo=UTC),
            datetime(2026, 3, 29, 21, 59, 30, tzinfo=UTC),
            datetime(2026, 3, 29, 22, 0, tzinfo=UTC),
            "2026-W13",
            (date(2026, 3, 23), date(2026, 3, 29)),
        ),
        # summer time ends Sun 25 Oct 03:00: the week ends Mon 00:00 CET = 23:00 UTC
        (
            datetime(2026, 10, 20, 10, tzinfo=UTC),
            datetime(2026, 10, 25, 22, 59, 30, tzinfo=UTC),
            datetime(2026, 10, 25, 23, 0, tzinfo=UTC),
            "2026-W43",
            (date(2026, 10, 19), date(2026, 10, 25)),
        ),
    ],
    ids=["spring-forward", "fall-back"],
)
async def test_week_end_in_berlin_across_a_dst_change(
    store: SqlStore,
    tuesday: datetime,
    last_minute: datetime,
    week_end: datetime,
    week: str,
    days: tuple[date, date],
) -> None:
    clock = ManualClock(tuesday)
    process = make_process(store, clock)
    await setup_community(process)
    assert (await process.rhythm.run_due()).idle  # no board for a week before the channel
    await play_a_quiz(process, clock)

    clock.set(last_minute)
    assert (await process.rhythm.run_due()).idle
    clock.set(week_end + timedelta(seconds=30))
    report = await process.rhythm.run_due()
    assert [(b.week, b.outcome) for b in report.boards] == [(week, RunOutcome.POSTED)]

    [(channel, card, image)] = process.chat.boards
    assert channel == BOARD_CHANNEL and card.week == week and not card.late
    assert (card.first_day, card.last_day) == days
    assert card.ended_at == week_end
    assert [(r.name, r.points, r.correct, r.answered) for r in card.players] == [
        ("User 1", 2100, 2, 2),
        ("User 2", 1000, 1, 2),
        ("User 3", 0, 0, 2),
    ]
    assert card.questions_played == 2 and card.teams == () and card.most_improved is None
    assert image is None  # this process draws no charts
    assert card.lines()[1:3] == [
        "🥇 User 1: 2100 pts, 100% (2/2)",
        "🥈 User 2: 1000 pts, 50% (1/2)",
    ]

    clock.advance(60)
    assert (await process.rhythm.run_due()).idle
    assert len(process.chat.boards) == 1


async def test_two_processes_produce_one_post(database_url: str) -> None:
    clock = ManualClock(W48_TUESDAY)
    stores = [SqlStore.from_url(database_url) for _ in range(2)]
    try:
        first, second = (make_process(s, clock, seed=n) for n, s in enumerate(stores))
        await setup_community(first)
        await play_a_quiz(first, clock)
        clock.set(W48_END + timedelta(seconds=5))
        reports = await asyncio.gather(first.rhythm.run_due(), second.rhythm.run_due())
        assert sum(len(r.boards) for r in reports) == 1
        for _ in range(3):  # later ticks of both find the week settled
            clock.advance(30)
            await asyncio.gather(first.rhythm.run_due(), second.rhythm.run_due())
        assert len(first.chat.boards) + len(second.chat.boards) == 1
    finally:
        for store in stores:
            await store.close()


async def test_downtime_across_the_week_end_posts_once_late(database_url: str) -> None:
    clock = ManualClock(W48_TUESDAY)
    store = SqlStore.from_url(database_url)
    try:
        before = make_process(store, clock)
        await setup_community(before)
        await play_a_quiz(before, clock)
        clock.set(datetime(2026, 11, 28, 9, 0, tzinfo=UTC))  # Saturday: nothing due yet
        assert (await before.rhythm.run_due()).idle
    finally:
        await store.close()

    # down until Wednesday of the next week; a fresh process starts
    clock.set(datetime(2026, 12, 2, 8, 0, tzinfo=UTC))
    store = SqlStore.from_url(database_url)
    try:
        after = make_process(store, clock)
        report = await after.rhythm.run_due()
        assert [(b.week, b.outcome) for b in report.boards] == [("2026-W48", RunOutcome.POSTED)]
        [(_, card, _)] = after.chat.boards
        assert card.late and card.week == "2026-W48" and card.players[0].name == "User 1"
        assert card.lines()[0] == "(Posted late: this is the board of week 2026-W48.)"
        assert "Week 2026-W48 (Mon 23 Nov – Sun 29 Nov)" in card.heading
        clock.advance(30)
        assert (await after.rhythm.run_due()).idle
        restarted = make_process(store, clock)  # a restart finds it posted
        assert (await restarted.rhythm.run_due()).idle
        assert len(after.chat.boards) + len(restarted.chat.boards) == 1
    finally:
        await store.close()


async def test_downtime_across_two_week_ends_posts_each_week_once_in_order(
    store: SqlStore,
) -> None:
    clock = ManualClock(W48_TUESDAY)
    process = make_process(store, clock)
    await setup_community(process)
    await play_a_quiz(process, clock)
    clock.set(datetime(2026, 12, 1, 10, 0, tzinfo=UTC))  # W49: played, board never posted
    await play(process, clock, [{1: (False, 1.0), 2: (True, 2.0)}])
    clock.set(datetime(2026, 12, 9, 12, 0, tzinfo=UTC))  # back in W50
    report = await process.rhythm.run_due()
    assert [b.week for b in report.boards] == ["2026-W48", "2026-W49"]
    assert [c.week for _, c, _ in process.chat.boards] == ["2026-W48", "2026-W49"]
    w49 = process.chat.boards[1][1]
    assert w49.questions_played == 1 and w49.players[0].name == "User 2"
    # User 2 went from 1000 to 1000 points, User 1 from 2100 to 0: nobody improved
    assert w49.most_improved is None


async def test_quiet_week_is_recorded_not_posted(store: SqlStore) -> None:
    clock = ManualClock(W48_TUESDAY)
    process = make_process(store, clock)
    await setup_community(process)
    clock.set(W48_END + timedelta(minutes=1))
    report = await process.rhythm.run_due()
    assert [(b.week, b.outcome) for b in report.boards] == [("2026-W48", RunOutcome.QUIET)]
    assert process.chat.boards == []
    assert (await process.rhythm.run_due()).idle


async def test_most_improved_and_teams_on_the_board(store: SqlStore) -> None:
    clock = ManualClock(W48_TUESDAY)
    process = make_process(store, clock)
    await setup_community(process)
    await process.engine.create_team(GUILD, user(1), "Owls")
    await process.engine.create_team(GUILD, user(2), "Foxes")
    await play(process, clock, [{1: (False, 1.0), 2: (True, 1.0)}], mode=Mode.TEAMS)
    clock.set(datetime(2026, 12, 1, 10, 0, tzinfo=UTC))  # W49
    await play(process, clock, [{1: (True, 1.0), 2: (True, 2.0)}, {1: (True, 1.0)}])
    clock.set(datetime(2026, 12, 7, 0, 0, tzinfo=UTC))  # Monday 01:00 in Berlin
    await process.rhythm.run_due()
    w48, w49 = (card for _, card, _ in process.chat.boards)
    assert [(t.name, t.points) for t in w48.teams] == [("Foxes", 1000), ("Owls", 0)]
    assert w49.most_improved is not None
    assert (w49.most_improved.name, w49.most_improved.gain) == ("User 1", 2100)
    assert w49.lines()[-1] == "Most improved: User 1, +2100 pts on the week before (0 → 2100)"


async def test_a_failed_post_is_retried_by_the_outbox_then_given_up(
    store: SqlStore, caplog: pytest.LogCaptureFixture
) -> None:
    clock = ManualClock(W48_TUESDAY)
    process = make_process(store, clock)
    await setup_community(process)
    await play_a_quiz(process, clock)
    process.chat.failures = 1
    clock.set(W48_END + timedelta(seconds=10))
    report = await process.rhythm.run_due()
    # the week is settled: its board is in the outbox, which retries the failed post
    assert [b.outcome for b in report.boards] == [RunOutcome.POSTED]
    assert process.chat.boards == []
    assert (await process.rhythm.run_due()).idle
    clock.advance(FIRST_BACKOFF * 1.2)
    await process.engine.idle()
    assert len(process.chat.boards) == 1

    # a board that keeps failing is given up after the outbox's MAX_ATTEMPTS
    clock.set(datetime(2026, 12, 1, 10, 0, tzinfo=UTC))
    await play_a_quiz(process, clock)
    process.chat.failures = DELIVERY_ATTEMPTS + 1
    clock.set(datetime(2026, 12, 6, 23, 0, 10, tzinfo=UTC))
    with caplog.at_level(logging.ERROR):
        await process.rhythm.run_due()
        for _ in range(DELIVERY_ATTEMPTS):
            clock.advance(MAX_BACKOFF * 1.2)
            await process.engine.idle()
    assert process.chat.failures == 1  # tried DELIVERY_ATTEMPTS times, then no more
    assert "board message to" in caplog.text and "gave up after" in caplog.text
    assert len(process.chat.boards) == 1


async def test_a_claim_whose_process_died_is_taken_over_after_its_lease(
    database_url: str,
) -> None:
    clock = ManualClock(W48_TUESDAY)
    stores = [SqlStore.from_url(database_url) for _ in range(2)]
    try:
        process = make_process(stores[0], clock)
        await setup_community(process)
        await play_a_quiz(process, clock)
        community = await process.engine.community(GUILD)
        now = W48_END + timedelta(seconds=1)
        dead = SqlRhythmStore(stores[1])
        job = JobRequest(community.id, WEEKLY_BOARD, "2026-W48", now, now + LEASE, 5)
        claim = await dead.claim_job(job)
        assert claim is not None  # ... and this process dies before posting
        clock.set(now + timedelta(minutes=1))
        assert (await process.rhythm.run_due()).idle  # the lease still holds
        clock.set(now + LEASE + timedelta(seconds=1))
        report = await process.rhythm.run_due()
        assert [b.outcome for b in report.boards] == [RunOutcome.POSTED]
        # the dead claimer's late finish is refused: its token was replaced
        assert not await dead.finish_job(claim, JobStatus.DONE, clock.now())
    finally:
        for store in stores:
            await store.close()


async def test_channel_off_stops_the_posts_and_admin_only(store: SqlStore) -> None:
    clock = ManualClock(W48_TUESDAY)
    process = make_process(store, clock)
    await setup_community(process)
    await play_a_quiz(process, clock)
    await process.rhythm.config(GUILD, "x", ["channel", "off"], is_admin=True)
    clock.set(W48_END + timedelta(minutes=1))
    assert (await process.rhythm.run_due()).idle
    with pytest.raises(Exception, match="Only server or workspace admins"):
        await process.rhythm.config(GUILD, "x", ["channel", "here"], is_admin=False)
