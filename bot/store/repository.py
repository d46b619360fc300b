"""`SqlStore`: the core's `Store` protocol on SQLAlchemy 2 async (SQLite or PostgreSQL).

A facade: each area of the store is its own object on one shared `Database`, and
`SqlStore` composes them and hands each call to its area.

- `bot.store.communities` and `bot.store.players`: communities, players
- `bot.store.quizzes`: questions, quizzes, rounds
- `bot.store.answers`: first and changed answers, the counts of an open round
- `bot.store.closing`: closing rounds and writing their scores
- `bot.store.teams`, `bot.store.standings`: teams, leaderboards

Every method is one transaction. Writes on SQLite start with BEGIN IMMEDIATE (see
`bot.store.database`), so concurrent writers queue instead of failing; on PostgreSQL
the statements take the row locks that make answers and closes race safely.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core.model import (
    Community,
    Player,
    Question,
    Quiz,
    Round,
    ScoreRow,
    Standings,
    SubjectKind,
    Team,
    TeamRoster,
)
from bot.core.ports import AnswerInsert, ClosedRound, Decide, NewQuiz, NewRound, OpenRoundCount
from bot.store.answers import AnswerWriter
from bot.store.closing import RoundCloser
from bot.store.communities import Communities
from bot.store.database import create_engine
from bot.store.db import Database
from bot.store.players import Players
from bot.store.quizzes import Quizzes
from bot.store.standings import Leaderboards
from bot.store.teams import TeamRepository


class SqlStore:
    """The `bot.core.ports.Store` on an async SQLAlchemy engine; `close()` when done."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.db = Database(engine)
        self._communities = Communities(self.db)
        self._players = Players(self.db)
        self._quizzes = Quizzes(self.db)
        self._answers = AnswerWriter(self.db)
        self._closer = RoundCloser(self.db, self._quizzes)
        self._teams = TeamRepository(self.db)
        self._leaderboards = Leaderboards(self.db)

    @classmethod
    def from_url(cls, url: str) -> SqlStore:
        """A store on a new engine for `url` (no migration is run)."""
        return cls(create_engine(url))

    @property
    def engine(self) -> AsyncEngine:
        """The engine underneath, for tests and maintenance."""
        return self.db.engine

    async def close(self) -> None:
        """Finish the answers being written, then close every pooled connection."""
        await self._players.close()
        await self._answers.close()
        await self.db.engine.dispose()

    async def __aenter__(self) -> SqlStore:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # Communities and players

    async def community(self, platform: str, external_id: str, name: str) -> Community:
        """See `Communities.community`."""
        return await self._communities.community(platform, external_id, name)

    async def save_community(self, community: Community) -> Community:
        """See `Communities.save_community`."""
        return await self._communities.save_community(community)

    async def player(self, platform: str, external_id: str, display_name: str) -> Player:
        """See `Players.player`."""
        return await self._players.player(platform, external_id, display_name)

    async def players(self, player_ids: Collection[int]) -> Mapping[int, Player]:
        """See `Players.players`."""
        return await self._players.players(player_ids)

    # Questions, quizzes and rounds

    async def sync_questions(self, questions: Sequence[Question]) -> int:
        """See `Quizzes.sync_questions`."""
        return await self._quizzes.sync_questions(questions)

    async def recent_question_ids(
        self, community_id: int, channel_id: str, limit: int
    ) -> list[str]:
        """See `Quizzes.recent_question_ids`."""
        return await self._quizzes.recent_question_ids(community_id, channel_id, limit)

    async def create_quiz(self, quiz: NewQuiz, first_round: NewRound) -> tuple[Quiz, Round]:
        """See `Quizzes.create_quiz`."""
        return await self._quizzes.create_quiz(quiz, first_round)

    async def quiz(self, quiz_id: int) -> Quiz | None:
        """See `Quizzes.quiz`."""
        return await self._quizzes.quiz(quiz_id)

    async def running_quiz(self, community_id: int, channel_id: str) -> Quiz | None:
        """See `Quizzes.running_quiz`."""
        return await self._quizzes.running_quiz(community_id, channel_id)

    async def round(self, round_id: int) -> Round | None:
        """See `Quizzes.round`."""
        return await self._quizzes.round(round_id)

    async def open_round(self, quiz_id: int) -> Round | None:
        """See `Quizzes.open_round`."""
        return await self._quizzes.open_round(quiz_id)

    async def set_message_ref(self, round_id: int, message_ref: str) -> None:
        """See `Quizzes.set_message_ref`."""
        await self._quizzes.set_message_ref(round_id, message_ref)

    # Answers

    async def add_answer(
        self,
        round_id: int,
        player_id: int,
        selected: tuple[int, ...],
        now: datetime,
        team_community_id: int | None = None,
    ) -> AnswerInsert:
        """See `AnswerWriter.add_answer`."""
        return await self._answers.add_answer(round_id, player_id, selected, now, team_community_id)

    async def change_answer(
        self, round_id: int, player_id: int, selected: tuple[int, ...], now: datetime
    ) -> bool:
        """See `AnswerWriter.change_answer`."""
        return await self._answers.change_answer(round_id, player_id, selected, now)

    async def count_answers(self, round_id: int) -> int:
        """See `AnswerWriter.count_answers`."""
        return await self._answers.count_answers(round_id)

    async def open_round_counts(self, round_ids: Collection[int]) -> list[OpenRoundCount]:
        """See `AnswerWriter.open_round_counts`."""
        return await self._answers.open_round_counts(round_ids)

    async def missing_expected(self, quiz_id: int, round_id: int, roster: Collection[int]) -> int:
        """See `AnswerWriter.missing_expected`."""
        return await self._answers.missing_expected(quiz_id, round_id, roster)

    # Closing rounds

    async def close_round(self, round_id: int, now: datetime, decide: Decide) -> ClosedRound | None:
        """See `RoundCloser.close_round`."""
        return await self._closer.close_round(round_id, now, decide)

    async def close_due_rounds(
        self, platform: str, now: datetime, decide: Decide, limit: int = 50
    ) -> list[ClosedRound]:
        """See `RoundCloser.close_due_rounds`."""
        return await self._closer.close_due_rounds(platform, now, decide, limit)

    async def due_round_ids(self, platform: str, now: datetime, limit: int = 50) -> list[int]:
        """See `RoundCloser.due_round_ids`."""
        return await self._closer.due_round_ids(platform, now, limit)

    # Teams

    async def create_team(self, community_id: int, name: str, creator_id: int) -> Team:
        """See `TeamRepository.create_team`."""
        return await self._teams.create_team(community_id, name, creator_id)

    async def join_team(self, community_id: int, name: str, player_id: int) -> Team:
        """See `TeamRepository.join_team`."""
        return await self._teams.join_team(community_id, name, player_id)

    async def leave_team(self, community_id: int, player_id: int) -> Team:
        """See `TeamRepository.leave_team`."""
        return await self._teams.leave_team(community_id, player_id)

    async def team_of(self, community_id: int, player_id: int) -> Team | None:
        """See `TeamRepository.team_of`."""
        return await self._teams.team_of(community_id, player_id)

    async def teams(self, community_id: int) -> list[TeamRoster]:
        """See `TeamRepository.teams`."""
        return await self._teams.teams(community_id)

    # Leaderboards

    async def standings(
        self,
        community_id: int,
        period: str,
        subject_kind: SubjectKind,
        limit: int,
        me_id: int | None = None,
    ) -> Standings:
        """See `Leaderboards.standings`."""
        return await self._leaderboards.standings(community_id, period, subject_kind, limit, me_id)

    async def quiz_totals(self, quiz_id: int, subject_kind: SubjectKind) -> list[ScoreRow]:
        """See `Leaderboards.quiz_totals`."""
        return await self._leaderboards.quiz_totals(quiz_id, subject_kind)
