"""Settings from the environment (a `.env` file in the working directory is read too)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.errors import SettingsError

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///quizbot.db"
DEFAULT_DISCORD_API_URL = "https://discord.com/api/v10"
DEFAULT_DISCORD_GATEWAY_URL = "wss://gateway.discord.gg"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"


@dataclass(frozen=True)
class SettingSpec:
    """One environment variable the bot reads: its name, default and meaning."""

    name: str
    default: str
    help: str
    secret: bool = False


# The one list of settings: .env.example, the README table and docker-compose.yml
# are checked against it by a test, so they cannot drift apart.
SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec("DATABASE_URL", DEFAULT_DATABASE_URL, "SQLAlchemy async URL of the database"),
    SettingSpec("QUESTIONS_DIR", "questions", "folder of deck YAML files"),
    SettingSpec("TIMEZONE", "UTC", "default timezone of new communities (IANA name)"),
    SettingSpec("LOG_LEVEL", "INFO", "DEBUG, INFO, WARNING or ERROR"),
    SettingSpec("LOG_FORMAT", "text", "text (readable) or json (one object per line)"),
    SettingSpec(
        "METRICS_PORT", "", "serve Prometheus /metrics on this port (Discord, Socket Mode)"
    ),
    SettingSpec("DISCORD_TOKEN", "", "Discord bot token", secret=True),
    SettingSpec("DISCORD_API_URL", DEFAULT_DISCORD_API_URL, "Discord REST base URL"),
    SettingSpec("DISCORD_GATEWAY_URL", DEFAULT_DISCORD_GATEWAY_URL, "Discord gateway URL"),
    SettingSpec("SLACK_BOT_TOKEN", "", "Slack bot token (xoxb-...)", secret=True),
    SettingSpec("SLACK_APP_TOKEN", "", "Slack app-level token (xapp-...) for Socket Mode", True),
    SettingSpec("SLACK_SIGNING_SECRET", "", "Slack signing secret for HTTP mode", secret=True),
    SettingSpec("SLACK_API_URL", DEFAULT_SLACK_API_URL, "Slack Web API base URL"),
)

_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_DATABASE_SCHEMES = ("sqlite+aiosqlite://", "postgresql+asyncpg://")


@dataclass(frozen=True)
class Settings:
    """Every setting, checked; empty strings mean "not set"."""

    database_url: str = DEFAULT_DATABASE_URL
    questions_dir: Path = Path("questions")
    timezone: str = "UTC"
    log_level: str = "INFO"
    log_format: str = "text"
    metrics_port: int | None = None
    discord_token: str = ""
    discord_api_url: str = DEFAULT_DISCORD_API_URL
    discord_gateway_url: str = DEFAULT_DISCORD_GATEWAY_URL
    slack_bot_token: str = ""
    slack_app_token: str = ""
    slack_signing_secret: str = ""
    slack_api_url: str = DEFAULT_SLACK_API_URL

    def require(self, name: str) -> str:
        """The value of a setting that this command needs; SettingsError names it if unset."""
        value = getattr(self, name.lower())
        if not value:
            spec = next(s for s in SETTINGS if s.name == name)
            raise SettingsError(f"{name} is not set: {spec.help} (see .env.example)")
        return str(value)

    def secrets(self) -> list[str]:
        """Values of the secret settings that are set, so logs can mask them."""
        return [
            str(getattr(self, s.name.lower()))
            for s in SETTINGS
            if s.secret and getattr(self, s.name.lower())
        ]


def normalise_database_url(url: str) -> str:
    """Accept the usual postgres:// spellings and point them at the async driver."""
    for plain in ("postgres://", "postgresql://"):
        if url.startswith(plain):
            return "postgresql+asyncpg://" + url[len(plain) :]
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
    return url


def read_dotenv(path: Path) -> dict[str, str]:
    """The variables of a .env file (none if it does not exist)."""
    if not path.is_file():
        return {}
    from dotenv import dotenv_values

    return {k: v for k, v in dotenv_values(path).items() if v is not None}


def load_settings(
    environ: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")
) -> Settings:
    """Settings from the environment over a .env file; SettingsError names a bad one."""
    values: dict[str, str] = read_dotenv(dotenv) if dotenv is not None else {}
    values.update(os.environ if environ is None else environ)

    def get(name: str) -> str:
        spec = next(s for s in SETTINGS if s.name == name)
        return values.get(name, "").strip() or spec.default

    database_url = normalise_database_url(get("DATABASE_URL"))
    if not database_url.startswith(_DATABASE_SCHEMES):
        raise SettingsError(
            f"DATABASE_URL {database_url.split(':', 1)[0]!r} is not supported: "
            "use sqlite+aiosqlite:///file.db or postgresql+asyncpg://user@host/db"
        )
    timezone = get("TIMEZONE")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(
            f"TIMEZONE {timezone!r} is not a timezone: use an IANA name like Europe/Berlin"
        ) from None
    log_level = get("LOG_LEVEL").upper()
    if log_level not in _LOG_LEVELS:
        raise SettingsError(f"LOG_LEVEL {log_level!r} is not one of {', '.join(_LOG_LEVELS)}")
    log_format = get("LOG_FORMAT").lower()
    if log_format not in ("text", "json"):
        raise SettingsError(f"LOG_FORMAT {log_format!r} is not text or json")
    metrics = get("METRICS_PORT")
    if metrics and not (metrics.isdigit() and 0 < int(metrics) < 65536):
        raise SettingsError(f"METRICS_PORT {metrics!r} is not a port number")
    settings = Settings(
        database_url=database_url,
        questions_dir=Path(get("QUESTIONS_DIR")),
        timezone=timezone,
        log_level=log_level,
        log_format=log_format,
        metrics_port=int(metrics) if metrics else None,
        discord_token=get("DISCORD_TOKEN"),
        discord_api_url=get("DISCORD_API_URL").rstrip("/"),
        discord_gateway_url=get("DISCORD_GATEWAY_URL"),
        slack_bot_token=get("SLACK_BOT_TOKEN"),
        slack_app_token=get("SLACK_APP_TOKEN"),
        slack_signing_secret=get("SLACK_SIGNING_SECRET"),
        slack_api_url=_with_slash(get("SLACK_API_URL")),
    )
    _check_names_match()
    return settings


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def _check_names_match() -> None:
    # a programming error, not a user one: SETTINGS and Settings must name the same things
    names = {s.name.lower() for s in SETTINGS}
    attrs = {f.name for f in fields(Settings)}
    if names != attrs:
        raise RuntimeError(f"SETTINGS and Settings disagree: {sorted(names ^ attrs)}")
