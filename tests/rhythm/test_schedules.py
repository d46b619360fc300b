"""Scheduled quizzes: parsing, local times across DST, exactly-once starts, missed slots."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.bank import QuestionBank
from bot.core.clock import ManualClock
from bot.core.errors import NotAllowedError, QuizError, UnknownDeckError
from bot.core.model import CommunityRef, StartRequest
from bot.core.rhythm.report import RunOutcome
from bot.core.rhythm.schedules import (
    MAX_SCHEDULES,
    AddSchedule,
    Cadence,
    CancelSchedule,
    ListSchedules,
    ScheduleSpec,
    last_slot,
    next_slot,
    parse_schedule_command,
)
from bot.store import SqlStore

from .helpers import ADMIN, BANK_DECKS, CHANNEL, GUILD, Process, make_process, user

BERLIN = "Europe/Berlin"
BERLIN_TZ = ZoneInfo(BERLIN)
BANK = QuestionBank(BANK_DECKS)


def utc(*args: int) -> datetime:
    """A UTC moment."""
    return datetime(*args, tzinfo=UTC)


# ---- parsing -------------------------------------------------------------------------------


def test_parse_the_forms() -> None:
    assert parse_schedule_command([], BANK) == ListSchedules()
    assert parse_schedule_command(["list"], BANK) == ListSchedules()
    assert parse_schedule_command(["cancel", "#7"], BANK) == CancelSchedule(7)
    daily = parse_schedule_command(["daily", "9:00"], BANK)
    assert daily == AddSchedule(ScheduleSpec(Cadence.DAILY, time(9, 0)))
    weekly = parse_schedule_command(["weekly", "Monday", "18:30", "12", "history"], BANK)
    assert weekly == AddSchedule(ScheduleSpec(Cadence.WEEKLY, time(18, 30), 0, ("history",), 12))
    assert isinstance(weekly, AddSchedule)
    assert weekly.spec.when_text == "weekly mon 18:30"
    assert weekly.spec.what_text == "history, 12 questions"


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (["daily"], "Missing time"),
        (["daily", "25:00"], "Bad time '25:00'"),
        (["daily", "9am"], "Bad time '9am'"),
        (["weekly", "18:00"], "Missing day or time"),
        (["weekly", "funday", "18:00"], "Bad day 'funday'"),
        (["daily", "09:00", "0"], "questions must be between 1 and 50, not 0"),
        (["daily", "09:00", "5", "6"], "Two question counts"),
        (["hourly", "09:00"], "Unknown schedule 'hourly'"),
        (["cancel"], "Say which schedule to cancel"),
    ],
)
def test_parse_errors_name_the_bad_word(words: list[str], message: str) -> None:
    with pytest.raises(QuizError, match=message):
        parse_schedule_command(words, BANK)


def test_parse_checks_the_deck() -> None:
    with pytest.raises(UnknownDeckError, match="'geography'"):
        parse_schedule_command(["daily", "09:00", "geography"], BANK)


# ---- local times across DST ------------------------------------------------------------------


def test_daily_nine_stays_nine_across_both_dst_changes() -> None:
    spec = ScheduleSpec(Cadence.DAILY, time(9, 0))
    moment, slots = utc(2026, 3, 27, 12), []
    for _ in range(4):
        moment = next_slot(spec, moment, BERLIN)
        slots.append(moment)
    # 09:00 CET is 08:00 UTC; from Sunday 29 March 09:00 CEST is 07:00 UTC
    assert slots == [
        utc(2026, 3, 28, 8),
        utc(2026, 3, 29, 7),
        utc(2026, 3, 30, 7),
        utc(2026, 3, 31, 7),
    ]
    moment, slots = utc(2026, 10, 23, 12), []
    for _ in range(3):
        moment = next_slot(spec, moment, BERLIN)
        slots.append(moment)
    assert slots == [utc(2026, 10, 24, 7), utc(2026, 10, 25, 8), utc(2026, 10, 26, 8)]
    assert last_slot(spec, utc(2026, 10, 25, 7, 59), BERLIN) == utc(2026, 10, 24, 7)
    assert last_slot(spec, utc(2026, 10, 25, 8), BERLIN) == utc(2026, 10, 25, 8)


def test_nonexistent_and_ambiguous_local_times() -> None:
    spec = ScheduleSpec(Cadence.DAILY, time(2, 30))
    # 02:30 does not exist on 29 March: it runs at 03:30 CEST (01:30 UTC), once
    march = [next_slot(spec, utc(2026, 3, 28, 12), BERLIN)]
    march.append(next_slot(spec, march[-1], BERLIN))
    assert march == [utc(2026, 3, 29, 1, 30), utc(2026, 3, 30, 0, 30)]
    # 02:30 happens twice on 25 October: it runs at the first (CEST, 00:30 UTC) only
    october = [next_slot(spec, utc(2026, 10, 24, 12), BERLIN)]
    october.append(next_slot(spec, october[-1], BERLIN))
    assert october == [utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)]


def test_weekly_slot_keeps_its_weekday_and_local_time() -> None:
    spec = ScheduleSpec(Cadence.WEEKLY, time(18, 0), weekday=0)
    first = next_slot(spec, utc(2026, 10, 21, 12), BERLIN)  # a Wednesday
    second = next_slot(spec, first, BERLIN)
    assert (first, second) == (utc(2026, 10, 26, 17), utc(2026, 11, 2, 17))
    assert last_slot(spec, utc(2026, 10, 28, 12), BERLIN) == first


# ---- running through the engine ---------------------------------------------------------------


async def berlin(process: Process) -> None:
    """Berlin time, quizzes of one five-second question by default."""
    for words in (["timezone", BERLIN], ["seconds", "5"], ["questions", "1"]):
        await process.rhythm.config(GUILD, CHANNEL, words, is_admin=True)


async def finish_quiz(process: Process, clock: ManualClock) -> None:
    """Let the running one-question quiz run out."""
    clock.advance(10)
    await process.engine.close_due_rounds()
    await process.engine.idle()


async def test_daily_schedule_across_the_spring_forward_sunday(store: SqlStore) -> None:
    clock = ManualClock(utc(2026, 3, 26, 12))
    process = make_process(store, clock)
    await berlin(process)
    card = await process.rhythm.schedule(
        GUILD, CHANNEL, ADMIN, ["daily", "09:00", "algebra"], is_admin=True
    )
    assert card.title.startswith("Scheduled quiz #")
    [line] = card.lines()
    assert "daily 09:00 in <#chan-1>: algebra, default length" in line
    assert "(next Fri 27 Mar 09:00 Europe/Berlin)" in line

    started = []
    for day in (27, 28, 29, 30):
        slot = datetime(2026, 3, day, 9, 0, tzinfo=BERLIN_TZ)
        clock.set(slot - timedelta(minutes=1))
        assert not (await process.rhythm.run_due()).schedules
        clock.set(slot + timedelta(seconds=20))
        report = await process.rhythm.run_due()
        [run] = report.schedules
        assert run.outcome is RunOutcome.STARTED and run.slot == slot
        started.append(run.slot)
        await finish_quiz(process, clock)
    assert started == [
        utc(2026, 3, 27, 8),
        utc(2026, 3, 28, 8),
        utc(2026, 3, 29, 7),
        utc(2026, 3, 30, 7),
    ]
    assert len(process.chat.summaries) == 4
    quiz = process.chat.questions[-1]
    assert (quiz.deck, quiz.total, quiz.seconds) == ("algebra", 1, 5)


async def test_daily_schedule_across_the_fall_back_sunday(store: SqlStore) -> None:
    clock = ManualClock(utc(2026, 10, 23, 12))
    process = make_process(store, clock)
    await berlin(process)
    await process.rhythm.schedule(GUILD, CHANNEL, ADMIN, ["daily", "09:00"], is_admin=True)
    started = []
    for moment in (utc(2026, 10, 24, 7, 0, 30), utc(2026, 10, 25, 7, 0, 30)):
        clock.set(moment)
        started += [r.slot for r in (await process.rhythm.run_due()).schedules]
        await finish_quiz(process, clock)
    # Sunday 25 October, 07:00 UTC is 08:00 CET: not yet
    assert started == [utc(2026, 10, 24, 7)]
    clock.set(utc(2026, 10, 25, 8, 0, 30))
    started += [r.slot for r in (await process.rhythm.run_due()).schedules]
    assert started == [utc(2026, 10, 24, 7), utc(2026, 10, 25, 8)]


async def test_each_slot_starts_exactly_once_across_two_processes(database_url: str) -> None:
    clock = ManualClock(utc(2026, 11, 23, 12))
    stores = [SqlStore.from_url(database_url) for _ in range(2)]
    try:
        first, second = (make_process(s, clock, seed=n) for n, s in enumerate(stores))
        await berlin(first)
        await first.rhythm.schedule(GUILD, CHANNEL, ADMIN, ["daily", "18:00"], is_admin=True)
        for day in (23, 24):
            clock.set(utc(2026, 11, day, 17, 0, 5))
            reports = await asyncio.gather(first.rhythm.run_due(), second.rhythm.run_due())
            runs = [r for report in reports for r in report.schedules]
            assert [r.outcome for r in runs] == [RunOutcome.STARTED]
            clock.advance(5)
            reports = await asyncio.gather(first.rhythm.run_due(), second.rhythm.run_due())
            assert all(not r.schedules for r in reports)  # restart or retick: nothing more
            await finish_quiz(first, clock)
            await finish_quiz(second, clock)
        assert len(first.chat.questions) + len(second.chat.questions) == 2
    finally:
        for store in stores:
            await store.close()


async def test_a_slot_missed_by_more_than_its_duration_is_skipped_and_logged(
    store: SqlStore, caplog: pytest.LogCaptureFixture
) -> None:
    clock = ManualClock(utc(2026, 11, 23, 12))
    process = make_process(store, clock)
    await berlin(process)
    await process.rhythm.schedule(GUILD, CHANNEL, ADMIN, ["daily", "09:00", "3"], is_admin=True)
    # 3 questions of 5 s, but never less than two minutes of grace: late by 90 s still runs
    clock.set(utc(2026, 11, 24, 8, 1, 30))
    [run] = (await process.rhythm.run_due()).schedules
    assert run.outcome is RunOutcome.STARTED
    await process.engine.stop(GUILD, CHANNEL, ADMIN, is_admin=True)

    # down from Tuesday until Friday 08:10 UTC: Wed, Thu missed, Fri's slot 10 min late
    clock.set(utc(2026, 11, 27, 8, 10))
    with caplog.at_level(logging.WARNING):
        [run] = (await process.rhythm.run_due()).schedules
    assert (run.outcome, run.slot, run.missed) == (RunOutcome.SKIPPED, utc(2026, 11, 27, 8), 3)
    assert "2 slot(s) missed while down, skipped" in caplog.text
    assert "scheduled quiz skipped: slot 2026-11-27T08:00:00+00:00 missed by" in caplog.text
    [listed] = (await process.rhythm.list_schedules(GUILD)).schedules
    assert listed.next_run_at == utc(2026, 11, 28, 8)
    assert listed.last_run_at == utc(2026, 11, 27, 8)
    assert not (await process.rhythm.run_due()).schedules

    # with Friday's slot within its grace, only the latest of the missed slots runs
    clock.set(utc(2026, 11, 30, 8, 0, 40))
    [run] = (await process.rhythm.run_due()).schedules
    assert (run.outcome, run.slot, run.missed) == (RunOutcome.STARTED, utc(2026, 11, 30, 8), 2)


async def test_busy_channel_list_cancel_and_permissions(store: SqlStore) -> None:
    clock = ManualClock(utc(2026, 11, 23, 12))
    process = make_process(store, clock)
    await berlin(process)
    rhythm = process.rhythm
    with pytest.raises(NotAllowedError, match="Only server or workspace admins"):
        await rhythm.schedule(GUILD, CHANNEL, user(1), ["daily", "09:00"], is_admin=False)
    daily = await rhythm.schedule(GUILD, CHANNEL, ADMIN, ["daily", "09:00"], is_admin=True)
    weekly = await rhythm.schedule(
        GUILD, "other", ADMIN, ["weekly", "wed", "18:00", "history", "2"], is_admin=True
    )
    listing = await rhythm.schedule(GUILD, CHANNEL, user(1), ["list"], is_admin=False)
    assert [s.id for s in listing.schedules] == [daily.schedules[0].id, weekly.schedules[0].id]
    assert (
        "weekly wed 18:00 in <#other>: history, 2 questions (next Wed 25 Nov 18:00"
        in (listing.lines()[1])
    )

    await process.engine.start(GUILD, CHANNEL, user(2), StartRequest(questions=1, seconds=60))
    clock.set(utc(2026, 11, 24, 8, 0, 10))
    [run] = (await rhythm.run_due()).schedules
    assert run.outcome is RunOutcome.BUSY

    ident = str(daily.schedules[0].id)
    with pytest.raises(NotAllowedError):
        await rhythm.schedule(GUILD, CHANNEL, user(1), ["cancel", ident], is_admin=False)
    cancelled = await rhythm.schedule(GUILD, CHANNEL, ADMIN, ["cancel", ident], is_admin=True)
    assert cancelled.title == f"Cancelled scheduled quiz #{ident}"
    with pytest.raises(QuizError, match=f"No scheduled quiz #{ident} here"):
        await rhythm.schedule(GUILD, CHANNEL, ADMIN, ["cancel", ident], is_admin=True)
    assert len((await rhythm.list_schedules(GUILD)).schedules) == 1
    empty = await rhythm.list_schedules(CommunityRef("guild-2", "Other group"))
    assert empty.lines() == [
        "No scheduled quizzes. Add one: /quiz schedule daily 09:00 [deck] [questions]"
    ]


async def test_at_most_max_schedules_and_timezone_change_moves_next_runs(
    store: SqlStore,
) -> None:
    clock = ManualClock(utc(2026, 11, 23, 12))
    process = make_process(store, clock)
    rhythm = process.rhythm
    for n in range(MAX_SCHEDULES):
        await rhythm.schedule(GUILD, CHANNEL, ADMIN, ["daily", f"{n:02d}:00"], is_admin=True)
    with pytest.raises(QuizError, match=f"has {MAX_SCHEDULES} scheduled quizzes already"):
        await rhythm.schedule(GUILD, CHANNEL, ADMIN, ["daily", "23:30"], is_admin=True)
    nine = next(s for s in (await rhythm.list_schedules(GUILD)).schedules if s.spec.at.hour == 9)
    assert nine.next_run_at == utc(2026, 11, 24, 9)  # UTC, the default timezone
    await rhythm.config(GUILD, CHANNEL, ["timezone", "America/New_York"], is_admin=True)
    moved = next(s for s in (await rhythm.list_schedules(GUILD)).schedules if s.id == nine.id)
    assert moved.next_run_at == utc(2026, 11, 23, 14)  # 09:00 EST, later today
