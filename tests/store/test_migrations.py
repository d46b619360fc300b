"""Migrations: upgrade() builds exactly the schema the models declare."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from bot.store import SqlStore, create_engine, current_revision, head_revision, upgrade
from bot.store.tables import Base
from tests.store.helpers import start_quiz


def schema_diff(connection: Connection) -> list[object]:
    """Alembic's autogenerate comparison of the database with the models."""
    with warnings.catch_warnings():
        # SQLite cannot reflect expression indexes; index_sql() below checks those.
        warnings.simplefilter("ignore")
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata)) + key_order_diff(connection)


def key_order_diff(connection: Connection) -> list[object]:
    """Primary keys whose columns are in another order than the models' (autogenerate
    does not compare the order, which decides how a key's index is laid out)."""
    inspector = inspect(connection)
    diff: list[object] = []
    for table in Base.metadata.sorted_tables:
        declared = [c.name for c in table.primary_key.columns]
        found = inspector.get_pk_constraint(table.name)["constrained_columns"]
        if found != declared:
            diff.append(("primary key order", table.name, found, declared))
    return diff


async def index_sql(url: str) -> set[str]:
    """Every index's CREATE statement on a SQLite database, normalised."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                text("SELECT sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
            )
            return {re.sub(r"\s+", " ", r.sql.replace('"', "")).strip() for r in rows}
    finally:
        await engine.dispose()


async def test_upgrade_matches_models_on_sqlite(tmp_path: Path) -> None:
    migrated = f"sqlite+aiosqlite:///{tmp_path / 'migrated.db'}"
    declared = f"sqlite+aiosqlite:///{tmp_path / 'declared.db'}"
    assert current_revision(migrated) is None

    upgrade(migrated)  # from inside a running event loop, as the console does
    upgrade(migrated)  # a second run is a no-op

    assert current_revision(migrated) == head_revision() is not None
    engine = create_engine(migrated)
    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(schema_diff) == []
    finally:
        await engine.dispose()
    engine = create_engine(declared)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    await engine.dispose()
    assert await index_sql(migrated) == await index_sql(declared)

    store = SqlStore.from_url(migrated)
    try:
        await start_quiz(store)
    finally:
        await store.close()


async def test_upgrade_matches_models(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            if conn.dialect.name != "postgresql":
                pytest.skip("covered on SQLite by test_upgrade_matches_models_on_sqlite")
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        upgrade(database_url)
        assert current_revision(database_url) == head_revision()
        async with engine.connect() as conn:
            assert await conn.run_sync(schema_diff) == []
    finally:
        await engine.dispose()
