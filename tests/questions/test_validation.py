"""Validation: every problem reported as path:line:col with the line of the offending node."""

from __future__ import annotations

import logging
import textwrap
from pathlib import Path

import pytest

from bot.cli.questions import default_questions_dir, main
from bot.core.model import QuestionKind, Scoring
from bot.questions.loader import load_bank, load_decks, skipped_files
from bot.questions.problems import Problem, QuestionFileError
from bot.shipped import shipped_decks_dir

SHIPPED = Path(__file__).resolve().parents[2] / "questions"

GOOD = """\
name: demo
title: Demo
description: A small deck.
defaults:
  seconds: 30
  scoring: accuracy
questions:
  - id: demo/one
    prompt: What is $1 + 1$?
    choices:
      - correct: '2'
      - wrong: '3'
  - id: demo/two
    prompt: Pick the even numbers.
    choices:
      - correct: '2'
      - wrong: '3'
      - correct: '4'
  - id: demo/three
    prompt: The sky is green.
    answer: false
  - id: demo/four
    prompt: Is this true?
    choices:
      - correct: True
      - wrong: False
"""


def write(tmp_path: Path, text: str, name: str = "deck.yaml") -> Path:
    """A deck file with dedented text."""
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def line_of(path: Path, needle: str) -> int:
    """1-based line of the first line containing needle."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, start=1) if needle in line)


def problems(path: Path) -> list[Problem]:
    """The problems of one file."""
    result = load_decks(path)
    assert result.decks == [] or not result.problems
    return result.problems


def only(path: Path) -> Problem:
    """The single problem of a file."""
    found = problems(path)
    assert len(found) == 1, [str(p) for p in found]
    return found[0]


def test_good_deck_loads_with_kinds_inferred(tmp_path: Path) -> None:
    result = load_decks(write(tmp_path, GOOD))
    assert result.problems == []
    (deck,) = result.decks
    assert (deck.name, deck.title, deck.default_seconds) == ("demo", "Demo", 30)
    assert deck.default_scoring is Scoring.ACCURACY
    kinds = [q.kind for q in deck.questions]
    assert kinds == [
        QuestionKind.SINGLE,
        QuestionKind.MULTIPLE,
        QuestionKind.TRUE_FALSE,
        QuestionKind.TRUE_FALSE,
    ]
    assert [c.text for c in deck.questions[2].choices] == ["True", "False"]
    assert deck.questions[2].correct_indices == (1,)
    assert deck.questions[3].correct_indices == (0,)  # "True" is text, not a YAML boolean
    assert deck.questions[0].deck == "demo"


def test_problem_format(tmp_path: Path) -> None:
    assert str(Problem("q/a.yaml", 3, 5, "boom")) == "q/a.yaml:3:5: boom"


def test_yaml_syntax_error_has_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("    prompt: Pick the even", "    prompt: [Pick the even"))
    problem = only(path)
    assert problem.line >= line_of(path, "[Pick the even")
    assert "YAML syntax" in problem.message
    assert str(problem).startswith(f"{path}:{problem.line}:")


def test_unknown_key_suggests_the_close_one(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("    prompt: Pick the even", "    promt: Pick the even"))
    found = problems(path)
    line = line_of(path, "promt:")
    assert f"{path}:{line}:5: question: unknown key 'promt' (did you mean 'prompt'?)" in map(
        str, found
    )
    assert any(p.message == "question demo/two: missing prompt" for p in found)


def test_missing_prompt_and_choices(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        name: demo
        title: Demo
        questions:
          - id: demo/empty
            kind: single
        """,
    )
    found = problems(path)
    line = line_of(path, "- id: demo/empty")
    assert [str(p) for p in found] == [
        f"{path}:{line}:5: question demo/empty: missing prompt",
        f"{path}:{line}:5: question demo/empty: missing choices (or answer: true/false)",
    ]


def test_no_correct_choice(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        GOOD.replace(
            "- correct: '2'\n      - wrong: '3'\n  - id: demo/two",
            "- wrong: '2'\n      - wrong: '3'\n  - id: demo/two",
        ),
    )
    problem = only(path)
    assert problem.line == line_of(path, "- wrong: '2'")
    assert problem.message == "question demo/one: no choice is marked correct"


