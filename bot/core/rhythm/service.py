"""Rhythm: the weekly rhythm's commands and the ticker's entry point, for one platform.

`/quiz config` and `/quiz stats` are answered here; schedules and weekly boards are
handed to `ScheduledQuizzes` and `WeeklyBoards`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from bot.core.engine import QuizEngine
from bot.core.errors import NotAllowedError, QuizError
from bot.core.model import Community, CommunityRef, PlayerRef, SubjectKind
from bot.core.periods import ALL_TIME, week_label
from bot.core.ports import StandingsQuery
from bot.core.rhythm.boards import WeeklyBoards
from bot.core.rhythm.cards import ConfigCard, ScheduleCard, StatsCard, WeeklyBoardCard
from bot.core.rhythm.ports import BoardPicture, BoardPort, RhythmStore
from bot.core.rhythm.report import RhythmReport
from bot.core.rhythm.scheduler import ScheduledQuizzes
from bot.core.rhythm.schedules import (
    AddSchedule,
    CancelSchedule,
    parse_schedule_command,
)
from bot.core.rhythm.settings import apply_setting, config_card, normalise_key
from bot.core.rhythm.stats import player_figures
from bot.core.study.reminders import StudyReminders
from bot.core.study.review import ReviewEngine
from bot.core.syntax import command

log = logging.getLogger("bot.core.rhythm")  # one log name for all of the rhythm


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
        self.boards = WeeklyBoards(engine, store, board, picture)
        self.scheduled = ScheduledQuizzes(engine, store)
        # study mode, set by the composition root: mastery on stats, daily reminders
        self.study: ReviewEngine | None = None
        self.reminders: StudyReminders | None = None

    @property
    def platform(self) -> str:
        """The engine's platform."""
        return self.engine.platform

    @property
    def board(self) -> BoardPort | None:
        """Where weekly boards go; None where the platform cannot post them."""
        return self.boards.board

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
            raise QuizError(f"Missing value for {key}: {command(f'config {key} VALUE')}")
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
        bank = await self.engine.catalogue.bank(stored.id)  # the server's and its own decks
        changed = apply_setting(stored, key, value, channel_id=channel_id, bank=bank, now=now)
        saved = await self.engine.store.save_community(changed)
        self.boards.forget(saved.id)
        if saved.timezone != stored.timezone:
            await self.scheduled.reschedule(saved, now)
        log.info("setting changed", extra={"community_id": saved.id, "key": key})
        return config_card(saved, now, changed=key)

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
        command = parse_schedule_command(words, (await self.engine.decks_of(community)).bank)
        if isinstance(command, AddSchedule):
            return await self.scheduled.add_schedule(
                community, channel_id, by, command.spec, is_admin=is_admin
            )
        if isinstance(command, CancelSchedule):
            return await self.scheduled.cancel_schedule(
                community, command.schedule_id, is_admin=is_admin
            )
        return await self.list_schedules(community)

    async def list_schedules(self, community: CommunityRef) -> ScheduleCard:
        """The community's scheduled quizzes."""
        return await self.scheduled.list_schedules(community)

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
        this_week = StandingsQuery(stored.id, label, SubjectKind.PLAYER, 0, player_id)
        week = await self.engine.store.standings(this_week)
        total = await self.engine.store.standings(replace(this_week, period=ALL_TIME))
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
            mastery=await self.study.mastery(community, target) if self.study else None,
        )

    # ---- the weekly board and the ticker's entry point ------------------------------------

    async def weekly_board(self, community: Community, week: str, now: datetime) -> WeeklyBoardCard:
        """The board of one week of a community."""
        return await self.boards.weekly_board(community, week, now)

    async def run_due(self, now: datetime | None = None) -> RhythmReport:
        """Post due weekly boards and start due scheduled quizzes; safe in every process."""
        moment = now or self._now()
        boards = await self.boards.post_due(moment)
        schedules = await self.scheduled.start_due(moment)
        if self.reminders is not None:
            await self.reminders.send_due(moment)
        return RhythmReport(tuple(boards), tuple(schedules))


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
