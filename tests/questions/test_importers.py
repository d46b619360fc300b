"""Each import format on a sample written from its documentation, compared to the deck exactly."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli.questions import main
from bot.core.model import QuestionKind
from bot.questions.importers import ImportResult, export_deck, parse_deck
from bot.questions.loader import load_decks

SAMPLES = Path(__file__).parent / "samples"
SHIPPED = Path(__file__).resolve().parents[2] / "questions"
S, M, TF = QuestionKind.SINGLE, QuestionKind.MULTIPLE, QuestionKind.TRUE_FALSE


def imported(name: str, fmt: str = "auto") -> ImportResult:
    """A sample imported."""
    return parse_deck((SAMPLES / name).read_bytes(), name, fmt)


def rows(result: ImportResult) -> list[tuple[object, ...]]:
    """Each question as (id, kind, prompt, choices, explanation, tags, shuffle)."""
    assert result.deck is not None, [str(p) for p in result.problems]
    return [
        (
            q.id,
            q.kind,
            q.prompt,
            [(c.text, c.correct) for c in q.choices],
            q.explanation,
            q.tags,
            q.shuffle,
        )
        for q in result.deck.questions
    ]


def skip_lines(result: ImportResult) -> list[str]:
    """The skipped questions as 'line: kind'."""
    return [f"{p.line}: {p.message.split(' question')[0]}" for p in result.skipped]


def test_gift() -> None:
    result = imported("sample.gift")
    assert result.format == "gift"
    assert rows(result) == [
        (
            "sample/grant-s-tomb",
            S,
            "Who is buried in Grant's tomb?",
            [("Grant", True), ("No one", False), ("Napoleon", False)],
            "Ulysses S. Grant and his wife are entombed there.",
            ("astronomy",),
            True,
        ),
        (
            "sample/what-two-people-are-entombed-in-grant-s-tomb",
            M,
            "What two people are entombed in Grant's tomb?",
            [("No one", False), ("Grant", True), ("Grant's wife", True), ("Grant's father", False)],
            "",
            ("astronomy",),
            True,
        ),
        (
            "sample/the-sun-rises-in-the-east",
            TF,
            "The sun rises in the east.",
            [("True", True), ("False", False)],
            "Right: every morning.",
            ("astronomy",),
            True,
        ),
        (
            "sample/moon",
            TF,
            "The moon is made of cheese.",
            [("True", False), ("False", True)],
            "",
            ("astronomy",),
            True,
        ),
        (
            "sample/what-is-frac-1-2-frac-1-2",
            S,
            r"What is $\frac{1}{2} + \frac{1}{2}$?",
            [("$$1$$", True), ("$2$", False), ("1:2", False), ("a = sign", False)],
            "",
            ("astronomy",),
            True,
        ),
    ]
    assert [q.title for q in result.deck.questions if q.title] == ["Grant's tomb", "Moon"]
    assert skip_lines(result) == [
        "24: skipped: numerical",
        "26: skipped: matching",
        "28: skipped: short answer",
        "30: skipped: essay",
        "32: skipped: description",
    ]
    assert result.summary() == "5 imported, 5 skipped"


def test_moodle_xml() -> None:
    result = imported("sample.xml")
    assert result.format == "moodle-xml"
    assert rows(result) == [
        (
            "sample/derivative",
            S,
            "What is the **derivative** of $x^2$?",
            [("$2x$", True), ("$x$", False), (r"*none* costs \$5", False)],
            "The power rule: $nx^{n-1}$.",
            ("calculus",),
            True,
        ),
        (
            "sample/primes",
            M,
            "Which are prime?\nCheck all.",
            [("2", True), ("3", True), ("4", False)],
            "",
            ("numbers",),
            True,
        ),
        (
            "sample/zero",
            TF,
            "Zero is even.",
            [("True", True), ("False", False)],
            "It divides by 2.",
            ("calculus",),
            True,
        ),
    ]
    assert skip_lines(result) == [
        "31: skipped: shortanswer",
        "36: skipped: numerical",
        "37: skipped: matching",
        "38: skipped: essay",
    ]


def test_aiken() -> None:
    result = imported("sample.aiken")
    assert result.format == "aiken"
    assert [(r[1], r[3]) for r in rows(result)] == [
        (
            S,
            [
                ("Is it this one?", False),
                ("Maybe this answer?", False),
                ("Possibly this one?", False),
                ("Must be this one!", True),
            ],
        ),
        (S, [("Moodle", True), ("ATutor", False), ("Claroline", False), ("Blackboard", False)]),
    ]


def test_opentdb_entities_decoded() -> None:
    result = imported("sample.json")
    assert result.format == "opentdb"
    assert rows(result) == [
        (
            "sample/what-is-the-chemical-symbol-for-gold",
            S,
            'What is the chemical symbol for "gold"?',
            [("Au", True), ("Ag", False), ("Gd", False), ("G'o", False)],
            "",
            ("science-nature",),
            True,
        ),
        (
            "sample/the-eiffel-tower-cost-more-than-1-million",
            TF,
            r"The Eiffel Tower cost more than \$1 million.",
            [("True", True), ("False", False)],
            "",
            ("history",),
            True,
        ),
    ]
    assert [q.difficulty for q in result.deck.questions] == ["easy", "medium"]  # type: ignore[union-attr]


def test_csv_sets_shuffle_off_for_letters_and_all_of_the_above() -> None:
    result = imported("sample.csv")
    assert rows(result) == [
        (
            "sample/which-are-even",
            M,
            "Which are even?",
            [("2", True), ("3", False), ("4", True)],
            "2 and 4 divide by 2.",
            ("arithmetic", "parity"),
            True,
        ),
        (
            "sample/pick-the-formula-a-a-2-b-b-2",
            S,
            "Pick the formula: A: $a^2$, B: $b^2$",
            [("A", True), ("B", False), ("C", False)],
            "",
            (),
            False,
        ),
        (
            "sample/which-is-larger-than-all-the-others",
            S,
            "Which is larger than all the others?",
            [("1", False), ("2", True), ("None of the above", False)],
            "",
            (),
            False,
        ),
    ]


def test_kahoot_template_columns() -> None:
    assert [(r[1], r[3]) for r in rows(imported("kahoot.csv"))] == [
        (S, [("3", False), ("4", True), ("5", False)]),
        (M, [("Red", True), ("Seven", False), ("Blue", True), ("Loud", False)]),
    ]


@pytest.mark.parametrize("fmt", ["gift", "csv"])
def test_round_trip_through_another_format_keeps_every_question(fmt: str) -> None:
    for deck in load_decks(SHIPPED).decks:
        text = export_deck(deck.questions, fmt, deck)
        back = parse_deck(text.encode(), f"{deck.name}.{fmt}", fmt, deck.name)
        assert back.problems == [] and back.skipped == []
        assert back.deck is not None
        assert back.deck.questions == deck.questions


def test_yaml_export_loads_back_the_same(tmp_path: Path) -> None:
    for deck in load_decks(SHIPPED).decks:
        back = parse_deck(export_deck(deck.questions, "yaml", deck).encode(), "d.yaml", "yaml")
        assert back.deck is not None and back.deck.questions == deck.questions


def test_problems_are_all_reported_with_their_lines() -> None:
    gift = (
        "Q1 {=a ~a}\n\nQ2 costs $5 {=x ~y}\n\nQ3 {~x ~y}\n\n"
        + "Q4 {="
        + "x" * 300
        + " ~y}\n\nQ5 {=a\n"
    )
    result = parse_deck(gift.encode(), "bad.gift")
    assert result.deck is None
    assert [f"{p.line}: {p.message}" for p in result.problems] == [
        "1: duplicate choice 'a'",
        "3: prompt: unbalanced $: math is opened and never closed (write \\$ for a dollar sign)",
        "5: question bad/q3: no choice is marked correct",
        "7: a choice is 300 characters: at most 200",
        "9: the answer block { is never closed with }",
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "binary data"),
        (b"just some words\n", "cannot tell the format"),
        (b"[" * 5000, "cannot tell the format"),
        (b"<quiz>" + b"<a>" * 100 + b"</quiz>", "nested more than 20 levels"),
        (
            b'<?xml version="1.0"?><!DOCTYPE q [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]>'
            b"<quiz>&b;</quiz>",
            "a DTD",
        ),
        (b'{"results": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested too deep"),
        (b"x" * (11 * 1024 * 1024), "an import may be at most"),
    ],
    ids=["empty", "binary", "wrong", "brackets", "deep-xml", "entity-bomb", "deep-json", "10mb"],
)
def test_bad_files_get_one_clear_line(data: bytes, message: str) -> None:
    result = parse_deck(data, "upload.dat")
    assert result.deck is None
    assert len(result.problems) == 1
    assert message in result.problems[0].message


def test_strict_turns_skips_into_errors() -> None:
    result = parse_deck((SAMPLES / "sample.gift").read_bytes(), "sample.gift", strict=True)
    assert result.deck is None
    assert [p.line for p in result.problems] == [24, 26, 28, 30, 32]
    assert all(p.message.endswith("(--strict)") for p in result.problems)


def test_cli_import_refuses_to_overwrite_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "deck.yaml"
    out.write_text("keep me", encoding="utf-8")
    for fmt in ("auto", "gift", "text"):
        assert main(["questions", "import", fmt, str(SAMPLES / "sample.gift"), "-o", str(out)]) == 1
        assert capsys.readouterr().err.strip() == (
            f"quizbot: {out}: already exists; add --force to overwrite it"
        )
        assert out.read_text(encoding="utf-8") == "keep me"
    args = ["questions", "import", "gift", str(SAMPLES / "sample.gift"), "-o", str(out)]
    assert main([*args, "--force", "--deck", "astro"]) == 0
    assert capsys.readouterr().err.strip().endswith("5 imported, 5 skipped")
    assert [d.name for d in load_decks(out).decks] == ["astro"]


def test_cli_export_by_name_and_by_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUESTIONS_DIR", str(SHIPPED))
    out = tmp_path / "dl.gift"
    assert main(["questions", "export", "deep-learning", "--format", "gift", "-o", str(out)]) == 0
    assert "exported as gift" in capsys.readouterr().err
    assert "// quizbot:" in out.read_text(encoding="utf-8")
    assert (
        main(["questions", "export", str(SHIPPED / "deep-learning.yaml"), "--format", "csv"]) == 0
    )
    assert capsys.readouterr().out.startswith("id,title,kind,question,choices,correct")
    assert main(["questions", "export", "no-such-deck"]) == 1
    assert "no deck 'no-such-deck'" in capsys.readouterr().err
