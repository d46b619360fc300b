"""The protocols the core needs: a Store for state, a Clock for time, a ChatPort to talk.

The Store is the sum of a few roles (CommunityStore, RoundStore, AnswerStore, TeamStore,
StandingsStore), so that a part of the core, or a test's fake, needs only the role it uses.

The engine knows nothing of SQL or chat platforms; `bot.store` and `bot.adapters`
implement these from outside.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from bot.core.cards import QuestionCard, RevealCard, SummaryCard
from bot.core.model import (
    Answer,
    Community,
    Player,
    Question,
    Quiz,
    QuizOptions,
    QuizStatus,
    Round,
    RoundQuestion,
    ScoreDelta,
    ScoreRow,
    Standings,
    SubjectKind,
    Team,
    TeamRoster,
    TeamVote,
)
from bot.core.outbox import OutboxStore


class Clock(Protocol):
    """Where the engine gets the time; tests inject a fake one."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


@dataclass(frozen=True)
class NewQuiz:
    """A quiz about to be created."""

    community_id: int
    platform: str
    channel_id: str
    host_id: int
    options: QuizOptions
    question_ids: tuple[str, ...]
    created_at: datetime


@dataclass(frozen=True)
class NewRound:
    """A round about to be opened."""

    quiz_id: int
    position: int
    question: RoundQuestion
    opened_at: datetime
    closes_at: datetime


class AnswerOutcome(StrEnum):
    """What happened to an attempted answer insert."""

    INSERTED = "inserted"
    DUPLICATE = "duplicate"  # this player already answered this round
    CLOSED = "closed"  # the round is closed or past its deadline
    NO_TEAM = "no_team"  # teams mode and the player is in no team


@dataclass(frozen=True)
class PlayerKey:
    """A player as a platform names them, for a write that creates the player if new."""

    platform: str
    external_id: str
    display_name: str


@dataclass(frozen=True)
class AnswerInsert:
    """Result of `Store.add_answer`."""

    outcome: AnswerOutcome
    player_id: int  # the answering player's (created by the answer's write if new)
    answer: Answer | None = None  # the stored answer (new, or the earlier one on DUPLICATE)


@dataclass(frozen=True)
class OpenRoundCount:
    """An open round and how many players answered it so far: the answers-so-far line."""

    round: Round
    answered: int


@dataclass(frozen=True)
class CloseContext:
    """Everything scoring needs, read inside the transaction that closes a round."""

    quiz: Quiz
    round: Round  # already marked closed
    community: Community
    answers: tuple[Answer, ...]  # ordered by answered_at, then player id
    previous_streaks: Mapping[int, int]  # player id -> streak of their answer one round earlier
    previous_answered: int | None  # answers in the round before, None for round 1
    player_names: Mapping[int, str]  # for every answering player
    team_names: Mapping[int, str]  # for every team that voted
    now: datetime
    # everyone who answered an earlier round of the quiz (expected in this one)
    earlier_players: frozenset[int] = frozenset()


@dataclass(frozen=True)
class CloseDecision:
    """What closing a round writes, decided by the core from a CloseContext."""

    answers: tuple[Answer, ...]  # with correct, points and streak filled in
    team_votes: tuple[TeamVote, ...]
    deltas: tuple[ScoreDelta, ...]
    periods: tuple[str, ...]  # score periods the deltas go to, e.g. ("2026-W48", "all")
    quiz_status: QuizStatus  # RUNNING to go on, FINISHED or STOPPED to end
    next_round: NewRound | None
    ending: str | None = None  # why the quiz ends here, shown at the reveal and summary


Decide = Callable[[CloseContext], CloseDecision]


@dataclass(frozen=True)
class ClosedRound:
    """A round closed by this call: the context, the decision, and what was opened next."""

    context: CloseContext
    decision: CloseDecision
    quiz: Quiz  # with its status after the close
    next_round: Round | None


class CommunityStore(Protocol):
    """Communities and players, got or created by their platform ids."""

    async def community(self, platform: str, external_id: str, name: str) -> Community:
        """Get or create a community; `name` updates the stored one when it differs."""
        ...

    async def save_community(self, community: Community) -> Community:
        """Store a community's timezone, week start and settings."""
        ...

    async def player(self, platform: str, external_id: str, display_name: str) -> Player:
        """Get or create a player; `display_name` updates the stored one when it differs."""
        ...


