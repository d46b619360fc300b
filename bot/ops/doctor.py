"""`quizbot doctor`: a checklist of what the bot needs, with a one-line fix for each failure.

Settings, the database (reachable, migrated to the latest revision), the decks and,
with `--online`, the chat platforms' own word on the tokens (Slack `auth.test` for the
bot token and `apps.connections.open` for the app token, Discord `GET /users/@me`).
No secret is ever printed, only which setting is wrong.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

from sqlalchemy.engine import make_url

from bot.config import (
    GENERAL,
    SETTINGS,
    SLACK,
    Problem,
    Settings,
    SettingSpec,
    check_values,
    read_environment,
    settings_from,
    spec_of,
)
from bot.core.cards import counted
from bot.ops.checklist import Check, Status, reason_of
from bot.ops.doctor_online import online_checks

PLATFORMS = ("discord", "slack")
DATABASE_TIMEOUT = 10.0  # seconds to connect and run SELECT 1


# ---- settings ------------------------------------------------------------------------------
# The list comes from the declaration in bot/config.py: every general setting, then each
# platform's in use; the checks of a value are Settings' own validators, the ones serve runs.


def platforms_to_check(values: Mapping[str, str], platform: str | None) -> list[str]:
    """The platforms whose settings apply: the one asked for, else each with a secret set."""
    if platform is not None:
        return [platform]
    return [p for p in PLATFORMS if any(s.secret and s.name in values for s in _group(p))]


def _group(group: str) -> list[SettingSpec]:
    return [s for s in SETTINGS if s.group == group]


def _failed(problem: Problem) -> Check:
    spec = spec_of(problem.name)
    return Check.failed(
        problem.name, problem.detail, problem.fix or f"set {spec.name}: {spec.help}"
    )


def general_checks(values: Mapping[str, str], problems: Mapping[str, Problem]) -> list[Check]:
    """One line if every general setting is well formed, else one per bad setting."""
    general = _group(GENERAL)
    bad = [problems[s.name] for s in general if s.name in problems]
    if bad:
        return [_failed(p) for p in bad]
    names = ", ".join(s.name for s in general)
    return [Check.ok("settings", f"{names} are well formed")]


def platform_checks(
    settings: Settings, values: Mapping[str, str], problems: Mapping[str, Problem], group: str
) -> list[Check]:
    """A platform's settings: each bad, missing (if required), set or defaulted one."""
    checks = []
    for spec in _group(group):
        if spec.name in problems:
            checks.append(_failed(problems[spec.name]))
        elif spec.name in values or (spec.default and not spec.secret):
            # a secret is never printed, only that it is set and well formed
            shown = spec.ok or "set" if spec.secret else str(getattr(settings, spec.name.lower()))
            checks.append(Check.ok(spec.name, shown))
        elif spec.required:
            checks.append(Check.failed(spec.name, "not set", spec.fix))
        elif not spec.secret:
            checks.append(Check.ok(spec.name, "not set"))
    return checks


def slack_mode_check(values: Mapping[str, str]) -> Check | None:
    """Slack needs Socket Mode's app token or HTTP mode's signing secret."""
    if "SLACK_APP_TOKEN" in values or "SLACK_SIGNING_SECRET" in values:
        return None
    return Check.failed(
        "Slack mode",
        "neither SLACK_APP_TOKEN (Socket Mode) nor SLACK_SIGNING_SECRET (HTTP mode) is set",
        "set SLACK_APP_TOKEN for Socket Mode, or SLACK_SIGNING_SECRET to serve --http",
    )


def settings_checks(values: Mapping[str, str], platform: str | None = None) -> list[Check]:
    """Every settings check of `values` (by name, as read from the environment and .env)."""
    problems = {p.name: p for p in check_values(values)}
    settings = settings_from(values, lenient=True)
    checks = general_checks(values, problems)
    chosen = platforms_to_check(values, platform)
    if not chosen:
        checks.append(
            Check.skipped(
                "chat platforms",
                "no DISCORD_TOKEN or SLACK_* token set: console only "
                "(check one with --platform discord|slack)",
            )
        )
    for group in chosen:
        checks.extend(platform_checks(settings, values, problems, group))
        mode = slack_mode_check(values) if group == SLACK else None
        if mode is not None:
            checks.append(mode)
    return checks


# ---- database ------------------------------------------------------------------------------


