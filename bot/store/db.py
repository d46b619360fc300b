"""`Database`: the engine every area of the store shares, with its dialect switch and the
connections a read, a one-statement write and a write transaction take.

Writes on SQLite start with BEGIN IMMEDIATE (see `bot.store.database`) and queue on one
lock per process; on PostgreSQL a read, or a write of one statement, runs in autocommit.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.core.model import QuizStatus, RoundStatus
from bot.store.database import READ_ONLY
from bot.store.tables import AnswerRow, RoundRow
from bot.store.writer_turns import WriterTurns

OPEN = RoundStatus.OPEN.value
CLOSED = RoundStatus.CLOSED.value
RUNNING = QuizStatus.RUNNING.value

ROUND_COLUMNS = RoundRow.__table__.c
ANSWER_COLUMNS = AnswerRow.__table__.c

Insert = sqlite.Insert | postgresql.Insert


def as_arrays(rows: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """Rows of the same keys as one list per key: the parameters of an unnest."""
    return {key: [row[key] for row in rows] for key in rows[0]}


# the drivers' errors as SQLAlchemy raises them (the first match; DBAPIError otherwise)
_SQLALCHEMY_ERRORS: tuple[tuple[type[Exception], type[sa_exc.DBAPIError]], ...] = (
    (asyncpg.IntegrityConstraintViolationError, sa_exc.IntegrityError),
    (asyncpg.DataError, sa_exc.DataError),
    (asyncpg.InterfaceError, sa_exc.InterfaceError),
    (sqlite3.IntegrityError, sa_exc.IntegrityError),
    (sqlite3.DataError, sa_exc.DataError),
    (sqlite3.OperationalError, sa_exc.OperationalError),
    (sqlite3.InterfaceError, sa_exc.InterfaceError),
)


def _as_sqlalchemy_error(error: Exception) -> sa_exc.DBAPIError:
    """An error of a statement at the driver's level, as SQLAlchemy's error class for it."""
    kind = next((sa for pg, sa in _SQLALCHEMY_ERRORS if isinstance(error, pg)), None)
    return (kind or sa_exc.DBAPIError)(None, None, error)


class Database:
    """One async engine, seen as readers, one-statement writers and write transactions."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"
        # On PostgreSQL a read, or a write of one statement, needs no BEGIN and COMMIT
        # round trips: READ COMMITTED gives each statement its own snapshot either way.
        single: dict[str, Any] = {"isolation_level": "AUTOCOMMIT"} if self.postgres else {}
        self.reader = engine.execution_options(**{READ_ONLY: True}, **single)
        self.single_statement = engine.execution_options(**single)
        # SQLite has one writer at a time: queue this process's writers here, the clicks'
        # first, rather than in SQLite's busy handler, which polls with sleeps of up to
        # 100 ms.
        self._writer = None if self.postgres else WriterTurns()
        # what each write transaction in progress runs once it has committed
        self._after_commit: dict[AsyncConnection, list[Callable[[], None]]] = {}

    @asynccontextmanager
    async def write(self, *, urgent: bool = False) -> AsyncIterator[AsyncConnection]:
        """A connection in a write transaction, committed on success; then the
        transaction's `after_commit` callbacks run (never after a rollback). On SQLite an
        `urgent` write (a click's, which a platform waits for) goes before the others
        waiting for the writer."""
        lock: AbstractAsyncContextManager[object] = (
            nullcontext() if self._writer is None else self._writer.turn(urgent=urgent)
        )
        callbacks: list[Callable[[], None]] = []
        async with lock, self.engine.begin() as conn:
            self._after_commit[conn] = callbacks
            try:
                yield conn
            finally:
                del self._after_commit[conn]
        for callback in callbacks:
            callback()

    @asynccontextmanager
    async def driver_transaction(self) -> AsyncIterator[Any]:
        """The driver's own connection under a pooled one (asyncpg's, or aiosqlite's),
        in a transaction of its own, for a hot path whose statements are all at the
        driver's level (a burst's answer batches): without SQLAlchemy's work per
        statement, begin and commit. On SQLite it is an urgent write (BEGIN IMMEDIATE),
        queued with `write()`'s. Not one of `write()`'s transactions: no `after_commit`."""
        if self._writer is None:
            async with self._on_asyncpg() as pg:
                yield pg
            return
        async with self._writer.turn(urgent=True), self.engine.connect() as conn:
            lite = (await conn.get_raw_connection()).driver_connection
            assert lite is not None
            try:
                await lite.execute_fetchall("BEGIN IMMEDIATE")
                yield lite
                await lite.commit()
            except sqlite3.Error as exc:
                raise _as_sqlalchemy_error(exc) from exc
            # else (an error of the caller's), returning the connection to the pool
            # rolls it back: SQLAlchemy did not see this transaction, so it resets it

    @asynccontextmanager
    async def _on_asyncpg(self) -> AsyncIterator[Any]:
        async with self.engine.connect() as conn:
            pg = (await conn.get_raw_connection()).driver_connection
            assert pg is not None
            try:
                async with pg.transaction():
                    yield pg
            except (asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                if pg.is_closed():
                    # as SQLAlchemy does with a connection it lost: not back to the pool
                    await conn.invalidate()
                # callers tell database errors apart as SQLAlchemy's, as everywhere else
                raise _as_sqlalchemy_error(exc) from exc

    def writing(self, conn: AsyncConnection) -> bool:
        """Whether `conn` is in one of `write()`'s transactions (so `after_commit` works)."""
        return conn in self._after_commit

    def after_commit(self, conn: AsyncConnection, callback: Callable[[], None]) -> bool:
        """Run `callback` once `conn`'s write transaction has committed; False (and
        nothing registered) when `conn` is not one of `write()`'s."""
        callbacks = self._after_commit.get(conn)
        if callbacks is None:
            return False
        callbacks.append(callback)
        return True

    def insert(self, table: Any) -> Insert:
        """The dialect's INSERT, which knows ON CONFLICT."""
        if self.postgres:
            return postgresql.insert(table)
        return sqlite.insert(table)
