"""The weekly board: when a week ends in a community's timezone, its board goes to the
community's weekly channel.

The post is a job keyed (community, "weekly-board", week label), claimed by inserting
that key (insert-or-nothing): one process wins, however many run, and a restarted or
late process finds the key and does nothing. A process that was down across a week's
end posts the missed week(s) late, labelled with the week they cover (at most
CATCH_UP_WEEKS back). A claim is a lease: if the claimer dies before finishing, the
lease runs out (LEASE) and another process takes the job over; if building the board
fails, the job is retried after RETRY_AFTER, at most MAX_ATTEMPTS times, then marked
failed and logged. Finishing the job writes the board, frozen, to the outbox in the
same transaction; the outbox's dispatcher posts it and retries the platform's
failures (bot.core.dispatch). A week nobody played is marked skipped and not posted.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from dataclasses import replace
from datetime import datetime, timedelta

from bot.core.engine import QuizEngine
from bot.core.jobs import JobRequest, JobStatus
from bot.core.model import Community, SubjectKind
from bot.core.outbox import OutboxKind, OutboxMessage, to_json
from bot.core.periods import shift_week, week_bounds, week_label
from bot.core.ports import StandingsQuery
from bot.core.rhythm.cards import WeeklyBoardCard
from bot.core.rhythm.ports import BoardPicture, BoardPort, DueBoard, RhythmStore
from bot.core.rhythm.report import BoardRun, RunOutcome
from bot.core.rhythm.settings import WEEKLY_SINCE, weekly_channel

log = logging.getLogger("bot.core.rhythm")  # one log name for all of the rhythm

WEEKLY_BOARD = "weekly-board"
"""Job kind of the weekly board post; the job key is the week label."""

BOARD_ROWS = 10
CATCH_UP_WEEKS = 4
LEASE = timedelta(minutes=10)
RETRY_AFTER = timedelta(minutes=5)
MAX_ATTEMPTS = 5
LATE_AFTER = timedelta(hours=1)


def due_weeks(community: Community, now: datetime) -> list[str]:
    """Ended weeks whose board is due, oldest first: the last CATCH_UP_WEEKS weeks, not
    before the week the weekly channel was set."""
    tz, start = community.timezone, community.week_start
    last = shift_week(week_label(now, tz, start), -1, start)
    weeks = [shift_week(last, -back, start) for back in reversed(range(CATCH_UP_WEEKS))]
    since = community.settings.get(WEEKLY_SINCE)
    # labels are zero-padded YYYY-Www, so they compare in time order
    return [w for w in weeks if not isinstance(since, str) or w >= since]


def week_end(community: Community, now: datetime) -> datetime:
    """When the week containing `now` ends in the community's timezone: its next board."""
    tz, start = community.timezone, community.week_start
    return week_bounds(week_label(now, tz, start), tz, start)[1]


def board_message(channel: str, card: WeeklyBoardCard, picture: bytes | None) -> OutboxMessage:
    """A week's board for the outbox: the card and its chart, frozen at the claim."""
    image = base64.b64encode(picture).decode("ascii") if picture is not None else None
    return OutboxMessage(OutboxKind.BOARD, channel, None, {"card": to_json(card), "image": image})


class WeeklyBoards:
    """Builds a week's board and posts the due ones of one platform."""

    def __init__(
        self,
        engine: QuizEngine,
        store: RhythmStore,
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

    def forget(self, community_id: int) -> None:
        """Drop what is known of a community's weeks (its settings changed)."""
        self._settled.pop(community_id, None)

    async def weekly_board(self, community: Community, week: str, now: datetime) -> WeeklyBoardCard:
        """The board of one week of a community (index range scans of the scores)."""
        start_day = community.week_start
        begin, end = week_bounds(week, community.timezone, start_day)
        store = self.engine.store
        board = StandingsQuery(community.id, week, SubjectKind.PLAYER, BOARD_ROWS)
        players = await store.standings(board)
        teams = await store.standings(replace(board, subject_kind=SubjectKind.TEAM))
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

    async def post_due(self, now: datetime) -> list[BoardRun]:
        """Post the boards of weeks that ended and are not settled yet. Only communities
        whose check is due are read; once all their ended weeks are settled, the next
        check is moved to the end of their current week."""
        if self.board is None:
            return []  # this platform cannot post boards yet: leave the weeks unclaimed
        due: list[tuple[DueBoard, list[str]]] = []
        for found in await self.store.due_boards(self.engine.platform, now):
            settled = self._settled.get(found.community.id, "")
            due.append((found, [w for w in due_weeks(found.community, now) if w > settled]))
        keys = [(d.community.id, w) for d, weeks in due for w in weeks]
        settled_keys = await self.store.settled_jobs(WEEKLY_BOARD, keys) if keys else set()
        runs: list[BoardRun] = []
        for found, weeks in due:
            community = found.community
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
            if in_order:
                await self.store.move_board(community.id, found.due_at, week_end(community, now))
        return runs

    async def _post_board(self, community: Community, week: str, now: datetime) -> BoardRun | None:
        claim = await self.store.claim_job(
            JobRequest(community.id, WEEKLY_BOARD, week, now, now + LEASE, MAX_ATTEMPTS)
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
            picture = await self._picture(card, ids)
            message = board_message(channel, card, picture)
            # the outbox delivers it (retrying as it must) once the job is marked done
            posted = await self.store.finish_job_posting(
                claim, self.engine.clock.now(), self.engine.platform, message
            )
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
        if not posted:
            log.warning("weekly board claim lost to another process", extra=ids)
            return None
        await self.engine.dispatcher.deliver_now()
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
