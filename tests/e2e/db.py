"""Reading what a bot process wrote, from the test: raw SQL on SQLite or PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import text

from bot.store import create_engine


async def rows(url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    """The rows of one query, on a connection of its own."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            result = await conn.execute(text(sql), params)
            return [tuple(row) for row in result.all()]
    finally:
        await engine.dispose()


async def scalar(url: str, sql: str, **params: Any) -> Any:
    """The first column of the first row, or None."""
    found = await rows(url, sql, **params)
    return found[0][0] if found else None


async def wait_for_value(url: str, sql: str, value: Any, seconds: float = 60.0) -> None:
    """Poll a query until its first value is `value`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while (found := await scalar(url, sql)) != value:
        if loop.time() > deadline:
            raise AssertionError(f"{sql!r} gives {found!r}, not {value!r}, after {seconds} s")
        await asyncio.sleep(0.05)