def test_two_correct_in_single_answer(tmp_path: Path) -> None:
    text = GOOD.replace("    prompt: Pick the even", "    kind: single\n    prompt: Pick the even")
    path = write(tmp_path, text)
    problem = only(path)
    choices = [i for i, line in enumerate(text.splitlines(), 1) if "choices:" in line]
    assert problem.line == choices[1] + 1
    assert "2 choices marked correct in a single-answer question" in problem.message


def test_duplicate_id_within_a_deck(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("id: demo/two", "id: demo/one"))
    problem = only(path)
    first = line_of(path, "id: demo/one")
    assert problem.line == first + 5
    assert problem.message == f"duplicate id 'demo/one' (first on line {first})"


def test_duplicate_id_across_decks(tmp_path: Path) -> None:
    write(tmp_path, GOOD, "a.yaml")
    other = GOOD.replace("name: demo", "name: other").replace("demo/two", "other/two")
    second = write(tmp_path, other, "b.yaml")
    result = load_decks(tmp_path)
    assert [d.name for d in result.decks] == ["demo"]
    found = [str(p) for p in result.problems]
    line = line_of(second, "id: demo/one")
    assert f"{second}:{line}:9: duplicate id 'demo/one' (also in {tmp_path / 'a.yaml'}:8)" in found
    assert all(str(second) in p for p in found)


def test_duplicate_choice_text(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("- correct: '4'", "- correct: ' 2 '"))
    problem = only(path)
    assert problem.line == line_of(path, "' 2 '")
    assert problem.message.startswith("duplicate choice '2' (first on line")


def test_too_many_choices_names_the_platform_limits(tmp_path: Path) -> None:
    many = "".join(f"      - wrong: option {i}\n" for i in range(11))
    path = write(
        tmp_path, GOOD.replace("      - wrong: '3'\n  - id: demo/two", f"{many}  - id: demo/two")
    )
    problem = only(path)
    assert problem.line == line_of(path, "What is $1 + 1$") + 2
    assert "12 choices: at most 10" in problem.message
    assert "Slack checkboxes hold at most 10 options" in problem.message
    assert "Discord shows at most 25 buttons" in problem.message


def test_choice_too_long(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("- wrong: '3'", "- wrong: " + "x" * 201, 1))
    problem = only(path)
    assert problem.line == line_of(path, "xxxx")
    assert problem.message == "a choice is 201 characters: at most 200"


def test_prompt_over_the_slack_section_limit(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("Pick the even numbers.", "a " * 1501))
    problem = only(path)
    assert problem.line == line_of(path, "a a a")
    assert problem.message == (
        "prompt is 3,001 characters: at most 3,000 (a Slack section holds 3,000 characters)"
    )


def test_unbalanced_math_points_at_the_dollar(tmp_path: Path) -> None:
    text = GOOD.replace(
        "    prompt: Pick the even numbers.",
        "    prompt: |\n      Pick the even numbers\n      when $x = 2.",
    )
    path = write(tmp_path, text)
    problem = only(path)
    assert (problem.line, problem.col) == (line_of(path, "when $x"), 12)
    assert problem.message.startswith("prompt: unbalanced $")
    inline = write(tmp_path, GOOD.replace("What is $1 + 1$?", "What is $1 + 1?"), "b.yaml")
    assert only(inline).line == line_of(inline, "What is $1")


def test_empty_file_and_wrong_top_level(tmp_path: Path) -> None:
    empty = write(tmp_path, "# nothing yet\n", "empty.yaml")
    assert (
        str(only(empty)) == f"{empty}:1:1: empty file: a deck needs a name, a title and questions"
    )
    listed = write(tmp_path, "- id: a\n  prompt: b\n", "list.yaml")
    assert "the top level is a list: a deck file is a mapping" in only(listed).message


