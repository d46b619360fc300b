"""Scheduled quizzes: adding, listing and cancelling them, and starting the due ones.

A schedule's `next_run_at` is advanced by a conditional update (WHERE next_run_at =
the slot read), so exactly one process starts each slot. The claim comes before the
start: a start that fails afterwards (channel busy, crash) is logged and not retried.
A slot missed by more than the quiz's own duration (questions × seconds, at least
MIN_GRACE) is skipped and logged; of several missed slots only the latest may still run.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.core.engine import QuizEngine
from bot.core.errors import ChannelBusyError, NotAllowedError, QuizError
from bot.core.model import Community, CommunityRef, PlayerRef, StartRequest
from bot.core.rhythm.cards import ScheduleCard
from bot.core.rhythm.ports import DueSchedule, NewSchedule, RhythmStore, ScheduleMove
from bot.core.rhythm.report import RunOutcome, ScheduleRun
from bot.core.rhythm.schedules import MAX_SCHEDULES, ScheduleSpec, last_slot, next_slot
from bot.core.syntax import command

log = logging.getLogger("bot.core.rhythm")  # one log name for all of the rhythm

MIN_GRACE = timedelta(minutes=2)
DUE_LIMIT = 50


class ScheduledQuizzes:
    """The scheduled quizzes of one platform."""

    def __init__(self, engine: QuizEngine, store: RhythmStore) -> None:
        self.engine = engine
        self.store = store

    async def add_schedule(
        self,
        community: CommunityRef,
        channel_id: str,
        by: PlayerRef,
        spec: ScheduleSpec,
        *,
        is_admin: bool,
    ) -> ScheduleCard:
        """Schedule a quiz in this channel (admins only); the card shows the new schedule."""
        if not is_admin:
            raise NotAllowedError("Only server or workspace admins can schedule quizzes")
        stored = await self.engine.community(community)
        # fail now, not at 09:00, on a deck or count the community's defaults make invalid
        self.engine.resolve_options(
            StartRequest(decks=spec.decks, questions=spec.questions),
            stored,
            bank=await self.engine.catalogue.bank(stored.id),
        )
        now = self.engine.clock.now()
        created = await self.store.add_schedule(
            NewSchedule(
                community_id=stored.id,
                platform=self.engine.platform,
                channel_id=channel_id,
                created_by=await self.engine.player_id(by),
                spec=spec,
                next_run_at=next_slot(spec, now, stored.timezone),
                created_at=now,
            ),
            MAX_SCHEDULES,
        )
        log.info("quiz scheduled", extra={"community_id": stored.id, "schedule_id": created.id})
        return ScheduleCard(f"Scheduled quiz #{created.id}", (created,), stored.timezone)

    async def list_schedules(self, community: CommunityRef) -> ScheduleCard:
        """The community's scheduled quizzes."""
        stored = await self.engine.community(community)
        found = await self.store.schedules(stored.id)
        return ScheduleCard("Scheduled quizzes", tuple(found), stored.timezone)

    async def cancel_schedule(
        self, community: CommunityRef, schedule_id: int, *, is_admin: bool
    ) -> ScheduleCard:
        """Cancel a scheduled quiz by id (admins only); QuizError if there is no such one."""
        if not is_admin:
            raise NotAllowedError("Only server or workspace admins can cancel scheduled quizzes")
        stored = await self.engine.community(community)
        removed = await self.store.delete_schedule(stored.id, schedule_id)
        if removed is None:
            raise QuizError(f"No scheduled quiz #{schedule_id} here: {command('schedule list')}")
        return ScheduleCard(f"Cancelled scheduled quiz #{schedule_id}", (removed,), stored.timezone)

    async def reschedule(self, community: Community, now: datetime) -> None:
        """Recompute next runs in a new timezone (the local times stay as typed)."""
        for schedule in await self.store.schedules(community.id):
            following = next_slot(schedule.spec, now, community.timezone)
            move = ScheduleMove(schedule.id, schedule.next_run_at, following)
            await self.store.move_schedule(move)

    async def start_due(self, now: datetime) -> list[ScheduleRun]:
        runs = []
        for due in await self.store.due_schedules(self.engine.platform, now, DUE_LIMIT):
            run = await self._run_schedule(due, now)
            if run is not None:
                runs.append(run)
        return runs

    async def _run_schedule(self, due: DueSchedule, now: datetime) -> ScheduleRun | None:
        schedule, community = due.schedule, due.community
        spec, tz = schedule.spec, community.timezone
        slot = max(last_slot(spec, now, tz) or schedule.next_run_at, schedule.next_run_at)
        following = next_slot(spec, max(slot, now), tz)
        move = ScheduleMove(schedule.id, schedule.next_run_at, following, ran_at=slot)
        if not await self.store.move_schedule(move):
            return None  # another process took this slot
        ids = {"community_id": community.id, "schedule_id": schedule.id}
        missed = _slots_between(spec, schedule.next_run_at, slot, tz)
        if missed:
            log.warning("scheduled quiz: %d slot(s) missed while down, skipped", missed, extra=ids)
        request = StartRequest(decks=spec.decks, questions=spec.questions)
        try:
            bank = await self.engine.catalogue.bank(community.id)
            options = self.engine.resolve_options(request, community, bank=bank)
        except QuizError as exc:
            log.error("scheduled quiz cannot start: %s", exc, extra=ids)
            return ScheduleRun(schedule.id, slot, RunOutcome.FAILED, missed=missed)
        grace = max(timedelta(seconds=options.questions * options.seconds), MIN_GRACE)
        if now - slot > grace:
            log.warning(
                "scheduled quiz skipped: slot %s missed by %s (more than its %s)",
                slot.isoformat(),
                now - slot,
                grace,
                extra=ids,
            )
            return ScheduleRun(schedule.id, slot, RunOutcome.SKIPPED, missed=missed + 1)
        host = PlayerRef(due.host.external_id, due.host.display_name)
        ref = CommunityRef(community.external_id, community.name)
        try:
            quiz = await self.engine.start(ref, schedule.channel_id, host, request)
        except ChannelBusyError:
            log.warning("scheduled quiz skipped: a quiz is running in the channel", extra=ids)
            return ScheduleRun(schedule.id, slot, RunOutcome.BUSY, missed=missed)
        except Exception:
            log.exception("scheduled quiz failed to start", extra=ids)
            self.engine.events.error("scheduled_quiz")
            return ScheduleRun(schedule.id, slot, RunOutcome.FAILED, missed=missed)
        log.info("scheduled quiz started", extra={**ids, "quiz_id": quiz.id})
        return ScheduleRun(schedule.id, slot, RunOutcome.STARTED, quiz.id, missed)


def _slots_between(spec: ScheduleSpec, first: datetime, last: datetime, timezone: str) -> int:
    """How many slots lie in [first, last) (the ones missed before `last`)."""
    count, moment = 0, first
    while moment < last:
        count += 1
        moment = next_slot(spec, moment, timezone)
    return count
