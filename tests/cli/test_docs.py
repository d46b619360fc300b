"""What the docs promise about the terminal game and the math pictures is what happens."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.cli.main import build_parser
from bot.core.close_decision import EMPTY_ROUNDS_BEFORE_STOP
from bot.questions.loader import load_decks
from bot.shipped import shipped_decks_dir

REPO = Path(__file__).parents[2]
NUMBERS = {2: "two", 3: "three"}


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_the_readme_says_empty_rounds_stop_a_piped_game() -> None:
    readme = _flat((REPO / "README.md").read_text())
    rule = f"{NUMBERS[EMPTY_ROUNDS_BEFORE_STOP]} rounds in a row with no answer stop the quiz"
    assert rule in readme
    assert "questions left when the input ends are revealed unanswered." not in readme


def _help_of(name: str) -> str:
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return str(action.choices[name].format_help())
    raise AssertionError("no subcommands")


def test_play_help_takes_the_default_seconds_from_the_deck() -> None:
    text = _flat(_help_of("play"))
    assert "seconds per question (default: the deck's, else 30)" in text
    # the reason: the shipped decks set their own
    decks = load_decks(shipped_decks_dir()).decks
    assert {d.default_seconds for d in decks} - {None, 30}


def test_the_math_docs_promise_what_the_adapters_send() -> None:
    docs = _flat((REPO / "docs" / "questions.md").read_text())
    assert "Discord and Slack also get a picture" in docs
    assert "of the prompt and its choices" in docs and "of the explanation" in docs
    assert "text alternative" in docs
