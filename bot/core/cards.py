"""What to show: the cards the engine returns and the text rules every adapter shares.

Adapters turn a card into a Discord embed, Slack blocks or terminal text; the
wording of receipts, choice letters and vote bars lives here, once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.core.model import (
    Mode,
    Question,
    QuestionKind,
    Quiz,
    QuizStatus,
    Round,
    RoundQuestion,
    ScoreRow,
    SubjectKind,
)
from bot.core.scoring import elapsed_seconds

if TYPE_CHECKING:
    import random

    from bot.core.ports import ClosedRound

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
FASTEST_SHOWN = 3

# How a platform marks up a name inside a line (escaping, bold); plain text by default.
NameStyle = Callable[[str], str]


def plain(name: str) -> str:
    """A name as it is."""
    return name


def letter(position: int) -> str:
    """The letter shown for a choice position (0 -> A)."""
    return LETTERS[position]


def letters(positions: tuple[int, ...] | list[int]) -> str:
    """Letters for several positions, e.g. "A, C"."""
    return ", ".join(letter(p) for p in sorted(positions))


def parse_letters(text: str, choice_count: int) -> tuple[int, ...] | None:
    """Positions from typed letters ("b", "a,c", "A C"), or None if any is not a choice.

    True/False questions also accept "true"/"false" (and t/f) for their two choices.
    """
    words = [w for w in text.replace(",", " ").replace(";", " ").split() if w]
    if not words:
        return None
    positions: set[int] = set()
    for word in words:
        lowered = word.lower()
        if choice_count == 2 and lowered in ("true", "t"):
            positions.add(0)
            continue
        if choice_count == 2 and lowered in ("false", "f"):
            positions.add(1)
            continue
        if len(word) != 1 or not word.isalpha():
            return None
        position = LETTERS.index(word.upper())
        if position >= choice_count:
            return None
        positions.add(position)
    return tuple(sorted(positions))


def vote_bar(count: int, total: int, width: int = 10) -> str:
    """A bar of ▰ and ▱ for a share of votes, e.g. "▰▰▰▱▱▱▱▱▱▱"."""
    filled = round(width * count / total) if total else 0
    return "▰" * filled + "▱" * (width - filled)


def counted(count: int, noun: str) -> str:
    """ "1 question", "3 questions": a count with its noun (a regular plural)."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def percent(count: int, total: int) -> str:
    """A whole-number percentage, "0%" when nobody voted."""
    return f"{round(100 * count / total) if total else 0}%"


def kind_hint(kind: QuestionKind) -> str:
    """How to answer a question of this kind, for the question message."""
    if kind is QuestionKind.MULTIPLE:
        return "Check all that apply"
    if kind is QuestionKind.TRUE_FALSE:
        return "True or false?"
    return "Pick one"


@dataclass(frozen=True)
class QuestionCard:
    """A question as posted: position, prompt, lettered choices, deadline, answers so far."""

    quiz_id: int
    round_id: int
    position: int
    total: int
    deck: str
    kind: QuestionKind
    prompt: str
    choices: tuple[str, ...]
    closes_at: datetime
    seconds: int
    answered: int
    mode: Mode
    title: str | None = None

    @property
    def heading(self) -> str:
        """ "Question 2/10", with the title when the deck has one."""
        head = f"Question {self.position}/{self.total}"
        return f"{head}: {self.title}" if self.title else head

    @property
    def answered_text(self) -> str:
        """ "3 answers so far" (votes in teams mode)."""
        noun = "vote" if self.mode is Mode.TEAMS else "answer"
        return f"{self.answered} {noun}{'' if self.answered == 1 else 's'} so far"


@dataclass(frozen=True)
class FastPlayer:
    """A player among the round's fastest correct answers."""

    name: str
    seconds: float
    points: int


@dataclass(frozen=True)
class TeamResult:
    """A team's vote in one round as shown at the reveal."""

    name: str
    selected: tuple[int, ...]
    votes: int
    members_voted: int
    correct: bool
    points: int


WEAK_PICK_NOTE = "picked because the group is likely to forget it"


