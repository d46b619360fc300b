"""`quizbot doctor --online`: the chat platforms' own word on the tokens.

Slack `auth.test` for the bot token and `apps.connections.open` for the app token,
Discord `GET /users/@me` and `GET /gateway/bot`. No token is ever printed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aiohttp

from bot.config import Settings
from bot.ops.checklist import Check, Status, reason_of

ONLINE_TIMEOUT = 10.0  # seconds for one platform API call

# Slack errors that mean the token itself is bad, not the network or Slack
_SLACK_TOKEN_ERRORS = ("invalid_auth", "not_authed", "token_revoked", "account_inactive")


async def _slack_post(
    session: aiohttp.ClientSession, settings: Settings, method: str, token: str
) -> Any:
    """POST one Web API method with a token; the JSON body (ValueError if not JSON)."""
    headers = {"Authorization": f"Bearer {token}"}
    async with session.post(settings.slack_api_url + method, headers=headers) as response:
        return await response.json(content_type=None)


def _slack_unreachable(name: str, settings: Settings, exc: BaseException) -> Check:
    return Check.failed(
        name,
        f"no answer from {settings.slack_api_url}: {reason_of(exc)}",
        "check SLACK_API_URL and that this machine reaches slack.com (DNS, proxy, firewall)",
    )


async def slack_online(session: aiohttp.ClientSession, settings: Settings) -> Check:
    """Slack's `auth.test` with SLACK_BOT_TOKEN, against SLACK_API_URL."""
    name = "Slack auth.test"
    if not settings.slack_bot_token:
        return Check.skipped(name, "SLACK_BOT_TOKEN is not set or not well formed")
    try:
        body = await _slack_post(
            session, settings, "auth.test", settings.slack_bot_token.get_secret_value()
        )
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        return _slack_unreachable(name, settings, exc)
    if isinstance(body, dict) and body.get("ok"):
        return Check.ok(name, f"bot @{body.get('user', '?')} in workspace {body.get('team', '?')}")
    error = str(body.get("error", "unknown")) if isinstance(body, dict) else "not JSON"
    if error in _SLACK_TOKEN_ERRORS:
        fix = (
            "SLACK_BOT_TOKEN is wrong or revoked: reinstall the app to the workspace and copy "
            "the Bot User OAuth Token again"
        )
    else:
        fix = f"Slack answered {error!r}: see https://api.slack.com/methods/auth.test"
    return Check.failed(name, f"Slack says {error}", fix)


async def slack_app_token_online(session: aiohttp.ClientSession, settings: Settings) -> Check:
    """Slack's `apps.connections.open` with SLACK_APP_TOKEN (Socket Mode's own first call).

    The WebSocket URL it hands out is not used: it expires unused.
    """
    name = "Slack apps.connections.open"
    if not settings.slack_app_token:
        return Check.skipped(name, "SLACK_APP_TOKEN is not set (HTTP mode needs none)")
    try:
        body = await _slack_post(
            session, settings, "apps.connections.open", settings.slack_app_token.get_secret_value()
        )
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        return _slack_unreachable(name, settings, exc)
    if isinstance(body, dict) and body.get("ok"):
        return Check.ok(name, "the app token may open Socket Mode connections")
    error = str(body.get("error", "unknown")) if isinstance(body, dict) else "not JSON"
    if error in _SLACK_TOKEN_ERRORS or error == "not_allowed_token_type":
        fix = (
            "SLACK_APP_TOKEN is wrong or revoked: Basic Information > App-Level Tokens, "
            "generate one (xapp-) with the connections:write scope"
        )
    elif error == "missing_scope":
        fix = "give the app-level token the connections:write scope"
    else:
        fix = f"Slack answered {error!r}: see https://api.slack.com/methods/apps.connections.open"
    return Check.failed(name, f"Slack says {error}", fix)


async def discord_online(session: aiohttp.ClientSession, settings: Settings) -> Check:
    """Discord's `GET /users/@me` with DISCORD_TOKEN, against DISCORD_API_URL."""
    name = "Discord /users/@me"
    if not settings.discord_token:
        return Check.skipped(name, "DISCORD_TOKEN is not set or not well formed")
    url = settings.discord_api_url + "/users/@me"
    headers = {"Authorization": f"Bot {settings.discord_token.get_secret_value()}"}
    try:
        async with session.get(url, headers=headers) as response:
            status = response.status
            body: Any = await response.json(content_type=None) if status == 200 else None
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        return Check.failed(
            name,
            f"no answer from {settings.discord_api_url}: {reason_of(exc)}",
            "check DISCORD_API_URL and that this machine reaches discord.com (DNS, proxy)",
        )
    if status == 200 and isinstance(body, dict):
        return Check.ok(name, f"logged in as {body.get('username', '?')} (id {body.get('id')})")
    if status == 401:
        return Check.failed(
            name,
            "Discord says 401 Unauthorized",
            "DISCORD_TOKEN is wrong or was reset: Developer Portal > Bot > Reset Token, "
            "and copy the new one",
        )
    return Check.failed(
        name,
        f"Discord answered HTTP {status}",
        "try again in a minute; if it persists see https://discordstatus.com",
    )


async def discord_gateway(session: aiohttp.ClientSession, settings: Settings) -> Check:
    """Discord's `GET /gateway/bot`: the recommended shard count, the session-start limit."""
    name = "Discord /gateway/bot"
    headers = {"Authorization": f"Bot {settings.discord_token.get_secret_value()}"}
    try:
        async with session.get(settings.discord_api_url + "/gateway/bot", headers=headers) as r:
            body: Any = await r.json(content_type=None) if r.status == 200 else None
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        body = reason_of(exc)
    if not isinstance(body, dict) or "shards" not in body:
        return Check.failed(
            name, "no shard recommendation", "try again in a minute (see discordstatus.com)"
        )
    limit = body.get("session_start_limit") or {}
    hours = int(limit.get("reset_after", 0)) / 3_600_000
    return Check.ok(
        name,
        f"{body['shards']} shard(s) recommended; session starts: {limit.get('remaining', '?')} "
        f"of {limit.get('total', '?')} left (reset in {hours:.1f} h), "
        f"{limit.get('max_concurrency', 1)} at a time",
    )


async def online_checks(settings: Settings, platforms: Sequence[str]) -> list[Check]:
    """Ask each platform in use whether it accepts the token."""
    if not platforms:
        return [Check.skipped("online", "no chat platform configured")]
    timeout = aiohttp.ClientTimeout(total=ONLINE_TIMEOUT)
    checks = []
    async with aiohttp.ClientSession(timeout=timeout) as session:
        if "discord" in platforms:
            checks.append(await discord_online(session, settings))
            if checks[-1].status is Status.OK:
                checks.append(await discord_gateway(session, settings))
        if "slack" in platforms:
            checks.append(await slack_online(session, settings))
            checks.append(await slack_app_token_online(session, settings))
    return checks
