"""Fixtures of the subprocess tests: the fakes, started in the test's event loop."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.store import upgrade
from tests.conftest import _reset_postgresql
from tests.fake_discord import FakeDiscord
from tests.mock_slack.server import MockSlack


@pytest.fixture
async def mock() -> AsyncIterator[MockSlack]:
    """The mock Slack Web API, started."""
    server = MockSlack()
    await server.start()
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    """The fake Discord (REST and gateway), started; Discord's 3 s are 3 s."""
    server = FakeDiscord(time_scale=1.0)
    await server.start()
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture(params=["sqlite", "postgresql"])
async def bot_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database for bot processes: a migrated SQLite file (the bot migrates SQLite
    itself, so it must carry Alembic's revision), or the emptied PostgreSQL test one."""
    if request.param == "sqlite":
        return await migrated_sqlite(tmp_path)
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url:
        pytest.skip("TEST_DATABASE_URL is not set")
    await _reset_postgresql(url)
    return url


@pytest.fixture
async def sqlite_bot_database_url(tmp_path: Path) -> str:
    """A migrated SQLite file only: for the platform tests whose PostgreSQL side the
    Slack ones already cover (each process costs seconds)."""
    return await migrated_sqlite(tmp_path)


async def migrated_sqlite(tmp_path: Path) -> str:
    """A SQLite database at Alembic's head, as a bot process finds one it migrated."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    await asyncio.to_thread(upgrade, url)
    return url
