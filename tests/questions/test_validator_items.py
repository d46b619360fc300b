"""Validator rules: choice order that means something, one seconds limit, and every problem."""

from __future__ import annotations

import random
import textwrap
from pathlib import Path

import pytest

from bot.cli.questions import main
from bot.core import start_options
from bot.core.cards import shuffled_question
from bot.questions.loader import load_decks
from bot.questions.schema import MAX_SECONDS

SHIPPED = Path(__file__).resolve().parents[2] / "questions"

LETTERS = """\
name: demo
title: Demo
{deck_defaults}
questions:
  - id: demo/letters
    prompt: "Which formula is right? A: $1+1=2$, B: $1+1=3$, C: $1+1=4$, D: $1+1=5$"
{shuffle}
    choices:
      - correct: A
      - wrong: B
      - wrong: C
      - wrong: D
    explanation: The first formula is the only true one.
"""


def deck_file(tmp_path: Path, text: str) -> Path:
    """A deck file with the text given (dedented)."""
    path = tmp_path / "demo.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def messages(path: Path) -> list[str]:
    """Every problem of a file, as 'line:col: message'."""
    return [f"{p.line}:{p.col}: {p.message}" for p in load_decks(path).problems]


@pytest.mark.parametrize(
    ("deck_defaults", "shuffle"),
    [("defaults:\n  shuffle: false", ""), ("", "    shuffle: false")],
    ids=["per-deck", "per-question"],
)
def test_shuffle_false_keeps_the_order(tmp_path: Path, deck_defaults: str, shuffle: str) -> None:
    path = deck_file(tmp_path, LETTERS.format(deck_defaults=deck_defaults, shuffle=shuffle))
    result = load_decks(path)
    assert result.problems == [] and result.warnings == []
    question = result.decks[0].questions[0]
    assert question.shuffle is False
    for seed in range(20):
        shown = shuffled_question(question, random.Random(seed))
        assert shown.choices == ("A", "B", "C", "D")
        assert shown.correct == (0,)


def test_question_setting_overrides_the_deck(tmp_path: Path) -> None:
    text = LETTERS.format(deck_defaults="defaults:\n  shuffle: false", shuffle="    shuffle: yes")
    result = load_decks(deck_file(tmp_path, text))
    assert result.decks[0].questions[0].shuffle is True
    orders = {
        shuffled_question(result.decks[0].questions[0], random.Random(s)).choices for s in range(20)
    }
    assert len(orders) > 1  # shuffled again


def test_shuffle_must_be_a_boolean(tmp_path: Path) -> None:
    text = LETTERS.format(deck_defaults="", shuffle="    shuffle: sometimes")
    assert messages(deck_file(tmp_path, text)) == ["7:14: shuffle 'sometimes': true or false"]


@pytest.mark.parametrize(
    "explanation",
    [
        "The first formula is the only true one.",
        "It is the third.",
        "Hence option B is wrong.",
        "Only (c) balances the units.",
        "The answer is the last one.",
    ],
)
def test_explanation_naming_a_position_warns_when_shuffled(
    tmp_path: Path, explanation: str, capsys: pytest.CaptureFixture[str]
) -> None:
    text = LETTERS.format(deck_defaults="", shuffle="").replace(
        "The first formula is the only true one.", explanation
    )
    path = deck_file(tmp_path, text)
    result = load_decks(path)
    assert result.problems == [] and len(result.decks) == 1  # a warning, not an error
    assert len(result.warnings) == 1
    assert result.warnings[0].line == 13
    assert "names a position" in result.warnings[0].message
    assert main(["questions", "validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert ":13:18: warning: question demo/letters: the explanation names" in out


@pytest.mark.parametrize(
    "explanation",
    [
        "The first term keeps x close; the second, small, pulls it.",
        "Adam keeps the second moment of the gradient.",
        "We answer a question: is $f(a)$ defined?",
    ],
)
def test_ordinary_words_do_not_warn(tmp_path: Path, explanation: str) -> None:
    text = LETTERS.format(deck_defaults="", shuffle="").replace(
        "The first formula is the only true one.", explanation
    )
    assert load_decks(deck_file(tmp_path, text)).warnings == []


def test_shipped_decks_have_no_warnings() -> None:
    result = load_decks(SHIPPED)
    assert result.problems == []
    assert [str(w) for w in result.warnings] == []


def test_one_seconds_limit_shared_with_the_engine(tmp_path: Path) -> None:
    assert MAX_SECONDS is start_options.MAX_SECONDS
    base = "name: slow\ntitle: Slow\ndefaults:\n  seconds: {s}\nquestions:\n"
    base += "  - id: slow/a\n    prompt: P\n    answer: true\n"
    assert messages(deck_file(tmp_path, base.format(s=start_options.MAX_SECONDS))) == []
    assert messages(deck_file(tmp_path, base.format(s=start_options.MAX_SECONDS + 1))) == [
        f"4:12: deck 'slow': defaults.seconds '{start_options.MAX_SECONDS + 1}': a whole number "
        f"from 5 to {start_options.MAX_SECONDS} (the longest a round may last)"
    ]


def test_tags_as_one_string_is_a_problem(tmp_path: Path) -> None:
    text = "name: d\ntitle: D\nquestions:\n  - id: d/a\n    prompt: P\n    answer: true\n"
    assert messages(deck_file(tmp_path, text + "    tags: cnn, pooling\n")) == [
        "7:11: tags 'cnn, pooling' is one piece of text: write a list, [cnn, pooling]"
    ]
    assert messages(deck_file(tmp_path, text + "    tags: cnn\n")) == []


@pytest.mark.parametrize(
    ("math", "message"),
    [(r"$\sqrt{x$", r"unbalanced { in the math $\sqrt{x$"), (r"$x}$", "unbalanced }")],
)
def test_unbalanced_brace_in_math(tmp_path: Path, math: str, message: str) -> None:
    text = f"name: d\ntitle: D\nquestions:\n  - id: d/a\n    prompt: '{math} ok'\n"
    found = messages(deck_file(tmp_path, text + "    answer: true\n"))
    assert len(found) == 1 and found[0].startswith("5:13: prompt: ") and message in found[0]
    balanced = text.replace(math, r"$\sqrt{x}$ \{") + "    answer: true\n"
    assert messages(deck_file(tmp_path, balanced)) == []


def test_duplicate_id_is_reported_with_other_problems_of_the_question(tmp_path: Path) -> None:
    text = """\
    name: d
    title: D
    questions:
      - id: d/a
        prompt: P
        answer: true
      - id: d/a
        prompt: Q
        answer: maybe
    """
    assert messages(deck_file(tmp_path, text)) == [
        "7:9: duplicate id 'd/a' (first on line 4)",
        "9:13: answer 'maybe': true or false",
    ]
