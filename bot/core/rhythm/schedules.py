"""Scheduled quizzes: `/quiz schedule` parsing and the local-time arithmetic of their slots.

A slot is a local wall-clock time in the community's timezone, turned into UTC with
zoneinfo, so a daily 09:00 stays 09:00 across daylight-saving changes. Two kinds of
local times need a rule:

- a time that does not exist (skipped by the spring-forward jump, e.g. 02:30 on the
  last Sunday of March in Europe/Berlin) runs as far after the jump as it was into
  the gap: 02:30 runs at 03:30 summer time (zoneinfo's fold=0 reading);
- a time that exists twice (repeated by the fall-back jump, e.g. 02:30 on the last
  Sunday of October) runs once, at its first occurrence (summer time).

Each local day yields exactly one slot, so a day is never run twice nor skipped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.core.bank import QuestionBank
from bot.core.cards import counted
from bot.core.errors import QuizError
from bot.core.periods import WEEKDAYS, zone
from bot.core.start_options import MAX_QUESTIONS
from bot.core.syntax import command

MAX_SCHEDULES = 20
"""Schedules one community may have at once."""

USAGE_FORMS = (
    "schedule daily HH:MM [deck] [questions] | weekly DAY HH:MM [deck] [questions]"
    " | list | cancel ID"
)


def usage() -> str:
    """The forms of the schedule command, as the platform in use types it."""
    return command(USAGE_FORMS)


_TIME = re.compile(r"^([01]?\d|2[0-3])[:.h]([0-5]\d)$")


class Cadence(StrEnum):
    """How often a scheduled quiz runs."""

    DAILY = "daily"
    WEEKLY = "weekly"


@dataclass(frozen=True)
class ScheduleSpec:
    """When and what a scheduled quiz runs: a local time, daily or on one weekday."""

    cadence: Cadence
    at: time
    weekday: int | None = None  # 0 = Monday; weekly only
    decks: tuple[str, ...] = ()  # () = the community's default deck
    questions: int | None = None  # None = the community's default count

    @property
    def when_text(self) -> str:
        """ "daily 09:00" or "weekly mon 18:00"."""
        clock = self.at.strftime("%H:%M")
        if self.cadence is Cadence.WEEKLY and self.weekday is not None:
            return f"weekly {WEEKDAYS[self.weekday]} {clock}"
        return f"daily {clock}"

    @property
    def what_text(self) -> str:
        """ "deep-learning, 10 questions", defaults spelled out."""
        deck = ", ".join(self.decks) if self.decks else "default deck"
        count = counted(self.questions, "question") if self.questions else "default length"
        return f"{deck}, {count}"


@dataclass(frozen=True)
class Schedule:
    """A stored scheduled quiz."""

    id: int
    community_id: int
    channel_id: str
    created_by: int
    spec: ScheduleSpec
    next_run_at: datetime
    created_at: datetime
    last_run_at: datetime | None = None


@dataclass(frozen=True)
class AddSchedule:
    """`/quiz schedule daily|weekly ...`."""

    spec: ScheduleSpec


@dataclass(frozen=True)
class ListSchedules:
    """`/quiz schedule list` (also `/quiz schedule` alone)."""


@dataclass(frozen=True)
class CancelSchedule:
    """`/quiz schedule cancel ID`."""

    schedule_id: int


ScheduleCommand = AddSchedule | ListSchedules | CancelSchedule


def parse_time(text: str) -> time:
    """A 24-hour local time, "09:00" or "9:00"; QuizError names a bad one."""
    match = _TIME.match(text.strip())
    if not match:
        raise QuizError(f"Bad time {text!r}: write it as HH:MM in 24-hour time, e.g. 09:00")
    return time(int(match.group(1)), int(match.group(2)))


def parse_weekday(text: str) -> int:
    """0 for "mon" (or "monday") ... 6 for "sun"; QuizError names a bad one."""
    word = text.strip().lower()[:3]
    if len(text.strip()) >= 3 and word in WEEKDAYS:
        return WEEKDAYS.index(word)
    raise QuizError(f"Bad day {text!r}: use one of {', '.join(WEEKDAYS)}")


def parse_schedule_command(words: Sequence[str], bank: QuestionBank) -> ScheduleCommand:
    """Parse the words after `/quiz schedule`; QuizError names the first bad word."""
    if not words or words[0].lower() == "list":
        return ListSchedules()
    head, rest = words[0].lower(), list(words[1:])
    if head in ("cancel", "delete", "remove"):
        if len(rest) != 1 or not rest[0].lstrip("#").isdigit():
            raise QuizError(
                f"Say which schedule to cancel: {command('schedule cancel ID')} (see list)"
            )
        return CancelSchedule(int(rest[0].lstrip("#")))
    if head == "daily":
        if not rest:
            raise QuizError(f"Missing time: {usage()}")
        at, extra = parse_time(rest[0]), rest[1:]
        return AddSchedule(_with_options(ScheduleSpec(Cadence.DAILY, at), extra, bank))
    if head == "weekly":
        if len(rest) < 2:
            raise QuizError(f"Missing day or time: {usage()}")
        weekday, at = parse_weekday(rest[0]), parse_time(rest[1])
        spec = ScheduleSpec(Cadence.WEEKLY, at, weekday)
        return AddSchedule(_with_options(spec, rest[2:], bank))
    raise QuizError(f"Unknown schedule {words[0]!r}: {usage()}")


def _with_options(spec: ScheduleSpec, words: Sequence[str], bank: QuestionBank) -> ScheduleSpec:
    """Fill in the optional deck and question count, in either order."""
    decks: tuple[str, ...] = ()
    questions: int | None = None
    for word in words:
        if word.isdigit():
            if questions is not None:
                raise QuizError(f"Two question counts given: {questions} and {word}")
            questions = int(word)
            if not 1 <= questions <= MAX_QUESTIONS:
                raise QuizError(f"questions must be between 1 and {MAX_QUESTIONS}, not {word}")
        else:
            if decks:
                raise QuizError(f"Two decks given: {decks[0]} and {word}")
            names = tuple(n.strip() for n in word.split(",") if n.strip())
            for name in names:
                if name != "all":
                    bank.deck(name)  # UnknownDeckError names the known decks
            decks = names
    return ScheduleSpec(spec.cadence, spec.at, spec.weekday, decks, questions)


def _slot_on(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC moment of local `at` on `day` (fold=0: see the module docstring)."""
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def _runs_on(spec: ScheduleSpec, day: date) -> bool:
    return spec.cadence is Cadence.DAILY or day.weekday() == spec.weekday


def next_slot(spec: ScheduleSpec, after: datetime, timezone: str) -> datetime:
    """The first slot strictly after `after` (aware), in UTC."""
    tz = zone(timezone)
    # start a day early: the local date of `after` may be ahead of the slot's date
    day = after.astimezone(tz).date() - timedelta(days=1)
    for offset in range(9):
        candidate_day = day + timedelta(days=offset)
        if _runs_on(spec, candidate_day):
            slot = _slot_on(candidate_day, spec.at, tz)
            if slot > after:
                return slot
    raise AssertionError("a daily or weekly slot always falls within nine days")


def last_slot(spec: ScheduleSpec, at_or_before: datetime, timezone: str) -> datetime | None:
    """The latest slot at or before a moment, within the last eight days (None if none)."""
    tz = zone(timezone)
    day = at_or_before.astimezone(tz).date() + timedelta(days=1)
    for offset in range(10):
        candidate_day = day - timedelta(days=offset)
        if _runs_on(spec, candidate_day):
            slot = _slot_on(candidate_day, spec.at, tz)
            if slot <= at_or_before:
                return slot
    return None