@dataclass(frozen=True)
class RevealCard:
    """The answer of a closed round with the explanation and how the votes split."""

    quiz_id: int
    round_id: int
    position: int
    total: int
    kind: QuestionKind
    prompt: str
    choices: tuple[str, ...]
    correct: tuple[int, ...]
    explanation: str
    votes: tuple[int, ...]  # picks per choice position
    answered: int
    fastest: tuple[FastPlayer, ...]
    teams: tuple[TeamResult, ...]
    mode: Mode
    title: str | None = None
    ending: str | None = None  # why the quiz ends after this round, if it does
    # study mode's `pick weakest` drew this question for the group's low predicted recall
    picked_weak: bool = False

    @property
    def picked_note(self) -> str | None:
        """The line a reveal shows when the question was picked for the group's recall."""
        return WEAK_PICK_NOTE if self.picked_weak else None

    @property
    def heading(self) -> str:
        """ "Answer 2/10"."""
        return f"Answer {self.position}/{self.total}"

    @property
    def correct_text(self) -> str:
        """The correct letters with their texts, e.g. "B: 42"."""
        return "; ".join(f"{letter(p)}: {self.choices[p]}" for p in self.correct)

    @property
    def answered_text(self) -> str:
        """ "5 answers" (votes in teams mode)."""
        noun = "vote" if self.mode is Mode.TEAMS else "answer"
        return f"{self.answered} {noun}{'' if self.answered == 1 else 's'}"

    def fastest_lines(self, name: NameStyle = plain) -> list[str]:
        """One line per fastest correct player, e.g. "🥇 Ann 1.2 s (+987)"."""
        return [
            f"{rank_label(i)} {name(p.name)} {p.seconds:.1f} s (+{p.points})"
            for i, p in enumerate(self.fastest, start=1)
        ]

    def team_lines(self, name: NameStyle = plain) -> list[str]:
        """One line per team, e.g. "✅ Owls: B (2 of 3 votes) +750"."""
        return [
            f"{'✅' if t.correct else '❌'} {name(t.name)}: {letters(t.selected) or '-'} "
            f"({t.votes} of {t.members_voted} vote{'' if t.members_voted == 1 else 's'}) "
            f"+{t.points}"
            for t in self.teams
        ]

    def spread_lines(self) -> list[str]:
        """One line per choice: letter, bar, count and percentage, ✓ on correct ones."""
        lines = []
        for position, count in enumerate(self.votes):
            mark = " ✓" if position in self.correct else ""
            bar = vote_bar(count, self.answered)
            share = percent(count, self.answered)
            lines.append(f"{letter(position)} {bar} {count} ({share}){mark}")
        return lines


@dataclass(frozen=True)
class SummaryCard:
    """The end of a quiz: podium and team scores."""

    quiz_id: int
    status: QuizStatus
    reason: str
    rounds_played: int
    total: int
    players: tuple[ScoreRow, ...]
    teams: tuple[ScoreRow, ...]

    @property
    def heading(self) -> str:
        """ "Quiz over" or "Quiz stopped"."""
        return "Quiz over" if self.status is QuizStatus.FINISHED else "Quiz stopped"

    def player_lines(self, name: NameStyle = plain, limit: int = 10) -> list[str]:
        """The podium and the rest, e.g. "🥇 Ann: 2100 pts (2/3 correct)"."""
        return [
            f"{rank_label(r.rank, r.points)} {name(r.name)}: {r.points} pts "
            f"({r.correct}/{r.answered} correct)"
            for r in self.players[:limit]
        ]

    def team_lines(self, name: NameStyle = plain, limit: int = 10) -> list[str]:
        """Team scores within the quiz, e.g. "🥇 Owls: 1500 pts"."""
        return [
            f"{rank_label(r.rank, r.points)} {name(r.name)}: {r.points} pts"
            for r in self.teams[:limit]
        ]


MEDALS = ("🥇", "🥈", "🥉")


NO_MEDAL = "–"
"""The label of a row with 0 points: ranked first of nobody scoring is no podium."""


def rank_label(rank: int, points: int | None = None) -> str:
    """A medal for the podium, "#4" after it; no medal for 0 points."""
    if points == 0:
        return NO_MEDAL
    return MEDALS[rank - 1] if 1 <= rank <= 3 else f"#{rank}"


@dataclass(frozen=True)
class LeaderboardCard:
    """A board of one period: top rows and the asking player's own line."""

    title: str
    period: str
    subject_kind: SubjectKind
    rows: tuple[ScoreRow, ...]
    me: ScoreRow | None

    def lines(self) -> list[str]:
        """One line per row, plus the asker's own rank when it is off the board."""
        if not self.rows:
            return ["No scores yet."]
        lines = [
            f"{rank_label(r.rank, r.points)} {r.name}: {r.points} pts "
            f"({r.correct}/{r.answered} correct)"
            for r in self.rows
        ]
        if self.me is not None and all(r.subject_id != self.me.subject_id for r in self.rows):
            lines.append(f"… you: #{self.me.rank} with {self.me.points} pts")
        return lines


