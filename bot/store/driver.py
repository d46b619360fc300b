"""Statements at the driver's level, for the close's bulk reads and writes.

Closing a 500-answer round reads 500 answers and 500 FSRS cards and writes 500 answers'
points, 1,100 score deltas and 500 cards. Through SQLAlchemy's Core, every one of those
rows pays in Python for its parameters' or its columns' type processing (the UTC
datetimes, the JSON columns) and for a dict per row. Here the statements go to the
driver as written, through `AsyncConnection.exec_driver_sql`, so in the connection's
own transaction (SQLAlchemy still begins it), with parameters and rows as plain tuples.

The price is doing the column types' work by hand, once, here:
- a `UTCDateTime` value is an aware UTC datetime on PostgreSQL and SQLAlchemy's text
  form of the naive UTC time on SQLite (`2026-12-01 12:00:00.000000`, always with
  microseconds, so that text comparisons order as times);
- a JSON value is its text as a parameter (both drivers); a JSON column comes back
  decoded from asyncpg and as text from sqlite3.

Placeholders are PostgreSQL's `$1, $2, ...`; on SQLite they become `?1, ?2, ...`, which
bind the same positions.
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

_PLACEHOLDER = re.compile(r"\$(\d+)")

Params = Sequence[Any]
R = TypeVar("R")
T = TypeVar("T")


def sqlite_moment(value: datetime) -> str:
    """A `UTCDateTime` parameter on SQLite: the naive UTC time, as SQLAlchemy writes it."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: the store needs timezone-aware UTC")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def utc(value: datetime) -> datetime:
    """A moment in UTC, as `UTCDateTime` stores and returns it."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: the store needs timezone-aware UTC")
    return value if value.tzinfo is UTC else value.astimezone(UTC)


@functools.lru_cache(maxsize=256)
def sqlite_placeholders(statement: str) -> str:
    """A statement's `$n` placeholders as SQLite's `?n` (converted once per statement)."""
    return _PLACEHOLDER.sub(r"?\1", statement)


def pg_array(values: Sequence[Any]) -> str:
    """A PostgreSQL array literal of values of one type (ints, floats, bools, strings,
    datetimes) or None, for a text parameter the statement casts (`$2::text::bigint[]`).

    asyncpg encodes a list parameter element by element, with isinstance checks against
    abstract base classes on each: a tenth of a microsecond per element, on the close's
    twenty thousand. The literal is joined in C (ints), or from each distinct value's
    text (a column of a round's rows holds few distinct values), and parsed by the
    server.
    """
    try:
        # ints, and bools as 1 and 0 (which a bool[] reads too); TypeError otherwise
        return "{" + ",".join(map(int.__repr__, values)) + "}"
    except TypeError:
        pass
    literal = {value: _pg_element(value) for value in set(values)}
    return "{" + ",".join(map(literal.__getitem__, values)) + "}"


def _pg_element(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int):
        return str(int(value))  # an IntEnum's value, not its name
    if isinstance(value, float):
        return repr(float(value))  # reads back as the same float
    if isinstance(value, datetime):
        return utc(value).isoformat()
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


class Driver:
    """The dialect's spelling of driver-level statements and their values."""

    def __init__(self, postgres: bool, *, direct: bool = False) -> None:
        self.postgres = postgres
        # with `direct`, statements in a PostgreSQL transaction go to asyncpg itself
        # (`_asyncpg`): their errors are asyncpg's, not SQLAlchemy's, so only for
        # statements whose errors no caller tells apart
        self.direct = postgres and direct

    def moment(self, value: datetime) -> Any:
        """A `UTCDateTime` parameter."""
        return utc(value) if self.postgres else sqlite_moment(value)

    def optional_moment(self, value: datetime | None) -> Any:
        """A nullable `UTCDateTime` parameter."""
        return None if value is None else self.moment(value)

    def moments(self) -> Callable[[datetime | None], Any]:
        """`optional_moment` for the rows of one statement, converting each distinct
        moment once (a round's 500 cards share a few due times and one last review)."""
        if self.postgres:
            return self.optional_moment
        seen: dict[datetime | None, Any] = {None: None}

        def convert(value: datetime | None) -> Any:
            if value not in seen:
                seen[value] = self.optional_moment(value)
            return seen[value]

        return convert

    def read_moment(self, value: Any) -> datetime:
        """A `UTCDateTime` column as read: an aware UTC datetime."""
        if isinstance(value, str):
            # parsing the offset costs a tenth of datetime.replace(tzinfo=UTC)
            return datetime.fromisoformat(value + "+00:00")
        if value.tzinfo is None:  # SQLite's own datetime adapter, or a bare value
            return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
        return utc(value)

    def read_optional_moment(self, value: Any) -> datetime | None:
        """A nullable `UTCDateTime` column as read."""
        return None if value is None else self.read_moment(value)

    async def beside(self, statement: Awaitable[R], work: Callable[[], T]) -> tuple[R, T]:
        """`statement`'s result and `work()`'s: on PostgreSQL, the Python work is done
        while the server runs the statement, rather than after it.

        Only one statement is on its way at a time (the caller sends the next one after
        this returns), so the transaction's statements keep their order. On SQLite the
        two run one after the other: sqlite3's thread needs the GIL for every row it
        binds or reads, so Python work beside it only slows it down.
        """
        if not self.postgres:
            return await statement, work()
        task = asyncio.ensure_future(statement)
        # one turn of the loop: the statement is sent (a first preparation takes longer:
        # then it is sent when `work` is done)
        await asyncio.sleep(0)
        try:
            done = work()
        except BaseException:
            # the transaction will roll back: not while its statement is still running
            await asyncio.gather(task, return_exceptions=True)
            raise
        return await task, done

    @staticmethod
    def json(value: Any) -> str:
        """A JSON parameter (as SQLAlchemy's JSON type serialises it)."""
        return json.dumps(value)

    def read_json(self, value: Any) -> Any:
        """A JSON column as read."""
        return json.loads(value) if isinstance(value, str | bytes) else value

    async def rows(
        self, conn: AsyncConnection, statement: str, params: Params = ()
    ) -> Sequence[Sequence[Any]]:
        """The rows of a query, as tuples."""
        if self.postgres:
            pg = await self._asyncpg(conn)
            if pg is not None:
                return await pg.fetch(statement, *params)  # type: ignore[no-any-return]
            return (await conn.exec_driver_sql(statement, tuple(params))).all()
        lite = await _aiosqlite(conn)
        return list(await lite.execute_fetchall(sqlite_placeholders(statement), tuple(params)))

    async def execute(self, conn: AsyncConnection, statement: str, params: Params = ()) -> None:
        """Run one statement."""
        if self.postgres:
            pg = await self._asyncpg(conn)
            if pg is not None:
                await pg.execute(statement, *params)
                return
            await conn.exec_driver_sql(statement, tuple(params))
            return
        lite = await _aiosqlite(conn)
        await lite.execute_fetchall(sqlite_placeholders(statement), tuple(params))

    async def executemany(
        self, conn: AsyncConnection, statement: str, rows: Iterable[Params]
    ) -> None:
        """Run one statement for each row of parameters (the driver's executemany)."""
        batch = [tuple(r) for r in rows]
        if not batch:
            return
        if self.postgres:
            pg = await self._asyncpg(conn)
            if pg is not None:
                await pg.executemany(statement, batch)
                return
            await conn.exec_driver_sql(statement, batch)
            return
        lite = await _aiosqlite(conn)
        await lite.executemany(sqlite_placeholders(statement), batch)

    async def _asyncpg(self, conn: AsyncConnection) -> Any:
        """With `direct`, the asyncpg connection under `conn` once its transaction has
        begun (SQLAlchemy sends BEGIN with the transaction's first statement): statements
        then go to it straight, without SQLAlchemy's tenth of a millisecond per statement.
        None otherwise: through SQLAlchemy, which begins the transaction if need be."""
        if not self.direct:
            return None
        pg = (await conn.get_raw_connection()).driver_connection
        return pg if pg is not None and pg.is_in_transaction() else None


async def _aiosqlite(conn: AsyncConnection) -> Any:
    """The aiosqlite connection under a SQLAlchemy connection (in its transaction: the
    store's writes begin with BEGIN IMMEDIATE as soon as they start)."""
    raw = await conn.get_raw_connection()
    return raw.driver_connection
