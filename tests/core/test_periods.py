"""Week labels in a community's timezone, week starts, and period names."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.core.errors import QuizError
from bot.core.periods import resolve_period, shift_week, week_bounds, week_label


def test_week_turns_at_local_midnight_not_utc() -> None:
    # Sunday 23:30 UTC is already Monday 00:30 in Berlin (winter time, UTC+1)
    sunday_late_utc = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)
    assert week_label(sunday_late_utc, "UTC") == "2026-W48"
    assert week_label(sunday_late_utc, "Europe/Berlin") == "2026-W49"
    # and Monday 03:00 UTC is still Sunday evening in New York
    assert week_label(datetime(2026, 11, 30, 3, 0, tzinfo=UTC), "America/New_York") == "2026-W48"


def test_sunday_start_weeks_are_labelled_by_their_monday() -> None:
    sunday = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    assert week_label(sunday, "UTC", week_start=0) == "2026-W48"
    assert week_label(sunday, "UTC", week_start=6) == "2026-W49"


def test_week_bounds_follow_daylight_saving() -> None:
    # the week of 2026-03-29, when Berlin moves from UTC+1 to UTC+2
    begin, end = week_bounds("2026-W13", "Europe/Berlin")
    assert begin.astimezone(UTC) == datetime(2026, 3, 22, 23, 0, tzinfo=UTC)
    assert end.astimezone(UTC) == datetime(2026, 3, 29, 22, 0, tzinfo=UTC)
    # a 167-hour week: the clocks skip an hour
    assert (end.astimezone(UTC) - begin.astimezone(UTC)).total_seconds() == 167 * 3600


def test_year_boundary_labels() -> None:
    assert week_label(datetime(2027, 1, 1, tzinfo=UTC), "UTC") == "2026-W53"
    assert shift_week("2027-W01", -1) == "2026-W53"


def test_resolve_period_words() -> None:
    now = datetime(2026, 11, 27, 9, tzinfo=UTC)
    assert resolve_period("week", now, "UTC") == ("2026-W48", "This week (2026-W48)")
    assert resolve_period("last-week", now, "UTC") == ("2026-W47", "Last week (2026-W47)")
    assert resolve_period("all", now, "UTC") == ("all", "All time")
    assert resolve_period("2026-w07", now, "UTC") == ("2026-W07", "Week 2026-W07")


@pytest.mark.parametrize("bad", ["yesterday", "2026-W60", "26-W01"])
def test_bad_periods_are_named(bad: str) -> None:
    with pytest.raises(QuizError, match=bad.upper() if "W" in bad.upper() else bad):
        resolve_period(bad, datetime(2026, 11, 27, tzinfo=UTC), "UTC")
