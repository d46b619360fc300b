"""`quizbot doctor`: a checklist of what the bot needs, with a one-line fix for each failure.

Settings, the database (reachable, migrated to the latest revision), the decks and,
with `--online`, the chat platforms' own word on the tokens (Slack `auth.test`,
Discord `GET /users/@me`). No secret is ever printed, only which setting is wrong.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, TextIO

import aiohttp
from sqlalchemy.engine import make_url

from bot.config import Settings

PLATFORMS = ("discord", "slack")
ONLINE_TIMEOUT = 10.0  # seconds for one platform API call
DATABASE_TIMEOUT = 10.0  # seconds to connect and run SELECT 1

# A Discord bot token is three base64url parts joined by dots (id, timestamp, HMAC).
_DISCORD_TOKEN = re.compile(r"[\w-]+\.[\w-]+\.[\w-]+")
# Slack errors that mean the token itself is bad, not the network or Slack
_SLACK_TOKEN_ERRORS = ("invalid_auth", "not_authed", "token_revoked", "account_inactive")


class Status(StrEnum):
    """Outcome of one check."""

    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"


MARKS = {Status.OK: "✓", Status.FAILED: "✗", Status.SKIPPED: "-"}


@dataclass(frozen=True)
class Check:
    """One line of the checklist: what was checked, what was found, and the fix if failed."""

    name: str
    status: Status
    detail: str
    fix: str = ""

    @classmethod
    def ok(cls, name: str, detail: str) -> Check:
        """A check that passed."""
        return cls(name, Status.OK, detail)

    @classmethod
    def failed(cls, name: str, detail: str, fix: str) -> Check:
        """A check that failed, with the one line that fixes it."""
        return cls(name, Status.FAILED, detail, fix)

    @classmethod
    def skipped(cls, name: str, detail: str) -> Check:
        """A check that does not apply to this setup."""
        return cls(name, Status.SKIPPED, detail)

    def lines(self) -> list[str]:
        """The check as printed: a mark line, and a fix line if it failed."""
        out = [f"{MARKS[self.status]} {self.name}: {self.detail}"]
        if self.fix:
            out.append(f"    fix: {self.fix}")
        return out


# ---- settings ------------------------------------------------------------------------------


def platforms_to_check(settings: Settings, platform: str | None) -> list[str]:
    """The platforms whose settings apply: the one asked for, else each with a token set."""
    if platform is not None:
        return [platform]
    chosen = []
    if settings.discord_token:
        chosen.append("discord")
    if settings.slack_bot_token or settings.slack_app_token or settings.slack_signing_secret:
        chosen.append("slack")
    return chosen


def _url_check(name: str, value: str, schemes: tuple[str, ...]) -> Check:
    if value.startswith(tuple(f"{s}://" for s in schemes)) and len(value.split("://", 1)[1]) > 1:
        return Check.ok(name, value)
    return Check.failed(
        name,
        f"{value!r} is not a {' or '.join(schemes)} URL",
        f"set {name} to a full {schemes[0]}:// URL, or remove it to use the default",
    )


def discord_settings(settings: Settings) -> list[Check]:
    """DISCORD_TOKEN present and shaped like a bot token; the API URL well formed."""
    token = settings.discord_token
    portal = "copy the token from the Developer Portal: your application > Bot > Reset Token"
    if not token:
        checks = [Check.failed("DISCORD_TOKEN", "not set", f"set DISCORD_TOKEN: {portal}")]
    elif token.lower().startswith("bot "):
        checks = [
            Check.failed(
                "DISCORD_TOKEN",
                'starts with "Bot ": the prefix is added by the bot',
                'remove "Bot " from the start of DISCORD_TOKEN',
            )
        ]
    elif not _DISCORD_TOKEN.fullmatch(token):
        checks = [
            Check.failed(
                "DISCORD_TOKEN",
                "not shaped like a bot token (three parts separated by dots)",
                f"{portal} (not the client secret or public key)",
            )
        ]
    else:
        checks = [Check.ok("DISCORD_TOKEN", "set, shaped like a bot token")]
    checks.append(_url_check("DISCORD_API_URL", settings.discord_api_url, ("https", "http")))
    checks.append(_url_check("DISCORD_GATEWAY_URL", settings.discord_gateway_url, ("wss", "ws")))
    return checks


def _prefix(token: str) -> str:
    # the part before the first dash says what kind of token it is, and nothing secret
    head = token.split("-", 1)[0]
    return f"{head}-" if "-" in token and len(head) <= 5 else "something else"


def slack_settings(settings: Settings) -> list[Check]:
    """Slack tokens with the right prefixes, and what Socket Mode or HTTP mode needs."""
    oauth = "copy the Bot User OAuth Token (xoxb-...) from your Slack app's OAuth & Permissions"
    checks: list[Check] = []
    bot = settings.slack_bot_token
    if not bot:
        checks.append(Check.failed("SLACK_BOT_TOKEN", "not set", f"set SLACK_BOT_TOKEN: {oauth}"))
    elif not bot.startswith("xoxb-"):
        checks.append(
            Check.failed(
                "SLACK_BOT_TOKEN",
                f"does not start with xoxb- (it starts with {_prefix(bot)})",
                oauth,
            )
        )
    else:
        checks.append(Check.ok("SLACK_BOT_TOKEN", "set, starts with xoxb-"))

    app = settings.slack_app_token
    if app and not app.startswith("xapp-"):
        checks.append(
            Check.failed(
                "SLACK_APP_TOKEN",
                f"does not start with xapp- (it starts with {_prefix(app)})",
                "create an app-level token with connections:write under Basic Information "
                "> App-Level Tokens",
            )
        )
    elif app:
        checks.append(Check.ok("SLACK_APP_TOKEN", "set, starts with xapp- (Socket Mode)"))

    secret = settings.slack_signing_secret
    if secret and (secret.startswith(("xox", "xapp-")) or not secret.isalnum()):
        checks.append(
            Check.failed(
                "SLACK_SIGNING_SECRET",
                "not shaped like a signing secret (letters and digits only, not a token)",
                "copy the Signing Secret from your Slack app's Basic Information > App Credentials",
            )
        )
    elif secret:
        checks.append(Check.ok("SLACK_SIGNING_SECRET", "set (HTTP mode)"))

    if not app and not secret:
        checks.append(
            Check.failed(
                "Slack mode",
                "neither SLACK_APP_TOKEN (Socket Mode) nor SLACK_SIGNING_SECRET (HTTP mode) is set",
                "set SLACK_APP_TOKEN for Socket Mode, or SLACK_SIGNING_SECRET to serve --http",
            )
        )
    checks.append(_url_check("SLACK_API_URL", settings.slack_api_url, ("https", "http")))
    return checks


def settings_checks(settings: Settings, platform: str | None = None) -> list[Check]:
    """Every settings check: the ones all setups share, then each platform's in use."""
    checks = [
        Check.ok(
            "settings",
            f"DATABASE_URL, TIMEZONE ({settings.timezone}), LOG_LEVEL, LOG_FORMAT are well formed",
        )
    ]
    chosen = platforms_to_check(settings, platform)
    if not chosen:
        checks.append(
            Check.skipped(
                "chat platforms",
                "no DISCORD_TOKEN or SLACK_* token set: console only "
                "(check one with --platform discord|slack)",
            )
        )
    if "discord" in chosen:
        checks.extend(discord_settings(settings))
    if "slack" in chosen:
        checks.extend(slack_settings(settings))
    return checks


