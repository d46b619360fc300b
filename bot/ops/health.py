"""Database health: a trivial query through the store's engine, or one opened on a URL,
and the outbox's backlog (a message waiting longer than OUTBOX_STALLED makes the bot
unhealthy: the channels are not seeing what they should)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import NullPool

from bot.core.clock import SystemClock
from bot.core.outbox import UNFINISHED, OutboxStats
from bot.core.ports import Clock
from bot.store import SqlStore, create_engine
from bot.store.database import READ_ONLY
from bot.store.tables import OutboxRow, QuizRow

OUTBOX_STALLED = 60.0  # seconds the oldest undelivered outbox row may wait


class DatabaseHealth:
    """Answers "is the database there?" and "how many quizzes run?" for /healthz and /metrics."""

    def __init__(self, engine: AsyncEngine, clock: Clock | None = None) -> None:
        # read-only: on SQLite a health check must never queue behind writers for the lock
        self.engine = engine.execution_options(**{READ_ONLY: True})
        self.clock = clock or SystemClock()  # the engine's: outbox rows carry its times

    @classmethod
    def of_store(cls, store: SqlStore, clock: Clock | None = None) -> DatabaseHealth:
        """Checks through the store's own connection pool."""
        return cls(store.engine, clock)

    async def ping(self) -> None:
        """Run `SELECT 1`; raises whatever the driver raises when the database is away."""
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def running_quizzes(self, platform: str | None = None) -> int:
        """Quizzes with status running (of one platform, if given), counted in the database."""
        query = select(func.count()).select_from(QuizRow).where(QuizRow.status == "running")
        if platform is not None:
            query = query.where(QuizRow.platform == platform)
        async with self.engine.connect() as conn:
            return int((await conn.execute(query)).scalar_one())

    async def outbox(self, platform: str | None = None) -> OutboxStats:
        """Undelivered outbox rows (of one platform, if given) and the oldest one's age."""
        query = select(func.count(), func.min(OutboxRow.created_at)).where(
            OutboxRow.status.in_(UNFINISHED)
        )
        if platform is not None:
            query = query.where(OutboxRow.platform == platform)
        async with self.engine.connect() as conn:
            count, oldest = (await conn.execute(query)).one()
        if oldest is None:
            return OutboxStats(depth=int(count), oldest_age=0.0)
        age = (self.clock.now() - oldest).total_seconds()
        return OutboxStats(depth=int(count), oldest_age=max(0.0, age))


@asynccontextmanager
async def database_health(url: str) -> AsyncIterator[DatabaseHealth]:
    """A DatabaseHealth on its own short-lived engine (no pool kept), for `quizbot doctor`."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        yield DatabaseHealth(engine)
    finally:
        await engine.dispose()
