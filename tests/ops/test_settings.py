"""The one declaration of settings: reading, checking, secrets, and the files derived from it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.config import (
    GENERAL,
    SETTINGS,
    Settings,
    check_values,
    load_settings,
    read_environment,
)
from bot.core.errors import SettingsError
from bot.ops.doctor import settings_checks
from bot.ops.settings_docs import derived_files, env_example, readme_with_table, settings_table
from bot.store import database_url

ROOT = Path(__file__).resolve().parents[2]
DISCORD_TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4OTAx.GhIjKl.abcdefghijklmnopqrstuvwxyz0123"


@pytest.fixture
def clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A working directory without .env and an environment without any setting."""
    monkeypatch.chdir(tmp_path)
    for spec in SETTINGS:
        monkeypatch.delenv(spec.name, raising=False)
    return tmp_path


# ---- derived files ---------------------------------------------------------------------------


def test_env_example_and_readme_table_are_written_from_the_declaration() -> None:
    for path, text in derived_files().items():
        assert path.read_text(encoding="utf-8") == text, (
            f"{path.name} is out of date: run `python -m bot.ops.settings_docs --write`"
        )


def test_a_changed_row_or_comment_counts_as_drift(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (tmp_path / "README.md").write_text(
        readme.replace("| `LOG_LEVEL` | `INFO` |", "| `LOG_LEVEL` | `DEBUG` |"), encoding="utf-8"
    )
    expected = derived_files(tmp_path)[tmp_path / "README.md"]

    assert "| `LOG_LEVEL` | `INFO` |" in expected
    assert expected == readme
    assert env_example() != env_example(SETTINGS[:-1])


def test_the_table_names_each_setting_with_its_default_and_help() -> None:
    table = settings_table()
    for spec in SETTINGS:
        default = f"`{spec.default}`" if spec.default else "(unset)"
        assert f"| `{spec.name}` | {default} | {spec.help} |" in table
    replaced = readme_with_table("# x\n\n## Settings\n\nintro\n\n" + table + "\n## Next\n", "T\n")
    assert replaced == "# x\n\n## Settings\n\nintro\n\nT\n\n## Next\n"


def test_env_example_comments_every_setting_and_leaves_secrets_empty() -> None:
    lines = env_example().splitlines()
    for spec in SETTINGS:
        i = lines.index(f"{spec.name}={spec.default}")
        assert lines[i - 1].startswith("# "), spec.name
        assert not spec.secret or spec.default == ""


def test_doctor_lists_every_declared_setting() -> None:
    every_platform = {"DISCORD_TOKEN": DISCORD_TOKEN, "SLACK_BOT_TOKEN": "xoxb-1"}
    every_platform |= {"SLACK_APP_TOKEN": "xapp-1", "SLACK_SIGNING_SECRET": "abc123"}
    checks = settings_checks(every_platform)
    names = {c.name for c in checks}
    general = [s.name for s in SETTINGS if s.group == GENERAL]

    assert {s.name for s in SETTINGS if s.group != GENERAL} <= names
    [summary] = [c for c in checks if c.name == "settings"]
    assert summary.detail == f"{', '.join(general)} are well formed"


# ---- reading -------------------------------------------------------------------------------


def test_the_environment_wins_over_dotenv_and_blank_means_default(
    clean: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (clean / ".env").write_text("TIMEZONE=Europe/Berlin\nLOG_LEVEL=debug\nMETRICS_PORT=\n")
    monkeypatch.setenv("TIMEZONE", "Asia/Tokyo")
    monkeypatch.setenv("LOG_FORMAT", "   ")

    settings = load_settings()

    assert settings.timezone == "Asia/Tokyo"
    assert settings.log_level == "DEBUG"  # from .env, normalised
    assert settings.log_format == "text"
    assert settings.metrics_port is None
    assert read_environment() == {"TIMEZONE": "Asia/Tokyo", "LOG_LEVEL": "debug"}


def test_the_store_reads_database_url_from_dotenv_too(clean: Path) -> None:
    (clean / ".env").write_text("DATABASE_URL=postgres://quiz@db:5432/quiz\n")

    assert database_url() == "postgresql+asyncpg://quiz@db:5432/quiz"
    assert load_settings().database_url == database_url()
    assert database_url({"DATABASE_URL": "sqlite:///x.db"}) == "sqlite+aiosqlite:///x.db"


def test_settings_built_in_code_ignore_the_environment(
    clean: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIMEZONE", "Asia/Tokyo")
    (clean / ".env").write_text("LOG_LEVEL=ERROR\n")

    assert Settings().timezone == "UTC"
    assert Settings().log_level == "INFO"


# ---- checking ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "detail"),
    [
        ("DISCORD_TOKEN", "abc", "not shaped like a bot token (three parts separated by dots)"),
        ("DISCORD_TOKEN", "Bot " + DISCORD_TOKEN, 'starts with "Bot ": the prefix is added'),
        ("SLACK_BOT_TOKEN", "xoxp-1-2-user", "does not start with xoxb- (it starts with xoxp-)"),
        ("SLACK_APP_TOKEN", "xoxb-1-2", "does not start with xapp- (it starts with xoxb-)"),
        ("SLACK_SIGNING_SECRET", "xoxb-1-2", "not shaped like a signing secret"),
        ("SLACK_API_URL", "slack.com/api/", "'slack.com/api/' is not a https or http URL"),
        ("TIMEZONE", "Mars/Base", "'Mars/Base' is not a timezone"),
        ("METRICS_PORT", "70000", "'70000' is not a port number"),
        ("DATABASE_URL", "mysql://u:pw@h/db", "'mysql' is not supported"),
    ],
)
def test_a_bad_value_is_one_problem_naming_the_setting(name: str, value: str, detail: str) -> None:
    [problem] = check_values({name: value})

    assert problem.name == name
    assert problem.detail.startswith(detail)
    assert problem.fix
    assert "\n" not in problem.line() and problem.line().startswith(f"{name}: ")
    with pytest.raises(SettingsError, match=f"^{name}: "):
        Settings(**{name.lower(): value})


def test_secrets_never_print() -> None:
    settings = Settings(discord_token=DISCORD_TOKEN, slack_bot_token="xoxb-secret-value")

    for shown in (repr(settings), str(settings), settings.model_dump_json()):
        assert DISCORD_TOKEN not in shown and "secret-value" not in shown
    assert settings.require("DISCORD_TOKEN") == DISCORD_TOKEN
    assert sorted(settings.secrets()) == sorted([DISCORD_TOKEN, "xoxb-secret-value"])


def test_replace_checks_the_new_values() -> None:
    settings = Settings().replace(metrics_port=9100, log_format="JSON")

    assert (settings.metrics_port, settings.log_format) == (9100, "json")
    with pytest.raises(SettingsError, match=r"^METRICS_PORT: '0' is not a port number"):
        settings.replace(metrics_port=0)


# ---- serve refuses a bad value ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("platform", "name", "value", "line"),
    [
        (
            "slack",
            "SLACK_BOT_TOKEN",
            "xoxp-1111-2222-usersecret",
            "quizbot: SLACK_BOT_TOKEN: does not start with xoxb- (it starts with xoxp-)",
        ),
        (
            "discord",
            "DISCORD_TOKEN",
            "abc",
            "quizbot: DISCORD_TOKEN: not shaped like a bot token (three parts separated by dots)",
        ),
    ],
)
def test_serve_refuses_a_badly_shaped_token_with_one_line(
    clean: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    platform: str,
    name: str,
    value: str,
    line: str,
) -> None:
    monkeypatch.setenv(name, value)

    assert main(["serve", platform]) == 1
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [line]
    assert value not in captured.err + captured.out
    assert not (clean / "quizbot.db").exists()


def test_each_bad_setting_gets_its_own_line(
    clean: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TIMEZONE", "Mars/Base")
    (clean / ".env").write_text("SLACK_APP_TOKEN=xoxb-not-an-app\n")

    assert main(["serve", "slack"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "quizbot: TIMEZONE: 'Mars/Base' is not a timezone: use an IANA name like Europe/Berlin",
        "quizbot: SLACK_APP_TOKEN: does not start with xapp- (it starts with xoxb-)",
    ]


def test_the_command_prints_no_traceback(clean: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {s.name for s in SETTINGS}}
    env |= {"PYTHONPATH": str(ROOT), "SLACK_BOT_TOKEN": "xoxp-1-2-usersecret"}
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli.main", "serve", "slack"],
        cwd=clean,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "quizbot: SLACK_BOT_TOKEN: does not start with xoxb- (it starts with xoxp-)"
    ]
