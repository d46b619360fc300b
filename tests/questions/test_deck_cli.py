"""`quizbot deck add|list|remove` on a SQLite file, as an operator runs it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli.main import main

GIFT = "::fr:: What is the capital of France? {=Paris ~Lyon ~Nice}\n"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A database file and the shipped decks."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'quiz.db'}")
    monkeypatch.setenv("QUESTIONS_DIR", str(Path(__file__).parents[2] / "questions"))
    monkeypatch.setenv("USER", "ops")
    monkeypatch.delenv("LOG_LEVEL", raising=False)
    return tmp_path


def test_an_operator_adds_lists_and_removes_a_deck(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deck = env / "capitals.gift"
    deck.write_text(GIFT)
    where = ["--community", "4242", "--platform", "discord"]
    assert main(["deck", "add", str(deck), *where]) == 0
    assert capsys.readouterr().out.startswith("Deck capitals added: 1 imported, 0 skipped")

    assert main(["deck", "list", *where]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert "capitals: Capitals (1 question, this community's)" in listed
    assert any(line.endswith(", bot deck)") for line in listed)
    # another community does not see it
    assert main(["deck", "list", "--community", "7", "--platform", "discord"]) == 0
    assert "capitals" not in capsys.readouterr().out

    assert main(["deck", "remove", "capitals", *where]) == 0
    assert capsys.readouterr().out == "Deck capitals removed\n"
    assert main(["deck", "remove", "capitals", *where]) == 1
    assert capsys.readouterr().err == "quizbot: This community has no deck named 'capitals'\n"


def test_a_bad_file_is_refused_with_its_lines_and_nothing_stored(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = env / "bad.gift"
    bad.write_text("::a:: First? {=yes ~no\n")
    where = ["--community", "4242", "--platform", "slack"]
    assert main(["deck", "add", str(bad), *where]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "quizbot: bad.gift: 1 problem, nothing was stored"
    assert err[1].startswith("bad.gift:1:")
    assert main(["deck", "add", str(env / "missing.gift"), *where]) == 1
    assert "missing.gift: cannot read it" in capsys.readouterr().err
    assert main(["deck", "list", *where]) == 0
    assert "bad" not in capsys.readouterr().out


def test_a_deck_added_without_a_community_is_the_terminals(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deck = env / "capitals.gift"
    deck.write_text(GIFT)
    assert main(["deck", "add", str(deck)]) == 0
    capsys.readouterr()

    assert main(["deck", "list", "--community", "console", "--platform", "console"]) == 0
    assert "capitals: Capitals (1 question, this community's)" in capsys.readouterr().out
    assert main(["deck", "list", "--community", "4242", "--platform", "discord"]) == 0
    assert "capitals" not in capsys.readouterr().out