class RoundStore(Protocol):
    """Quizzes and their rounds: creating, reading, and closing them once."""

    async def recent_question_ids(
        self, community_id: int, channel_id: str, limit: int
    ) -> list[str]:
        """Question ids of the channel's latest rounds, newest first, at most `limit`."""
        ...

    async def create_quiz(self, quiz: NewQuiz, first_round: NewRound) -> tuple[Quiz, Round]:
        """Create a running quiz with its first open round (`first_round.quiz_id` is ignored).

        Raises ChannelBusyError if the channel already has a running quiz; a unique
        index enforces this, not a read-then-write.
        """
        ...

    async def quiz(self, quiz_id: int) -> Quiz | None:
        """A quiz by id."""
        ...

    async def running_quiz(self, community_id: int, channel_id: str) -> Quiz | None:
        """The channel's running quiz, if any."""
        ...

    async def running_quizzes(self, community_id: int) -> list[Quiz]:
        """Every running quiz of a community, oldest first."""
        ...

    async def round(self, round_id: int) -> Round | None:
        """A round by id."""
        ...

    async def open_round(self, quiz_id: int) -> Round | None:
        """The quiz's open round, if any."""
        ...

    async def set_message_ref(self, round_id: int, message_ref: str) -> None:
        """Remember the chat message that shows a round."""
        ...

    async def close_round(self, round_id: int, now: datetime, decide: Decide) -> ClosedRound | None:
        """Close an open round and apply `decide` in the same transaction.

        A conditional update (open -> closed) makes this happen once: a second caller,
        in this process or another, gets None.
        """
        ...

    async def close_due_rounds(
        self, platform: str, now: datetime, decide: Decide, limit: int = 50
    ) -> list[ClosedRound]:
        """Close every open round of `platform` whose deadline has passed, each in its own
        transaction; on PostgreSQL due rounds are claimed with FOR UPDATE SKIP LOCKED."""
        ...


class AnswerStore(Protocol):
    """The players' answers to open rounds."""

    async def add_answer(
        self,
        round_id: int,
        player: int | PlayerKey,
        selected: tuple[int, ...],
        now: datetime,
        team_community_id: int | None = None,
    ) -> AnswerInsert:
        """Record a first answer, if the round is open and not past due.

        `player` is the player's id, or their key when the caller does not know the id
        yet: the player is then created (or renamed) in the answer's own transaction,
        and the result carries the id. With `team_community_id` set (teams mode), the
        player's team in that community is stored on the answer, and a player in no
        team gets NO_TEAM. The unique (round, player) key makes a second answer
        DUPLICATE, whatever the concurrency, and an answer INSERTED here is always seen
        by the close of its round.
        """
        ...

    async def change_answer(
        self, round_id: int, player_id: int, selected: tuple[int, ...], now: datetime
    ) -> bool:
        """Replace a player's selection while the round is still open; False if not."""
        ...

    async def open_round_counts(self, round_ids: Collection[int]) -> list[OpenRoundCount]:
        """The rounds among `round_ids` still open, each with its answer count, in one read."""
        ...

    async def missing_expected(self, quiz_id: int, round_id: int, roster: Collection[int]) -> int:
        """How many expected players have not answered this round yet.

        Expected: the roster plus everyone who answered an earlier round of the quiz.
        """
        ...


class TeamStore(Protocol):
    """Teams of a community; a player is in at most one."""

    async def create_team(self, community_id: int, name: str, creator_id: int) -> Team:
        """Create a team and put its creator in it; TeamError if the name is taken or the
        creator is already in a team."""
        ...

    async def join_team(self, community_id: int, name: str, player_id: int) -> Team:
        """Join a team by name (case-insensitive); TeamError if none or already in one."""
        ...

    async def leave_team(self, community_id: int, player_id: int) -> Team:
        """Leave the player's team (an emptied team is disbanded); TeamError if in none."""
        ...

    async def team_of(self, community_id: int, player_id: int) -> Team | None:
        """The player's team in a community."""
        ...

    async def teams(self, community_id: int) -> list[TeamRoster]:
        """Every team of a community with its members, by name."""
        ...


