"""`quizbot doctor` on a good setup and on broken ones, offline and against local fakes."""

from __future__ import annotations

import io
import socket
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.ops.checklist import Check, Status
from bot.ops.doctor import report, run_checks
from bot.store import upgrade
from tests.fake_discord.server import FakeDiscord
from tests.mock_slack.server import MockSlack

ROOT = Path(__file__).resolve().parents[2]
DISCORD_TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4OTAx.GhIjKl.abcdefghijklmnopqrstuvwxyz0123"
SLACK_BOT = "xoxb-1111-2222-secretpart"
SLACK_APP = "xapp-1-A0QUIZ-3333-secretpart"
SIGNING = "8f742231b10e8888abcd99yyyzzz85a5"


Values = Mapping[str, str]  # settings by name, as read from the environment and .env


@pytest.fixture
def migrated(tmp_path: Path) -> Values:
    """Settings of a good console-only setup: a migrated SQLite file, the shipped decks."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'good.db'}"
    upgrade(url)
    return {"DATABASE_URL": url, "QUESTIONS_DIR": str(ROOT / "questions")}


def replace(values: Values, **changes: object) -> Values:
    """`values` with some settings changed, given by attribute name as on Settings."""
    return {**values, **{k.upper(): str(v) for k, v in changes.items()}}


def by_name(checks: list[Check]) -> dict[str, Check]:
    """The checks by name."""
    return {c.name: c for c in checks}


def printed(checks: list[Check]) -> tuple[int, str]:
    """The exit code and the text `quizbot doctor` would print."""
    out = io.StringIO()
    code = report(checks, out)
    return code, out.getvalue()


# ---- offline --------------------------------------------------------------------------------


async def test_a_good_setup_passes(migrated: Values) -> None:
    checks = await run_checks(migrated)
    code, text = printed(checks)

    assert code == 0, text
    assert "✗" not in text
    assert "✓ database: reachable" in text
    assert "✓ migrations: at the latest revision" in text
    assert "✓ decks: 3 decks, " in text
    assert text.rstrip().endswith("checks passed")
    assert by_name(checks)["chat platforms"].status is Status.SKIPPED


async def test_a_database_never_migrated_fails_with_the_fix(
    migrated: Values, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()  # a SQLite file with no tables
    checks = await run_checks(replace(migrated, database_url=f"sqlite+aiosqlite:///{empty}"))
    code, text = printed(checks)

    assert code == 1
    assert by_name(checks)["database"].status is Status.OK
    migrations = by_name(checks)["migrations"]
    assert migrations.status is Status.FAILED
    assert migrations.fix == "run `quizbot db upgrade`"
    assert "✗ migrations: the database was never migrated\n    fix: run `quizbot" in text
    assert text.rstrip().endswith("checks failed")


async def test_a_missing_sqlite_file_is_reported_not_created(
    migrated: Values, tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere.db"
    checks = await run_checks(replace(migrated, database_url=f"sqlite+aiosqlite:///{missing}"))

    assert by_name(checks)["database"].status is Status.FAILED
    assert "does not exist" in by_name(checks)["database"].detail
    assert not missing.exists()


async def test_a_sqlite_file_in_a_missing_folder_is_not_sent_to_db_upgrade(
    migrated: Values, tmp_path: Path
) -> None:
    missing = tmp_path / "no-such-folder" / "quiz.db"
    checks = await run_checks(replace(migrated, database_url=f"sqlite+aiosqlite:///{missing}"))

    database = by_name(checks)["database"]
    assert database.status is Status.FAILED
    assert f"the folder {missing.parent} of the SQLite file does not exist" in database.detail
    assert "db upgrade" not in database.fix
    assert f"mkdir -p {missing.parent}" in database.fix
    assert "migrations" not in by_name(checks)


async def test_a_read_only_sqlite_file_fails(migrated: Values, tmp_path: Path) -> None:
    # mode=ro rather than chmod: the tests may run as root, who writes any file
    path = migrated["DATABASE_URL"].removeprefix("sqlite+aiosqlite:///")
    url = f"sqlite+aiosqlite:///file:{path}?mode=ro&uri=true"
    checks = await run_checks(replace(migrated, database_url=url))
    code, text = printed(checks)
    assert "✗ database" in text

    assert code == 1
    database = by_name(checks)["database"]
    assert database.status is Status.FAILED
    assert f"the SQLite file {path} is read-only" in database.detail
    assert "writable" in database.fix
    assert "db upgrade" not in database.fix


async def test_an_unreachable_postgres_fails_without_showing_the_password(
    migrated: Values,
) -> None:
    port = _closed_port()
    url = f"postgresql+asyncpg://quizbot:hunter22secret@127.0.0.1:{port}/quizbot"
    checks = await run_checks(replace(migrated, database_url=url))
    code, text = printed(checks)

    assert code == 1
    database = by_name(checks)["database"]
    assert database.status is Status.FAILED
    assert "cannot connect to postgresql+asyncpg://quizbot:***@127.0.0.1" in database.detail
    assert "docker compose ps postgres" in database.fix
    assert "hunter22secret" not in text


async def test_broken_decks_name_the_file_and_line(migrated: Values, tmp_path: Path) -> None:
    decks = tmp_path / "decks"
    decks.mkdir()
    (decks / "bad.yaml").write_text("name: bad\nquestions:\n  - id: q1\n    prompt: 'no choices'\n")
    checks = await run_checks(replace(migrated, questions_dir=decks))

    check = by_name(checks)["decks"]
    assert check.status is Status.FAILED
    assert "bad.yaml:" in check.detail
    assert check.fix.startswith(f"run `quizbot questions validate {decks}`")


async def test_a_missing_questions_folder_fails(migrated: Values, tmp_path: Path) -> None:
    checks = await run_checks(replace(migrated, questions_dir=tmp_path / "none"))

    assert by_name(checks)["decks"].status is Status.FAILED
    assert "QUESTIONS_DIR" in by_name(checks)["decks"].fix


async def test_good_slack_and_discord_settings_pass(migrated: Values) -> None:
    settings = replace(
        migrated,
        discord_token=DISCORD_TOKEN,
        slack_bot_token=SLACK_BOT,
        slack_app_token=SLACK_APP,
        slack_signing_secret=SIGNING,
    )
    code, text = printed(await run_checks(settings))

    assert code == 0, text
    assert "✓ DISCORD_TOKEN: set, shaped like a bot token" in text
    assert "✓ SLACK_BOT_TOKEN: set, starts with xoxb-" in text
    assert "✓ SLACK_APP_TOKEN: set, starts with xapp- (Socket Mode)" in text


async def test_a_slack_token_with_the_wrong_prefix_fails(migrated: Values) -> None:
    user_token = "xoxp-1111-2222-usersecret"
    settings = replace(migrated, slack_bot_token=user_token, slack_app_token="xoxb-not-an-app")
    checks = await run_checks(settings)
    code, text = printed(checks)

    assert code == 1
    bot = by_name(checks)["SLACK_BOT_TOKEN"]
    assert bot.status is Status.FAILED
    assert bot.detail == "does not start with xoxb- (it starts with xoxp-)"
    assert "OAuth & Permissions" in bot.fix
    assert by_name(checks)["SLACK_APP_TOKEN"].status is Status.FAILED
    assert "usersecret" not in text and "not-an-app" not in text


async def test_slack_needs_socket_mode_or_http_mode_settings(migrated: Values) -> None:
    checks = await run_checks(replace(migrated, slack_bot_token=SLACK_BOT))

    mode = by_name(checks)["Slack mode"]
    assert mode.status is Status.FAILED
    assert "SLACK_APP_TOKEN" in mode.fix and "SLACK_SIGNING_SECRET" in mode.fix


async def test_a_token_pasted_as_signing_secret_fails(migrated: Values) -> None:
    settings = replace(migrated, slack_bot_token=SLACK_BOT, slack_signing_secret=SLACK_BOT)
    checks = await run_checks(settings)

    assert by_name(checks)["SLACK_SIGNING_SECRET"].status is Status.FAILED


async def test_platform_settings_are_checked_only_when_in_use_or_asked(
    migrated: Values,
) -> None:
    quiet = by_name(await run_checks(migrated))
    asked = by_name(await run_checks(migrated, platform="discord"))

    assert "DISCORD_TOKEN" not in quiet and "SLACK_BOT_TOKEN" not in quiet
    assert asked["DISCORD_TOKEN"].status is Status.FAILED
    assert asked["DISCORD_TOKEN"].detail == "not set"
    assert "SLACK_BOT_TOKEN" not in asked


async def test_a_discord_token_with_the_bot_prefix_fails(migrated: Values) -> None:
    checks = await run_checks(replace(migrated, discord_token="Bot " + DISCORD_TOKEN))
    _, text = printed(checks)

    token = by_name(checks)["DISCORD_TOKEN"]
    assert token.status is Status.FAILED
    assert token.fix == 'remove "Bot " from the start of DISCORD_TOKEN'
    assert DISCORD_TOKEN not in text


async def test_a_discord_client_secret_is_not_a_token(migrated: Values) -> None:
    checks = await run_checks(replace(migrated, discord_token="a" * 32))

    assert by_name(checks)["DISCORD_TOKEN"].status is Status.FAILED


async def test_a_malformed_api_url_fails(migrated: Values) -> None:
    settings = replace(migrated, slack_bot_token=SLACK_BOT, slack_signing_secret=SIGNING)
    checks = await run_checks(replace(settings, slack_api_url="slack.com/api/"))

    assert by_name(checks)["SLACK_API_URL"].status is Status.FAILED


# ---- online -------------------------------------------------------------------------------


@pytest.fixture
async def slack() -> AsyncIterator[MockSlack]:
    """The mock Slack Web API, started."""
    mock = MockSlack()
    await mock.start()
    yield mock
    await mock.close()


@pytest.fixture
async def discord() -> AsyncIterator[FakeDiscord]:
    """The fake Discord, started, knowing DISCORD_TOKEN."""
    fake = FakeDiscord(token=DISCORD_TOKEN)
    await fake.start()
    yield fake
    await fake.close()


async def test_online_checks_pass_against_the_fakes(
    migrated: Values, slack: MockSlack, discord: FakeDiscord
) -> None:
    settings = replace(
        migrated,
        slack_bot_token=SLACK_BOT,
        slack_signing_secret=SIGNING,
        slack_api_url=slack.base_url,
        discord_token=DISCORD_TOKEN,
        discord_api_url=discord.api_url,
    )
    checks = await run_checks(settings, online=True)
    code, text = printed(checks)

    assert code == 0, text
    assert "✓ Slack auth.test: bot @quizbot in workspace Study Group" in text
    assert "✓ Discord /users/@me: logged in as quiz_bot" in text
    assert (
        "✓ Discord /gateway/bot: 1 shard(s) recommended; session starts: 1000 of 1000 left "
        "(reset in 24.0 h), 1 at a time"
    ) in text
    [call] = slack.calls_to("auth.test")
    assert call.token == SLACK_BOT
    assert any(c.path == "/users/@me" for c in discord.calls)
    assert SLACK_BOT not in text and DISCORD_TOKEN not in text


async def test_online_slack_rejecting_the_token_fails_with_the_fix(
    migrated: Values, slack: MockSlack
) -> None:
    slack.fail("auth.test", "invalid_auth")
    settings = replace(
        migrated,
        slack_bot_token=SLACK_BOT,
        slack_signing_secret=SIGNING,
        slack_api_url=slack.base_url,
    )
    checks = await run_checks(settings, online=True)

    check = by_name(checks)["Slack auth.test"]
    assert check.status is Status.FAILED
    assert check.detail == "Slack says invalid_auth"
    assert "reinstall the app" in check.fix


async def test_online_discord_rejecting_the_token_fails_with_the_fix(
    migrated: Values, discord: FakeDiscord
) -> None:
    other = DISCORD_TOKEN[:-4] + "zzzz"  # well formed, but not the one Discord knows
    settings = replace(migrated, discord_token=other, discord_api_url=discord.api_url)
    checks = await run_checks(settings, online=True)

    check = by_name(checks)["Discord /users/@me"]
    assert check.status is Status.FAILED
    assert check.detail == "Discord says 401 Unauthorized"
    assert "Reset Token" in check.fix


async def test_online_with_nothing_listening_fails(migrated: Values) -> None:
    port = _closed_port()
    settings = replace(
        migrated,
        slack_bot_token=SLACK_BOT,
        slack_signing_secret=SIGNING,
        slack_api_url=f"http://127.0.0.1:{port}/api/",
    )
    check = by_name(await run_checks(settings, online=True))["Slack auth.test"]

    assert check.status is Status.FAILED
    assert check.detail.startswith(f"no answer from http://127.0.0.1:{port}/api/")
    assert "SLACK_API_URL" in check.fix


# ---- the command ----------------------------------------------------------------------------


def test_quizbot_doctor_exit_codes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    for name in ("DISCORD_TOKEN", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"):
        monkeypatch.delenv(name, raising=False)
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("QUESTIONS_DIR", str(ROOT / "questions"))

    assert main(["doctor"]) == 1
    assert "✗ database: " in capsys.readouterr().out

    upgrade(url)
    assert main(["doctor"]) == 0
    assert "checks passed" in capsys.readouterr().out

    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxp-user-token-secret")
    assert main(["doctor", "--platform", "slack"]) == 1
    out = capsys.readouterr().out
    assert "✗ SLACK_BOT_TOKEN: does not start with xoxb-" in out
    assert "user-token-secret" not in out


def _closed_port() -> int:
    """A local port with nothing listening on it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_reachable_database_without_migrations_on_sqlite_and_postgresql(
    database_url: str,
) -> None:
    # the shared fixture builds the schema without Alembic: reachable, yet not migrated
    values = {"DATABASE_URL": database_url, "QUESTIONS_DIR": str(ROOT / "questions")}
    checks = by_name(await run_checks(values))

    assert checks["database"].status is Status.OK
    assert checks["migrations"].status is Status.FAILED
    assert checks["migrations"].fix == "run `quizbot db upgrade`"


