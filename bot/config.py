"""Settings: one declaration, read from the environment over a `.env` file.

`Settings` below is the only place a setting is declared: its name, type, default, help,
the check of its value and the fix `quizbot doctor` suggests. `.env.example`, the
README's settings table and the doctor's list of setting checks are derived from it;
tests/ops/test_settings.py fails when the committed files drift. Regenerate them with

    python -m bot.ops.settings_docs --write
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from bot.config_checks import (
    bad,
    checked_url,
    database_url,
    discord_token,
    port_number,
    shard_count,
    shard_ids,
    signing_secret,
    timezone_name,
    with_prefix,
)
from bot.core.errors import SettingsError
from bot.shipped import shipped_decks_dir

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///quizbot.db"
DEFAULT_DISCORD_API_URL = "https://discord.com/api/v10"
DEFAULT_DISCORD_GATEWAY_URL = "wss://gateway.discord.gg"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"

# groups: the section of .env.example, and when the doctor checks a setting
GENERAL, DISCORD, SLACK = "general", "discord", "slack"

_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_PORTAL = "copy the token from the Developer Portal: your application > Bot > Reset Token"
_OAUTH = "copy the Bot User OAuth Token (xoxb-...) from your Slack app's OAuth & Permissions"


def setting(
    default: Any,
    help: str,
    *,
    group: str = GENERAL,
    note: str = "",
    fix: str = "",
    ok: str = "",
    required: bool = False,
) -> Any:
    """A field of Settings with what the docs and the doctor say about it.

    `help` is the README's one-line meaning; `note` the longer comment of .env.example
    (`help` if empty); `fix` the doctor's advice when the value is bad or missing; `ok`
    what the doctor prints for a good secret (whose value it never prints); `required`:
    the platform of `group` cannot run without it.
    """
    extra = {"group": group, "note": note or help, "fix": fix, "ok": ok, "required": required}
    return Field(default, description=help, json_schema_extra=extra)  # type: ignore[arg-type]


class Settings(BaseSettings):
    """Every setting, checked; an empty secret means "not set"."""

    model_config = SettingsConfigDict(frozen=True, extra="forbid", validate_default=True)

    database_url: str = setting(
        DEFAULT_DATABASE_URL,
        "SQLAlchemy async URL of the database (`postgresql+asyncpg://user@host/db` for PostgreSQL)",
        note="SQLAlchemy async URL of the database. SQLite: sqlite+aiosqlite:///quizbot.db (a "
        "file in the working directory). PostgreSQL: "
        "postgresql+asyncpg://user:password@host:5432/db (postgres:// URLs are accepted "
        "too). docker compose ignores this line and points the bot at its own PostgreSQL "
        "service.",
        fix="set DATABASE_URL to sqlite+aiosqlite:///file.db or postgresql+asyncpg://user@host/db",
    )
    questions_dir: Path = setting(
        None,
        "folder of deck YAML files (unset: the decks shipped with quizbot)",
        note="Folder of deck YAML files (one deck per file). Unset: the decks shipped "
        "inside the package (the repository's questions/ folder).",
    )
    timezone: str = setting(
        "UTC",
        "default timezone of new communities (IANA name)",
        note="Default timezone of new communities, as an IANA name (Europe/Berlin, "
        "America/New_York). Weekly leaderboards roll over at midnight in this timezone.",
        fix="set TIMEZONE to an IANA name like Europe/Berlin",
    )
    log_level: str = setting(
        "INFO", "DEBUG, INFO, WARNING or ERROR", note="Log level: DEBUG, INFO, WARNING or ERROR."
    )
    log_format: str = setting(
        "text",
        "text (readable) or json (one object per line)",
        note="Log format: text (readable lines) or json (one object per line, for a log "
        "collector). `quizbot --log-format json ...` overrides it.",
    )
    metrics_port: int | None = setting(
        None,
        "port for Prometheus `/metrics` (Discord, Socket Mode)",
        note="Port serving Prometheus /metrics and /healthz for Discord and Slack Socket Mode "
        "(they serve no HTTP otherwise). Empty: not served. Slack HTTP mode serves both on "
        "its own port.",
        fix="set METRICS_PORT to a port number (1-65535), or leave it empty",
    )
    discord_token: SecretStr = setting(
        SecretStr(""),
        "Discord bot token",
        group=DISCORD,
        note="Bot token: Developer Portal > your application > Bot > Reset Token.",
        fix=f"set DISCORD_TOKEN: {_PORTAL}",
        ok="set, shaped like a bot token",
        required=True,
    )
    discord_api_url: str = setting(
        DEFAULT_DISCORD_API_URL,
        "Discord REST base URL",
        group=DISCORD,
        note="REST API base URL. Change only to point the bot at a test server.",
    )
    discord_gateway_url: str = setting(
        DEFAULT_DISCORD_GATEWAY_URL,
        "Discord gateway URL",
        group=DISCORD,
        note="Gateway websocket URL. Change only to point the bot at a test server.",
    )
    discord_shard_count: str = setting(
        "auto",
        "shards of the whole bot: a number, or `auto` for Discord's recommendation",
        group=DISCORD,
        note="Shards of the whole bot (Discord requires sharding beyond 2,500 servers): a "
        "number, or auto for the count Discord recommends. Every process of one bot "
        "sets the same count.",
        fix="set DISCORD_SHARD_COUNT to a number of shards (1 or more) or auto",
    )
    discord_shard_ids: tuple[int, ...] | None = setting(
        None,
        "the shards this process runs: a range or list such as `0-3` or `4,5`",
        group=DISCORD,
        note="The shards this process runs, such as 0-3 or 4,5, below DISCORD_SHARD_COUNT. "
        "Empty: every shard. Give each process its own shards; together they cover them all.",
        fix="set DISCORD_SHARD_IDS to ids below DISCORD_SHARD_COUNT, like 0-1 or 2,3",
    )
    slack_bot_token: SecretStr = setting(
        SecretStr(""),
        "Slack bot token (xoxb-...)",
        group=SLACK,
        note="Bot User OAuth Token (xoxb-...): your Slack app > OAuth & Permissions.",
        fix=f"set SLACK_BOT_TOKEN: {_OAUTH}",
        ok="set, starts with xoxb-",
        required=True,
    )
    slack_app_token: SecretStr = setting(
        SecretStr(""),
        "Slack app-level token (xapp-...) for Socket Mode",
        group=SLACK,
        note="App-level token (xapp-...) with connections:write, for Socket Mode: your Slack "
        "app > Basic Information > App-Level Tokens. Leave empty for HTTP mode.",
        ok="set, starts with xapp- (Socket Mode)",
    )
    slack_signing_secret: SecretStr = setting(
        SecretStr(""),
        "Slack signing secret for HTTP mode",
        group=SLACK,
        note="Signing secret, for HTTP mode (`quizbot serve slack --http`): your Slack app > "
        "Basic Information > App Credentials.",
        ok="set (HTTP mode)",
    )
    slack_api_url: str = setting(
        DEFAULT_SLACK_API_URL,
        "Slack Web API base URL",
        group=SLACK,
        note="Web API base URL. Change only to point the bot at a test server.",
    )

    def __init__(self, **values: Any) -> None:
        """Settings from exactly these values and the defaults; SettingsError names a bad one."""
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise BadSettingsError(problems_of(exc)) from None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Settings(...) holds what it is given, like a dataclass (tests, --metrics-port);
        # the environment and .env are read by read_environment() alone
        return (init_settings,)

    # ---- checks of one value: serve, doctor and every command share them ----------------

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, url: str) -> str:
        return database_url(url, cls._fix("database_url"))

    @field_validator("questions_dir", mode="before")
    @classmethod
    def _questions_dir(cls, folder: Path | str | None) -> Path:
        # unset means the shipped decks, found from any working directory
        return shipped_decks_dir() if folder is None or folder == "" else Path(folder)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, name: str) -> str:
        return timezone_name(name, cls._fix("timezone"))

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, level: str) -> str:
        if level.upper() not in _LOG_LEVELS:
            raise bad(f"{level!r} is not one of {', '.join(_LOG_LEVELS)}")
        return level.upper()

    @field_validator("log_format")
    @classmethod
    def _log_format(cls, fmt: str) -> str:
        if fmt.lower() not in ("text", "json"):
            raise bad(f"{fmt!r} is not text or json")
        return fmt.lower()

    @field_validator("metrics_port", mode="before")
    @classmethod
    def _metrics_port(cls, port: object) -> int | None:
        return port_number(port, cls._fix("metrics_port"))

    @field_validator("discord_token")
    @classmethod
    def _discord_token(cls, token: SecretStr) -> SecretStr:
        return discord_token(token, _PORTAL)

    @field_validator("discord_shard_count", mode="before")
    @classmethod
    def _discord_shard_count(cls, count: object) -> str:
        return shard_count(count, cls._fix("discord_shard_count"))

    @field_validator("discord_shard_ids", mode="before")
    @classmethod
    def _discord_shard_ids(cls, ids: object, info: ValidationInfo) -> tuple[int, ...] | None:
        # a bad count is None here: its own error says it all
        count = info.data.get("discord_shard_count")
        return shard_ids(ids, count, cls._fix("discord_shard_ids"))

    @field_validator("slack_bot_token")
    @classmethod
    def _slack_bot_token(cls, token: SecretStr) -> SecretStr:
        return with_prefix(token, "xoxb-", _OAUTH)

    @field_validator("slack_app_token")
    @classmethod
    def _slack_app_token(cls, token: SecretStr) -> SecretStr:
        return with_prefix(
            token,
            "xapp-",
            "create an app-level token with connections:write under Basic Information "
            "> App-Level Tokens",
        )

    @field_validator("slack_signing_secret")
    @classmethod
    def _slack_signing_secret(cls, secret: SecretStr) -> SecretStr:
        return signing_secret(secret)

    @field_validator("discord_api_url")
    @classmethod
    def _discord_api_url(cls, url: str) -> str:
        return checked_url(url, "DISCORD_API_URL", ("https", "http")).rstrip("/")

    @field_validator("discord_gateway_url")
    @classmethod
    def _discord_gateway_url(cls, url: str) -> str:
        return checked_url(url, "DISCORD_GATEWAY_URL", ("wss", "ws"))

    @field_validator("slack_api_url")
    @classmethod
    def _slack_api_url(cls, url: str) -> str:
        # the Web API methods are joined to it: "auth.test" after the slash
        url = checked_url(url, "SLACK_API_URL", ("https", "http"))
        return url if url.endswith("/") else url + "/"

    @classmethod
    def _fix(cls, field: str) -> str:
        return str(spec_of(field.upper()).fix)

    # ---- use ----------------------------------------------------------------------------

    def require(self, name: str) -> str:
        """The value of a setting that this command needs; SettingsError names it if unset."""
        value = getattr(self, name.lower())
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        if not text:
            raise SettingsError(f"{name} is not set: {spec_of(name).help} (see .env.example)")
        return str(text)

    def secrets(self) -> list[str]:
        """Values of the secret settings that are set, so logs can mask them."""
        values = (getattr(self, s.name.lower()) for s in SETTINGS if s.secret)
        return [v.get_secret_value() for v in values if v]

    def replace(self, **changes: Any) -> Settings:
        """A copy with some settings changed, checked like the originals."""
        return Settings(**{**dict(self), **changes})


# ---- the declaration, read back ------------------------------------------------------------


@dataclass(frozen=True)
class SettingSpec:
    """One environment variable the bot reads, as Settings declares it."""

    name: str
    default: str  # as written in .env ("" when unset)
    help: str
    group: str
    note: str
    fix: str
    ok: str
    required: bool
    secret: bool


def _specs() -> tuple[SettingSpec, ...]:
    specs = []
    for field, info in Settings.model_fields.items():
        extra = info.json_schema_extra
        assert isinstance(extra, dict), f"{field} is not declared with setting()"
        default = info.default
        if isinstance(default, SecretStr):
            default = default.get_secret_value()
        specs.append(
            SettingSpec(
                name=field.upper(),
                default="" if default is None else str(default),
                help=info.description or "",
                group=str(extra["group"]),
                note=str(extra["note"]),
                fix=str(extra["fix"]),
                ok=str(extra["ok"]),
                required=bool(extra["required"]),
                secret=info.annotation is SecretStr,
            )
        )
    return tuple(specs)


SETTINGS: tuple[SettingSpec, ...] = _specs()
SETTING_NAMES = frozenset(s.name for s in SETTINGS)


def spec_of(name: str) -> SettingSpec:
    """The declaration of one setting, by its environment name."""
    return next(s for s in SETTINGS if s.name == name)


@dataclass(frozen=True)
class Problem:
    """A bad value: the setting, what is wrong (never the secret), and the fix."""

    name: str
    detail: str
    fix: str

    def line(self) -> str:
        """The one line a command prints for it."""
        return f"{self.name}: {self.detail}"


def problems_of(exc: ValidationError) -> list[Problem]:
    """pydantic's errors as one Problem per setting, in declaration order."""
    found: dict[str, Problem] = {}
    for error in exc.errors(include_input=False):
        name = str(error["loc"][0]).upper() if error["loc"] else "settings"
        ctx = error.get("ctx") or {}
        fix = str(ctx.get("fix") or "") or (spec_of(name).fix if name in SETTING_NAMES else "")
        found.setdefault(name, Problem(name, str(error["msg"]), fix))
    order = [s.name for s in SETTINGS]
    return sorted(found.values(), key=lambda p: order.index(p.name) if p.name in order else -1)


