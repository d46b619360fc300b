"""From a folder outside the repository, with nothing set, the shipped decks play."""

from __future__ import annotations

from pathlib import Path

from bot.shipped import shipped_decks_dir
from tests.cli.helpers import quizbot

REPO = Path(__file__).parents[2]


def test_the_shipped_decks_are_the_package_data() -> None:
    shipped = sorted(p.name for p in shipped_decks_dir().glob("*.yaml"))
    assert shipped == sorted(p.name for p in (REPO / "questions").glob("*.yaml"))
    assert shipped


def test_play_and_leaderboard_work_from_an_empty_folder(tmp_path: Path) -> None:
    played = quizbot(tmp_path, "play", "--questions", "1", "--player", "ana", stdin="a\n")
    assert played.returncode == 0, played.stderr
    assert "Question 1/1" in played.stdout
    assert "Quiz over" in played.stdout
    assert played.stderr == ""
    board = quizbot(tmp_path, "leaderboard", "--period", "all")
    assert board.returncode == 0, board.stderr
    assert board.stderr == ""
    assert "ana" in board.stdout or "No scores" in board.stdout


def test_a_missing_questions_dir_is_named(tmp_path: Path) -> None:
    result = quizbot(tmp_path, "play", QUESTIONS_DIR="nope")
    assert result.returncode == 1
    assert result.stderr.startswith("quizbot: QUESTIONS_DIR=nope: no such folder")
    assert len(result.stderr.splitlines()) == 1


def test_questions_validate_names_a_missing_questions_dir(tmp_path: Path) -> None:
    result = quizbot(tmp_path, "questions", "validate", QUESTIONS_DIR="nope")
    assert result.returncode == 1
    assert result.stderr == (
        "quizbot: QUESTIONS_DIR=nope: no such folder (unset it for the decks shipped with "
        "quizbot)\n"
    )


def test_questions_validate_checks_the_shipped_decks_by_default(tmp_path: Path) -> None:
    result = quizbot(tmp_path, "questions", "validate")
    assert result.returncode == 0, result.stderr
