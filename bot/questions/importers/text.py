"""Import of quiz pages copied as text (☆ title, ☒ correct, ☐ wrong) into deck YAML.

Learning platforms export quizzes like this, with page numbers, "Clear selection"
links and topic tags scattered between the lines. The importer keeps what the
page says and invents nothing: a question without choices (cut off at the end of
the page) is left out and reported, never completed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.core.model import QuestionKind
from bot.questions.limits import MAX_FILE_BYTES, MAX_TITLE_LENGTH
from bot.questions.loader import parse_deck
from bot.questions.problems import QuestionFileError
from bot.questions.schema import NAME_PATTERN
from bot.render.markup import scan

MAX_INPUT_BYTES = MAX_FILE_BYTES  # a quiz page is tens of kilobytes

_STAR = "☆"
_CHOICE = re.compile(r"(?:[-*+]\s+)?([☒☐])\s*(.*)")
_PAGE_NUMBER = re.compile(r"\d{1,4}")
_CLEAR = re.compile(r"\[\s*clear selection\s*\]\(\s*#?\s*\)", re.IGNORECASE)
_SINGLE_HINT = re.compile(r"pick one of the choices\.?", re.IGNORECASE)
_MULTIPLE_HINT = re.compile(
    r"\(?(?:pick the correct choices|check all that apply)\.?\)?\.?", re.IGNORECASE
)
_MULTIPLE_IN_PROMPT = re.compile(r"check all that apply", re.IGNORECASE)
# A topic tag is set between dashes ("- Deep Learning -"), often broken over two lines.
_TAG_ONE_LINE = re.compile(r"-\s+([A-Za-z][\w&/+ ]{0,40}?)\s+-")
_TAG_START = re.compile(r"-\s+([A-Za-z][\w&/+]*(?: [A-Za-z][\w&/+]*){0,2})")
_TAG_END = re.compile(r"([A-Za-z][\w&/+]*(?: [A-Za-z][\w&/+]*){0,2})\s+-")
# LaTeX written outside $...$: a macro with its {arguments}, or a name with scripts
# (x_{cat}, x_i); "snake_case" is prose, so a bare script is one character only.
_SCRIPT = r"[_^](?:\{[^{}$`]*\}|[A-Za-z0-9](?![A-Za-z0-9]))"
_BARE_LATEX = re.compile(
    rf"`[^`]*`|(?:\\[A-Za-z]+(?:\{{[^{{}}$`]*\}})*|[A-Za-z0-9]+(?={_SCRIPT}))(?:{_SCRIPT})*"
)


@dataclass
class LeftOut:
    """A question of the page that is not in the deck, and why."""

    line: int
    title: str
    reason: str


@dataclass
class ImportResult:
    """The deck YAML and what was left out of it."""

    deck_yaml: str
    imported: int
    left_out: list[LeftOut] = field(default_factory=list)


@dataclass
class _Block:
    """The lines of one question on the page, from its ☆ title to the next."""

    line: int
    title: str
    prompt: list[str] = field(default_factory=list)
    choices: list[list[Any]] = field(default_factory=list)  # [text, correct, line]
    tags: list[str] = field(default_factory=list)
    hint: QuestionKind | None = None


def slug(text: str, limit: int = 60) -> str:
    """A lowercase ASCII slug of text ("Max pooling: backprop" -> "max-pooling-backprop")."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:limit].strip("-")


def wrap_bare_latex(line: str) -> str:
    """Put `$...$` around LaTeX written outside math, and escape a `$` that opens nothing."""
    spans, unbalanced = scan(line)
    if unbalanced is not None:
        # A dollar that opens no math is a dollar sign: escape it rather than guess.
        head, tail = line[: unbalanced.offset], line[unbalanced.offset + 1 :]
        return wrap_bare_latex(head) + "\\$" + wrap_bare_latex(tail)
    out: list[str] = []
    for span in spans:
        if span.math:
            out.append(line[span.start : span.start + len(span.text) + 2 * _delim(span.display)])
        else:
            out.append(_BARE_LATEX.sub(_wrap_match, span.text))
    return "".join(out)


def _delim(display: bool) -> int:
    """Length of a math delimiter."""
    return 2 if display else 1


def _wrap_match(match: re.Match[str]) -> str:
    """Wrap one bare LaTeX match in dollars; code spans stay as they are."""
    text = match.group(0)
    return text if text.startswith("`") else f"${text}$"


def _blocks(lines: list[str]) -> list[_Block]:
    """The page cut into questions, noise dropped."""
    blocks: list[_Block] = []
    block: _Block | None = None
    pending_tag: tuple[str, str] | None = None  # (first half, line as written)
    for number, raw in enumerate(lines, start=1):
        text = raw.strip()
        if not text or _PAGE_NUMBER.fullmatch(text) or _CLEAR.fullmatch(text):
            continue
        if text.startswith(_STAR):
            if block is not None and pending_tag is not None:
                block.prompt.append(pending_tag[1])
            pending_tag = None
            title = " ".join(text[len(_STAR) :].split())[:MAX_TITLE_LENGTH]
            block = _Block(number, title)
            blocks.append(block)
            continue
        if block is None:
            continue  # page text before the first question
        if pending_tag is not None:
            end = _TAG_END.fullmatch(text)
            first, written = pending_tag
            pending_tag = None
            if end:
                block.tags.append(f"{first} {end.group(1)}")
                continue
            block.prompt.append(written)
            if not end and _TAG_START.fullmatch(text):
                block.prompt.append(text)
                continue
        start = _TAG_START.fullmatch(text)
        if start and not block.choices:
            # "- Deep" might be the first half of a tag: the next line decides.
            pending_tag = (start.group(1), text)
            continue
        _add_line(block, text, number)
    if block is not None and pending_tag is not None:
        block.prompt.append(pending_tag[1])
    return blocks


