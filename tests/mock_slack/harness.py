"""The Slack app under test: engine + Bolt app served over HTTP on 127.0.0.1, on the mock.

    harness = await SlackHarness.open(database_url)
    await harness.slack.command(ADA, "start science 3")
    ...
    await harness.close()

The engine runs on a ManualClock: `tick(seconds)` moves it and closes due rounds as the
runtime's ticker would.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from bot.adapters.slack.acks import AckAfterCommit
from bot.adapters.slack.app import build_app, http_app
from bot.adapters.slack.chat import SlackChat, http_session, web_client
from bot.core.bank import QuestionBank
from bot.core.clock import ManualClock
from bot.core.engine import QuizEngine
from bot.core.model import Choice, Deck, Question, QuestionKind
from bot.core.rhythm.service import Rhythm as WeeklyRhythm
from bot.core.study.review import ReviewEngine
from bot.runtime import rhythm_for, study_for
from bot.store import SqlStore
from tests.mock_slack.requests import SlackRequests, User
from tests.mock_slack.server import Ephemeral, Message, MockSlack

SECRET = "8f742231b10e8888abcd99testsecret"  # shaped like a signing secret
BOT_TOKEN = "xoxb-test"

ADA = User("U0ADA", "ada")
BEN = User("U0BEN", "ben")
CY = User("U0CY", "cy")
DEE = User("U0DEE", "dee")
EVE = User("U0EVE", "eve")
BOSS = User("U0BOSS", "boss")  # a workspace admin
PLAYERS = (ADA, BEN, CY, DEE, EVE)


def _single(qid: str, prompt: str, right: str, *wrong: str, why: str = "") -> Question:
    choices = (Choice(right, True), *(Choice(w, False) for w in wrong))
    return Question(qid, "science", QuestionKind.SINGLE, prompt, choices, why)


SCIENCE = Deck(
    name="science",
    title="Science basics",
    description="three quick ones",
    questions=(
        _single(
            "sci-1",
            "What is $\\alpha + \\beta$ when both are 1?",
            "2",
            "1",
            "0",
            why="1 + 1 = 2",
        ),
        _single(
            "sci-2",
            "Which is true: <b> & $x^2 \\geq 0$?",
            "x² ≥ 0 for real x",
            "x² < 0 sometimes",
            "Neither",
            why="Squares of reals are never negative",
        ),
        _single("sci-3", "Water boils at sea level at", "100 °C", "50 °C", "0 °C"),
    ),
)

CHECKS = Deck(
    name="checks",
    title="Check all that apply",
    description="one multiple-answer question",
    questions=(
        Question(
            "chk-1",
            "checks",
            QuestionKind.MULTIPLE,
            "Which numbers are even?",
            (Choice("2", True), Choice("3", False), Choice("4", True), Choice("5", False)),
            "2 and 4 divide by 2",
        ),
    ),
)

BANK = QuestionBank([SCIENCE, CHECKS])


def choices_of(message: Message | Ephemeral) -> dict[str, str]:
    """The lettered choices a question message lists: {"A": "2", ...}."""
    choices = {}
    for line in message.plain.splitlines():
        parts = line.replace("✅ ", "").replace("▫️ ", "").split(None, 1)
        if len(parts) == 2 and len(parts[0]) == 3 and parts[0][0] == parts[0][2] == "*":
            text = parts[1].strip().replace("&lt;", "<").replace("&gt;", ">")
            choices[parts[0][1]] = text.replace("&amp;", "&")
    return choices


def letter_of(message: Message | Ephemeral, choice: str) -> str:
    """The letter the question message shows for a choice's text, as a reader finds it."""
    for key, text in choices_of(message).items():
        if text == choice:
            return key
    raise AssertionError(f"no choice {choice!r} in:\n{message.plain}")


def question_shown(message: Message | Ephemeral) -> Question:
    """The deck question a question message shows, found by its choices."""
    shown = set(choices_of(message).values())
    for question in BANK.all_questions():
        if {c.text for c in question.choices} == shown:
            return question
    raise AssertionError(f"not a question of the test decks:\n{message.plain}")