class BadSettingsError(SettingsError):
    """Bad values: pydantic's multi-line error as one line per bad setting."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(p.line() for p in problems))
        self.problems = problems


# ---- reading the environment ---------------------------------------------------------------


def read_environment(
    environ: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")
) -> dict[str, str]:
    """The declared settings that are set, by name: the environment over a .env file.

    Values are stripped; an empty one means "use the default". `environ` replaces
    os.environ (for callers that hold the values already).
    """
    values: dict[str, Any] = {}
    if dotenv is not None and dotenv.is_file():
        values.update(DotEnvSettingsSource(Settings, env_file=dotenv)())
    if environ is None:
        values.update(EnvSettingsSource(Settings)())
    else:
        values.update({k.lower(): v for k, v in environ.items() if k in SETTING_NAMES})
    stripped = {k.upper(): str(v).strip() for k, v in values.items() if v is not None}
    return {k: v for k, v in stripped.items() if v}


def settings_from(values: Mapping[str, str], *, lenient: bool = False) -> Settings:
    """Settings of `values` (by name); SettingsError names each bad one.

    `lenient`: a bad value takes its default instead, for `quizbot doctor`, which
    reports it itself.
    """
    fields = {k.lower(): v for k, v in values.items()}
    if lenient:
        bad = {p.name.lower() for p in check_values(values)}
        fields = {k: v for k, v in fields.items() if k not in bad}
    return Settings(**fields)


def check_values(values: Mapping[str, str]) -> list[Problem]:
    """What is wrong with `values` (by name), one Problem per bad setting."""
    try:
        Settings(**{k.lower(): v for k, v in values.items()})
    except BadSettingsError as exc:
        return exc.problems
    return []


def load_settings(dotenv: Path | None = Path(".env"), *, lenient: bool = False) -> Settings:
    """Settings from the environment over a .env file; SettingsError names a bad one."""
    return settings_from(read_environment(dotenv=dotenv), lenient=lenient)


def database_url_setting(environ: Mapping[str, str] | None = None) -> str:
    """DATABASE_URL alone, checked (environment over .env), or the default SQLite file."""
    url = read_environment(environ).get("DATABASE_URL", DEFAULT_DATABASE_URL)
    return Settings(database_url=url).database_url