# ---- database ------------------------------------------------------------------------------


def safe_url(url: str) -> str:
    """A database URL with its password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.split("://", 1)[0] + "://..."


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:" or parsed.database.startswith("file:"):
        return None
    return Path(parsed.database)


async def database_checks(settings: Settings) -> list[Check]:
    """The database answers `SELECT 1` and is migrated to the newest revision."""
    from bot.ops.health import database_health
    from bot.store import current_revision, head_revision

    url = settings.database_url
    shown = safe_url(url)
    upgrade_fix = "run `quizbot db upgrade`"
    sqlite_file = _sqlite_file(url)
    if sqlite_file is not None and not sqlite_file.exists():
        # connecting would create an empty file: say so instead
        return [Check.failed("database", f"{sqlite_file} does not exist ({shown})", upgrade_fix)]
    try:
        async with database_health(url) as health:
            await asyncio.wait_for(health.ping(), DATABASE_TIMEOUT)
    except Exception as exc:
        fix = (
            "check DATABASE_URL (host, port, user, password, database name) and that the "
            "server is up (docker compose ps postgres)"
        )
        reason = _reason(exc).replace(make_url(url).password or "\0", "***")
        return [Check.failed("database", f"cannot connect to {shown}: {reason}", fix)]
    checks = [Check.ok("database", f"reachable at {shown}")]
    head = head_revision()
    try:
        current = await asyncio.to_thread(current_revision, url)
    except Exception as exc:
        checks.append(
            Check.failed("migrations", f"cannot read the revision: {_reason(exc)}", upgrade_fix)
        )
        return checks
    if current is None:
        checks.append(Check.failed("migrations", "the database was never migrated", upgrade_fix))
    elif current != head:
        checks.append(
            Check.failed("migrations", f"at revision {current}, the latest is {head}", upgrade_fix)
        )
    else:
        checks.append(Check.ok("migrations", f"at the latest revision ({head})"))
    return checks


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, TimeoutError):
        text = "no answer in time"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# ---- decks ---------------------------------------------------------------------------------


def deck_checks(settings: Settings) -> list[Check]:
    """The decks of QUESTIONS_DIR load without a problem."""
    from bot.questions.loader import load_decks

    folder = settings.questions_dir
    if not folder.is_dir():
        return [
            Check.failed(
                "decks",
                f"QUESTIONS_DIR {folder} is not a folder",
                "set QUESTIONS_DIR to the folder of deck YAML files (default: questions)",
            )
        ]
    result = load_decks(folder)
    if result.problems:
        files = {p.path for p in result.problems}
        return [
            Check.failed(
                "decks",
                f"{len(result.problems)} problem(s) in {len(files)} file(s), first: "
                f"{result.problems[0]}",
                f"run `quizbot questions validate {folder}` and fix every line it prints",
            )
        ]
    if not result.decks:
        return [
            Check.failed(
                "decks",
                f"no deck files in {folder}",
                f"add deck YAML files to {folder} (see docs/questions.md)",
            )
        ]
    return [
        Check.ok(
            "decks",
            f"{len(result.decks)} deck(s), {result.question_count} questions in {folder}",
        )
    ]


# ---- online --------------------------------------------------------------------------------


async def slack_online(session: aiohttp.ClientSession, settings: Settings) -> Check:
    """Slack's `auth.test` with SLACK_BOT_TOKEN, against SLACK_API_URL."""
    name = "Slack auth.test"
    if not settings.slack_bot_token:
        return Check.skipped(name, "SLACK_BOT_TOKEN is not set")
    url = settings.slack_api_url + "auth.test"
    headers = {"Authorization": f"Bearer {settings.slack_bot_token}"}
    try:
        async with session.post(url, headers=headers) as response:
            body: Any = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        return Check.failed(
            name,
            f"no answer from {settings.slack_api_url}: {_reason(exc)}",
            "check SLACK_API_URL and that this machine reaches slack.com (DNS, proxy, firewall)",
        )
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


