"""Alembic environment: async migrations on the URL from -x url=, the config or DATABASE_URL."""

from __future__ import annotations

import asyncio
from logging.config import fileConfig
from typing import Any

from alembic.autogenerate.api import AutogenContext
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from alembic import context
from bot.store.database import create_engine, database_url, normalize_url
from bot.store.tables import Base, UTCDateTime

config = context.config
if config.config_file_name and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name)

target_metadata = Base.metadata


def migration_url() -> str:
    """The database to migrate: -x url=..., then sqlalchemy.url, then DATABASE_URL."""
    given = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    return normalize_url(given) if given else database_url()


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | bool:
    """Write our UTCDateTime as the plain column type it stores."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def configure(connection: Connection | None = None, **kwargs: Any) -> None:
    """Shared options of offline and online runs."""
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_item=render_item,
        compare_type=True,
        compare_server_default=False,
        # SQLite alters tables by copying them.
        render_as_batch=(connection is None and "sqlite" in migration_url())
        or (connection is not None and connection.dialect.name == "sqlite"),
        **kwargs,
    )


def run_migrations_offline() -> None:
    """Print the SQL instead of running it (`alembic upgrade head --sql`)."""
    configure(url=migration_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    """Run the migrations on one connection, in one transaction."""
    configure(connection)
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Bot processes starting together migrate one after the other.
            connection.execute(text("SELECT pg_advisory_xact_lock(7246150)"))
        context.run_migrations()


async def run_migrations_online() -> None:
    """Connect with the async driver and migrate."""
    engine = create_engine(migration_url(), poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(do_run_migrations)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_migrations_online())
