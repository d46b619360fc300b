"""`SqlStore`: the core's `Store` protocol on SQLAlchemy 2 async (SQLite or PostgreSQL).

A facade: each area of the store is its own object on one shared `Database`; `SqlStore`
builds them and exposes their methods as its own (bound, so a call costs no extra layer).

- `bot.store.communities` and `bot.store.players`: communities, players
- `bot.store.quizzes`: questions, quizzes, rounds
- `bot.store.answers`: first and changed answers, the counts of an open round
- `bot.store.closing`: closing rounds and writing their scores
- `bot.store.outbox`: the messages the channels must see, and their delivery
- `bot.store.teams`, `bot.store.standings`: teams, leaderboards
- `bot.store.decks`: each community's own decks

Every method is one transaction. Writes on SQLite start with BEGIN IMMEDIATE (see
`bot.store.database`), so concurrent writers queue instead of failing; on PostgreSQL
the statements take the row locks that make answers and closes race safely.
"""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.answers import AnswerWriter
from bot.store.closing import RoundCloser
from bot.store.communities import Communities
from bot.store.database import create_engine
from bot.store.db import Database
from bot.store.decks import CommunityDecks
from bot.store.outbox import Outbox
from bot.store.players import Players
from bot.store.quizzes import Quizzes
from bot.store.standings import Leaderboards
from bot.store.teams import TeamRepository


class SqlStore:
    """The `bot.core.ports.Store` on an async SQLAlchemy engine; `close()` when done."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.db = Database(engine)
        communities = Communities(self.db)
        self.community = communities.community
        self.save_community = communities.save_community
        self.known_communities = communities.known_communities

        self._players = Players(self.db)
        self.player = self._players.player
        self.players = self._players.players

        outbox = Outbox(self.db)
        self.add_outbox = outbox.add_outbox
        self.claim_outbox = outbox.claim_outbox
        self.deliver_as_written = outbox.deliver_as_written
        self.stop_delivering_as_written = outbox.stop_delivering_as_written
        self.outbox_done = outbox.outbox_done
        self.outbox_done_many = outbox.outbox_done_many
        self.question_shown = outbox.question_shown
        self.retry_outbox = outbox.retry_outbox
        self.drop_outbox = outbox.drop_outbox
        self.fail_outbox = outbox.fail_outbox
        self.outbox_stats = outbox.outbox_stats
        self.next_outbox_time = outbox.next_outbox_time

        quizzes = Quizzes(self.db, outbox)
        self.sync_questions = quizzes.sync_questions
        self.recent_question_ids = quizzes.recent_question_ids
        self.create_quiz = quizzes.create_quiz
        self.quiz = quizzes.quiz
        self.running_quiz = quizzes.running_quiz
        self.running_quizzes = quizzes.running_quizzes
        self.round = quizzes.round
        self.open_round = quizzes.open_round
        self.set_message_ref = quizzes.set_message_ref

        self._answers = AnswerWriter(self.db)
        self.add_answer = self._answers.add_answer
        self.change_answer = self._answers.change_answer
        self.count_answers = self._answers.count_answers
        self.open_round_counts = self._answers.open_round_counts
        self.missing_expected = self._answers.missing_expected

        closer = RoundCloser(self.db, quizzes)
        self.close_round = closer.close_round
        self.close_due_rounds = closer.close_due_rounds
        self.due_round_ids = closer.due_round_ids

        leaderboards = Leaderboards(self.db)
        self.standings = leaderboards.standings
        self.quiz_totals = leaderboards.quiz_totals

        self._expose_community_areas()

    def _expose_community_areas(self) -> None:
        """What a community keeps of its own, apart from any quiz: teams and decks."""
        teams = TeamRepository(self.db)
        self.create_team = teams.create_team
        self.join_team = teams.join_team
        self.leave_team = teams.leave_team
        self.team_of = teams.team_of
        self.teams = teams.teams

        decks = CommunityDecks(self.db)
        self.deck_hashes = decks.deck_hashes
        self.community_deck = decks.community_deck
        self.community_decks = decks.community_decks
        self.save_community_deck = decks.save_community_deck
        self.remove_community_deck = decks.remove_community_deck

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
