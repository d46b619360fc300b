"""`quizbot play --deck PATH` plays a deck file directly, whatever QUESTIONS_DIR holds."""

from __future__ import annotations

from pathlib import Path

from tests.cli.helpers import quizbot

DECK = """\
name: solo
title: One question
description: A deck file played directly
questions:
  - id: solo-1
    prompt: Which planet is red?
    choices:
      - correct: Mars
      - wrong: Venus
    explanation: Iron oxide.
"""


def test_a_deck_file_plays_on_its_own(tmp_path: Path) -> None:
    (tmp_path / "solo.yaml").write_text(DECK)
    result = quizbot(tmp_path, "play", "--deck", "solo.yaml", "--player", "ann", stdin="a\n")
    assert result.returncode == 0, result.stderr
    assert "Which planet is red?" in result.stdout
    assert "Quiz over (1/1 questions)" in result.stdout


def test_a_broken_deck_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("name: broken\nquestions:\n  - id: b1\n")
    result = quizbot(tmp_path, "play", "--deck", "broken.yaml")
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line.startswith("quizbot: broken.yaml:")
    assert line.endswith("see quizbot questions validate broken.yaml)")


def test_a_missing_deck_file_is_one_line(tmp_path: Path) -> None:
    result = quizbot(tmp_path, "play", "--deck", "nope.yaml")
    assert result.returncode == 1
    assert result.stderr == "quizbot: nope.yaml: no such file or directory\n"
