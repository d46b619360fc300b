"""Property-based fuzzing: arbitrary input gives problems or QuestionFileError, nothing else."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.questions.importers import parse_deck as import_deck
from bot.questions.importers.text import import_text
from bot.questions.loader import decode_deck_bytes, parse_deck
from bot.questions.problems import QuestionFileError

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Lines that look like a quiz page, so the fuzzer reaches deep into the importer.
PAGE_LINES = st.sampled_from(
    [
        "☆ A title",
        "☆ ",
        "☒ True",
        "☐ False",
        "- ☒ yes",
        "☐ $x_{i}$",
        "Pick one of the choices",
        "Pick the correct choices",
        "- Deep",
        "Learning -",
        "[Clear selection](#)",
        "12",
        "",
        r"The Loss \mathcal{L} is $\frac{a}{b}",
        "costs $5",
        "- **(A)** bullet",
        "x_{cat} `a_b`",
    ]
)
YAML_LINES = st.sampled_from(
    [
        "name: demo",
        "title: T",
        "questions:",
        "  - id: a/b",
        "    prompt: P $x$",
        "    choices:",
        "      - correct: '1'",
        "      - wrong: '2'",
        "    answer: true",
        "    kind: single",
        "&a [1]",
        "*a",
        "!!python/object:os.system",
        "- [",
        "{",
        "    tags: [x]",
        "\t",
        "---",
    ]
)


def _import(text: str) -> None:
    try:
        result = import_text(text, "page.txt", "fuzz")
    except QuestionFileError:
        return
    # Whatever was imported passes validation.
    assert parse_deck(result.deck_yaml, "out.yaml", "fuzz").problems == []


@FAST
@given(st.text())
def test_importer_on_arbitrary_text(text: str) -> None:
    _import(text)


@FAST
@given(st.lists(st.one_of(PAGE_LINES, st.text(max_size=20)), max_size=30))
def test_importer_on_page_like_text(lines: list[str]) -> None:
    _import("\n".join(lines))


@FAST
@given(st.text())
def test_loader_on_arbitrary_text(text: str) -> None:
    draft = parse_deck(text, "deck.yaml", "deck")
    assert draft.deck is not None or draft.problems


@FAST
@given(st.lists(st.one_of(YAML_LINES, st.text(max_size=15)), max_size=25))
def test_loader_on_yaml_like_text(lines: list[str]) -> None:
    draft = parse_deck("\n".join(lines), "deck.yaml", "deck")
    assert draft.deck is not None or draft.problems
    assert all(p.line >= 1 and p.col >= 1 for p in draft.problems)


@FAST
@given(st.binary(max_size=200))
def test_loader_on_arbitrary_bytes(raw: bytes) -> None:
    text, problems = decode_deck_bytes(raw, "deck.yaml")
    if text is not None:
        parse_deck(text, "deck.yaml", "deck")
    else:
        assert problems


# Fragments of every import format, so the fuzzer reaches deep into each parser.
IMPORT_FRAGMENTS = st.sampled_from(
    [
        "::t::Q {=a ~b}",
        "{~%50%a ~%50%b ~%-100%c}",
        "{T#no#yes}",
        "{#3:1}",
        "{=a -> b}",
        "{}",
        "####why",
        r"\{ \= \~ \# \:",
        r"\(x^2\)",
        "$$x$$",
        "$",
        "// c",
        "$CATEGORY: a/b",
        "[html]<b>x</b>",
        "<?xml version='1.0'?>",
        "<quiz>",
        '<question type="multichoice">',
        '<question type="truefalse">',
        '<answer fraction="100"><text>true</text></answer>',
        "<questiontext><text>Q</text></questiontext>",
        "</question>",
        "</quiz>",
        "<!DOCTYPE x [<!ENTITY a 'b'>]>",
        "A. one",
        "B) two",
        "ANSWER: B",
        '{"results": [',
        '{"type": "multiple", "question": "Q", "correct_answer": "a", "incorrect_answers": []}',
        '{"type": "boolean", "question": "&quot;", "correct_answer": "True"}',
        "]}",
        "question,choices,correct,explanation,tags",
        'Q,"a\nb",A,,x',
        "Question - max 120 characters,Answer 1,Answer 2,Correct answer(s)",
        "Q,a,b,3",
        '"unclosed',
        "",
    ]
)


@FAST
@given(
    st.lists(IMPORT_FRAGMENTS, max_size=30).map("\n".join),
    st.sampled_from(["auto", "gift", "moodle-xml", "aiken", "opentdb", "csv", "text", "yaml"]),
    st.booleans(),
)
def test_every_importer_reports_problems_with_lines_and_never_raises(
    text: str, fmt: str, strict: bool
) -> None:
    result = import_deck(text.encode(), "fuzz.dat", fmt, "fuzz", strict)
    for problem in [*result.problems, *result.skipped]:
        assert problem.line >= 1 and problem.path == "fuzz.dat"
    assert result.deck is None or not result.problems


@FAST
@given(st.binary(max_size=400), st.sampled_from(["auto", "gift", "moodle-xml", "csv", "opentdb"]))
def test_importers_on_random_bytes(data: bytes, fmt: str) -> None:
    result = import_deck(data, "fuzz.bin", fmt)
    assert all(p.line >= 1 for p in result.problems)