def test_every_problem_is_reported(tmp_path: Path) -> None:
    text = (
        GOOD.replace("title: Demo", "titel: Demo")
        .replace(
            "- correct: '2'\n      - wrong: '3'\n  - id: demo/two", "- wrong: '2'\n  - id: demo/two"
        )
        .replace("answer: false", "answer: maybe")
        .replace("scoring: accuracy", "scoring: fast")
    )
    path = write(tmp_path, text)
    messages = [p.message for p in problems(path)]
    assert len(messages) == 5, messages
    assert any("unknown key 'titel' (did you mean 'title'?)" in m for m in messages)
    assert "deck: missing title" in messages
    assert any("no choice is marked correct" in m for m in messages)
    assert "answer 'maybe': true or false" in messages
    assert "scoring 'fast': one of speed, accuracy" in messages


def test_python_tags_are_refused_and_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    text = GOOD.replace(
        "prompt: Pick the even numbers.",
        f"prompt: !!python/object/apply:os.system ['touch {marker}']",
    )
    path = write(tmp_path, text)
    problem = only(path)
    assert "tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed" in problem.message
    assert not marker.exists()


def test_true_false_rules(tmp_path: Path) -> None:
    text = GOOD.replace(
        "- correct: True\n      - wrong: False", "- correct: Yes\n      - wrong: No"
    )
    text = text.replace("prompt: Is this true?", "kind: true_false\n    prompt: Is this true?")
    assert (
        "a true_false question has the choices True and False"
        in only(write(tmp_path, text)).message
    )


def test_load_bank_skips_bad_decks_and_keeps_the_others(tmp_path: Path) -> None:
    write(tmp_path, GOOD, "good.yaml")
    write(tmp_path, "name: bad\ntitle: Bad\nquestions: []\n", "bad.yaml")
    bank, found = load_bank(tmp_path)
    assert [d.name for d in bank.decks()] == ["demo"]
    assert len(bank.all_questions()) == 4
    assert list(skipped_files(found)) == [str(tmp_path / "bad.yaml")]
    assert (
        str(found[0])
        == f"{tmp_path / 'bad.yaml'}:3:12: questions is empty: a list of at least one question"
    )


def test_missing_path_is_a_question_file_error(tmp_path: Path) -> None:
    with pytest.raises(QuestionFileError, match="no such file or directory"):
        load_decks(tmp_path / "nope.yaml")


def test_cli_validate_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write(tmp_path, GOOD, "good.yaml")
    assert main(["questions", "validate", str(good)]) == 0
    assert capsys.readouterr().out == "4 questions in 1 deck, no problems\n"
    bad = write(tmp_path, GOOD.replace("title: Demo", "titel: Demo"), "bad.yaml")
    assert main(["questions", "validate", str(bad)]) == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        f"{bad}:1:1: deck: missing title",
        f"{bad}:2:1: deck: unknown key 'titel' (did you mean 'title'?)",
    ]
    assert "2 problems in 1 file" in captured.err
    assert main(["questions", "validate", str(tmp_path / "missing")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such file or directory" in err and "Traceback" not in err


def test_cli_list_table_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, GOOD, "good.yaml")
    assert main(["questions", "list", str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["ID", "KIND", "ANSWER", "PROMPT"]
    assert out[2].split()[:3] == ["demo/two", "multiple", "A,"]
    assert out[-1] == "4 questions in 1 deck"


def test_default_questions_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("QUESTIONS_DIR", raising=False)
    assert default_questions_dir() == shipped_decks_dir()
    assert (shipped_decks_dir() / "deep-learning.yaml").is_file()
    monkeypatch.setenv("QUESTIONS_DIR", str(tmp_path))
    assert default_questions_dir() == tmp_path


def test_shipped_decks_are_valid_and_complete(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)
    result = load_decks(SHIPPED)
    assert [str(p) for p in result.problems] == []
    by_name = {d.name: d for d in result.decks}
    assert len(by_name["deep-learning"].questions) == 5
    others = [d for d in result.decks if d.name != "deep-learning"]
    assert len(others) >= 2 and all(len(d.questions) >= 15 for d in others)
    for deck in result.decks:
        assert all(q.explanation for q in deck.questions), deck.name
    for deck in others:
        assert {q.kind for q in deck.questions} == set(QuestionKind), deck.name
        assert any("$" in q.prompt for q in deck.questions), deck.name