async def discord_online(session: aiohttp.ClientSession, settings: Settings) -> Check:
    """Discord's `GET /users/@me` with DISCORD_TOKEN, against DISCORD_API_URL."""
    name = "Discord /users/@me"
    if not settings.discord_token:
        return Check.skipped(name, "DISCORD_TOKEN is not set")
    url = settings.discord_api_url + "/users/@me"
    headers = {"Authorization": f"Bot {settings.discord_token}"}
    try:
        async with session.get(url, headers=headers) as response:
            status = response.status
            body: Any = await response.json(content_type=None) if status == 200 else None
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        return Check.failed(
            name,
            f"no answer from {settings.discord_api_url}: {_reason(exc)}",
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


async def online_checks(settings: Settings, platforms: Sequence[str]) -> list[Check]:
    """Ask each platform in use whether it accepts the token."""
    if not platforms:
        return [Check.skipped("online", "no chat platform configured")]
    timeout = aiohttp.ClientTimeout(total=ONLINE_TIMEOUT)
    checks = []
    async with aiohttp.ClientSession(timeout=timeout) as session:
        if "discord" in platforms:
            checks.append(await discord_online(session, settings))
        if "slack" in platforms:
            checks.append(await slack_online(session, settings))
    return checks


# ---- the command ---------------------------------------------------------------------------


async def run_checks(
    settings: Settings, *, online: bool = False, platform: str | None = None
) -> list[Check]:
    """Every check, in the order printed."""
    checks = settings_checks(settings, platform)
    checks.extend(await database_checks(settings))
    checks.extend(deck_checks(settings))
    if online:
        checks.extend(await online_checks(settings, platforms_to_check(settings, platform)))
    return checks


def report(checks: Sequence[Check], out: TextIO) -> int:
    """Print the checklist and a summary; 1 if any check failed, else 0."""
    for check in checks:
        for line in check.lines():
            print(line, file=out)
    failed = sum(c.status is Status.FAILED for c in checks)
    counted = sum(c.status is not Status.SKIPPED for c in checks)
    if failed:
        print(f"\n{failed} of {counted} checks failed", file=out)
        return 1
    print(f"\nall {counted} checks passed", file=out)
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    """`quizbot doctor [--online] [--platform discord|slack]`."""
    settings: Settings = args.settings
    checks = asyncio.run(run_checks(settings, online=args.online, platform=args.platform))
    return report(checks, sys.stdout)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `doctor` to the `quizbot` parser."""
    doctor = sub.add_parser(
        "doctor", help="check settings, database, decks (and tokens with --online)"
    )
    doctor.add_argument(
        "--online", action="store_true", help="also ask Slack and Discord whether the tokens work"
    )
    doctor.add_argument(
        "--platform",
        choices=PLATFORMS,
        help="check this platform's settings even if none of its tokens is set",
    )
    doctor.set_defaults(func=cmd_doctor)
