"""A server starts quietly: its own lines only, no alembic set-up, no Bolt warning; and
commands that neither serve nor draw import no chat library and no matplotlib."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("discord", "slack_bolt", "slack_sdk", "matplotlib")


def test_serve_slack_logs_no_alembic_lines_and_no_bolt_warning(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("LOG_LEVEL", "DATABASE_URL")}
    env.update(
        SLACK_BOT_TOKEN="xoxb-1111-2222-secretpart",
        SLACK_SIGNING_SECRET="8f742231b10e8888abcd99yyyzzz85a5",
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'quiz.db'}",
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "slack", "--http", "--port", "0"],
        cwd=tmp_path,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert server.stderr is not None
    lines: list[str] = []
    try:
        for line in server.stderr:
            lines.append(line)
            if "slack: serving HTTP on 127.0.0.1:" in line:
                break
    finally:
        server.send_signal(signal.SIGTERM)
        rest, _ = server.communicate(timeout=30)
    text = "".join(lines) + (rest or "")
    assert "serving HTTP on 127.0.0.1:" in text, text
    assert "alembic" not in text
    assert "will be unused" not in text
    assert (tmp_path / "quiz.db").exists()  # the migrations did run


IMPORTS = """
import sys
from bot.cli.main import main
code = main(sys.argv[1:])
heavy = sorted({{m.split(".")[0] for m in sys.modules}} & set({heavy!r}))
print("HEAVY", ",".join(heavy), file=sys.stderr)
sys.exit(code)
"""


@pytest.mark.parametrize(
    "command",
    [
        ("leaderboard",),
        ("play", "--questions", "1"),
        ("stop",),
        ("stats",),
        ("questions", "validate"),
        ("db", "upgrade"),
    ],
    ids=" ".join,
)
def test_commands_that_neither_serve_nor_draw_import_no_chat_library(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("QUESTIONS_DIR", "LOG_LEVEL")}
    env["DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'quiz.db'}"
    result = subprocess.run(
        [sys.executable, "-c", IMPORTS.format(heavy=HEAVY), *command],
        cwd=tmp_path,
        env=env,
        input="a\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[-1] == "HEAVY ", result.stderr
