"""What the weekly rhythm needs from storage and from a chat: RhythmStore and BoardPort."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from bot.core.jobs import JobClaim, JobClaims
from bot.core.model import Community, Player
from bot.core.outbox import OutboxMessage
from bot.core.rhythm.cards import Improvement, WeeklyBoardCard
from bot.core.rhythm.schedules import Schedule, ScheduleSpec
from bot.core.rhythm.stats import AnswerFact


@dataclass(frozen=True)
class NewSchedule:
    """A schedule about to be stored."""

    community_id: int
    platform: str
    channel_id: str
    created_by: int
    spec: ScheduleSpec
    next_run_at: datetime
    created_at: datetime


@dataclass(frozen=True)
class ScheduleMove:
    """A schedule's next run moved from `expected` (as the mover read it) to `next_run_at`;
    `ran_at` is the slot being run now, if any."""

    schedule_id: int
    expected: datetime
    next_run_at: datetime
    ran_at: datetime | None = None


@dataclass(frozen=True)
class DueSchedule:
    """A schedule whose slot has come, with what starting its quiz needs."""

    schedule: Schedule
    community: Community
    host: Player


@dataclass(frozen=True)
class DueBoard:
    """A community with a weekly channel whose board check is due, and the moment it
    became due (what `move_board` expects to find)."""

    community: Community
    due_at: datetime


class RhythmStore(JobClaims, Protocol):
    """Storage of the weekly rhythm (jobs, schedules, board and stats queries)."""

    async def due_boards(self, platform: str, now: datetime) -> list[DueBoard]:
        """Communities of a platform with a weekly channel whose board check is due at
        `now` (read by an index: none of the communities that are not due)."""
        ...

    async def move_board(self, community_id: int, expected: datetime, next_at: datetime) -> bool:
        """Set when a community's board check is next due, if it still is `expected`
        (a settings change meanwhile made it due again and wins)."""
        ...

    async def settled_jobs(
        self, kind: str, keys: Collection[tuple[int, str]]
    ) -> set[tuple[int, str]]:
        """Which (community id, key) jobs of a kind are finished (done, skipped or failed)."""
        ...

    async def finish_job_posting(
        self, claim: JobClaim, now: datetime, platform: str, message: OutboxMessage
    ) -> bool:
        """Mark a held job done and put its message in the outbox, in one transaction;
        False (and nothing written) if the claim was lost."""
        ...

    async def questions_played(self, community_id: int, start: datetime, end: datetime) -> int:
        """Rounds closed in a community whose question was put between start and end."""
        ...

    async def most_improved(
        self, community_id: int, period: str, previous: str
    ) -> Improvement | None:
        """The player with the largest gain in points from `previous` to `period`, among
        players who scored in both; None if nobody gained."""
        ...

    async def add_schedule(self, new: NewSchedule, limit: int) -> Schedule:
        """Store a schedule; QuizError if the community already has `limit` of them."""
        ...

    async def schedules(self, community_id: int) -> list[Schedule]:
        """A community's schedules, by id."""
        ...

    async def delete_schedule(self, community_id: int, schedule_id: int) -> Schedule | None:
        """Delete a community's schedule; None if it has no such schedule."""
        ...

    async def due_schedules(self, platform: str, now: datetime, limit: int) -> list[DueSchedule]:
        """Schedules of a platform whose next run is at or before `now`, oldest first."""
        ...

    async def move_schedule(self, move: ScheduleMove) -> bool:
        """Set next_run_at if it still is `expected` (the exactly-once claim of a slot)."""
        ...

    async def find_player(self, platform: str, external_id: str) -> Player | None:
        """A player by platform id, without creating one."""
        ...

    async def player_answers(self, community_id: int, player_id: int) -> list[AnswerFact]:
        """A player's scored answers in a community (reads that player's answers only)."""
        ...


@runtime_checkable
class BoardPort(Protocol):
    """How the weekly board reaches a channel; chat adapters implement it beside ChatPort."""

    async def post_board(
        self, channel_id: str, card: WeeklyBoardCard, image: bytes | None, *, key: str
    ) -> None:
        """Post a week's board, with its PNG chart when there is one (text is the fallback).

        `key` is the outbox row's idempotency key, as for ChatPort."""
        ...


BoardPicture = Callable[[WeeklyBoardCard], bytes]
"""Renders a board card as a PNG (bot.render.chart.weekly_board_png)."""
