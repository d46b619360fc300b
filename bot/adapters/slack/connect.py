"""Connecting to Slack: the tokens checked once at start, and a Socket Mode connection
that a stop ends in every state.

A token Slack refuses stops the command with one line naming its setting; retrying it
would only fail forever (slack_sdk's Socket Mode client retries a refused app token
every 10 s for as long as it is not closed). Slack being unreachable is not the
token's fault: the bot goes on and the platform's clients keep trying.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Any

import aiohttp
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot.adapters.slack.delivery import error_code
from bot.core.errors import SettingsError

log = logging.getLogger(__name__)

# Slack's errors for a token that will never work as it is
REFUSED_TOKEN_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "not_allowed_token_type",
    }
)
CHECK_SECONDS = 5.0  # a token check that takes longer is given up: Slack is away
CLOSE_SECONDS = 3.0  # closing the Socket Mode client, which can hang on a dead socket

FIXES = {
    "SLACK_BOT_TOKEN": "copy the Bot User OAuth Token (xoxb-) again from OAuth & Permissions",
    "SLACK_APP_TOKEN": "create an app-level token (xapp-) with connections:write "
    "under Basic Information",
}


def refused(setting: str, code: str) -> SettingsError:
    """The one line a refused token ends the command with."""
    return SettingsError(f"{setting} was refused by Slack ({code}): {FIXES[setting]}")


async def check_token(setting: str, call: Callable[[], Awaitable[Any]]) -> bool:
    """Ask Slack once whether a token works; SettingsError if refused, False if Slack
    could not be asked (unreachable, slow, failing), True if it works."""
    try:
        async with asyncio.timeout(CHECK_SECONDS):
            await call()
        return True
    except SlackApiError as exc:
        code = error_code(exc)
        if code in REFUSED_TOKEN_ERRORS:
            raise refused(setting, code) from None
        log.warning("slack: could not check %s: %s", setting, code)
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        log.warning("slack: could not check %s, Slack is unreachable: %r", setting, exc)
    return False


async def serve_socket_mode(
    app: AsyncApp, app_token: str, stop: asyncio.Event, on_ready: Callable[[int], None] | None
) -> None:
    """Connect in Socket Mode and take events until `stop` is set.

    The connection attempt is raced against `stop`: while Slack cannot be reached it is
    retried every 10 s by slack_sdk, and a stop ends it at once.
    """
    await check_token(
        "SLACK_APP_TOKEN", lambda: app.client.apps_connections_open(app_token=app_token)
    )
    handler = AsyncSocketModeHandler(app, app_token)
    connecting = asyncio.ensure_future(handler.connect_async())  # type: ignore[no-untyped-call]
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({connecting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if connecting.done():
            connecting.result()
            log.info("slack: connected in Socket Mode")
            if on_ready is not None:
                on_ready(0)
            await stopping
        else:
            log.info("slack: stopped while connecting in Socket Mode")
    finally:
        stopping.cancel()
        await _close(handler, connecting)


async def _close(handler: AsyncSocketModeHandler, connecting: asyncio.Future[Any]) -> None:
    # closing first makes the client's retry loop give up; the attempt is cancelled if
    # it still sleeps, and a close that hangs on a dead socket is cut short
    with suppress(Exception):
        async with asyncio.timeout(CLOSE_SECONDS):
            await handler.close_async()  # type: ignore[no-untyped-call]
    if not connecting.done():
        connecting.cancel()
    with suppress(asyncio.CancelledError, Exception):
        await connecting