class ReceiptKind(StrEnum):
    """What happened to a click."""

    ACCEPTED = "accepted"
    ALREADY_ANSWERED = "already_answered"
    CHANGED = "changed"
    ROUND_CLOSED = "round_closed"
    NOT_IN_TEAM = "not_in_team"
    INVALID_CHOICE = "invalid_choice"


@dataclass(frozen=True)
class Receipt:
    """The reply to the player who clicked."""

    kind: ReceiptKind
    selected: tuple[int, ...] = ()
    round_id: int | None = None

    @property
    def text(self) -> str:
        """The one line shown to the clicker."""
        chosen = letters(self.selected) if self.selected else ""
        if self.kind is ReceiptKind.ACCEPTED:
            return f"Locked in: {chosen}"
        if self.kind is ReceiptKind.ALREADY_ANSWERED:
            return f"You already answered {chosen}"
        if self.kind is ReceiptKind.CHANGED:
            return f"Changed to {chosen}"
        if self.kind is ReceiptKind.ROUND_CLOSED:
            return "This round is closed"
        if self.kind is ReceiptKind.NOT_IN_TEAM:
            return "Join a team first: /quiz team join NAME (or /quiz team create NAME)"
        return "That is not a choice of this question"

    @property
    def accepted(self) -> bool:
        """True when the click counts (new or changed answer)."""
        return self.kind in (ReceiptKind.ACCEPTED, ReceiptKind.CHANGED)


# ---- building cards from the game's state ---------------------------------------------


def shuffled_question(question: Question, rng: random.Random) -> RoundQuestion:
    """The question as one round shows it: choices shuffled, unless order means something."""
    order = list(range(len(question.choices)))
    if question.kind is not QuestionKind.TRUE_FALSE and question.shuffle:
        rng.shuffle(order)
    return RoundQuestion(
        question_id=question.id,
        deck=question.deck,
        kind=question.kind,
        prompt=question.prompt,
        choices=tuple(question.choices[i].text for i in order),
        correct=tuple(pos for pos, i in enumerate(order) if question.choices[i].correct),
        explanation=question.explanation,
        tags=question.tags,
        title=question.title,
    )


def question_card(quiz: Quiz, rnd: Round, answered: int) -> QuestionCard:
    """The card that shows a round's question."""
    question = rnd.question
    return QuestionCard(
        quiz_id=quiz.id,
        round_id=rnd.id,
        position=rnd.position,
        total=quiz.total,
        deck=question.deck,
        kind=question.kind,
        prompt=question.prompt,
        choices=question.choices,
        closes_at=rnd.closes_at,
        seconds=round((rnd.closes_at - rnd.opened_at).total_seconds()),
        answered=answered,
        mode=quiz.options.mode,
        title=question.title,
    )


def reveal_card(closed: ClosedRound) -> RevealCard:
    """The card that reveals a closed round's answer and how the votes split."""
    ctx, decision = closed.context, closed.decision
    rnd, question = ctx.round, ctx.round.question
    votes = [0] * len(question.choices)
    for answer in decision.answers:
        for position in answer.selected:
            votes[position] += 1
    fastest = sorted(
        (a for a in decision.answers if a.correct), key=lambda a: (a.answered_at, a.player_id)
    )[:FASTEST_SHOWN]
    return RevealCard(
        quiz_id=ctx.quiz.id,
        round_id=rnd.id,
        position=rnd.position,
        total=ctx.quiz.total,
        kind=question.kind,
        prompt=question.prompt,
        choices=question.choices,
        correct=question.correct,
        explanation=question.explanation,
        votes=tuple(votes),
        answered=len(decision.answers),
        fastest=tuple(
            FastPlayer(
                name=ctx.player_names.get(a.player_id, "?"),
                seconds=round(elapsed_seconds(rnd.opened_at, a.answered_at), 1),
                points=a.points,
            )
            for a in fastest
        ),
        teams=tuple(
            TeamResult(
                name=ctx.team_names.get(v.team_id, "?"),
                selected=v.selected,
                votes=v.votes,
                members_voted=v.members_voted,
                correct=v.correct,
                points=v.points,
            )
            for v in decision.team_votes
        ),
        mode=ctx.quiz.options.mode,
        title=question.title,
        ending=decision.ending,
        picked_weak=question.question_id in ctx.quiz.options.weak_picks,
    )