def _add_line(block: _Block, text: str, number: int) -> None:
    """File one line of a question under prompt, choice, tag or kind hint."""
    tag = _TAG_ONE_LINE.fullmatch(text)
    if tag:
        block.tags.append(tag.group(1))
        return
    if _SINGLE_HINT.fullmatch(text):
        block.hint = QuestionKind.SINGLE
        return
    if _MULTIPLE_HINT.fullmatch(text):
        block.hint = QuestionKind.MULTIPLE
        return
    choice = _CHOICE.fullmatch(text)
    if choice:
        block.choices.append([choice.group(2).strip(), choice.group(1) == "☒", number])
        return
    if block.choices:
        # A wrapped choice: the page broke a long option over lines.
        block.choices[-1][0] = f"{block.choices[-1][0]} {text}".strip()
        return
    block.prompt.append(text)


def _kind(block: _Block, prompt: str) -> QuestionKind:
    """The kind the page states, or the obvious one."""
    texts = sorted(str(c[0]).lower() for c in block.choices)
    if texts == ["false", "true"]:
        return QuestionKind.TRUE_FALSE
    if block.hint is QuestionKind.MULTIPLE or _MULTIPLE_IN_PROMPT.search(prompt):
        return QuestionKind.MULTIPLE
    if block.hint is QuestionKind.SINGLE:
        return QuestionKind.SINGLE
    return (
        QuestionKind.MULTIPLE if sum(bool(c[1]) for c in block.choices) > 1 else QuestionKind.SINGLE
    )


def _question(block: _Block, qid: str, source: str) -> dict[str, Any]:
    """The YAML mapping of one question."""
    prompt = "\n".join(wrap_bare_latex(line) for line in block.prompt)
    kind = _kind(block, prompt)
    entry: dict[str, Any] = {"id": qid}
    if block.title:
        entry["title"] = block.title
    entry["kind"] = kind.value
    entry["prompt"] = prompt
    if kind is QuestionKind.TRUE_FALSE:
        correct = [str(c[0]).lower() for c in block.choices if c[1]]
        entry["answer"] = correct == ["true"] if len(correct) == 1 else None
    else:
        entry["choices"] = [
            {"correct" if c[1] else "wrong": wrap_bare_latex(str(c[0]))} for c in block.choices
        ]
    if block.tags:
        entry["tags"] = [slug(t) or t for t in dict.fromkeys(block.tags)]
    entry["source"] = f"{source}:{block.line}"
    return entry


class _DeckDumper(yaml.SafeDumper):
    """Block style for multi-line text, and lists indented under their key."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        """Indent sequences inside mappings, as people write them."""
        super().increase_indent(flow, False)


def _represent_text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    """Multi-line text as a `|` block, so the file reads like the page."""
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_DeckDumper.add_representer(str, _represent_text)


def dump_deck(deck: dict[str, Any], header: str = "") -> str:
    """A deck mapping as YAML text, with an optional comment header."""
    body = yaml.dump(deck, Dumper=_DeckDumper, sort_keys=False, allow_unicode=True, width=100)
    comment = "".join(f"# {line}\n".replace("# \n", "#\n") for line in header.splitlines())
    return comment + body


def import_text(text: str, source: str, deck: str) -> ImportResult:
    """Turn a quiz page copied as text into deck YAML; QuestionFileError if nothing is in it."""
    if not NAME_PATTERN.fullmatch(deck):
        raise QuestionFileError(f"--deck {deck!r}: use lowercase letters, digits and -")
    blocks = _blocks(text.splitlines())
    if not blocks:
        raise QuestionFileError(f"{source}:1: no question found (a question starts with ☆)")
    questions: list[dict[str, Any]] = []
    left_out: list[LeftOut] = []
    ids: set[str] = set()
    for block in blocks:
        if not block.choices:
            left_out.append(
                LeftOut(block.line, block.title, "no choices: the page is cut off here")
            )
            continue
        base = f"{deck}/{slug(block.title) or 'question'}"
        qid, n = base, 1
        while qid in ids:  # the same title twice: number the later ones, in page order
            n += 1
            qid = f"{base}-{n}"
        entry = _question(block, qid, source)
        reason = _first_problem(entry, deck)
        if reason:
            left_out.append(LeftOut(block.line, block.title, reason))
            continue
        ids.add(qid)
        questions.append(entry)
    if not questions:
        first = left_out[0]
        raise QuestionFileError(f"{source}:{first.line}: nothing to import: {first.reason}")
    header = (
        f"Imported from {source} by `quizbot questions import text`.\n"
        "Ids come from the titles: re-importing the page keeps them."
    )
    document = {
        "name": deck,
        "title": deck.replace("-", " ").capitalize(),
        "description": f"Imported from {source}",
        "questions": questions,
    }
    return ImportResult(dump_deck(document, header), len(questions), left_out)


def _first_problem(entry: dict[str, Any], deck: str) -> str | None:
    """Why a question would not pass validation, if it would not."""
    document = {"name": deck, "title": deck, "questions": [entry]}
    draft = parse_deck(dump_deck(document), "import", deck)
    return draft.problems[0].message if draft.problems else None


def read_import_input(path: Path) -> str:
    """The text of an import input, bounded and checked to be text."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_INPUT_BYTES + 1)
    except OSError as exc:
        raise QuestionFileError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_INPUT_BYTES:
        raise QuestionFileError(f"{path}: over {MAX_INPUT_BYTES:,} bytes: not a quiz page")
    if b"\0" in raw:
        raise QuestionFileError(f"{path}: binary data (a NUL byte): not a quiz page as text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise QuestionFileError(f"{path}:{line}: not UTF-8 text") from None