async def test_a_bad_general_setting_gets_its_own_line_and_skips_the_database(
    migrated: Values,
) -> None:
    checks = by_name(await run_checks(replace(migrated, database_url="mysql://u:pw@h/db")))

    url = checks["DATABASE_URL"]
    assert url.status is Status.FAILED
    assert url.detail.startswith("'mysql' is not supported")
    assert url.fix.startswith("set DATABASE_URL to ")
    assert "settings" not in checks, "no all-well line when one is bad"
    assert checks["database"].status is Status.SKIPPED
    assert checks["decks"].status is Status.OK


def test_quizbot_doctor_lists_a_bad_token_instead_of_stopping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    upgrade(url)
    (tmp_path / ".env").write_text(f"DATABASE_URL={url}\nDISCORD_TOKEN=abc\n")
    monkeypatch.setenv("QUESTIONS_DIR", str(ROOT / "questions"))
    for name in ("DATABASE_URL", "DISCORD_TOKEN", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)

    assert main(["doctor"]) == 1
    captured = capsys.readouterr()
    assert captured.err == ""
    assert "✗ DISCORD_TOKEN: not shaped like a bot token" in captured.out
    assert "✓ database: reachable" in captured.out


async def test_online_checks_the_app_token_with_apps_connections_open(
    migrated: Values, slack: MockSlack
) -> None:
    settings = replace(
        migrated, slack_bot_token=SLACK_BOT, slack_app_token=SLACK_APP, slack_api_url=slack.base_url
    )
    check = by_name(await run_checks(settings, online=True))["Slack apps.connections.open"]
    assert check.status is Status.OK, check
    [call] = slack.calls_to("apps.connections.open")
    assert call.token == SLACK_APP

    slack.refused_tokens.add(SLACK_APP)
    checks = await run_checks(settings, online=True)
    code, text = printed(checks)
    check = by_name(checks)["Slack apps.connections.open"]
    assert code == 1 and check.status is Status.FAILED
    assert check.detail == "Slack says invalid_auth"
    assert "SLACK_APP_TOKEN" in check.fix and "connections:write" in check.fix
    assert by_name(checks)["Slack auth.test"].status is Status.OK  # the bot token is fine
    assert SLACK_APP not in text


async def test_online_without_an_app_token_skips_its_check(
    migrated: Values, slack: MockSlack
) -> None:
    settings = replace(
        migrated,
        slack_bot_token=SLACK_BOT,
        slack_signing_secret=SIGNING,
        slack_api_url=slack.base_url,
    )
    check = by_name(await run_checks(settings, online=True))["Slack apps.connections.open"]
    assert check.status is Status.SKIPPED
    assert not slack.calls_to("apps.connections.open")
