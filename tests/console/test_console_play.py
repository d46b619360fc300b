"""A scripted console game through a real `quizbot` subprocess, then its leaderboard."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

DECK = """\
name: trio
title: Three questions
description: A deck for the console test
questions:
  - id: trio-1
    prompt: Pick the first right one.
    choices:
      - correct: right one
      - wrong: wrong one
      - wrong: another wrong one
    explanation: The first.
  - id: trio-2
    prompt: Pick the second right one.
    choices:
      - correct: right two
      - wrong: wrong two
      - wrong: another wrong two
    explanation: The second.
  - id: trio-3
    prompt: Pick the third right one.
    choices:
      - correct: right three
      - wrong: wrong three
      - wrong: another wrong three
    explanation: The third.
"""

CHOICE = re.compile(r"^  ([A-Z])\) (.*)$")


def quizbot(tmp_path: Path, *args: str, stdin: int | None = None) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "QUESTIONS_DIR": str(tmp_path / "decks"),
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'quiz.db'}",
    }
    env.pop("LOG_LEVEL", None)
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", *args],
        cwd=tmp_path,
        env=env,
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_scripted_game_plays_to_the_end_and_the_board_shows_it(tmp_path: Path) -> None:
    (tmp_path / "decks").mkdir()
    (tmp_path / "decks" / "trio.yaml").write_text(DECK)
    game = quizbot(
        tmp_path,
        "play", "--deck", "trio", "--questions", "3", "--scoring", "accuracy",
        "--player", "ann", "--seed", "5",
        stdin=subprocess.PIPE,
    )  # fmt: skip
    assert game.stdin is not None and game.stdout is not None
    choices: dict[str, str] = {}
    answered = 0
    transcript = []
    for line in game.stdout:
        transcript.append(line)
        if match := CHOICE.match(line.rstrip("\n")):
            choices[match.group(2)] = match.group(1)
        elif line.startswith("(Pick one"):
            answered += 1
            # right on the first two questions, wrong on the third
            wanted = "right" if answered < 3 else "wrong"
            letter = next(key for text, key in choices.items() if text.startswith(wanted))
            game.stdin.write(letter.lower() + "\n")
            game.stdin.flush()
            choices.clear()
            if answered == 3:
                game.stdin.close()
    assert game.wait(timeout=60) == 0, game.stderr.read() if game.stderr else ""
    out = "".join(transcript)
    assert out.count("Locked in:") == 3
    assert out.count("✓ You got it") == 2 and out.count("✗ Not this time") == 1
    # 1000 + (1000 + 100 streak) + 0
    assert "━━ Quiz over (3/3 questions) ━━" in out
    assert "🥇 ann: 2100 pts (2/3 correct)" in out

    board = quizbot(tmp_path, "leaderboard", "--period", "all")
    stdout, stderr = board.communicate(timeout=60)
    assert board.returncode == 0, stderr
    assert "🥇 ann: 2100 pts (2/3 correct)" in stdout
    assert stderr == ""  # no log noise beside a terminal command's output


def test_input_ending_early_reveals_the_rest_and_ends_the_quiz(tmp_path: Path) -> None:
    (tmp_path / "decks").mkdir()
    (tmp_path / "decks" / "trio.yaml").write_text(DECK)
    game = quizbot(tmp_path, "play", "--deck", "trio", "--player", "bo", stdin=subprocess.PIPE)
    stdout, stderr = game.communicate("z\na\n", timeout=60)
    assert game.returncode == 0, stderr
    assert "'z' is not a choice" in stdout
    assert stdout.count("Locked in: A") == 1
    assert stdout.count("✔ Answer") == 3  # the two unanswered ones are revealed too
    assert "━━ Quiz over (3/3 questions) ━━" in stdout


def test_a_game_nobody_answers_stops_after_two_rounds(tmp_path: Path) -> None:
    (tmp_path / "decks").mkdir()
    (tmp_path / "decks" / "trio.yaml").write_text(DECK)
    game = quizbot(tmp_path, "play", "--deck", "trio", stdin=subprocess.PIPE)
    stdout, stderr = game.communicate("", timeout=60)
    assert game.returncode == 0, stderr
    assert "No answers for 2 rounds in a row." in stdout
    assert "━━ Quiz stopped (2/3 questions) ━━" in stdout


def test_unknown_deck_is_one_line_and_exit_1(tmp_path: Path) -> None:
    (tmp_path / "decks").mkdir()
    (tmp_path / "decks" / "trio.yaml").write_text(DECK)
    game = quizbot(tmp_path, "play", "--deck", "nope", stdin=subprocess.PIPE)
    _stdout, stderr = game.communicate("", timeout=60)
    assert game.returncode == 1
    assert stderr.strip() == "quizbot: No deck named 'nope' (decks: trio)"
