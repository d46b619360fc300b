"""`Database`: the engine every area of the store shares, with its dialect switch and the
connections a read, a one-statement write and a write transaction take.

Writes on SQLite start with BEGIN IMMEDIATE (see `bot.store.database`) and queue on one
lock per process; on PostgreSQL a read, or a write of one statement, runs in autocommit.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.core.model import QuizStatus, RoundStatus
from bot.store.database import READ_ONLY
from bot.store.tables import AnswerRow, RoundRow

OPEN = RoundStatus.OPEN.value
CLOSED = RoundStatus.CLOSED.value
RUNNING = QuizStatus.RUNNING.value

ROUND_COLUMNS = RoundRow.__table__.c
ANSWER_COLUMNS = AnswerRow.__table__.c

Insert = sqlite.Insert | postgresql.Insert


def as_arrays(rows: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """Rows of the same keys as one list per key: the parameters of an unnest."""
    return {key: [row[key] for row in rows] for key in rows[0]}


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
        # SQLite has one writer at a time: queue this process's writers here, in order,
        # rather than in SQLite's busy handler, which polls with sleeps of up to 100 ms.
        self._write_lock = None if self.postgres else asyncio.Lock()
        # what each write transaction in progress runs once it has committed
        self._after_commit: dict[AsyncConnection, list[Callable[[], None]]] = {}

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A connection in a write transaction, committed on success; then the
        transaction's `after_commit` callbacks run (never after a rollback)."""
        lock: AbstractAsyncContextManager[object] = self._write_lock or nullcontext()
        callbacks: list[Callable[[], None]] = []
        async with lock, self.engine.begin() as conn:
            self._after_commit[conn] = callbacks
            try:
                yield conn
            finally:
                del self._after_commit[conn]
        for callback in callbacks:
            callback()

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
