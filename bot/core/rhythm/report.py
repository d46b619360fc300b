"""What one tick of the weekly rhythm (`Rhythm.run_due`) did."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class RunOutcome(StrEnum):
    """What `run_due` did with one piece of due work."""

    POSTED = "posted"
    QUIET = "quiet"  # a week nobody played: recorded, not posted
    STARTED = "started"
    SKIPPED = "skipped"  # a slot missed by more than its duration
    BUSY = "busy"  # the channel already had a quiz running
    FAILED = "failed"


@dataclass(frozen=True)
class BoardRun:
    """One weekly board handled by this process."""

    community_id: int
    week: str
    outcome: RunOutcome


@dataclass(frozen=True)
class ScheduleRun:
    """One schedule slot handled by this process."""

    schedule_id: int
    slot: datetime
    outcome: RunOutcome
    quiz_id: int | None = None
    missed: int = 0  # earlier slots skipped because the bot was down


@dataclass(frozen=True)
class RhythmReport:
    """What one `run_due` call did."""

    boards: tuple[BoardRun, ...] = ()
    schedules: tuple[ScheduleRun, ...] = ()

    @property
    def idle(self) -> bool:
        """True when nothing was due."""
        return not self.boards and not self.schedules
