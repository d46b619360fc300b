"""Reading deck files: bounded, safe YAML with line numbers, then every problem collected.

Files come from people, so a hostile or broken one must cost little: the size is
capped before parsing, binary data is refused, aliases (the "billion laughs"
bomb) and deep nesting stop the composer, and nothing is ever constructed from
a tag.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.core.bank import QuestionBank
from bot.core.model import Deck
from bot.questions.limits import MAX_FILE_BYTES
from bot.questions.node_reader import ALIAS_TAG
from bot.questions.problems import Problem, QuestionFileError
from bot.questions.schema import DeckDraft, build_deck
from bot.render.markup import line_col

MAX_ALIAS_PROBLEMS = 20
# A deck is four levels deep (deck, questions, question, choices, choice).
MAX_DEPTH = 20
DECK_SUFFIXES = (".yaml", ".yml")


@dataclass
class LoadResult:
    """Decks that loaded without problems, and every problem found in the others."""

    decks: list[Deck] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # Worth a look, but the deck loads (an explanation naming a shuffled position).
    warnings: list[Problem] = field(default_factory=list)

    @property
    def question_count(self) -> int:
        """Questions in the decks that loaded."""
        return sum(len(d.questions) for d in self.decks)


class _Refused(Exception):
    """Raised inside the composer to stop at a construct deck files may not use."""

    def __init__(self, mark: yaml.Mark | None, message: str) -> None:
        super().__init__(message)
        self.mark = mark
        self.message = message


class _DeckYamlLoader(yaml.SafeLoader):
    """PyYAML's safe loader used for composing only, refusing aliases and deep nesting."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self.alias_marks: list[yaml.Mark] = []

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        """Compose one node; an alias becomes a placeholder, nesting too deep stops."""
        if self.check_event(yaml.AliasEvent):
            event = self.get_event()  # type: ignore[no-untyped-call]
            # Aliases are how a few lines expand to gigabytes; a deck never needs them.
            # Nothing is expanded: a placeholder stands in, so the rest is still checked.
            self.alias_marks.append(event.start_mark)
            return yaml.ScalarNode(ALIAS_TAG, "", event.start_mark, event.end_mark)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(
                    self.peek_event().start_mark,  # type: ignore[no-untyped-call]
                    f"nested more than {MAX_DEPTH} levels deep: not a deck",
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def read_deck_text(path: Path, label: str) -> tuple[str | None, list[Problem]]:
    """A deck file's text, or a problem if it is too big, binary or not UTF-8."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            message = f"file is {size:,} bytes: a deck file may be at most {MAX_FILE_BYTES:,}"
            return None, [Problem(label, 1, 1, message)]
        with path.open("rb") as handle:
            # Read one byte past the cap: a file growing under us is still bounded.
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise QuestionFileError(f"{label}: cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_FILE_BYTES:
        return None, [Problem(label, 1, 1, f"a deck file may be at most {MAX_FILE_BYTES:,} bytes")]
    return decode_deck_bytes(raw, label)


def decode_deck_bytes(raw: bytes, label: str) -> tuple[str | None, list[Problem]]:
    """UTF-8 text of a deck file, or a problem at the first byte that is not text."""
    nul = raw.find(b"\0")
    if nul >= 0:
        line = raw.count(b"\n", 0, nul) + 1
        col = nul - (raw.rfind(b"\n", 0, nul) + 1) + 1
        return None, [Problem(label, line, col, "binary data (a NUL byte): not a YAML deck")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        return None, [Problem(label, line, col, "not UTF-8 text: save the file as UTF-8")]
    return text, []


def parse_deck(text: str, label: str, fallback_name: str) -> DeckDraft:
    """Check one deck file's text: YAML syntax first, then the deck format."""
    try:
        loader = _DeckYamlLoader(text)
    except yaml.reader.ReaderError as exc:
        # PyYAML checks the whole text for unprintable characters before parsing.
        line, col = line_col(text, exc.position)
        message = f"character {exc.character!r} is not allowed in YAML: not a deck file"
        return DeckDraft(None, [Problem(label, line + 1, col + 1, message)])
    try:
        root = loader.get_single_node()
    except _Refused as exc:
        return DeckDraft(None, [_problem_at(label, exc.mark, exc.message)])
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = " ".join(str(exc.problem or exc.context or "invalid YAML").split())
        return DeckDraft(None, [_problem_at(label, mark, f"YAML syntax: {message}")])
    except yaml.YAMLError as exc:
        return DeckDraft(None, [Problem(label, 1, 1, f"YAML: {' '.join(str(exc).split())}")])
    except RecursionError:
        return DeckDraft(None, [Problem(label, 1, 1, "nested too deep: not a deck")])
    finally:
        loader.dispose()
    draft = build_deck(root, label, fallback_name)
    if loader.alias_marks:
        # One problem per line with aliases, so a bomb of thousands stays a short report.
        first_on_line = {m.line: m for m in reversed(loader.alias_marks)}
        aliases = [
            _problem_at(label, m, "aliases (*name) are not allowed in a deck file")
            for m in sorted(first_on_line.values(), key=lambda m: m.line)[:MAX_ALIAS_PROBLEMS]
        ]
        draft.problems = sorted([*aliases, *draft.problems], key=lambda p: (p.line, p.col))
        draft.deck = None
    return draft


def _problem_at(label: str, mark: yaml.Mark | None, message: str) -> Problem:
    """A problem at a YAML mark (1-based)."""
    if mark is None:
        return Problem(label, 1, 1, message)
    return Problem(label, mark.line + 1, mark.column + 1, message)


def deck_files(paths: Sequence[Path] | Path) -> list[Path]:
    """The deck files named: files as given, directories expanded to their *.yaml and *.yml."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [Path(paths)]
    files: list[Path] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            files.extend(
                sorted(p for p in path.iterdir() if p.suffix in DECK_SUFFIXES and p.is_file())
            )
        elif path.is_file():
            files.append(path)
        else:
            raise QuestionFileError(f"{path}: no such file or directory")
    return list(dict.fromkeys(files))


def load_decks(paths: Sequence[Path] | Path) -> LoadResult:
    """Load deck files and directories; decks with any problem are left out of `decks`."""
    result = LoadResult()
    names: dict[str, str] = {}
    ids: dict[str, str] = {}
    for file in deck_files(paths):
        label = str(file)
        text, problems = read_deck_text(file, label)
        if text is None:
            result.problems.extend(problems)
            continue
        draft = parse_deck(text, label, file.stem)
        result.warnings.extend(draft.warnings)
        problems = list(draft.problems)
        # Ids must be unique across decks: the store keys questions by id alone.
        for qid, (line, col) in draft.id_marks.items():
            if qid in ids:
                problems.append(
                    Problem(label, line, col, f"duplicate id {qid!r} (also in {ids[qid]})")
                )
        if draft.deck is not None and draft.deck.name in names:
            line, col = draft.name_mark
            problems.append(
                Problem(
                    label,
                    line,
                    col,
                    f"deck name {draft.deck.name!r} is also used by {names[draft.deck.name]}",
                )
            )
        result.problems.extend(sorted(problems, key=lambda p: (p.line, p.col)))
        if draft.deck is None or problems:
            continue
        result.decks.append(draft.deck)
        names[draft.deck.name] = label
        for qid, (line, _) in draft.id_marks.items():
            ids[qid] = f"{label}:{line}"
    return result


def load_bank(path: Path) -> tuple[QuestionBank, list[Problem]]:
    """The question bank at bot start: decks with problems are skipped, the others load.

    The caller logs one error per skipped file (`skipped_files` names them).
    """
    result = load_decks(path)
    return QuestionBank(result.decks), result.problems


def skipped_files(problems: Sequence[Problem]) -> dict[str, Problem]:
    """Each file that has problems, with its first problem: what to log at bot start."""
    first: dict[str, Problem] = {}
    for problem in problems:
        first.setdefault(problem.path, problem)
    return first
