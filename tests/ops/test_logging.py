"""Logs: text or JSON, quiz ids on the lines about a quiz, and never a token."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import main as cli
from bot.config import Settings
from bot.core.clock import ManualClock
from bot.core.model import StartRequest
from bot.ops.logs import configure_logging
from bot.runtime import running
from bot.store import upgrade
from tests.core.helpers import CHANNEL, GUILD, HOST, RecordingChat, user

ROOT = Path(__file__).resolve().parents[2]
DISCORD_TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4OTAx.GhIjKl.abcdefghijklmnopqrstuvwxyz0123"
SLACK_BOT = "xoxb-1111-2222-botsecret"
SLACK_APP = "xapp-1-A0QUIZ-3333-appsecret"
SIGNING = "8f742231b10e8888abcd99aa85a5ffee"
SECRETS = (DISCORD_TOKEN, SLACK_BOT, SLACK_APP, SIGNING)


@pytest.fixture(autouse=True)
def root_logger() -> Iterator[None]:
    """Give the root logger back as it was: configure_logging replaces its handlers."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def configured(log_format: str, **extra: str) -> io.StringIO:
    """Logging set up as `quizbot serve` does, with every token set, into a buffer."""
    stream = io.StringIO()
    settings = Settings(
        log_format=log_format,
        log_level="DEBUG",
        discord_token=DISCORD_TOKEN,
        slack_bot_token=SLACK_BOT,
        slack_app_token=SLACK_APP,
        slack_signing_secret=SIGNING,
        **extra,  # type: ignore[arg-type]
    )
    configure_logging(settings, stream)
    return stream


def assert_no_secret(text: str) -> None:
    """Fail if any token, or a telling piece of one, is in `text`."""
    for secret in SECRETS:
        assert secret not in text
    for part in ("botsecret", "appsecret", "abcdefghijklmnopqrstuvwxyz0123"):
        assert part not in text


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_configured_tokens_never_reach_the_log(log_format: str) -> None:
    stream = configured(log_format)
    log = logging.getLogger("bot.test")

    log.info("connecting with %s and %s", SLACK_BOT, DISCORD_TOKEN)
    log.warning("signing secret was %r", SIGNING)
    log.debug("app token " + SLACK_APP)
    try:
        raise RuntimeError(f"auth failed for token {SLACK_BOT}")
    except RuntimeError:
        log.exception("request failed")
    log.info("stack", stack_info=True, extra={"quiz_id": 3})

    text = stream.getvalue()
    assert_no_secret(text)
    assert "connecting with ***" in text
    assert "auth failed for token ***" in text  # the traceback is masked too
    if log_format == "json":
        lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
        assert [line["message"] for line in lines][:2] == [
            "connecting with *** and ***",
            "signing secret was '***'",
        ]


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        ("token xoxb-9999-8888-other", "token xoxb-***"),
        ("user token xoxp-1-2-3 here", "user token xoxp-*** here"),
        ("socket xapp-1-A1-2-abc", "socket xapp-***"),
        ("headers {'Authorization': 'Bearer abc.def'}", "headers {'Authorization': 'Bearer ***'}"),
        ("headers {'Authorization': 'Bot abc.def'}", "headers {'Authorization': 'Bot ***'}"),
        (
            "db postgresql+asyncpg://quizbot:s3cret@postgres:5432/quizbot",
            "db postgresql+asyncpg://quizbot:***@postgres:5432/quizbot",
        ),
        (f"pasted {DISCORD_TOKEN[:-1]}X in chat", "pasted *** in chat"),
        ("Quiz Bot ready: 3 decks", "Quiz Bot ready: 3 decks"),
    ],
)
def test_token_shaped_strings_are_masked_even_when_not_configured(line: str, shown: str) -> None:
    stream = io.StringIO()
    configure_logging(Settings(), stream)

    logging.getLogger("bot.test").warning(line)

    assert stream.getvalue().rstrip().endswith(f"bot.test: {shown}")


async def run_one_round(tmp_path: Path, stream_format: str) -> str:
    """Start a quiz, answer, close round 1 with logging on; the log text."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'logs.db'}"
    upgrade(url)
    stream = configured(stream_format, database_url=url)
    logging.getLogger().setLevel(logging.INFO)
    settings = Settings(database_url=url, questions_dir=ROOT / "questions")
    clock = ManualClock()
    async with running(settings, RecordingChat(), platform="test", clock=clock) as runtime:
        quiz = await runtime.engine.start(
            GUILD, CHANNEL, HOST, StartRequest(decks=("deep-learning",), questions=2, seconds=5)
        )
        rnd = await runtime.store.open_round(quiz.id)
        assert rnd is not None
        await runtime.engine.record_answer(rnd.id, user(1), [0])
        clock.advance(6)
        await runtime.engine.close_due_rounds()
        await runtime.engine.stop(GUILD, CHANNEL, HOST, is_admin=True)
    return stream.getvalue()


async def test_text_lines_about_a_quiz_carry_its_ids(tmp_path: Path) -> None:
    text = await run_one_round(tmp_path, "text")

    quiz_lines = [line for line in text.splitlines() if "bot.core.engine" in line]
    assert {"quiz started", "round closed", "quiz ended"} <= {
        line.split("bot.core.engine: ", 1)[1].split(" [", 1)[0] for line in quiz_lines
    }
    for line in quiz_lines:
        assert " [community_id=1 quiz_id=1 round_id=" in line, line


async def test_json_lines_about_a_quiz_carry_its_ids(tmp_path: Path) -> None:
    text = await run_one_round(tmp_path, "json")

    records = [json.loads(line) for line in text.splitlines()]
    about_quiz = [r for r in records if r["logger"] == "bot.core.engine"]
    assert {r["message"] for r in about_quiz} >= {"quiz started", "round closed", "quiz ended"}
    for record in about_quiz:
        assert record["community_id"] == 1 and record["quiz_id"] == 1
        assert isinstance(record["round_id"], int)
        assert record["level"] == "info" and record["time"].endswith("+00:00")


def test_log_format_flag_overrides_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LOG_FORMAT", "text")
    seen: list[Settings] = []
    monkeypatch.setattr(cli, "configure_logging", seen.append)

    assert cli.main(["--log-format", "json", "questions", "validate", str(ROOT / "questions")]) == 0
    assert [s.log_format for s in seen] == ["json"]
    capsys.readouterr()
