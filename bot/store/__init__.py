"""Storage on SQLAlchemy 2 async: SQLite (default) or PostgreSQL, chosen by DATABASE_URL.

    store = await open_store(url)   # or SqlStore.from_url(url); no I/O until first use
    ...
    await store.close()

`upgrade(url)` applies the Alembic migrations (blocking; fine inside a running loop);
`current_revision(url)` and `head_revision()` tell whether a database is up to date.
"""

from __future__ import annotations

from bot.store.database import DEFAULT_DATABASE_URL, create_engine, database_url, normalize_url
from bot.store.migrations import current_revision, head_revision, upgrade
from bot.store.repository import SqlStore

__all__ = [
    "DEFAULT_DATABASE_URL",
    "SqlStore",
    "create_engine",
    "current_revision",
    "database_url",
    "head_revision",
    "normalize_url",
    "open_store",
    "upgrade",
]


async def open_store(url: str | None = None) -> SqlStore:
    """A store on `url` (default: DATABASE_URL or the SQLite file); `await store.close()`.

    The schema is not touched: run `upgrade(url)` first.
    """
    return SqlStore.from_url(url or database_url())
