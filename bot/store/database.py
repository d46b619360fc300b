"""Database URLs and async engines: SQLite (aiosqlite) by default, PostgreSQL (asyncpg)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///quizbot.db"
"""A SQLite file in the working directory."""

# Seconds a SQLite writer waits for the lock before giving up.
SQLITE_BUSY_TIMEOUT = 30.0

# KiB of page cache per SQLite connection (SQLite's default is 2,000). The pool holds up
# to 16 connections to one file, each with a cache of its own of the same pages, which
# the operating system caches once anyway: at the default that was about 25 MB of the
# 134 MB P4 measures with 10,000 running quizzes.
SQLITE_CACHE_KIB = 512

# Execution option: this connection only reads, so SQLite needs no write lock for it.
READ_ONLY = "quizbot_read_only"

_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
}


def database_url(environ: Mapping[str, str] | None = None) -> str:
    """The URL of the DATABASE_URL setting (environment over .env), or the default SQLite file."""
    from bot.config import database_url_setting  # the one reader of the setting

    return database_url_setting(environ)


def normalize_url(url: str | URL) -> str:
    """Give a driver-less URL (`sqlite:///x.db`, `postgresql://...`) its async driver."""
    parsed = make_url(url)
    driver = _DRIVERS.get(parsed.drivername)
    if driver is not None:
        parsed = parsed.set(drivername=driver)
    return parsed.render_as_string(hide_password=False)


def is_sqlite(url: str | URL) -> bool:
    """Whether a URL names a SQLite database."""
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine; SQLite gets WAL, foreign keys, a busy timeout and BEGIN IMMEDIATE."""
    url = normalize_url(url)
    if not is_sqlite(url):
        # No pool_pre_ping: on asyncpg it costs three round trips (BEGIN, ping, ROLLBACK)
        # per checkout, more than the one statement of a click. A connection the server
        # dropped fails its statement once; SQLAlchemy then invalidates the whole pool,
        # so the next checkouts reconnect.
        if "poolclass" not in kwargs:
            # A burst keeps the group commit, the count reads and the outbox's senders
            # busy at once; past pool_size each extra connection is opened for one
            # checkout and closed on return, and opening one costs milliseconds of this
            # process's CPU (the dialect's setup queries), more than the work it was for.
            kwargs.setdefault("pool_size", 12)
            kwargs.setdefault("max_overflow", 8)
        return create_async_engine(url, **kwargs)
    connect_args = dict(kwargs.pop("connect_args", {}))
    connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT)
    if "poolclass" not in kwargs:
        # Writers queue on SQLite's lock anyway; waiting for a connection is the same wait.
        kwargs.setdefault("pool_size", 8)
        kwargs.setdefault("max_overflow", 8)
        kwargs.setdefault("pool_timeout", 120)
    engine = create_async_engine(url, connect_args=connect_args, **kwargs)
    _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: AsyncEngine) -> None:
    """Let SQLAlchemy issue BEGIN itself, so writes take the lock up front."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to the "begin" hook below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT * 1000)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A deferred transaction that reads and then writes fails at once with
        # SQLITE_BUSY when another writer got in between (the busy timeout does not
        # apply to lock upgrades); BEGIN IMMEDIATE waits its turn instead.
        if conn.get_execution_options().get(READ_ONLY):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
