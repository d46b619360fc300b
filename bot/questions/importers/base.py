"""What every importer produces, and how drafts become a checked deck.

A format's parser turns its text into drafts (one per playable question, with the
line it starts on), skips (questions the bot cannot play: numeric, matching,
short answer, essay) and problems. `assemble` then writes the drafts as deck YAML
and runs the deck validator on it, so an imported deck obeys exactly the rules of
a hand-written one; each problem the validator finds is reported at the line of
the question in the imported file, not at a line of the generated YAML.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Any

from bot.core.model import Deck, QuestionKind
from bot.questions.importers.text import dump_deck, slug
from bot.questions.limits import MAX_QUESTIONS_PER_DECK
from bot.questions.loader import parse_deck as parse_yaml_deck
from bot.questions.problems import Problem
from bot.questions.schema import NAME_PATTERN
from bot.render.markup import scan


@dataclass
class Draft:
    """One playable question read from an import file, before checking."""

    line: int
    kind: QuestionKind
    prompt: str
    choices: list[tuple[str, bool]]
    explanation: str = ""
    title: str | None = None
    tags: tuple[str, ...] = ()
    difficulty: str | None = None
    qid: str | None = None  # when the file names it (our CSV, our GIFT comments)
    shuffle: bool | None = None  # None: decided from the choices
    source: str | None = None


@dataclass
class Parsed:
    """What a format's parser found: drafts, skipped questions and problems."""

    drafts: list[Draft] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    title: str | None = None


@dataclass
class ImportResult:
    """An import's outcome: the deck (None when there are problems) and what was left out."""

    deck: Deck | None
    problems: list[Problem]
    skipped: list[Problem]
    format: str
    yaml_text: str = ""

    @property
    def imported(self) -> int:
        """Questions in the deck."""
        return len(self.deck.questions) if self.deck else 0

    def summary(self) -> str:
        """ "12 imported, 2 skipped", and the problem count when there are any."""
        line = f"{self.imported} imported, {len(self.skipped)} skipped"
        if self.problems:
            count = len(self.problems)
            line += f", {count} problem{'' if count == 1 else 's'}"
        return line


class Skips:
    """Collects the skipped questions of one file, one line each."""

    def __init__(self, label: str, parsed: Parsed) -> None:
        self.label = label
        self.parsed = parsed

    def skip(self, line: int, kind: str, fmt: str) -> None:
        """A question the bot cannot play: named by its line and kind."""
        message = f"skipped: {kind} question ({fmt}): the bot plays single, multiple, true/false"
        self.parsed.skipped.append(Problem(self.label, line, 1, message))

    def problem(self, line: int, message: str, col: int = 1) -> None:
        """A mistake in the file."""
        self.parsed.problems.append(Problem(self.label, line, col, message))


_BARE_LETTER = re.compile(r"\(?[A-Za-z]\)?[.)]?")
_REFERS_TO_OTHERS = re.compile(
    r"\b(?:all|none|both|neither|any)\s+of\s+(?:the\s+)?(?:above|these|them|those|the\s+others)\b"
    r"|\b(?:all|none|both)\s+(?:the\s+)?above\b|\bnone\s+are\b",
    re.IGNORECASE,
)


def order_matters(choices: list[tuple[str, bool]]) -> bool:
    """Bare letters ("A".."D", pointing into the prompt) or "all/none of the above"."""
    texts = [text.strip() for text, _ in choices]
    if texts and all(_BARE_LETTER.fullmatch(t) for t in texts):
        return True
    return any(_REFERS_TO_OTHERS.search(t) for t in texts)


def escape_lone_dollars(text: str) -> str:
    """Escape every `$` that is not part of balanced math: a dollar sign in prose."""
    out: list[str] = []
    rest = text
    while True:
        _, unbalanced = scan(rest)
        if unbalanced is None:
            out.append(rest)
            return "".join(out)
        out.append(rest[: unbalanced.offset] + "\\$")
        rest = rest[unbalanced.offset + 1 :]