def safe_url(url: str) -> str:
    """A database URL with its password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.split("://", 1)[0] + "://..."


async def database_checks(settings: Settings) -> list[Check]:
    """The database answers `SELECT 1` and is migrated to the newest revision."""
    from bot.ops.health import database_health
    from bot.store import current_revision, head_revision
    from bot.store.sqlite_file import sqlite_file, takes_writes

    url = settings.database_url
    shown = safe_url(url)
    upgrade_fix = "run `quizbot db upgrade`"
    sqlite_path = sqlite_file(url)
    if sqlite_path is not None:
        problem = sqlite_file_check(url, sqlite_path, shown)
        if problem is not None:
            return [problem]
    try:
        async with database_health(url) as health:
            await asyncio.wait_for(health.ping(), DATABASE_TIMEOUT)
    except Exception as exc:
        fix = (
            "check DATABASE_URL (host, port, user, password, database name) and that the "
            "server is up (docker compose ps postgres)"
        )
        reason = reason_of(exc).replace(make_url(url).password or "\0", "***")
        return [Check.failed("database", f"cannot connect to {shown}: {reason}", fix)]
    checks = [Check.ok("database", f"reachable at {shown}")]
    if sqlite_path is not None and not await asyncio.to_thread(takes_writes, url):
        checks[0] = Check.failed(
            "database",
            f"the SQLite file {sqlite_path} is read-only ({shown})",
            "make the file writable by the bot's user, or point DATABASE_URL at a writable one",
        )
        return checks
    head = head_revision()
    try:
        current = await asyncio.to_thread(current_revision, url)
    except Exception as exc:
        checks.append(
            Check.failed("migrations", f"cannot read the revision: {reason_of(exc)}", upgrade_fix)
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


def sqlite_file_check(url: str, path: Path, shown: str) -> Check | None:
    """A SQLite file in a missing folder, or not yet created; None when it exists."""
    if not path.parent.is_dir():
        # `db upgrade` cannot create the folder either: advise what does
        return Check.failed(
            "database",
            f"the folder {path.parent} of the SQLite file does not exist ({shown})",
            f"create it (mkdir -p {path.parent}) or point DATABASE_URL at an existing folder",
        )
    if not path.exists():
        # connecting would create an empty file: say so instead
        return Check.failed(
            "database", f"{path} does not exist ({shown})", "run `quizbot db upgrade`"
        )
    return None


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
                "set QUESTIONS_DIR to the folder of deck YAML files, or unset it for the "
                "shipped decks",
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
            f"{counted(len(result.decks), 'deck')}, "
            f"{counted(result.question_count, 'question')} in {folder}",
        )
    ]


# ---- the command ---------------------------------------------------------------------------


async def run_checks(
    values: Mapping[str, str], *, online: bool = False, platform: str | None = None
) -> list[Check]:
    """Every check of the settings `values` (by name), in the order printed."""
    checks = settings_checks(values, platform)
    # a bad value takes its default here: its own check above has failed already
    settings = settings_from(values, lenient=True)
    if any(c.name == "DATABASE_URL" and c.status is Status.FAILED for c in checks):
        checks.append(Check.skipped("database", "DATABASE_URL is not well formed"))
    else:
        checks.extend(await database_checks(settings))
    checks.extend(deck_checks(settings))
    if online:
        checks.extend(await online_checks(settings, platforms_to_check(values, platform)))
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
    # the values as given, not args.settings: a bad one is a failed check, not an error
    values = read_environment()
    checks = asyncio.run(run_checks(values, online=args.online, platform=args.platform))
    return report(checks, sys.stdout)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `doctor` to the `quizbot` parser."""
    from bot.cli.help import example

    doctor = sub.add_parser(
        "doctor",
        help="check settings, database, decks (and tokens with --online)",
        description="Check the settings, the database and the decks, with a one-line fix "
        "for each failure; --online asks Slack and Discord about the tokens too.",
        epilog=example("quizbot doctor", "quizbot doctor --online --platform slack"),
    )
    doctor.add_argument(
        "--online", action="store_true", help="also ask Slack and Discord whether the tokens work"
    )
    doctor.add_argument(
        "--platform",
        choices=PLATFORMS,
        help="check this platform's settings even if none of its tokens is set",
    )
    # lenient: main() loads the settings without stopping at a bad one, which doctor reports
    doctor.set_defaults(func=cmd_doctor, lenient_settings=True)
