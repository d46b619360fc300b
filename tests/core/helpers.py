"""Test doubles for the engine: a small deck and a ChatPort that records what it shows."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from bot.core.bank import QuestionBank
from bot.core.cards import QuestionCard, RevealCard, SummaryCard
from bot.core.clock import ManualClock
from bot.core.engine import QuizEngine
from bot.core.model import Choice, CommunityRef, Deck, PlayerRef, Question, QuestionKind
from bot.core.ports import Store


def single(qid: str, right: str, *wrong: str) -> Question:
    """A single-answer question whose right choice comes first in the file."""
    choices = (Choice(right, True), *(Choice(w, False) for w in wrong))
    return Question(qid, "basics", QuestionKind.SINGLE, f"Prompt of {qid}", choices, f"Why {qid}")


BASICS = Deck(
    name="basics",
    title="Basics",
    description="test deck",
    questions=(
        single("basics-1", "one", "two", "three", "four"),
        single("basics-2", "alpha", "beta", "gamma"),
        Question(
            "basics-3",
            "basics",
            QuestionKind.MULTIPLE,
            "Which are even?",
            (Choice("2", True), Choice("3", False), Choice("4", True), Choice("5", False)),
            "2 and 4 divide by 2",
        ),
        Question(
            "basics-4",
            "basics",
            QuestionKind.TRUE_FALSE,
            "The sky is green.",
            (Choice("True", False), Choice("False", True)),
            "It is blue",
        ),
    ),
)

GUILD = CommunityRef("guild-1", "Study group")
CHANNEL = "chan-1"
HOST = PlayerRef("u-host", "Host")


def user(n: int) -> PlayerRef:
    """Player number n."""
    return PlayerRef(f"u{n}", f"User {n}")


@dataclass
class RecordingChat:
    """A ChatPort that keeps every card it was asked to show."""

    questions: list[QuestionCard] = field(default_factory=list)
    updates: list[QuestionCard] = field(default_factory=list)
    reveals: list[RevealCard] = field(default_factory=list)
    summaries: list[SummaryCard] = field(default_factory=list)
    host_notes: list[tuple[str, str]] = field(default_factory=list)

    async def post_question(self, channel_id: str, card: QuestionCard, *, key: str) -> str:
        self.questions.append(card)
        return f"msg-{card.round_id}"

    async def update_question(
        self, channel_id: str, message_ref: str, card: QuestionCard, *, key: str
    ) -> None:
        self.updates.append(card)

    async def post_reveal(
        self, channel_id: str, message_ref: str | None, card: RevealCard, *, key: str
    ) -> None:
        self.reveals.append(card)

    async def post_summary(self, channel_id: str, card: SummaryCard, *, key: str) -> None:
        self.summaries.append(card)

    async def notify_host(self, channel_id: str, host_external_id: str, text: str) -> None:
        self.host_notes.append((host_external_id, text))

    @property
    def current(self) -> QuestionCard:
        return self.questions[-1]


def make_engine(store: Store, chat: RecordingChat, clock: ManualClock, seed: int = 7) -> QuizEngine:
    """An engine on the given store with the test deck and a fixed random seed."""
    return QuizEngine(
        store,
        QuestionBank([BASICS]),
        chat,
        platform="test",
        clock=clock,
        rng=random.Random(seed),
        refresh_interval=0.0,
    )


def right_positions(card: QuestionCard) -> tuple[int, ...]:
    """Where the correct choices ended up after the shuffle."""
    question = next(q for q in BASICS.questions if q.prompt == card.prompt)
    right = {c.text for c in question.choices if c.correct}
    return tuple(i for i, text in enumerate(card.choices) if text in right)


def wrong_position(card: QuestionCard) -> tuple[int, ...]:
    """One wrong choice of a shown question."""
    good = set(right_positions(card))
    return (next(i for i in range(len(card.choices)) if i not in good),)


def explanation_of(card: QuestionCard) -> str:
    """The deck's explanation of a shown question."""
    return next(q.explanation for q in BASICS.questions if q.prompt == card.prompt)
