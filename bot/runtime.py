"""Wires settings, the store, the question bank and the engine for one chat platform,
runs the ticker that closes due rounds, and serves a platform from start to stop."""

from __future__ import annotations

import asyncio
import gc
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager, suppress
from dataclasses import dataclass, field
from functools import partial
from typing import TypeVar

from bot.config import Settings
from bot.core.bank import QuestionBank
from bot.core.clock import SystemClock
from bot.core.engine import QuizEngine
from bot.core.ports import ChatPort, Clock
from bot.core.rhythm.ports import BoardPort
from bot.core.rhythm.service import Rhythm
from bot.core.study.ports import DirectMessagePort
from bot.core.study.review import ReviewEngine
from bot.ops.health import DatabaseHealth
from bot.ops.metrics import Metrics, PrometheusEvents, ops_server
from bot.ops.shutdown import Shutdown
from bot.questions.loader import load_bank
from bot.questions.problems import QuestionFileError
from bot.store import SqlStore, open_store, upgrade

log = logging.getLogger(__name__)

TICK_SECONDS = 0.5
RHYTHM_SECONDS = 30.0
OUTBOX_POLL_SECONDS = 0.5

ChatT = TypeVar("ChatT", bound=ChatPort)


def load_questions(settings: Settings) -> QuestionBank:
    """The decks of QUESTIONS_DIR; a deck with problems is skipped with one logged error."""
    if not settings.questions_dir.exists():
        raise QuestionFileError(
            f"QUESTIONS_DIR={settings.questions_dir}: no such folder "
            "(unset QUESTIONS_DIR to play the decks shipped with quizbot)"
        )
    bank, problems = load_bank(settings.questions_dir)
    skipped: dict[str, list[str]] = {}
    for problem in problems:
        skipped.setdefault(str(problem.path), []).append(str(problem))
    for path, lines in skipped.items():
        log.error(
            "deck %s skipped: %d problem(s), first: %s (run: quizbot questions validate)",
            path,
            len(lines),
            lines[0],
        )
    return bank


async def prepare_database(settings: Settings) -> SqlStore:
    """Open the store; a SQLite database is migrated to the latest schema on the way."""
    if settings.database_url.startswith("sqlite"):
        # alembic runs its own event loop, so it gets a thread of its own
        await asyncio.to_thread(upgrade, settings.database_url)
    return await open_store(settings.database_url)


@dataclass
class Runtime:
    """A running engine with its store, for one platform."""

    settings: Settings
    store: SqlStore
    engine: QuizEngine
    rhythm: Rhythm | None = None  # config, schedules, stats and the weekly board
    study: ReviewEngine | None = None  # review sessions, mastery, pick weakest, reminders
    metrics: Metrics = field(default_factory=Metrics)


@asynccontextmanager
async def running(
    settings: Settings,
    chat: ChatPort,
    *,
    platform: str,
    clock: Clock | None = None,
    rng: random.Random | None = None,
    refresh_interval: float = 2.0,
    outbox_channel: str | None = None,
    count_edits_per_minute: float | None = None,
) -> AsyncIterator[Runtime]:
    """Open the store, load and sync the decks, build the engine; close all on exit.

    The engine reports to Prometheus metrics (`runtime.metrics`); with METRICS_PORT set
    they are served there, with /healthz, for as long as the block runs. The engine's
    outbox dispatcher delivers this platform's rows (only `outbox_channel`'s, if given:
    a terminal game shows its own quiz) when this process writes them; `deliver_outbox`
    also delivers those other processes wrote. `count_edits_per_minute` is the
    platform's limit on message edits per community, which the answers-so-far edits keep.
    """
    bank = load_questions(settings)
    store = await prepare_database(settings)
    metrics = Metrics()
    try:
        await store.sync_questions(bank.all_questions())
        engine = QuizEngine(
            store,
            bank,
            chat,
            platform=platform,
            clock=clock or SystemClock(),
            rng=rng,
            refresh_interval=refresh_interval,
            count_edits_per_minute=count_edits_per_minute,
            default_timezone=settings.timezone,
            events=PrometheusEvents(metrics),
            outbox_channel=outbox_channel,
        )
        async with AsyncExitStack() as stack:
            if settings.metrics_port is not None:
                health = DatabaseHealth.of_store(store, engine.clock)
                await stack.enter_async_context(
                    ops_server(metrics, health, port=settings.metrics_port, platform=platform)
                )
            settle_heap()
            rhythm = rhythm_for(engine)
            yield Runtime(
                settings=settings,
                store=store,
                engine=engine,
                rhythm=rhythm,
                study=study_for(engine, rhythm),
                metrics=metrics,
            )
            await engine.shutdown()
    finally:
        await store.close()


def settle_heap() -> None:
    """Take what startup loaded (modules, the question bank) out of the garbage
    collector's sight for the life of the process.

    A full collection otherwise walks all of it: pauses of 100 to 170 ms measured during
    a click burst, each one landing on the acks in flight.
    """
    gc.collect()
    gc.freeze()


