"""The quiz bot on the real discord.Client, connected to a FakeDiscord, on a test database.

Time is split in two: the quiz's deadlines follow a ManualClock that a test moves
by hand (then calls `tick`, as the runtime's ticker would), while Discord's 3-second
rule runs on the event loop's clock, scaled down by the fake.
"""

from __future__ import annotations

import asyncio
import random
import re
from dataclasses import dataclass

from bot.adapters.discord.client import DiscordChat, QuizBot, point_at
from bot.config import Settings
from bot.core.bank import QuestionBank
from bot.core.clock import ManualClock
from bot.core.engine import QuizEngine
from bot.core.model import Choice, Deck, Question, QuestionKind
from bot.core.rhythm.service import Rhythm
from bot.core.study.review import ReviewEngine
from bot.runtime import rhythm_for, study_for
from bot.store import SqlStore
from tests.fake_discord.payloads import Json
from tests.fake_discord.server import FakeDiscord, embed_text


def _single(qid: str, deck: str, prompt: str, right: str, *wrong: str, why: str = "") -> Question:
    choices = (Choice(right, True), *(Choice(w, False) for w in wrong))
    return Question(qid, deck, QuestionKind.SINGLE, prompt, choices, why)


ALGEBRA = Deck(
    name="algebra",
    title="Algebra basics",
    description="Warm-up questions",
    questions=(
        _single("alg-1", "algebra", "What is $2^3$?", "8", "6", "9", "5", why="2·2·2 = 8"),
        _single("alg-2", "algebra", "Solve $x + 3 = 7$", "4", "3", "10", why="7 − 3 = 4"),
        _single("alg-3", "algebra", "What is $\\sqrt{49}$?", "7", "9", "14", "49", why="7·7 = 49"),
    ),
)

PRIMES = Deck(
    name="primes",
    title="Prime numbers",
    description="Check all that apply",
    questions=(
        Question(
            "pri-1",
            "primes",
            QuestionKind.MULTIPLE,
            "Which of these are prime?",
            (Choice("2", True), Choice("4", False), Choice("7", True), Choice("9", False)),
            "2 and 7 have no divisors but 1 and themselves",
        ),
    ),
)

FRACTIONS = Deck(
    name="fractions",
    title="Fractions",
    description="Needs a picture",
    questions=(
        _single(
            "fra-1",
            "fractions",
            "What is $\\frac{\\frac{1}{2}}{\\frac{3}{4}}$?",
            "2/3",
            "3/8",
            "3/2",
            why="Divide by multiplying with the inverse",
        ),
    ),
)

DECKS = (ALGEBRA, PRIMES, FRACTIONS)
ANSWERS = {q.prompt: {c.text for c in q.choices if c.correct} for d in DECKS for q in d.questions}
_CHOICE_LINE = re.compile(r"^(?:\S+ )?\*\*([A-Z])\*\*\s+(.*)$")


def choice_letters(message: Json) -> dict[str, str]:
    """Choice text -> letter, read from a question message's embed."""
    description = str(message["embeds"][0].get("description") or "")
    letters: dict[str, str] = {}
    for line in description.splitlines():
        match = _CHOICE_LINE.match(line)
        if match:
            letters[match.group(2)] = match.group(1)
    return letters


def right_letters(message: Json, prompt_text: str | None = None) -> list[str]:
    """The letters of the correct choices of a posted question."""
    text = embed_text(message["embeds"][0])
    prompt = next(p for p in ANSWERS if _shown(p) in text) if prompt_text is None else prompt_text
    letters = choice_letters(message)
    return sorted(letters[c] for c in ANSWERS[prompt])


def wrong_letter(message: Json) -> str:
    """A letter of a wrong choice of a posted question."""
    right = set(right_letters(message))
    return next(v for v in sorted(choice_letters(message).values()) if v not in right)


def _shown(prompt: str) -> str:
    from bot.render import to_chat_text

    return to_chat_text(prompt)


@dataclass
class Harness:
    """One bot process (client + engine) on a shared fake Discord and database."""

    fake: FakeDiscord
    store: SqlStore
    clock: ManualClock
    bot: QuizBot
    engine: QuizEngine
    task: asyncio.Task[None]
    rhythm: Rhythm  # built as the runtime builds it: boards go through the client
    reviews: ReviewEngine  # study mode, on the same engine and store

    async def tick(self, seconds: float) -> int:
        """Move the quiz clock on and close due rounds, as the runtime's ticker does."""
        # what is on its way to the channel lands first, as it does between the
        # runtime's ticks: a question still being posted has not started its clock
        await self.settle()
        self.clock.advance(seconds)
        closed = await self.engine.close_due_rounds()
        await self.settle()
        return closed

    async def settle(self) -> None:
        """Let background work (early closes, count refreshes) finish."""
        await self.engine.idle()

    def current_question(self) -> Json:
        """The newest question message in the channel."""
        questions = [
            m for m in self.fake.bot_posts() if m["embeds"] and _is_question(m["embeds"][0])
        ]
        assert questions, "no question posted"
        return questions[-1]

    async def stop(self) -> None:
        """Close the client as a shutdown would; the database stays."""
        await self.settle()
        await self.bot.close()
        await self.task


def _is_question(embed: Json) -> bool:
    return str(embed.get("title") or "").startswith("Question ")


def settings_for(fake: FakeDiscord, database_url: str) -> Settings:
    """Settings that point the client at the fake."""
    return Settings(
        database_url=database_url,
        discord_token=fake.token,
        discord_api_url=fake.api_url,
        discord_gateway_url=fake.gateway_url,
    )


async def start_bot(
    fake: FakeDiscord,
    store: SqlStore,
    clock: ManualClock,
    *,
    database_url: str,
    seed: int = 7,
    refresh_interval: float = 0.2,
) -> Harness:
    """Build the engine and client, log in to the fake and wait for READY."""
    point_at(settings_for(fake, database_url))
    bank = QuestionBank(DECKS)
    await store.sync_questions(bank.all_questions())
    # a defer's round trip does not shrink with the clock: defer early enough for it
    bot = QuizBot(defer_after=fake.first_response_limit / 3, guild_ready_timeout=0.05)
    engine = QuizEngine(
        store,
        bank,
        DiscordChat(bot),
        platform="discord",
        clock=clock,
        rng=random.Random(seed),
        refresh_interval=refresh_interval,
    )
    rhythm = rhythm_for(engine)
    assert rhythm is not None, "the weekly rhythm needs the SQL store"
    reviews = study_for(engine, rhythm)  # as the runtime wires it: reminders DM via the client
    assert reviews is not None
    bot.attach(engine, rhythm, reviews)
    task = asyncio.create_task(bot.start(fake.token))
    ready = asyncio.create_task(bot.wait_until_ready())
    done, _ = await asyncio.wait({task, ready}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
    if ready not in done:
        ready.cancel()
        if task in done:
            task.result()  # raises the login or connection error
        raise AssertionError("the client did not get READY from the fake")
    return Harness(fake, store, clock, bot, engine, task, rhythm, reviews)
