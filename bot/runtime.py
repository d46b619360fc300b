"""Wires settings, the store, the question bank and the engine for one chat platform,
and runs the ticker that closes due rounds."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass

from bot.config import Settings
from bot.core.bank import QuestionBank
from bot.core.clock import SystemClock
from bot.core.engine import QuizEngine
from bot.core.ports import ChatPort, Clock
from bot.questions.loader import load_bank
from bot.store import SqlStore, open_store, upgrade

log = logging.getLogger(__name__)

TICK_SECONDS = 0.5


def load_questions(settings: Settings) -> QuestionBank:
    """The decks of QUESTIONS_DIR; a deck with problems is skipped with one logged error."""
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


@asynccontextmanager
async def running(
    settings: Settings,
    chat: ChatPort,
    *,
    platform: str,
    clock: Clock | None = None,
    rng: random.Random | None = None,
    refresh_interval: float = 2.0,
) -> AsyncIterator[Runtime]:
    """Open the store, load and sync the decks, build the engine; close all on exit."""
    bank = load_questions(settings)
    store = await prepare_database(settings)
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
            default_timezone=settings.timezone,
        )
        yield Runtime(settings=settings, store=store, engine=engine)
        await engine.shutdown()
    finally:
        await store.close()


async def run_ticker(
    engine: QuizEngine, stop: asyncio.Event, interval: float = TICK_SECONDS
) -> None:
    """Close due rounds every `interval` seconds until `stop` is set.

    Any number of processes may run this against one database: each round is
    claimed and scored by exactly one of them.
    """
    while not stop.is_set():
        try:
            await engine.close_due_rounds()
        except Exception:
            log.exception("closing due rounds failed; retrying")
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)
