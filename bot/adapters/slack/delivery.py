"""Slack's failures as the outbox sees them: RetryLater or Undeliverable.

The Web API client has already retried what it retries by itself (connection errors,
429s, 500/503s, a bounded number of times); what still fails reaches the outbox here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.core.delivery import DeliveryError, RetryLater, Undeliverable

# ok=false errors that Slack documents as passing: the same call may work later
TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)


def error_code(exc: SlackApiError) -> str:
    """Slack's `error` of a refused call, or the HTTP status when the body had none."""
    data = exc.response.data
    if isinstance(data, dict) and data.get("error"):
        return str(data["error"])
    return f"HTTP {exc.response.status_code}"


def retry_after_of(exc: SlackApiError) -> float | None:
    """The Retry-After of a 429, in seconds."""
    for name, values in (exc.response.headers or {}).items():
        if name.lower() == "retry-after":
            value = values[0] if isinstance(values, list) else values
            try:
                return max(0.0, float(value))
            except (TypeError, ValueError):
                return None
    return None


def delivery_error(exc: SlackApiError, what: str) -> DeliveryError:
    """Whether a refused Web API call may work later (RetryLater) or never (Undeliverable)."""
    status, code = exc.response.status_code, error_code(exc)
    if status == 429 or code == "ratelimited":
        return RetryLater(f"{what}: rate limited", retry_after=retry_after_of(exc))
    if status >= 500 or code in TRANSIENT_ERRORS:
        return RetryLater(f"{what}: {code}")
    return Undeliverable(f"Slack refused {what}: {code}")


@asynccontextmanager
async def delivering(what: str) -> AsyncIterator[None]:
    """Raise the block's Slack and network failures as RetryLater or Undeliverable."""
    try:
        yield
    except SlackApiError as exc:
        raise delivery_error(exc, what) from exc
    except (TimeoutError, aiohttp.ClientError) as exc:
        raise RetryLater(f"{what}: {type(exc).__name__}") from exc
