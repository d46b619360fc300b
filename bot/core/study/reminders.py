"""Daily study reminders (opt-in): at the community's morning time, one DM to each
player with due cards, "N questions are due. /quiz review".

Each reminder is a job keyed (community, "study-reminder", "DATE:PLAYER"), claimed by
inserting that key as the weekly board is: one process sends it, however many run. A
DM the platform refuses (DirectMessageRefused: the user blocks DMs) turns that
player's reminders off and is logged, rather than tried again every day; another
failure is retried later, at most MAX_ATTEMPTS times.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.core.jobs import JobClaims, JobRequest, JobStatus
from bot.core.model import Community
from bot.core.periods import zone
from bot.core.rhythm.settings import morning_time
from bot.core.study.ports import (
    DirectMessagePort,
    DirectMessageRefused,
    ReminderChange,
    ReminderTarget,
    StudyStore,
)

log = logging.getLogger(__name__)

STUDY_REMINDER = "study-reminder"
LEASE = timedelta(minutes=10)
RETRY_AFTER = timedelta(minutes=15)
MAX_ATTEMPTS = 3


def reminder_text(due: int) -> str:
    """The reminder DM."""
    return (
        f"{due} question{'' if due == 1 else 's'} {'is' if due == 1 else 'are'} due. /quiz review"
    )


class ReminderOutcome(StrEnum):
    """What became of one player's reminder of the day."""

    SENT = "sent"
    REFUSED = "refused"  # the platform refused the DM: reminders are now off
    FAILED = "failed"  # to be retried


@dataclass(frozen=True)
class ReminderRun:
    """One reminder this process handled."""

    community_id: int
    player_id: int
    outcome: ReminderOutcome


def morning_has_come(community: Community, now: datetime) -> str | None:
    """The community's local date once its morning time has passed today, else None."""
    local = now.astimezone(zone(community.timezone))
    hour, minute = morning_time(community)
    if (local.hour, local.minute) < (hour, minute):
        return None
    return local.date().isoformat()


class StudyReminders:
    """Sends the due reminders of one platform; safe to run in every process."""

    def __init__(
        self, platform: str, store: StudyStore, jobs: JobClaims, dm: DirectMessagePort | None
    ) -> None:
        self.platform = platform
        self.store = store
        self.jobs = jobs
        self.dm = dm
        # community id -> the local day this process has gone through: one pass a day,
        # not one query per tick all day long (a failed DM keeps the day open)
        self._done: dict[int, str] = {}

    async def send_due(self, now: datetime) -> list[ReminderRun]:
        """Remind every opted-in player with due cards whose community's morning came."""
        if self.dm is None:
            return []  # this platform cannot send DMs: leave the reminders unclaimed
        runs: list[ReminderRun] = []
        for community in await self.store.reminder_communities(self.platform):
            day = morning_has_come(community, now)
            if day is None or self._done.get(community.id) == day:
                continue
            failed = False
            for target in await self.store.reminder_targets(community.id, now):
                run = await self._remind(community, day, target, now)
                if run is not None:
                    runs.append(run)
                    failed = failed or run.outcome is ReminderOutcome.FAILED
            if not failed:
                self._done[community.id] = day
        return runs

    async def _remind(
        self, community: Community, day: str, target: ReminderTarget, now: datetime
    ) -> ReminderRun | None:
        assert self.dm is not None
        player = target.player
        key = f"{day}:{player.id}"
        claim = await self.jobs.claim_job(
            JobRequest(community.id, STUDY_REMINDER, key, now, now + LEASE, MAX_ATTEMPTS)
        )
        if claim is None:
            return None
        ids = {"community_id": community.id, "player_id": player.id, "day": day}
        try:
            await self.dm.send_direct(player.external_id, reminder_text(target.due))
        except DirectMessageRefused as exc:
            why = f"DM refused: {exc}"[:500]
            refused = ReminderChange(community.id, player.id, False, why)
            await self.store.set_reminders(refused, now)
            await self.jobs.finish_job(claim, JobStatus.SKIPPED, now, why)
            log.warning("study reminder refused; reminders turned off", extra=ids)
            return ReminderRun(community.id, player.id, ReminderOutcome.REFUSED)
        except Exception as exc:
            detail = f"{type(exc).__name__}: {exc}"[:500]
            if claim.attempts >= MAX_ATTEMPTS:
                await self.jobs.finish_job(claim, JobStatus.FAILED, now, detail)
            else:
                await self.jobs.retry_job_later(claim, now + RETRY_AFTER, detail)
            log.exception("study reminder failed", extra=ids)
            return ReminderRun(community.id, player.id, ReminderOutcome.FAILED)
        await self.jobs.finish_job(claim, JobStatus.DONE, now)
        log.info("study reminder sent", extra=ids)
        return ReminderRun(community.id, player.id, ReminderOutcome.SENT)
