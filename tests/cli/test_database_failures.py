"""An unusable database is one line, `quizbot: cannot use DATABASE_URL=…: reason`, never a
traceback, for `play`, `leaderboard` and `db upgrade` alike."""

from __future__ import annotations

import os
import socket
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.cli.helpers import quizbot

COMMANDS = [("play", "--questions", "1"), ("leaderboard",), ("db", "upgrade")]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def one_line(tmp_path: Path, url: str, command: tuple[str, ...]) -> str:
    result = quizbot(tmp_path, *command, stdin="a\n", DATABASE_URL=url)
    assert result.returncode == 1, result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_refused_postgresql_port(tmp_path: Path, command: tuple[str, ...]) -> None:
    url = f"postgresql+asyncpg://quiz:hunter22@127.0.0.1:{_closed_port()}/quiz"
    line = one_line(tmp_path, url, command)
    assert line == (
        f"quizbot: cannot use DATABASE_URL={url.replace('hunter22', '***')}: "
        "connection refused (is the database server running?)"
    )


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_postgresql_database_that_does_not_exist(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    server = os.environ.get("TEST_DATABASE_URL", "")
    if not server.startswith("postgresql"):
        pytest.skip("needs the PostgreSQL server of TEST_DATABASE_URL")
    url = make_url(server).set(database="quizbot_no_such_database")
    text = url.render_as_string(hide_password=False)
    line = one_line(tmp_path, text, command)
    assert line.startswith("quizbot: cannot use DATABASE_URL=postgresql+asyncpg://")
    assert line.endswith(': database "quizbot_no_such_database" does not exist')


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_sqlite_path_in_a_missing_folder(tmp_path: Path, command: tuple[str, ...]) -> None:
    missing = tmp_path / "no-such-folder"
    url = f"sqlite+aiosqlite:///{missing / 'quiz.db'}"
    line = one_line(tmp_path, url, command)
    assert line == (
        f"quizbot: cannot use DATABASE_URL={url}: the folder {missing} of the SQLite file "
        "does not exist"
    )
    assert not missing.exists()


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_read_only_sqlite_file(tmp_path: Path, command: tuple[str, ...]) -> None:
    # a file never migrated, opened read-only (mode=ro: root, as in CI, writes a 0444 file)
    path = tmp_path / "quiz.db"
    sqlite3.connect(path).close()
    url = f"sqlite+aiosqlite:///file:{path}?mode=ro&uri=true"
    line = one_line(tmp_path, url, command)
    assert line == f"quizbot: cannot use DATABASE_URL={url}: the SQLite file is read-only"
