"""The quiz domain: questions, quizzes, rounds, answers and teams as plain dataclasses."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bot.core.errors import TeamError


class QuestionKind(StrEnum):
    """How many choices a question accepts."""

    SINGLE = "single"
    MULTIPLE = "multiple"
    TRUE_FALSE = "true_false"


class Mode(StrEnum):
    """Whether players answer alone or vote for their team."""

    SOLO = "solo"
    TEAMS = "teams"


class Scoring(StrEnum):
    """How a correct answer is worth points."""

    SPEED = "speed"
    ACCURACY = "accuracy"


class QuizStatus(StrEnum):
    """Life cycle of a quiz."""

    RUNNING = "running"
    FINISHED = "finished"
    STOPPED = "stopped"


class RoundStatus(StrEnum):
    """Life cycle of a round."""

    OPEN = "open"
    CLOSED = "closed"


class SubjectKind(StrEnum):
    """Who a score row belongs to."""

    PLAYER = "player"
    TEAM = "team"


@dataclass(frozen=True)
class Choice:
    """One answer option of a question."""

    text: str
    correct: bool


@dataclass(frozen=True)
class Question:
    """A question as written in a deck file."""

    id: str
    deck: str
    kind: QuestionKind
    prompt: str
    choices: tuple[Choice, ...]
    explanation: str = ""
    tags: tuple[str, ...] = ()
    difficulty: str | None = None
    source: str | None = None
    title: str | None = None
    # False when the order of the choices means something ("A".."D", "all of the above").
    shuffle: bool = True

    @property
    def correct_indices(self) -> tuple[int, ...]:
        """Indices (file order) of the correct choices."""
        return tuple(i for i, c in enumerate(self.choices) if c.correct)

    def content_hash(self) -> str:
        """A stable digest of everything a player sees, to notice edits."""
        payload = {
            "kind": self.kind.value,
            "prompt": self.prompt,
            "choices": [[c.text, c.correct] for c in self.choices],
            "explanation": self.explanation,
            "tags": list(self.tags),
        }
        raw = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(raw).hexdigest()[:32]


@dataclass(frozen=True)
class Deck:
    """A named set of questions with optional defaults."""

    name: str
    title: str
    description: str
    questions: tuple[Question, ...]
    default_seconds: int | None = None
    default_scoring: Scoring | None = None
    path: str | None = None


@dataclass(frozen=True)
class Community:
    """A Discord guild, a Slack workspace or the console."""

    id: int
    platform: str
    external_id: str
    name: str
    timezone: str = "UTC"
    week_start: int = 0  # 0 = Monday ... 6 = Sunday
    settings: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Player:
    """A person on one platform."""

    id: int
    platform: str
    external_id: str
    display_name: str


@dataclass(frozen=True)
class Team:
    """A named group of players within one community."""

    id: int
    community_id: int
    name: str


MAX_TEAM_NAME = 32


def accuracy(correct: int, answered: int) -> float:
    """The share of answers that were correct; 0.0 when nothing was answered."""
    return correct / answered if answered else 0.0


def team_name(name: str) -> str:
    """A typed team name with its spaces folded; TeamError for an empty or long one."""
    cleaned = " ".join(name.split())
    if not cleaned:
        raise TeamError("Give the team a name, e.g. /quiz team create Owls")
    if len(cleaned) > MAX_TEAM_NAME:
        raise TeamError(f"Team names are at most {MAX_TEAM_NAME} characters")
    return cleaned


@dataclass(frozen=True)
class TeamRoster:
    """A team with its members, for listings."""

    team: Team
    members: tuple[Player, ...]


@dataclass(frozen=True)
class QuizOptions:
    """Everything chosen when a quiz starts."""

    decks: tuple[str, ...]
    questions: int
    seconds: int
    mode: Mode = Mode.SOLO
    scoring: Scoring = Scoring.SPEED
    allow_change: bool = False
    partial: bool = False
    # Players known to take part from the start (the console's single player);
    # a round closes early once all of them, and everyone seen so far, answered.
    roster: tuple[int, ...] = ()
    # Questions study mode's `pick weakest` drew for the group's low predicted recall.
    weak_picks: tuple[str, ...] = ()


@dataclass(frozen=True)
class Quiz:
    """A run of rounds in one channel."""

    id: int
    community_id: int
    platform: str
    channel_id: str
    host_id: int
    options: QuizOptions
    question_ids: tuple[str, ...]
    status: QuizStatus
    created_at: datetime

    @property
    def total(self) -> int:
        """How many questions the quiz has."""
        return len(self.question_ids)


@dataclass(frozen=True)
class RoundQuestion:
    """The question as shown in one round: shuffled choices, frozen at open.

    Later edits to the deck file never change what a past round scored.
    """

    question_id: str
    deck: str
    kind: QuestionKind
    prompt: str
    choices: tuple[str, ...]
    correct: tuple[int, ...]  # positions in `choices`, as shown
    explanation: str = ""
    tags: tuple[str, ...] = ()
    title: str | None = None


@dataclass(frozen=True)
class Round:
    """One question put to a channel."""

    id: int
    quiz_id: int
    position: int  # 1-based
    question: RoundQuestion
    opened_at: datetime
    closes_at: datetime
    status: RoundStatus
    message_ref: str | None = None
    closed_at: datetime | None = None


@dataclass(frozen=True)
class RoundFacts:
    """What a click needs to know about its round; none of it changes while it is open."""

    round_id: int
    quiz_id: int
    community_id: int
    position: int
    kind: QuestionKind
    choice_count: int
    mode: Mode
    allow_change: bool
    roster: tuple[int, ...]

    @classmethod
    def of(cls, quiz: Quiz, rnd: Round) -> RoundFacts:
        """The facts of an open round of `quiz`."""
        return cls(
            round_id=rnd.id,
            quiz_id=quiz.id,
            community_id=quiz.community_id,
            position=rnd.position,
            kind=rnd.question.kind,
            choice_count=len(rnd.question.choices),
            mode=quiz.options.mode,
            allow_change=quiz.options.allow_change,
            roster=quiz.options.roster,
        )

    def accepts(self, selected: tuple[int, ...]) -> bool:
        """Whether a click's sorted, distinct positions are a valid answer."""
        if not selected or any(not 0 <= p < self.choice_count for p in selected):
            return False
        return self.kind is QuestionKind.MULTIPLE or len(selected) == 1