def rhythm_for(engine: QuizEngine) -> Rhythm | None:
    """The weekly rhythm on the engine's SQL store; boards are posted when the engine's
    chat also implements BoardPort, with a chart in the platform's usual theme."""
    from bot.render.chart import weekly_board_png
    from bot.store.rhythm import SqlRhythmStore

    if not isinstance(engine.store, SqlStore):
        return None
    board = engine.chat if isinstance(engine.chat, BoardPort) else None
    theme = "light" if engine.platform == "slack" else "dark"
    return Rhythm(
        engine,
        SqlRhythmStore(engine.store),
        board=board,
        picture=partial(weekly_board_png, theme=theme),
    )


def study_for(engine: QuizEngine, rhythm: Rhythm | None) -> ReviewEngine | None:
    """Study mode on the engine's SQL store: reviews, `pick weakest` for the engine's
    draws, mastery on the rhythm's stats, and reminders by DM when the engine's chat
    also implements DirectMessagePort."""
    from bot.core.study.picking import WeakestPicker
    from bot.core.study.reminders import StudyReminders
    from bot.store.reviews import SqlStudyStore

    if not isinstance(engine.store, SqlStore):
        return None
    store = SqlStudyStore(engine.store)
    reviews = ReviewEngine(engine, store)
    engine.picker = WeakestPicker(store, engine.clock, engine.rng)
    if rhythm is not None:
        rhythm.study = reviews
        dm = engine.chat if isinstance(engine.chat, DirectMessagePort) else None
        rhythm.reminders = StudyReminders(engine.platform, store, rhythm.store, dm)
    return reviews


async def run_ticker(
    engine: QuizEngine,
    stop: asyncio.Event,
    interval: float = TICK_SECONDS,
    *,
    rhythm: Rhythm | None = None,
    rhythm_interval: float = RHYTHM_SECONDS,
) -> None:
    """Close due rounds every `interval` seconds until `stop` is set, and every
    `rhythm_interval` seconds post due weekly boards and start due scheduled quizzes.

    Any number of processes may run this against one database: each round, board and
    scheduled slot is claimed by exactly one of them.
    """
    rhythm = rhythm or rhythm_for(engine)
    loop = asyncio.get_running_loop()
    next_rhythm = loop.time()
    while not stop.is_set():
        try:
            await engine.close_due_rounds()
        except Exception:
            log.exception("closing due rounds failed; retrying")
        if rhythm is not None and loop.time() >= next_rhythm:
            next_rhythm = loop.time() + rhythm_interval
            try:
                await rhythm.run_due()
            except Exception:
                log.exception("weekly rhythm failed; retrying")
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)


async def deliver_outbox(engine: QuizEngine, stop: asyncio.Event) -> None:
    """Deliver the outbox until `stop` is set: at once for rows this process writes,
    within OUTBOX_POLL_SECONDS for rows of other processes and retries that came due;
    then the sends in flight finish and the rest waits for the next process."""
    try:
        await engine.dispatcher.run(stop, poll=OUTBOX_POLL_SECONDS)
    finally:
        await engine.dispatcher.shutdown()


async def serve(
    settings: Settings,
    *,
    platform: str,
    chat: AbstractAsyncContextManager[ChatT],
    connect: Callable[[ChatT, Runtime, asyncio.Event], Awaitable[None]],
    stop: asyncio.Event | None = None,
    count_edits_per_minute: float | None = None,
) -> None:
    """Serve one chat platform until `stop` is set, SIGTERM/SIGINT, or the platform ends.

    The one lifecycle of every adapter: `chat` opens the platform's connection and
    yields its ChatPort; `connect` takes events until `stop` is set. Around them the
    signals are handled, the engine runs with its ticker, and on the way out the work
    in flight finishes: a signal refuses new quizzes at once, clicks already taken
    reach the database, and open rounds stay there for the next process.
    """
    # off the main thread there are no signal handlers: the caller sets `stop`
    shutdown = Shutdown(requested=stop)
    shutdown.install()
    try:
        limit = count_edits_per_minute
        async with (
            chat as port,
            running(settings, port, platform=platform, count_edits_per_minute=limit) as runtime,
        ):
            shutdown.attach(runtime.engine)
            stop = shutdown.requested
            ticker = asyncio.create_task(run_ticker(runtime.engine, stop, rhythm=runtime.rhythm))
            outbox = asyncio.create_task(deliver_outbox(runtime.engine, stop))
            try:
                await connect(port, runtime, stop)
            finally:
                stop.set()
                await ticker
                await outbox
                # e.g. Bolt acks a click before its listener records the answer: let
                # those answers reach the database before the store closes
                await shutdown.finish_in_flight()
    finally:
        shutdown.uninstall()
