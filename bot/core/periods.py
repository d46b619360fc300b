"""Score periods: ISO-style week labels in a community's timezone, and "all"."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.errors import QuizError

ALL_TIME = "all"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEK_LABEL = re.compile(r"^(\d{4})-W(\d{2})$")


def zone(name: str) -> ZoneInfo:
    """A timezone by IANA name; QuizError names a bad one."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise QuizError(f"Unknown timezone {name!r}: use an IANA name like Europe/Berlin") from None


def week_start_date(day: date, week_start: int) -> date:
    """The first day of the week that contains `day`, weeks starting on `week_start`."""
    return day - timedelta(days=(day.weekday() - week_start) % 7)


def week_label_of_start(start: date) -> str:
    """Label a week by the ISO week of the Monday it contains (every 7-day week has one)."""
    monday = start + timedelta(days=(0 - start.weekday()) % 7)
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def week_label(moment: datetime, timezone: str, week_start: int = 0) -> str:
    """The week label, e.g. "2026-W48", of an aware moment in a community's timezone."""
    local = moment.astimezone(zone(timezone)).date()
    return week_label_of_start(week_start_date(local, week_start))


def week_start_of_label(label: str, week_start: int = 0) -> date:
    """The local first day of a labelled week; QuizError for a malformed label."""
    match = _WEEK_LABEL.match(label)
    if not match:
        raise QuizError(f"Bad week {label!r}: write it as YYYY-Www, e.g. 2026-W07")
    year, week = int(match.group(1)), int(match.group(2))
    try:
        monday = date.fromisocalendar(year, week, 1)
    except ValueError:
        raise QuizError(f"Bad week {label!r}: {year} has no week {week}") from None
    # the labelled week is the one containing this Monday
    return week_start_date(monday, week_start)


def week_bounds(label: str, timezone: str, week_start: int = 0) -> tuple[datetime, datetime]:
    """Aware start and end (exclusive) of a labelled week in a timezone, DST included."""
    tz = zone(timezone)
    start = week_start_of_label(label, week_start)
    begin = datetime.combine(start, time(0), tzinfo=tz)
    end = datetime.combine(start + timedelta(days=7), time(0), tzinfo=tz)
    return begin, end


def shift_week(label: str, weeks: int, week_start: int = 0) -> str:
    """The label `weeks` weeks before (negative) or after (positive) a labelled week."""
    start = week_start_of_label(label, week_start)
    return week_label_of_start(start + timedelta(weeks=weeks))


def resolve_period(
    period: str, now: datetime, timezone: str, week_start: int = 0
) -> tuple[str, str]:
    """Turn week | last-week | all | YYYY-Www into (label, title); QuizError otherwise."""
    word = period.strip().lower()
    this_week = week_label(now, timezone, week_start)
    if word in ("", "week", "this-week"):
        return this_week, f"This week ({this_week})"
    if word in ("last-week", "lastweek", "last"):
        label = shift_week(this_week, -1, week_start)
        return label, f"Last week ({label})"
    if word in (ALL_TIME, "all-time", "alltime"):
        return ALL_TIME, "All time"
    label = period.strip().upper()
    if not _WEEK_LABEL.match(label):
        raise QuizError(f"Unknown period {period!r}: use week, last-week, all or YYYY-Www")
    week_start_of_label(label, week_start)
    return label, f"Week {label}"
