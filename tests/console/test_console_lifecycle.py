"""However a terminal game ends, no quiz is left running, and the next game starts clean."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.console.terminal import Terminal
from tests.console.test_console_play import DECK


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "decks").mkdir()
    (tmp_path / "decks" / "trio.yaml").write_text(DECK)
    environment = {
        **os.environ,
        "QUESTIONS_DIR": str(tmp_path / "decks"),
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'quiz.db'}",
        "TERM": "xterm-256color",
    }
    environment.pop("LOG_LEVEL", None)
    return environment


def run(
    env: dict[str, str], cwd: Path, *args: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin, capture_output=True, text=True, env=env, cwd=cwd, timeout=60,
    )  # fmt: skip


def spawn(env: dict[str, str], cwd: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", *args],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=env, cwd=cwd,
    )  # fmt: skip


def read_until(game: subprocess.Popen[str], text: str) -> str:
    assert game.stdout is not None
    seen = ""
    for line in game.stdout:
        seen += line
        if text in line:
            return seen
    raise AssertionError(f"{text!r} never came; got:\n{seen}")


def test_ctrl_c_in_a_terminal_stops_the_quiz_and_prints_the_standings(
    env: dict[str, str], tmp_path: Path
) -> None:
    term = Terminal(["play", "--deck", "trio", "--player", "ann"], env, tmp_path)
    try:
        term.expect("answer ›")
        term.expect("Ctrl-D or Ctrl-C ends the game")
        term.type("x\r")
        term.expect("'x' is not a choice")
        term.type("\x03")
        assert term.wait() == 0
    finally:
        term.close()
    assert "✔ Answer 1/3" in term.screen  # the open question is revealed
    assert "You didn't answer." in term.screen
    assert "━━ Quiz stopped (1/3 questions) ━━" in term.screen
    assert "Traceback" not in term.screen
    # the next game starts cleanly: nothing of the old quiz, no "already running"
    again = run(env, tmp_path, "play", "--deck", "trio", "--player", "ann")
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("━━ Question 1/3") == 1
    assert "stopped quiz" not in again.stdout and again.stderr == ""
    assert run(env, tmp_path, "stop").stdout.strip() == "no console quiz is running"


def test_ctrl_c_in_a_review_pauses_it_and_the_next_review_resumes_it(
    env: dict[str, str], tmp_path: Path
) -> None:
    review = ["review", "--deck", "trio", "--player", "ann", "--questions", "3"]
    term = Terminal(review, env, tmp_path)
    try:
        term.expect("(Pick one)")
        term.type("\x03")
        # before, the process waited for a line in a thread it joined at exit
        assert term.wait(timeout=10) == 0
    finally:
        term.close()
    assert "(review paused: quizbot review resumes it)" in term.screen
    assert "Traceback" not in term.screen
    again = run(env, tmp_path, *review)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("(resuming your open review)")


def test_ctrl_d_at_the_prompt_ends_the_game(env: dict[str, str], tmp_path: Path) -> None:
    term = Terminal(["play", "--deck", "trio", "--player", "ann"], env, tmp_path)
    try:
        term.expect("answer ›")
        term.type("\x04")
        assert term.wait() == 0
    finally:
        term.close()
    assert "━━ Quiz stopped (1/3 questions) ━━" in term.screen
    assert run(env, tmp_path, "stop").stdout.strip() == "no console quiz is running"


def test_a_killed_game_is_stopped_by_the_next_one_which_sees_only_its_own_quiz(
    env: dict[str, str], tmp_path: Path
) -> None:
    first = spawn(env, tmp_path, "play", "--deck", "trio", "--player", "ann")
    read_until(first, "(Pick one")
    first.kill()
    first.wait(timeout=30)
    second = run(env, tmp_path, "play", "--deck", "trio", "--player", "bo", stdin="a\n")
    assert second.returncode == 0, second.stderr
    assert second.stdout.startswith("(stopped quiz #1, left running by a terminal game")
    assert "already running" not in second.stdout + second.stderr
    assert second.stdout.count("━━ Question 1/3") == 1  # its own, not the old quiz's
    assert second.stdout.count("━━ Quiz") == 1  # one summary: its own


def test_quizbot_stop_asks_a_live_game_to_stop(env: dict[str, str], tmp_path: Path) -> None:
    game = spawn(env, tmp_path, "play", "--deck", "trio", "--player", "ann")
    read_until(game, "(Pick one")
    stopped = run(env, tmp_path, "stop")
    assert stopped.stdout.strip() == "asked the terminal game of quiz #1 to stop"
    out, err = game.communicate(timeout=30)
    assert game.returncode == 0, err
    assert "━━ Quiz stopped (1/3 questions) ━━" in out
    assert run(env, tmp_path, "stop").stdout.strip() == "no console quiz is running"


def test_a_closed_pipe_ends_the_game_quietly_and_stops_the_quiz(
    env: dict[str, str], tmp_path: Path
) -> None:
    game = spawn(env, tmp_path, "play", "--deck", "trio", "--seconds", "120")
    assert game.stdout is not None and game.stderr is not None
    game.stdout.readline()
    game.stdout.readline()
    game.stdout.close()  # as `| head -2` does
    started = time.monotonic()
    assert game.wait(timeout=30) == 0
    assert time.monotonic() - started < 60  # not at the reveal, 120 s later
    assert game.stderr.read() == ""
    assert run(env, tmp_path, "stop").stdout.strip() == "no console quiz is running"


def test_sigint_on_a_piped_game_stops_it_too(env: dict[str, str], tmp_path: Path) -> None:
    game = spawn(env, tmp_path, "play", "--deck", "trio")
    read_until(game, "(Pick one")
    game.send_signal(signal.SIGINT)
    out, err = game.communicate(timeout=30)
    assert game.returncode == 0, err
    assert "━━ Quiz stopped (1/3 questions) ━━" in out


def test_quizbot_alone_lists_its_commands_and_knows_its_version(
    env: dict[str, str], tmp_path: Path
) -> None:
    alone = run(env, tmp_path)
    assert alone.returncode == 0
    for command in ("play", "leaderboard", "stop", "questions", "serve", "doctor"):
        assert f"    {command} " in alone.stdout
    version = run(env, tmp_path, "--version")
    assert version.returncode == 0 and version.stdout.startswith("quizbot ")
