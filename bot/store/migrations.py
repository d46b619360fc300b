"""Alembic migrations from code: upgrade to head and report revisions (for `quizbot db`)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from alembic import command
from bot.store.database import create_engine, normalize_url
from bot.store.sqlite_file import check_sqlite_folder

ROOT = Path(__file__).resolve().parents[2]
ALEMBIC_INI = ROOT / "alembic.ini"  # a checkout's; an installed package runs without it
ALEMBIC_DIR = Path(__file__).resolve().parents[1] / "migrations"
"""The migration scripts: bot/migrations links to the repository's alembic/ folder, and
a wheel holds a copy, so `db upgrade` works from any folder after a `pip install`."""

T = TypeVar("T")


def alembic_config(url: str | None = None) -> Config:
    """The Alembic configuration of this project, pointed at `url` when given."""
    config = Config(str(ALEMBIC_INI)) if ALEMBIC_INI.exists() else Config()
    config.set_main_option("script_location", str(ALEMBIC_DIR))
    if url is not None:
        # ConfigParser interpolates "%": a URL-quoted password must survive it.
        config.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    # Called from the application: leave its logging alone.
    config.attributes["configure_logging"] = False
    return config


def _outside_event_loop(work: Callable[[], T]) -> T:
    """Run blocking `work` here, or in a thread when this thread runs an event loop
    (Alembic's async env calls asyncio.run, which a running loop forbids)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return work()
    outcome: list[T] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            outcome.append(work())
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=target, name="quizbot-migrations")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return outcome[0]


def upgrade(url: str, revision: str = "head") -> None:
    """Apply every migration up to `revision` (blocking; safe to call inside a loop)."""
    check_sqlite_folder(url)
    config = alembic_config(url)
    _outside_event_loop(lambda: command.upgrade(config, revision))


def head_revision() -> str | None:
    """The newest migration's revision id."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(url: str) -> str | None:
    """The revision the database at `url` is at; None for a database never migrated."""

    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async def query() -> str | None:
        engine = create_engine(url, poolclass=NullPool)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(read)
        finally:
            await engine.dispose()

    return _outside_event_loop(lambda: asyncio.run(query()))
