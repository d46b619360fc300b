"""Importing decks from other quiz formats, and exporting them.

The one entry point for a file someone hands over (command line or chat upload):

    result = parse_deck(data, "quiz.gift")          # format from the name and content
    result.deck, result.problems, result.skipped    # problems: every one, with its line
    result.summary()                                # "12 imported, 2 skipped"
    export_deck(result.deck.questions, "gift")      # yaml, gift or csv text

Nothing here raises for a bad file: every mistake is a Problem with its line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import PurePath

from bot.core.model import Deck, Question
from bot.questions.importers import aiken, csv_format, gift, moodle, opentdb
from bot.questions.importers.base import ImportResult, Parsed, assemble
from bot.questions.importers.text import import_text, slug
from bot.questions.importers.yaml_format import dump_questions
from bot.questions.limits import MAX_FILE_BYTES
from bot.questions.loader import decode_deck_bytes
from bot.questions.loader import parse_deck as parse_yaml_deck
from bot.questions.problems import Problem, QuestionFileError

IMPORT_FORMATS = ("auto", "yaml", "text", "gift", "moodle-xml", "aiken", "opentdb", "csv")
EXPORT_FORMATS = ("yaml", "gift", "csv")
_PARSERS: dict[str, Callable[[str, str], Parsed]] = {
    "gift": gift.parse,
    "moodle-xml": moodle.parse,
    "aiken": aiken.parse,
    "opentdb": opentdb.parse,
    "csv": csv_format.parse,
}
_SUFFIXES = {
    ".yaml": "yaml",
    ".yml": "yaml",
    ".gift": "gift",
    ".xml": "moodle-xml",
    ".json": "opentdb",
    ".csv": "csv",
    ".aiken": "aiken",
}

__all__ = [
    "EXPORT_FORMATS",
    "IMPORT_FORMATS",
    "ImportResult",
    "detect_format",
    "export_deck",
    "parse_deck",
]


def detect_format(text: str, filename: str) -> str | None:
    """The format of a file from its content, else its extension; None if neither tells."""
    head = text.lstrip()[:2000]
    if head.startswith("<?xml") or head.startswith("<quiz"):
        return "moodle-xml"
    if head.startswith("{") and '"results"' in text[:100_000]:
        return "opentdb"
    if "☆" in head and ("☒" in text or "☐" in text):
        return "text"
    if re.search(r"^\s*questions\s*:", text, re.MULTILINE) and re.search(r"^title\s*:", text, re.M):
        return "yaml"
    if re.search(r"^ANSWER:\s*[A-Z]\s*$", text, re.MULTILINE):
        return "aiken"
    first = text.split("\n", 1)[0].lower()
    if "question" in first and ("," in first or ";" in first) and first[:2] not in ("//", "::"):
        return "csv"
    if re.search(r"(?<!\\)\{\s*(?:[=~#}]|T\b|F\b|TRUE\b|FALSE\b)", text):
        return "gift"
    return _SUFFIXES.get(PurePath(filename).suffix.lower())


def parse_deck(
    data: bytes,
    filename: str,
    fmt: str = "auto",
    deck_name: str | None = None,
    strict: bool = False,
) -> ImportResult:
    """A deck from an import file's bytes: every problem with its line, skips listed.

    `filename` labels the problems and gives the default deck name; `strict`
    makes questions the bot cannot play errors instead of skips.
    """
    label = filename or "upload"
    deck = deck_name or slug(PurePath(filename).stem) or "imported"
    if fmt not in IMPORT_FORMATS:
        message = f"format {fmt!r}: one of {', '.join(IMPORT_FORMATS)}"
        return ImportResult(None, [Problem(label, 1, 1, message)], [], fmt)
    text, problems = _text(data, label)
    if text is None:
        return ImportResult(None, problems, [], fmt)
    if fmt == "auto":
        detected = detect_format(text, filename)
        if detected is None:
            message = (
                "cannot tell the format: name it (text, gift, moodle-xml, aiken, opentdb, csv)"
            )
            return ImportResult(None, [Problem(label, 1, 1, message)], [], fmt)
        fmt = detected
    try:
        if fmt == "yaml":
            return _yaml(text, label, deck)
        if fmt == "text":
            return _text_page(text, label, PurePath(label).name, deck, strict)
        return assemble(_PARSERS[fmt](text, label), label, deck, fmt, strict)
    except RecursionError:
        return ImportResult(
            None, [Problem(label, 1, 1, "nested too deep: not a quiz file")], [], fmt
        )


def _text(data: bytes, label: str) -> tuple[str | None, list[Problem]]:
    """An import file's text, or the one problem that makes it unreadable."""
    if len(data) > MAX_FILE_BYTES:
        message = f"file is {len(data):,} bytes: an import may be at most {MAX_FILE_BYTES:,}"
        return None, [Problem(label, 1, 1, message)]
    if not data.strip():
        return None, [Problem(label, 1, 1, "empty file: no questions in it")]
    text, problems = decode_deck_bytes(data, label)
    return text, [
        Problem(p.path, p.line, p.col, p.message.replace("YAML deck", "quiz file"))
        for p in problems
    ]


def _yaml(text: str, label: str, deck: str) -> ImportResult:
    """A deck file in the project's own format, checked as `questions validate` does."""
    draft = parse_yaml_deck(text, label, deck)
    if draft.problems or draft.deck is None:
        return ImportResult(None, draft.problems, [], "yaml")
    return ImportResult(draft.deck, [], [], "yaml", text)


def _text_page(text: str, label: str, name: str, deck: str, strict: bool) -> ImportResult:
    """A quiz page copied as text; questions cut off at the page's end are skipped."""
    try:
        page = import_text(text, name, deck)
    except QuestionFileError as exc:
        where, _, message = str(exc).partition(": ")
        line = where.rsplit(":", 1)[-1]
        return ImportResult(
            None, [Problem(label, int(line) if line.isdigit() else 1, 1, message)], [], "text"
        )
    skipped = [
        Problem(label, left.line, 1, f"skipped: question {left.title!r}: {left.reason}")
        for left in page.left_out
    ]
    if strict and skipped:
        return ImportResult(
            None,
            [Problem(s.path, s.line, 1, f"{s.message} (--strict)") for s in skipped],
            [],
            "text",
        )
    draft = parse_yaml_deck(page.deck_yaml, label, deck)
    return ImportResult(draft.deck, draft.problems, skipped, "text", page.deck_yaml)


def export_deck(questions: Sequence[Question], fmt: str, deck: Deck | None = None) -> str:
    """Questions as YAML, GIFT or CSV text (the deck's name and title go into YAML)."""
    if fmt == "gift":
        return gift.export(questions)
    if fmt == "csv":
        return csv_format.export(questions)
    if fmt == "yaml":
        return dump_questions(questions, deck)
    raise QuestionFileError(f"export format {fmt!r}: one of {', '.join(EXPORT_FORMATS)}")
