"""Database health: a trivial query through the store's engine, or one opened on a URL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import NullPool

from bot.store import SqlStore, create_engine
from bot.store.database import READ_ONLY
from bot.store.tables import QuizRow


class DatabaseHealth:
    """Answers "is the database there?" and "how many quizzes run?" for /healthz and /metrics."""

    def __init__(self, engine: AsyncEngine) -> None:
        # read-only: on SQLite a health check must never queue behind writers for the lock
        self.engine = engine.execution_options(**{READ_ONLY: True})

    @classmethod
    def of_store(cls, store: SqlStore) -> DatabaseHealth:
        """Checks through the store's own connection pool."""
        return cls(store.engine)

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


@asynccontextmanager
async def database_health(url: str) -> AsyncIterator[DatabaseHealth]:
    """A DatabaseHealth on its own short-lived engine (no pool kept), for `quizbot doctor`."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        yield DatabaseHealth(engine)
    finally:
        await engine.dispose()
