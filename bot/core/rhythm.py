"""The weekly rhythm: group settings, the week's board posted by itself, scheduled quizzes
and per-player stats, on top of the QuizEngine and a RhythmStore.

Nothing here keeps time in memory: `run_due(now)`, called by the runtime's ticker every
half minute in every process, finds due work in the database and claims it there.

- Weekly board: when a week ends in a community's timezone, its board goes to the
  community's weekly channel. The post is a job keyed (community, "weekly-board",
  week label), claimed by inserting that key (insert-or-nothing): one process wins,
  however many run, and a restarted or late process finds the key and does nothing.
  A process that was down across a week's end posts the missed week(s) late,
  labelled with the week they cover (at most CATCH_UP_WEEKS back). A claim is a
  lease: if the claimer dies before posting, the lease runs out (LEASE) and another
  process takes the job over; if posting fails, the job is retried after RETRY_AFTER,
  at most MAX_ATTEMPTS times, then marked failed and logged. A crash after a post
  succeeded and before it was marked done would post once more on retry: the one
  case where "exactly once" becomes "at least once". A week nobody played is marked
  skipped and not posted.
- Scheduled quizzes: a schedule's `next_run_at` is advanced by a conditional update
  (WHERE next_run_at = the slot read), so exactly one process starts each slot. The
  claim comes before the start: a start that fails afterwards (channel busy, crash)
  is logged and not retried. A slot missed by more than the quiz's own duration
  (questions × seconds, at least MIN_GRACE) is skipped and logged; of several missed
  slots only the latest may still run.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol, runtime_checkable

from bot.core.community_config import (
    WEEKLY_SINCE,
    apply_setting,
    config_card,
    normalise_key,
    weekly_channel,
)
from bot.core.engine import QuizEngine
from bot.core.errors import ChannelBusyError, NotAllowedError, QuizError
from bot.core.model import (
    Community,
    CommunityRef,
    Player,
    PlayerRef,
    StartRequest,
    SubjectKind,
)
from bot.core.periods import ALL_TIME, shift_week, week_bounds, week_label
from bot.core.rhythm_cards import (
    ConfigCard,
    Improvement,
    ScheduleCard,
    StatsCard,
    WeeklyBoardCard,
)
from bot.core.schedules import (
    MAX_SCHEDULES,
    AddSchedule,
    CancelSchedule,
    Schedule,
    ScheduleSpec,
    last_slot,
    next_slot,
    parse_schedule_command,
)
from bot.core.stats import AnswerFact, player_figures

log = logging.getLogger(__name__)

WEEKLY_BOARD = "weekly-board"
"""Job kind of the weekly board post; the job key is the week label."""

BOARD_ROWS = 10
CATCH_UP_WEEKS = 4
LEASE = timedelta(minutes=10)
RETRY_AFTER = timedelta(minutes=5)
MAX_ATTEMPTS = 5
LATE_AFTER = timedelta(hours=1)
MIN_GRACE = timedelta(minutes=2)
DUE_LIMIT = 50


class JobStatus(StrEnum):
    """Life cycle of a job row."""

    RUNNING = "running"  # claimed; the claimer holds a lease
    DONE = "done"
    SKIPPED = "skipped"  # nothing to do (a week nobody played)
    FAILED = "failed"  # gave up after MAX_ATTEMPTS


@dataclass(frozen=True)
class JobClaim:
    """A job this process holds; `token` proves it when finishing."""

    id: int
    community_id: int
    kind: str
    key: str
    token: str
    attempts: int


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
class DueSchedule:
    """A schedule whose slot has come, with what starting its quiz needs."""

    schedule: Schedule
    community: Community
    host: Player


class RhythmStore(Protocol):
    """Storage of the weekly rhythm (jobs, schedules, board and stats queries)."""

    async def weekly_communities(self, platform: str) -> list[Community]:
        """Communities of a platform that have a weekly channel set."""
        ...

    async def settled_jobs(
        self, kind: str, keys: Collection[tuple[int, str]]
    ) -> set[tuple[int, str]]:
        """Which (community id, key) jobs of a kind are finished (done, skipped or failed)."""
        ...

    async def claim_job(
        self,
        community_id: int,
        kind: str,
        key: str,
        now: datetime,
        lease_until: datetime,
        max_attempts: int,
    ) -> JobClaim | None:
        """Claim a job by inserting its key (insert-or-nothing), or take over one whose
        lease ran out with fewer than `max_attempts` attempts (one with none left is
        marked failed); None if another process holds it or it is finished."""
        ...

    async def finish_job(
        self, claim: JobClaim, status: JobStatus, now: datetime, detail: str | None = None
    ) -> bool:
        """Mark a held job done, skipped or failed; False if the claim was lost."""
        ...

    async def retry_job_later(self, claim: JobClaim, retry_at: datetime, detail: str) -> None:
        """Release a held job after a failure, for a retry from `retry_at` on."""
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

    async def move_schedule(
        self,
        schedule_id: int,
        expected: datetime,
        next_run_at: datetime,
        ran_at: datetime | None = None,
    ) -> bool:
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

    async def post_board(self, channel_id: str, card: WeeklyBoardCard, image: bytes | None) -> None:
        """Post a week's board, with its PNG chart when there is one (text is the fallback)."""
        ...


