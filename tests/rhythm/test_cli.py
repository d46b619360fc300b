"""`quizbot config`, `quizbot schedule` and `quizbot stats` on a SQLite file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.cli.main import main


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A database file and the shipped decks."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'quiz.db'}")
    monkeypatch.setenv("QUESTIONS_DIR", str(Path(__file__).parents[2] / "questions"))
    monkeypatch.setenv("USER", "ann")
    monkeypatch.delenv("LOG_LEVEL", raising=False)
    return tmp_path


def test_config_schedule_and_stats_from_the_terminal(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["config", "timezone", "Europe/Berlin"]) == 0
    assert "timezone: Europe/Berlin ← changed" in capsys.readouterr().out

    assert main(["config", "seconds", "2"]) == 1
    assert capsys.readouterr().err == (
        "quizbot: Bad seconds '2': use a whole number from 5 to 600\n"
    )

    assert main(["schedule", "daily", "07:30"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("━━ Scheduled quiz #1 ━━\n#1 daily 07:30 in #terminal")
    assert main(["schedule", "cancel", "1"]) == 0
    assert main(["schedule", "list"]) == 0
    assert "No scheduled quizzes." in capsys.readouterr().out

    assert main(["stats"]) == 0
    assert capsys.readouterr().out == (
        "━━ Stats of ann ━━\nann has not answered any question here yet.\n"
    )


def _communities(env: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(env / "quiz.db") as db:
        return db.execute("SELECT platform, external_id FROM communities").fetchall()


@pytest.mark.parametrize(
    "command",
    [
        ["leaderboard", "--community", "nope"],
        ["config", "--community", "nope"],
        ["config", "timezone", "Europe/Berlin", "--community", "nope"],
        ["stats", "--community", "nope"],
        ["schedule", "list", "--community", "nope"],
    ],
    ids=" ".join,
)
def test_an_unknown_community_is_one_line_and_no_row(
    env: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    assert main(["config", "timezone", "Europe/Berlin"]) == 0  # the console community
    capsys.readouterr()

    assert main(command) == 1
    assert capsys.readouterr().err == (
        "quizbot: no community 'nope' on console; known communities: console\n"
    )
    assert _communities(env) == [("console", "console")]


def test_an_unknown_chat_community_is_not_created(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["leaderboard", "--platform", "discord", "--community", "123"]) == 1
    assert "known communities: none yet" in capsys.readouterr().err
    assert _communities(env) == []


def test_the_terminal_names_its_own_commands(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "channel", "#general"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("quizbot: Bad channel '#general': use here (the --channel of this")
    assert "a #channel" not in err

    assert main(["config"]) == 0
    assert "Change one with quizbot config KEY VALUE (admins)." in capsys.readouterr().out
    assert main(["schedule"]) == 0
    assert "Add one: quizbot schedule daily 09:00" in capsys.readouterr().out
    assert main(["schedule", "fortnightly"]) == 1
    assert "/quiz" not in capsys.readouterr().err
