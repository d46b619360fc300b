"""Shared fixtures.

Database fixtures run on SQLite always and on PostgreSQL when TEST_DATABASE_URL is set
(e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test). With CI=true an unreachable
PostgreSQL fails the tests instead of skipping them.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bot.store import SqlStore, create_engine
from bot.store.tables import Base

DATABASES = ["sqlite", "postgresql"]


async def _reset_postgresql(url: str) -> None:
    """Give the test an empty schema on the PostgreSQL test database."""
    engine = create_engine(url)
    try:
        try:
            conn = await engine.connect()
        except (OSError, DBAPIError) as exc:
            message = f"PostgreSQL at TEST_DATABASE_URL is unreachable: {exc}"
            if os.environ.get("CI", "").lower() == "true":
                pytest.fail(message)
            pytest.skip(message)
        try:
            async with conn.begin():
                # a connection an earlier test leaked (idle in a transaction) would hold
                # its locks forever and hang the DROP: end such sessions, and never wait
                # on a lock for long
                await conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                        "AND state LIKE 'idle in transaction%'"
                    )
                )
                await conn.execute(text("SET LOCAL lock_timeout = '20s'"))
                await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                await conn.execute(text("CREATE SCHEMA public"))
                await conn.run_sync(Base.metadata.create_all)
        finally:
            await conn.close()
    finally:
        await engine.dispose()


@pytest.fixture(params=DATABASES)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of an empty database with the current schema, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'quiz.db'}"
        engine = create_engine(url)
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        await engine.dispose()
        return url
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url:
        pytest.skip("TEST_DATABASE_URL is not set")
    await _reset_postgresql(url)
    return url


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[SqlStore]:
    """A SqlStore on a fresh database (parametrised over SQLite and PostgreSQL)."""
    opened = SqlStore.from_url(database_url)
    try:
        yield opened
    finally:
        await opened.close()
