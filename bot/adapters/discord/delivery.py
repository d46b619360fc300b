"""Discord's failures as the outbox sees them: RetryLater or Undeliverable.

discord.py has already waited out 429s and retried 500/502/504s by itself; what still
fails reaches the outbox here. A request that hangs is cut off after `seconds`
(discord.py's own session waits five minutes).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import discord

from bot.core.delivery import DeliveryError, RetryLater, Undeliverable

SEND_TIMEOUT = 15.0


def delivery_error(exc: discord.HTTPException, what: str) -> DeliveryError:
    """Whether a refused REST call may work later (RetryLater) or never (Undeliverable)."""
    if isinstance(exc, discord.RateLimited):
        return RetryLater(f"{what}: rate limited", retry_after=exc.retry_after)
    if exc.status == 429:
        return RetryLater(f"{what}: rate limited", retry_after=_retry_after(exc))
    if isinstance(exc, discord.DiscordServerError) or exc.status >= 500:
        return RetryLater(f"{what}: {exc.status} {exc.text}".strip())
    if isinstance(exc, discord.Forbidden):
        return Undeliverable(f"Discord refused {what}: missing access ({exc.text})")
    if isinstance(exc, discord.NotFound):
        return Undeliverable(f"Discord refused {what}: not found ({exc.text})")
    return Undeliverable(f"Discord refused {what}: {exc.status} {exc.text}".strip())


def _retry_after(exc: discord.HTTPException) -> float | None:
    value = exc.response.headers.get("Retry-After") if exc.response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


@asynccontextmanager
async def delivering(what: str, *, seconds: float = SEND_TIMEOUT) -> AsyncIterator[None]:
    """Raise the block's Discord and network failures as RetryLater or Undeliverable."""
    try:
        async with asyncio.timeout(seconds):
            yield
    except discord.HTTPException as exc:
        raise delivery_error(exc, what) from exc
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        raise RetryLater(f"{what}: {type(exc).__name__}") from exc
