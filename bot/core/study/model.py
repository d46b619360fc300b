"""Study mode's domain: a player's FSRS card per question, the review log, review sessions
and the cards a review shows (plain dataclasses; adapters render them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import NamedTuple

from bot.core.cards import counted
from bot.core.model import QuestionKind, RoundQuestion
from bot.core.ratings import Rating


class CardState(IntEnum):
    """FSRS's card states, with the same values as `fsrs.State`."""

    LEARNING = 1
    REVIEW = 2
    RELEARNING = 3


class ReviewSource(StrEnum):
    """Where an answer that updated a card came from."""

    QUIZ = "quiz"  # a group quiz, scheduled or not
    REVIEW = "review"  # a private review session


@dataclass(frozen=True)
class StudyCard:
    """A player's memory of one question: the fields of an `fsrs.Card`, plus the
    question's content hash at the last review and counts for stats."""

    player_id: int
    question_id: str
    state: CardState
    step: int | None
    stability: float | None
    difficulty: float | None
    due: datetime
    last_review: datetime | None
    content_hash: str
    reviews: int = 0
    lapses: int = 0  # Again ratings


@dataclass(frozen=True)
class CardReview:
    """One line of the review log: an answer's rating and the card it left."""

    community_id: int
    player_id: int
    question_id: str
    rating: Rating
    source: ReviewSource
    reviewed_at: datetime
    state: CardState
    due: datetime
    stability: float
    difficulty: float
    content_changed: bool = False  # the question was edited since the last review


@dataclass(frozen=True)
class CardUpdate:
    """A card after an answer, with its log line: one row each to write."""

    card: StudyCard
    review: CardReview


class CardValues(NamedTuple):
    """A card's stored state without its key (player, question), as a plain tuple: what
    a closing round reads and writes for each of its hundreds of players, where a
    StudyCard and a CardReview per player would cost more than the FSRS step itself."""

    state: int  # a CardState value
    step: int | None
    stability: float | None
    difficulty: float | None
    due: datetime
    last_review: datetime | None
    content_hash: str
    reviews: int
    lapses: int


@dataclass(frozen=True)
class RoundReviews:
    """What a closing round does to study cards: every concerned player's card after
    the round (`cards[i]` is `players[i]`'s, in player order, the cards' lock order) and
    the round's one review-log row (the players with their ratings)."""

    community_id: int
    question_id: str
    source: ReviewSource
    reviewed_at: datetime
    players: tuple[int, ...]
    ratings: tuple[Rating, ...]
    cards: tuple[CardValues, ...]
    content_changed: bool  # the question was edited since some of these cards' last review


class SessionStatus(StrEnum):
    """Life cycle of a review session."""

    OPEN = "open"
    DONE = "done"


@dataclass(frozen=True)
class ReviewSession:
    """A player's private review, all of it in the database so any process can go on.

    `queue` holds the question ids still to answer, the current one first; a wrong
    answer puts its question back at the end. `item` counts answers given, so that a
    stale or repeated click (the same item twice) is recognised and ignored.
    """

    id: int
    community_id: int
    player_id: int
    status: SessionStatus
    queue: tuple[str, ...]
    current: RoundQuestion | None  # the current question as shown (choices shuffled)
    due_ids: tuple[str, ...]  # the questions that came in as due cards (the rest are new)
    size: int  # distinct questions in the session
    item: int  # answers given so far
    right: int  # answers right at the first try
    missed: tuple[str, ...]  # questions answered wrong at least once
    deck: str | None
    started_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class NewReviewSession:
    """A review session about to be stored (`current` is the first of `queue`)."""

    community_id: int
    player_id: int
    queue: tuple[str, ...]
    current: RoundQuestion
    due_ids: tuple[str, ...]
    deck: str | None
    started_at: datetime


@dataclass(frozen=True)
class ReviewQuestionCard:
    """A review question, for the player alone; no timer and no points.

    An adapter's buttons carry `session_id` and `item`, and pass them back to
    `ReviewEngine.answer`: a click on an old card is then told apart.
    """

    session_id: int
    item: int
    number: int  # 1-based position among the answers of this session
    remaining: int  # questions left, this one included
    kind: QuestionKind
    prompt: str
    choices: tuple[str, ...]
    title: str | None
    deck: str
    due: bool  # a due card (False: a new question)
    retry: bool  # came back after a wrong answer in this session


@dataclass(frozen=True)
class ReviewFeedback:
    """What the last answer got: right or wrong, the answer and its explanation."""

    right: bool
    selected: tuple[int, ...]
    correct: tuple[int, ...]
    choices: tuple[str, ...]
    explanation: str
    next_due: datetime  # when this card is due again
    comes_back: bool  # wrong: asked again at the end of this session

    @property
    def correct_text(self) -> str:
        """The correct letters with their texts, e.g. "B: 42"."""
        return "; ".join(f"{chr(ord('A') + p)}: {self.choices[p]}" for p in self.correct)


@dataclass(frozen=True)
class ReviewSummary:
    """The end of a session: how it went and what comes next."""

    answered: int  # distinct questions
    right_first_time: int
    due_tomorrow: int  # the player's cards due by the end of tomorrow (community time)
    next_due: datetime | None  # the player's earliest due card, if any

    def lines(self) -> list[str]:
        """The summary as text lines."""
        nxt = f"{self.next_due:%a %d %b %H:%M} UTC" if self.next_due else "nothing scheduled"
        return [
            f"{self.right_first_time}/{self.answered} right at the first try",
            f"{self.due_tomorrow} due by the end of tomorrow",
            f"next due: {nxt}",
        ]


@dataclass(frozen=True)
class ReviewStep:
    """What a review shows after a start or an answer: the feedback on the answer just
    given (none at a start or resume), then the next question or the summary."""

    session_id: int
    feedback: ReviewFeedback | None
    question: ReviewQuestionCard | None
    summary: ReviewSummary | None
    resumed: bool = False  # a start that found the player's open session
    stale: bool = False  # the click was for an item already answered: nothing recorded

    @property
    def finished(self) -> bool:
        """Whether the session is over (the summary is shown)."""
        return self.summary is not None


@dataclass(frozen=True)
class TagMastery:
    """Predicted recall of one tag's cards now, and how many of them are due today."""

    tag: str
    cards: int
    mean_recall: float  # 0..1, FSRS retrievability averaged over the cards
    due_today: int


@dataclass(frozen=True)
class MasteryCard:
    """Mastery per tag, for a player or over a community's active members."""

    title: str
    tags: tuple[TagMastery, ...]  # weakest first
    players: int  # 1 for a player; the active members for a group

    @property
    def weakest(self) -> TagMastery | None:
        """The tag with the lowest mean predicted recall."""
        return self.tags[0] if self.tags else None

    def lines(self) -> list[str]:
        """The card as text lines."""
        if not self.tags:
            return ["No study cards yet: answer some questions first"]
        lines = [
            f"{t.tag}: {round(100 * t.mean_recall)}% recall · {t.due_today} due today"
            f" ({counted(t.cards, 'card')})"
            for t in self.tags
        ]
        assert self.weakest is not None
        lines.append(f"Weakest: {self.weakest.tag}")
        return lines