BoardPicture = Callable[[WeeklyBoardCard], bytes]
"""Renders a board card as a PNG (bot.render.chart.weekly_board_png)."""


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


def due_weeks(community: Community, now: datetime) -> list[str]:
    """Ended weeks whose board is due, oldest first: the last CATCH_UP_WEEKS weeks, not
    before the week the weekly channel was set."""
    tz, start = community.timezone, community.week_start
    last = shift_week(week_label(now, tz, start), -1, start)
    weeks = [shift_week(last, -back, start) for back in reversed(range(CATCH_UP_WEEKS))]
    since = community.settings.get(WEEKLY_SINCE)
    # labels are zero-padded YYYY-Www, so they compare in time order
    return [w for w in weeks if not isinstance(since, str) or w >= since]


class Rhythm:
    """Config, schedules, stats and the due work of the weekly rhythm for one platform."""

    def __init__(
        self,
        engine: QuizEngine,
        store: RhythmStore,
        *,
        board: BoardPort | None = None,
        picture: BoardPicture | None = None,
    ) -> None:
        self.engine = engine
        self.store = store
        self.board = board
        self.picture = picture
        # community id -> newest week known to be settled; a cache of facts that never
        # change, so that a tick queries the jobs table only when a week has ended
        self._settled: dict[int, str] = {}

    @property
    def platform(self) -> str:
        """The engine's platform."""
        return self.engine.platform

    def _now(self) -> datetime:
        return self.engine.clock.now()

    # ---- /quiz config ------------------------------------------------------------------

    async def config(
        self,
        community: CommunityRef,
        channel_id: str,
        words: Sequence[str] = (),
        *,
        is_admin: bool,
    ) -> ConfigCard:
        """`/quiz config [key value]`: no words shows the settings; a key and a value
        set one (admins only). QuizError names a bad key or value in one line."""
        if not words:
            return await self.show_config(community)
        if len(words) < 2:
            key = normalise_key(words[0])
            raise QuizError(f"Missing value for {key}: /quiz config {key} VALUE")
        return await self.set_config(
            community, channel_id, words[0], " ".join(words[1:]), is_admin=is_admin
        )

    async def show_config(self, community: CommunityRef) -> ConfigCard:
        """The community's settings as a card (anyone may look)."""
        stored = await self.engine.community(community)
        return config_card(stored, self._now())

    async def set_config(
        self, community: CommunityRef, channel_id: str, key: str, value: str, *, is_admin: bool
    ) -> ConfigCard:
        """Set one setting (admins only); returns the card with the key marked."""
        if not is_admin:
            raise NotAllowedError("Only server or workspace admins can change the settings")
        key = normalise_key(key)
        stored = await self.engine.community(community)
        now = self._now()
        changed = apply_setting(
            stored, key, value, channel_id=channel_id, bank=self.engine.bank, now=now
        )
        saved = await self.engine.store.save_community(changed)
        self._settled.pop(saved.id, None)
        if saved.timezone != stored.timezone:
            await self._reschedule(saved, now)
        log.info("setting changed", extra={"community_id": saved.id, "key": key})
        return config_card(saved, now, changed=key)

    async def _reschedule(self, community: Community, now: datetime) -> None:
        """Recompute next runs in a new timezone (the local times stay as typed)."""
        for schedule in await self.store.schedules(community.id):
            following = next_slot(schedule.spec, now, community.timezone)
            await self.store.move_schedule(schedule.id, schedule.next_run_at, following)

    # ---- /quiz schedule ------------------------------------------------------------------

    async def schedule(
        self,
        community: CommunityRef,
        channel_id: str,
        by: PlayerRef,
        words: Sequence[str] = (),
        *,
        is_admin: bool,
    ) -> ScheduleCard:
        """`/quiz schedule daily|weekly|list|cancel ...` from the words after "schedule"."""
        command = parse_schedule_command(words, self.engine.bank)
        if isinstance(command, AddSchedule):
            return await self.add_schedule(
                community, channel_id, by, command.spec, is_admin=is_admin
            )
        if isinstance(command, CancelSchedule):
            return await self.cancel_schedule(community, command.schedule_id, is_admin=is_admin)
        return await self.list_schedules(community)

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
            StartRequest(decks=spec.decks, questions=spec.questions), stored
        )
        now = self._now()
        created = await self.store.add_schedule(
            NewSchedule(
                community_id=stored.id,
                platform=self.platform,
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
            raise QuizError(f"No scheduled quiz #{schedule_id} here: /quiz schedule list")
        return ScheduleCard(f"Cancelled scheduled quiz #{schedule_id}", (removed,), stored.timezone)

    # ---- /quiz stats ---------------------------------------------------------------------

    async def stats(
        self, community: CommunityRef, asker: PlayerRef, player: PlayerRef | None = None
    ) -> StatsCard:
        """`/quiz stats [player]`: a player's figures in this community (the asker's own
        without `player`)."""
        stored = await self.engine.community(community)
        target = player or asker
        if player is None:
            player_id: int | None = await self.engine.player_id(asker)
        else:
            found = await self.store.find_player(self.platform, player.external_id)
            player_id = found.id if found else None
        label = week_label(self._now(), stored.timezone, stored.week_start)
        if player_id is None:
            return _empty_stats(target.display_name, label)
        figures = player_figures(await self.store.player_answers(stored.id, player_id))
        week = await self.engine.store.standings(stored.id, label, SubjectKind.PLAYER, 0, player_id)
        total = await self.engine.store.standings(
            stored.id, ALL_TIME, SubjectKind.PLAYER, 0, player_id
        )
        return StatsCard(
            player_name=target.display_name,
            answered=figures.answered,
            correct=figures.correct,
            decks=figures.decks,
            tags=figures.tags,
            best_streak=figures.best_streak,
            median_seconds=figures.median_seconds,
            week=label,
            week_rank=week.me.rank if week.me else None,
            week_points=week.me.points if week.me else 0,
            all_rank=total.me.rank if total.me else None,
            all_points=total.me.points if total.me else 0,
        )

    # ---- the weekly board --------------------------------------------------------------------

    async def weekly_board(self, community: Community, week: str, now: datetime) -> WeeklyBoardCard:
        """The board of one week of a community (index range scans of the scores)."""
        start_day = community.week_start
        begin, end = week_bounds(week, community.timezone, start_day)
        store = self.engine.store
        players = await store.standings(community.id, week, SubjectKind.PLAYER, BOARD_ROWS)
        teams = await store.standings(community.id, week, SubjectKind.TEAM, BOARD_ROWS)
        previous = shift_week(week, -1, start_day)
        return WeeklyBoardCard(
            community_name=community.name,
            week=week,
            first_day=begin.date(),
            last_day=(end - timedelta(days=1)).date(),
            players=players.rows,
            teams=teams.rows,
            questions_played=await self.store.questions_played(community.id, begin, end),
            most_improved=await self.store.most_improved(community.id, week, previous),
            ended_at=end,
            late=now - end > LATE_AFTER,
        )

    async def _post_due_boards(self, now: datetime) -> list[BoardRun]:
        if self.board is None:
            return []  # this platform cannot post boards yet: leave the weeks unclaimed
        due: list[tuple[Community, list[str]]] = []
        for community in await self.store.weekly_communities(self.platform):
            settled = self._settled.get(community.id, "")
            weeks = [w for w in due_weeks(community, now) if w > settled]
            if weeks:
                due.append((community, weeks))
        if not due:
            return []
        keys = [(c.id, w) for c, weeks in due for w in weeks]
        settled_keys = await self.store.settled_jobs(WEEKLY_BOARD, keys)
        runs: list[BoardRun] = []
        for community, weeks in due:
            in_order = True  # the cache only moves past weeks settled without a gap
            for week in weeks:
                done = (community.id, week) in settled_keys
                if not done:
                    run = await self._post_board(community, week, now)
                    if run is not None:
                        runs.append(run)
                    done = run is not None and run.outcome is not RunOutcome.FAILED
                in_order = in_order and done
                if in_order:
                    self._settled[community.id] = week
        return runs

    async def _post_board(self, community: Community, week: str, now: datetime) -> BoardRun | None:
        claim = await self.store.claim_job(
            community.id, WEEKLY_BOARD, week, now, now + LEASE, MAX_ATTEMPTS
        )
        if claim is None:
            return None
        ids = {"community_id": community.id, "week": week, "attempt": claim.attempts}
        channel = weekly_channel(community)
        try:
            card = await self.weekly_board(community, week, now)
            if channel is None or (card.questions_played == 0 and not card.players):
                await self.store.finish_job(claim, JobStatus.SKIPPED, now, "nobody played")
                log.info("weekly board skipped: nobody played", extra=ids)
                return BoardRun(community.id, week, RunOutcome.QUIET)
            assert self.board is not None
            await self.board.post_board(channel, card, await self._picture(card, ids))
        except Exception as exc:
            detail = f"{type(exc).__name__}: {exc}"[:500]
            if claim.attempts >= MAX_ATTEMPTS:
                await self.store.finish_job(claim, JobStatus.FAILED, now, detail)
                log.exception("weekly board failed for good", extra=ids)
            else:
                await self.store.retry_job_later(claim, now + RETRY_AFTER, detail)
                log.exception("weekly board failed; retrying later", extra=ids)
            self.engine.events.error("weekly_board")
            return BoardRun(community.id, week, RunOutcome.FAILED)
        await self.store.finish_job(claim, JobStatus.DONE, self._now())
        log.info("weekly board posted", extra=ids)
        return BoardRun(community.id, week, RunOutcome.POSTED)

    async def _picture(self, card: WeeklyBoardCard, ids: dict[str, object]) -> bytes | None:
        """The board's chart, or None (the text stands alone) when rendering fails."""
        if self.picture is None or not card.players:
            return None
        try:
            # drawing takes a few hundred milliseconds: keep the event loop free
            return await asyncio.to_thread(self.picture, card)
        except Exception:
            log.exception("weekly board chart failed; posting text only", extra=ids)
            return None

    # ---- scheduled quizzes --------------------------------------------------------------------

    async def _start_due_schedules(self, now: datetime) -> list[ScheduleRun]:
        runs = []
        for due in await self.store.due_schedules(self.platform, now, DUE_LIMIT):
            run = await self._run_schedule(due, now)
            if run is not None:
                runs.append(run)
        return runs

    async def _run_schedule(self, due: DueSchedule, now: datetime) -> ScheduleRun | None:
        schedule, community = due.schedule, due.community
        spec, tz = schedule.spec, community.timezone
        slot = max(last_slot(spec, now, tz) or schedule.next_run_at, schedule.next_run_at)
        following = next_slot(spec, max(slot, now), tz)
        if not await self.store.move_schedule(schedule.id, schedule.next_run_at, following, slot):
            return None  # another process took this slot
        ids = {"community_id": community.id, "schedule_id": schedule.id}
        missed = _slots_between(spec, schedule.next_run_at, slot, tz)
        if missed:
            log.warning("scheduled quiz: %d slot(s) missed while down, skipped", missed, extra=ids)
        request = StartRequest(decks=spec.decks, questions=spec.questions)
        try:
            options = self.engine.resolve_options(request, community)
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

    # ---- the ticker's entry point ----------------------------------------------------------------

    async def run_due(self, now: datetime | None = None) -> RhythmReport:
        """Post due weekly boards and start due scheduled quizzes; safe in every process."""
        moment = now or self._now()
        boards = await self._post_due_boards(moment)
        schedules = await self._start_due_schedules(moment)
        return RhythmReport(tuple(boards), tuple(schedules))


def _slots_between(spec: ScheduleSpec, first: datetime, last: datetime, timezone: str) -> int:
    """How many slots lie in [first, last) (the ones missed before `last`)."""
    count, moment = 0, first
    while moment < last:
        count += 1
        moment = next_slot(spec, moment, timezone)
    return count


def _empty_stats(name: str, week: str) -> StatsCard:
    return StatsCard(
        player_name=name,
        answered=0,
        correct=0,
        decks=(),
        tags=(),
        best_streak=0,
        median_seconds=None,
        week=week,
        week_rank=None,
        week_points=0,
        all_rank=None,
        all_points=0,
    )