@dataclass(frozen=True)
class StandingsQuery:
    """A board to read: the top `limit` players (or teams) of a community's score period,
    and the row of `me_id` (a player's or a team's id) wherever it ranks."""

    community_id: int
    period: str
    subject_kind: SubjectKind
    limit: int
    me_id: int | None = None


class StandingsStore(Protocol):
    """The leaderboards: score periods, and the totals within one quiz."""

    async def standings(self, query: StandingsQuery) -> Standings:
        """Top rows of a score period (an index range scan) and `query.me_id`'s own row."""
        ...

    async def quiz_totals(self, quiz_id: int, subject_kind: SubjectKind) -> list[ScoreRow]:
        """Points per player (or team) within one quiz, best first."""
        ...


class Store(
    CommunityStore, RoundStore, AnswerStore, TeamStore, StandingsStore, OutboxStore, Protocol
):
    """The only door to the game's storage, every role in one; each method is one
    transaction unless it says otherwise. The weekly rhythm's storage is the separate
    `bot.core.rhythm.RhythmStore`."""


class QuestionPicker(Protocol):
    """A community's own way to draw a quiz's questions (study mode's `pick weakest`)."""

    async def pick(
        self, community: Community, pool: Sequence[Question], count: int
    ) -> tuple[list[Question], tuple[str, ...]] | None:
        """`count` questions of `pool` and the ids picked for the group's low recall;
        None to draw at random as usual."""
        ...


class ChatPort(Protocol):
    """How the engine shows cards in a channel; one implementation per platform.

    Every call is made by the outbox dispatcher with the `key` of its outbox row: at
    most 25 ASCII characters, the same on every retry of that row, so a platform with
    idempotent creates (Discord's nonce) can make a resent post a no-op. Failures are
    raised as `bot.core.delivery.RetryLater` or `Undeliverable`.
    """

    async def post_question(self, channel_id: str, card: QuestionCard, *, key: str) -> str:
        """Post a question; returns a reference to the message for later edits."""
        ...

    async def update_question(
        self, channel_id: str, message_ref: str, card: QuestionCard, *, key: str
    ) -> None:
        """Refresh a posted question (the count of answers so far)."""
        ...

    async def post_reveal(
        self, channel_id: str, message_ref: str | None, card: RevealCard, *, key: str
    ) -> None:
        """Close the question message (buttons off, answer marked) and post the reveal.

        Both steps must be safe to repeat: a retry re-does the edit, then the post.
        """
        ...

    async def post_summary(self, channel_id: str, card: SummaryCard, *, key: str) -> None:
        """Post the end-of-quiz summary."""
        ...

    async def notify_host(self, channel_id: str, host_external_id: str, text: str) -> None:
        """Tell a quiz's host something privately, best effort (a quiz stopped because
        its messages cannot be delivered); never raises."""
        ...


class EngineEvents(Protocol):
    """What the engine reports as it goes, for metrics; every method must be cheap."""

    def answer_recorded(self, receipt: str) -> None:
        """A click was handled, with its receipt kind (accepted, already_answered, ...)."""
        ...

    def round_closed(self) -> None:
        """A round was closed and scored by this process."""
        ...

    def quiz_started(self) -> None:
        """A quiz started in this process."""
        ...

    def quiz_ended(self) -> None:
        """A quiz ended (finished or stopped) in this process."""
        ...

    def error(self, kind: str) -> None:
        """Something failed in the background (posting, closing), by kind."""
        ...

    def delivered(self, outcome: str) -> None:
        """An outbox row was sent, retried, dropped or failed."""
        ...


class NoEvents:
    """EngineEvents that go nowhere."""

    def answer_recorded(self, receipt: str) -> None:
        """Ignore."""

    def round_closed(self) -> None:
        """Ignore."""

    def quiz_started(self) -> None:
        """Ignore."""

    def quiz_ended(self) -> None:
        """Ignore."""

    def error(self, kind: str) -> None:
        """Ignore."""

    def delivered(self, outcome: str) -> None:
        """Ignore."""