@dataclass(frozen=True)
class Answer:
    """One player's pick in one round (in teams mode, their vote)."""

    round_id: int
    player_id: int
    selected: tuple[int, ...]  # positions as shown, sorted
    answered_at: datetime
    team_id: int | None = None
    correct: bool | None = None
    points: int = 0
    streak: int = 0


@dataclass(frozen=True)
class TeamVote:
    """A team's answer in one round, decided by plurality of its members' votes."""

    round_id: int
    team_id: int
    selected: tuple[int, ...]
    votes: int
    members_voted: int
    correct: bool
    points: int


@dataclass(frozen=True)
class ScoreDelta:
    """Points to add to one subject's score rows when a round closes."""

    subject_kind: SubjectKind
    subject_id: int
    points: int
    correct: int
    answered: int


@dataclass(frozen=True)
class ScoreRow:
    """One line of a leaderboard."""

    rank: int
    subject_kind: SubjectKind
    subject_id: int
    name: str
    points: int
    correct: int
    answered: int

    @property
    def accuracy(self) -> float:
        """Share of answered questions that were correct."""
        return accuracy(self.correct, self.answered)


@dataclass(frozen=True)
class Standings:
    """Top rows of a board plus the asking subject's own row."""

    period: str
    rows: tuple[ScoreRow, ...]
    me: ScoreRow | None = None


@dataclass(frozen=True)
class CommunityRef:
    """A community as an adapter names it: its platform id and display name."""

    external_id: str
    name: str


@dataclass(frozen=True)
class PlayerRef:
    """A user as an adapter names them: platform id and display name."""

    external_id: str
    display_name: str


@dataclass(frozen=True)
class StartRequest:
    """What the user asked for in `/quiz start`; None means the community's default."""

    decks: tuple[str, ...] = ()
    questions: int | None = None
    seconds: int | None = None
    mode: Mode | None = None
    scoring: Scoring | None = None
    allow_change: bool = False
    partial: bool = False