def _entry(draft: Draft, qid: str) -> dict[str, Any]:
    """One question as deck YAML."""
    entry: dict[str, Any] = {"id": qid}
    if draft.title:
        entry["title"] = draft.title
    entry["kind"] = draft.kind.value
    entry["prompt"] = draft.prompt
    entry["choices"] = [{"correct" if ok else "wrong": text} for text, ok in draft.choices]
    shuffle = draft.shuffle
    if shuffle is None and draft.kind is not QuestionKind.TRUE_FALSE:
        shuffle = not order_matters(draft.choices)
    if shuffle is False:
        entry["shuffle"] = False
    if draft.explanation:
        entry["explanation"] = draft.explanation
    if draft.tags:
        entry["tags"] = list(draft.tags)
    if draft.difficulty:
        entry["difficulty"] = draft.difficulty
    if draft.source:
        entry["source"] = draft.source
    return entry


def _ids(drafts: list[Draft], deck: str) -> list[str]:
    """An id per draft: the one given, else deck/slug-of-the-title, numbered when repeated."""
    taken = {d.qid for d in drafts if d.qid}
    out: list[str] = []
    for draft in drafts:
        if draft.qid:
            out.append(draft.qid)
            continue
        base = f"{deck}/{slug(draft.title or draft.prompt, 50) or 'question'}"
        qid, n = base, 1
        while qid in taken:
            n += 1
            qid = f"{base}-{n}"
        taken.add(qid)
        out.append(qid)
    return out


def assemble(parsed: Parsed, label: str, deck: str, fmt: str, strict: bool) -> ImportResult:
    """The drafts as a deck, checked by the deck validator; problems at the import's lines."""
    problems = list(parsed.problems)
    skipped = list(parsed.skipped)
    if strict:
        problems.extend(Problem(s.path, s.line, s.col, f"{s.message} (--strict)") for s in skipped)
        skipped = []
    if not NAME_PATTERN.fullmatch(deck):
        problems.append(
            Problem(label, 1, 1, f"deck name {deck!r}: use lowercase letters, digits, -")
        )
    if len(parsed.drafts) > MAX_QUESTIONS_PER_DECK:
        message = f"{len(parsed.drafts)} questions: a deck holds at most {MAX_QUESTIONS_PER_DECK}"
        problems.append(Problem(label, 1, 1, message + " (split the file)"))
    elif not parsed.drafts and not problems:
        problems.append(Problem(label, 1, 1, f"no question found: not a {fmt} file?"))
    if not parsed.drafts or len(parsed.drafts) > MAX_QUESTIONS_PER_DECK:
        return ImportResult(None, sorted(problems), skipped, fmt)
    entries = [_entry(d, q) for d, q in zip(parsed.drafts, _ids(parsed.drafts, deck), strict=True)]
    document = {
        "name": deck,
        "title": parsed.title or deck.replace("-", " ").capitalize(),
        "description": f"Imported from {label}",
        "questions": entries,
    }
    yaml_text = dump_deck(document, f"Imported from {label} ({fmt}).")
    draft = parse_yaml_deck(yaml_text, label, deck)
    starts = _question_starts(yaml_text)
    for problem in draft.problems:
        index = max(bisect.bisect_right(starts, problem.line) - 1, 0)
        line = parsed.drafts[index].line if starts else 1
        # "(first on line N)" would name a line of the generated YAML, not of the file.
        message = _YAML_LINE.sub("", problem.message)
        problems.append(Problem(label, line, 1, message))
    if problems:
        return ImportResult(None, sorted(problems), skipped, fmt)
    return ImportResult(draft.deck, [], skipped, fmt, yaml_text)


_YAML_LINE = re.compile(r" \(first on line \d+\)")


def _question_starts(yaml_text: str) -> list[int]:
    """1-based lines where each question of the generated YAML starts."""
    return [n for n, line in enumerate(yaml_text.splitlines(), 1) if line.startswith("  - id: ")]
