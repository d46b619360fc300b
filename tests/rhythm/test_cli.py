"""`quizbot config`, `quizbot schedule` and `quizbot stats` on a SQLite file."""

from __future__ import annotations

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
    assert main(["config", "timezone", "Europe/Berlin", "--community", "g1"]) == 0
    assert "timezone: Europe/Berlin ← changed" in capsys.readouterr().out

    assert main(["config", "seconds", "2", "--community", "g1"]) == 1
    assert capsys.readouterr().err == (
        "quizbot: Bad seconds '2': use a whole number from 5 to 600\n"
    )

    assert main(["schedule", "daily", "07:30", "--community", "g1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("━━ Scheduled quiz #1 ━━\n#1 daily 07:30 in <#terminal>")
    assert main(["schedule", "cancel", "1", "--community", "g1"]) == 0
    assert main(["schedule", "list", "--community", "g1"]) == 0
    assert "No scheduled quizzes." in capsys.readouterr().out

    assert main(["stats", "--community", "g1"]) == 0
    assert capsys.readouterr().out == (
        "━━ Stats of ann ━━\nann has not answered any question here yet.\n"
    )