def right_letters(message: Message | Ephemeral) -> list[str]:
    """The letters of the correct choices of the question a message shows."""
    question = question_shown(message)
    return sorted(letter_of(message, c.text) for c in question.choices if c.correct)


def wrong_letter(message: Message | Ephemeral) -> str:
    """The letter of a wrong choice of the question a message shows."""
    question = question_shown(message)
    return min(letter_of(message, c.text) for c in question.choices if not c.correct)


@dataclass
class SlackHarness:
    """One bot process under test: store, engine, Bolt app and its HTTP server."""

    mock: MockSlack
    database_url: str
    store: SqlStore
    clock: ManualClock
    engine: QuizEngine
    runner: web.AppRunner
    slack: SlackRequests
    app: Any
    session: aiohttp.ClientSession
    reviews: ReviewEngine  # study mode, wired as the runtime wires it
    rhythm: WeeklyRhythm  # its reminders DM through this process's client

    @classmethod
    async def open(
        cls,
        database_url: str,
        *,
        mock: MockSlack | None = None,
        clock: ManualClock | None = None,
        seed: int = 7,
        acks: AckAfterCommit | None = None,
    ) -> SlackHarness:
        """Start the mock (unless given), the store, the engine and the app server."""
        if mock is None:
            mock = MockSlack()
            await mock.start()
            for user in PLAYERS:
                mock.add_user(user.id, user.name)
            mock.add_user(BOSS.id, BOSS.name, admin=True)
        mock.bot_token = BOT_TOKEN  # private file URLs answer to the bot's token only
        store = SqlStore.from_url(database_url)
        await store.sync_questions(BANK.all_questions())
        clock = clock or ManualClock()
        session = http_session()
        client = web_client(BOT_TOKEN, mock.base_url, session=session, jitter=0.0)
        engine = QuizEngine(
            store,
            BANK,
            SlackChat(client),
            platform="slack",
            clock=clock,
            rng=random.Random(seed),
            refresh_interval=0.01,
        )
        rhythm = rhythm_for(engine)
        reviews = study_for(engine, rhythm)
        assert rhythm is not None and reviews is not None
        acks = acks or AckAfterCommit()
        app = build_app(
            engine, client, signing_secret=SECRET, rhythm=rhythm, reviews=reviews, acks=acks
        )
        # as `quizbot serve slack --http` serves it
        runner = web.AppRunner(http_app(app, in_flight=acks.in_flight), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        slack = SlackRequests(f"http://127.0.0.1:{port}/slack/events", mock, SECRET)
        return cls(
            mock, database_url, store, clock, engine, runner, slack, app, session, reviews, rhythm
        )

    async def close(self, *, mock: bool = True) -> None:
        """Stop this process (and the mock, unless a restart keeps it)."""
        await self.engine.idle()
        await self.slack.close()
        await self.runner.cleanup()
        await self.store.close()
        await self.session.close()
        if mock:
            await self.mock.close()

    async def restart(self) -> SlackHarness:
        """A new process on the same database and the same Slack: nothing kept in memory."""
        await self.close(mock=False)
        return await SlackHarness.open(self.database_url, mock=self.mock, clock=self.clock)

    async def settle(self) -> None:
        """Let background work finish: count refreshes, early closes."""
        await self.engine.idle()

    async def tick(self, seconds: float) -> int:
        """Move the clock on and close due rounds, as the runtime's ticker does."""
        # what is on its way to the channel lands first, as it does between the
        # runtime's ticks: a question still being posted has not started its clock
        await self.settle()
        self.clock.advance(seconds)
        closed = await self.engine.close_due_rounds()
        await self.settle()
        return closed

    def question(self) -> Message:
        """The newest question message in the channel."""
        for message in reversed(self.mock.channel_messages(self.slack.channel)):
            if message.plain.startswith("*Question"):
                return message
        raise AssertionError("no question posted")

    def messages(self) -> list[str]:
        """The channel's messages as members read them now."""
        return [m.plain for m in self.mock.channel_messages(self.slack.channel)]
