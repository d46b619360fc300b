"""Doubles for the weekly rhythm: two tagged decks, a chat that records boards too, and a
quick way to play a quiz to its end under a manual clock."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from bot.core.bank import QuestionBank
from bot.core.clock import ManualClock
from bot.core.engine import QuizEngine
from bot.core.model import (
    Choice,
    CommunityRef,
    Deck,
    Mode,
    PlayerRef,
    Question,
    QuestionKind,
    Scoring,
    StartRequest,
)
from bot.core.rhythm.cards import WeeklyBoardCard
from bot.core.rhythm.service import Rhythm
from bot.render.chart import weekly_board_png
from bot.store import SqlStore
from bot.store.rhythm import SqlRhythmStore
from tests.core.helpers import RecordingChat


def _question(deck: str, n: int, tags: tuple[str, ...]) -> Question:
    choices = (Choice("right", True), Choice("wrong", False), Choice("other", False))
    return Question(f"{deck}-{n}", deck, QuestionKind.SINGLE, f"{deck} {n}?", choices, tags=tags)


ALGEBRA = Deck(
    "algebra",
    "Algebra",
    "test deck",
    tuple(_question("algebra", n, ("math", "easy" if n < 3 else "hard")) for n in range(1, 6)),
)
HISTORY = Deck(
    "history",
    "History",
    "test deck",
    tuple(_question("history", n, ("dates",)) for n in range(1, 6)),
)
BANK_DECKS = (ALGEBRA, HISTORY)

GUILD = CommunityRef("guild-1", "Study group")
CHANNEL = "chan-1"
BOARD_CHANNEL = "board-chan"
ADMIN = PlayerRef("u-admin", "Admin")


def user(n: int) -> PlayerRef:
    """Player number n."""
    return PlayerRef(f"u{n}", f"User {n}")


@dataclass
class BoardChat(RecordingChat):
    """A RecordingChat that also implements BoardPort, optionally failing some posts."""

    boards: list[tuple[str, WeeklyBoardCard, bytes | None]] = field(default_factory=list)
    failures: int = 0  # how many of the next post_board calls raise

    async def post_board(
        self, channel_id: str, card: WeeklyBoardCard, image: bytes | None, *, key: str
    ) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("chat is down")
        self.boards.append((channel_id, card, image))


@dataclass
class Process:
    """One bot process: its own store, engine, chat and rhythm on a shared database."""

    store: SqlStore
    chat: BoardChat
    engine: QuizEngine
    rhythm: Rhythm


def make_process(
    store: SqlStore, clock: ManualClock, *, picture: bool = False, seed: int = 3
) -> Process:
    """A process on `store` with the test decks; charts only when `picture` (they are slow)."""
    chat = BoardChat()
    engine = QuizEngine(
        store,
        QuestionBank(BANK_DECKS),
        chat,
        platform="test",
        clock=clock,
        rng=random.Random(seed),
        refresh_interval=0.0,
    )
    rhythm = Rhythm(
        engine,
        SqlRhythmStore(store),
        board=chat,
        picture=weekly_board_png if picture else None,
    )
    return Process(store, chat, engine, rhythm)


def right(card_choices: Sequence[str]) -> tuple[int, ...]:
    """Where "right" was shuffled to."""
    return (list(card_choices).index("right"),)


def wrong(card_choices: Sequence[str]) -> tuple[int, ...]:
    """Where "wrong" was shuffled to."""
    return (list(card_choices).index("wrong"),)


async def play(
    process: Process,
    clock: ManualClock,
    answers: Sequence[dict[int, tuple[bool, float]]],
    *,
    deck: str = "algebra",
    seconds: int = 20,
    mode: Mode = Mode.SOLO,
    channel: str = CHANNEL,
) -> None:
    """Play a quiz of len(answers) questions: for each round, player n answers right or
    wrong after the given seconds; then the round runs to its deadline."""
    engine, chat = process.engine, process.chat
    request = StartRequest(
        decks=(deck,), questions=len(answers), seconds=seconds, scoring=Scoring.ACCURACY, mode=mode
    )
    await engine.start(GUILD, channel, ADMIN, request)
    for round_answers in answers:
        card = chat.current
        start = clock.now()
        for n, (correct, after) in sorted(round_answers.items(), key=lambda kv: kv[1][1]):
            clock.set(start + timedelta(seconds=after))
            pick = right(card.choices) if correct else wrong(card.choices)
            await engine.record_answer(card.round_id, user(n), pick)
            await engine.idle()
        if chat.reveals and chat.reveals[-1].round_id == card.round_id:
            continue  # everyone expected answered: the round closed early
        clock.set(start + timedelta(seconds=seconds + 1))
        await engine.close_due_rounds()
        await engine.idle()
