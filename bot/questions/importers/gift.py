"""GIFT, Moodle's text format for questions (https://docs.moodle.org/en/GIFT_format).

    // a comment
    ::Title:: Question text {=right ~wrong#feedback ####general feedback}

Single answer (`=` right, `~` wrong), multiple answers (`~%50%` weights, the
positive ones right), true/false (`{T}`, `{F}`), `::title::`, `\\` escapes of
`~ = # { } :`, and math as `$$...$$`, `\\(...\\)` or `\\[...\\]`. Numerical
(`{#...}`), matching (`->`), short answer (only `=`), essay (`{}`) and
description (no braces) items are skipped. The general feedback (`####`) becomes
the explanation, else the feedback of the right answers.

The exporter writes the id, tags and other deck fields in a `// quizbot:` comment
above each question, which Moodle ignores and the importer reads back.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from bot.core.model import Question, QuestionKind
from bot.questions.importers.base import Draft, Parsed, Skips
from bot.questions.importers.html_markdown import html_to_markdown, tex_delimiters_to_dollars
from bot.questions.importers.text import slug
from bot.render.markup import scan

FORMAT = "GIFT"
_SPECIAL = "~=#{}:"
# A backslash escapes only these (and itself before one of them is just a backslash).
_ESCAPED = tuple(_SPECIAL)
_META = "// quizbot:"
_TRUE_FALSE = re.compile(r"(TRUE|T|FALSE|F)\s*(?=#|$)")
_WEIGHT = re.compile(r"%(-?\d+(?:\.\d+)?)%")
_MARKER = re.compile(r"\[(html|moodle|plain|markdown)\]", re.IGNORECASE)


def find(text: str, needle: str, start: int = 0) -> int:
    """Offset of the first `needle` not escaped by a backslash, or -1."""
    i = start
    while i < len(text):
        if text[i] == "\\" and text[i + 1 : i + 2] in _ESCAPED:
            i += 2
            continue
        if text.startswith(needle, i):
            return i
        i += 1
    return -1


def unescape(text: str) -> str:
    """GIFT text as written: `\\~` is `~`, and a `\\n` not starting a word is a new line."""
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        nxt = text[i + 1] if i + 1 < len(text) else ""
        if ch == "\\" and nxt in _SPECIAL and nxt:
            out.append(nxt)
            i += 2
        elif ch == "\\" and nxt == "n" and not text[i + 2 : i + 3].isalpha():
            out.append("\n")  # `\nabla` is LaTeX, `\n` alone is a line break
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _blocks(text: str) -> list[tuple[list[int], list[str], dict[str, Any]]]:
    """Questions separated by blank lines: their line numbers, lines and `// quizbot:` data."""
    blocks: list[tuple[list[int], list[str], dict[str, Any]]] = []
    numbers: list[int] = []
    lines: list[str] = []
    meta: dict[str, Any] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if stripped.startswith(_META):
            try:
                loaded = json.loads(stripped[len(_META) :])
            except ValueError:
                loaded = None
            meta = loaded if isinstance(loaded, dict) else {}
            continue
        if stripped.startswith("//"):
            continue
        if not stripped:
            if lines:
                blocks.append((numbers, lines, meta))
                numbers, lines, meta = [], [], {}
            continue
        numbers.append(number)
        lines.append("" if stripped == "\\n" else raw.rstrip())
    if lines:
        blocks.append((numbers, lines, meta))
    return blocks


def parse(text: str, label: str) -> Parsed:
    """Every question of a GIFT file."""
    parsed = Parsed()
    out = Skips(label, parsed)
    category: str | None = None
    for numbers, lines, meta in _blocks(text):
        joined = "\n".join(lines)
        if joined.lstrip().startswith("$CATEGORY:"):
            category = slug(joined.split(":", 1)[1].strip().split("/")[-1]) or None
            continue
        draft = _question(joined, numbers, out)
        if draft is None:
            continue
        _apply_meta(draft, meta, category)
        parsed.drafts.append(draft)
    return parsed


def _line_at(numbers: list[int], joined: str, offset: int) -> int:
    """The file line of an offset in a block's joined text."""
    return numbers[min(joined.count("\n", 0, offset), len(numbers) - 1)]


def _question(joined: str, numbers: list[int], out: Skips) -> Draft | None:
    """One block as a draft, or None (skipped, or a problem noted)."""
    line = numbers[0]
    title: str | None = None
    body = joined.lstrip()
    if body.startswith("::"):
        end = find(body, "::", 2)
        if end < 0:
            out.problem(line, "a title opened with :: is never closed with ::")
            return None
        title = " ".join(unescape(body[2:end]).split()) or None
        body = body[end + 2 :]
        joined = joined[len(joined) - len(body) :]
    start = find(joined, "{")
    if start < 0:
        out.skip(line, "description", FORMAT)
        return None
    close = find(joined, "}", start + 1)
    if close < 0:
        out.problem(_line_at(numbers, joined, start), "the answer block { is never closed with }")
        return None
    before, answers, after = joined[:start], joined[start + 1 : close], joined[close + 1 :]
    head = before.strip()
    marker = _MARKER.match(head)
    html = marker is not None and marker.group(1).lower() == "html"
    prompt_source = head[marker.end() :] if marker else head
    if after.strip():  # "missing word": the answer stands for a blank inside the text
        prompt_source = f"{prompt_source.rstrip()} _____ {after.strip()}"
    prompt = _text(prompt_source, html)
    return _answers(answers, prompt, title, _line_at(numbers, joined, start), html, out, line)


def _text(raw: str, html: bool = False) -> str:
    """GIFT text as the project's Markdown: escapes undone, HTML converted, math as `$`."""
    text = unescape(raw).strip()
    if html:
        return html_to_markdown(text)
    return tex_delimiters_to_dollars(text)


def _split_answers(body: str) -> list[tuple[str, str]]:
    """(marker, text) for each `=` or `~` answer of an answer block."""
    tokens: list[tuple[str, str]] = []
    i, start, marker = 0, -1, ""
    while i < len(body):
        ch = body[i]
        if ch == "\\" and body[i + 1 : i + 2] in _ESCAPED:
            i += 2
            continue
        if ch in "=~":
            if start >= 0:
                tokens.append((marker, body[start:i]))
            marker, start = ch, i + 1
        i += 1
    if start >= 0:
        tokens.append((marker, body[start:]))
    return tokens


def _answers(
    body: str, prompt: str, title: str | None, line: int, html: bool, out: Skips, first: int
) -> Draft | None:
    """The answer block: kind, choices and explanation."""
    general_at = find(body, "####")
    general = _text(body[general_at + 4 :], html) if general_at >= 0 else ""
    body = body[:general_at] if general_at >= 0 else body
    stripped = body.strip()
    if not stripped:
        out.skip(first, "essay", FORMAT)
        return None
    if stripped.startswith("#"):
        out.skip(first, "numerical", FORMAT)
        return None
    true_false = _TRUE_FALSE.match(stripped)
    if true_false:
        truth = true_false.group(1).startswith("T")
        feedback = [_text(f, html) for f in _split_unescaped(stripped[true_false.end() :], "#")]
        right = feedback[2] if len(feedback) > 2 else (feedback[1] if len(feedback) > 1 else "")
        choices = [("True", truth), ("False", not truth)]
        return Draft(first, QuestionKind.TRUE_FALSE, prompt, choices, general or right, title)
    tokens = _split_answers(body)
    if not tokens:
        out.problem(line, "an answer block holds answers starting with = (right) or ~ (wrong)")
        return None
    if any(find(text, "->") >= 0 for _, text in tokens):
        out.skip(first, "matching", FORMAT)
        return None
    if all(marker == "=" for marker, _ in tokens):
        out.skip(first, "short answer", FORMAT)
        return None
    return _choice_draft(tokens, prompt, title, general, html, first)


def _split_unescaped(text: str, separator: str) -> list[str]:
    """Text cut at each unescaped separator."""
    parts: list[str] = []
    start = 0
    while True:
        at = find(text, separator, start)
        if at < 0:
            parts.append(text[start:])
            return parts
        parts.append(text[start:at])
        start = at + len(separator)


def _choice_draft(
    tokens: list[tuple[str, str]],
    prompt: str,
    title: str | None,
    general: str,
    html: bool,
    line: int,
) -> Draft:
    """A single- or multiple-answer question from its `=`/`~` answers."""
    has_right = any(marker == "=" for marker, _ in tokens)
    choices: list[tuple[str, bool]] = []
    feedback: list[str] = []
    for marker, raw in tokens:
        at = find(raw, "#")
        text, note = (raw[:at], raw[at + 1 :]) if at >= 0 else (raw, "")
        weight_match = _WEIGHT.match(text.strip())
        weight = float(weight_match.group(1)) if weight_match else None
        if weight_match:
            text = text.strip()[weight_match.end() :]
        # With a `=` answer the question is single-answer and `~%50%` is partial credit,
        # which the bot does not give; without one, the positive weights are the right set.
        right = marker == "=" or (weight == 100 if has_right else (weight or 0) > 0)
        choices.append((_text(text, html), right))
        if right and note.strip():
            feedback.append(_text(note, html))
    correct = sum(ok for _, ok in choices)
    kind = QuestionKind.MULTIPLE if correct > 1 or not has_right else QuestionKind.SINGLE
    return Draft(line, kind, prompt, choices, general or " ".join(feedback), title)


def _apply_meta(draft: Draft, meta: dict[str, Any], category: str | None) -> None:
    """The fields our exporter keeps in a `// quizbot:` comment; a category becomes a tag."""
    if isinstance(meta.get("id"), str):
        draft.qid = meta["id"]
    tags = meta.get("tags")
    if isinstance(tags, list):
        draft.tags = tuple(str(t) for t in tags)
    elif category:
        draft.tags = (category,)
    if isinstance(meta.get("difficulty"), str):
        draft.difficulty = meta["difficulty"]
    if isinstance(meta.get("shuffle"), bool):
        draft.shuffle = meta["shuffle"]
    if isinstance(meta.get("source"), str):
        draft.source = meta["source"]


def escape(text: str) -> str:
    """Project Markdown as GIFT text: specials escaped, math as `\\(...\\)` or `$$...$$`."""
    spans, _ = scan(text)
    out: list[str] = []
    for span in spans:
        body = re.sub(r"([~=#{}:])", r"\\\1", span.text)
        if span.math:
            out.append(f"$${body}$$" if span.display else f"\\({body}\\)")
        else:
            out.append(body)
    lines = "".join(out).split("\n")
    return "\n".join(line if line.strip() else "\\n" for line in lines)


def export(questions: Sequence[Question]) -> str:
    """Questions as GIFT, each with a `// quizbot:` comment keeping id, tags and the rest."""
    parts: list[str] = []
    for q in questions:
        meta: dict[str, Any] = {"id": q.id}
        if q.tags:
            meta["tags"] = list(q.tags)
        if q.difficulty:
            meta["difficulty"] = q.difficulty
        if not q.shuffle:
            meta["shuffle"] = False
        if q.source:
            meta["source"] = q.source
        head = f"{_META} {json.dumps(meta, ensure_ascii=False)}\n"
        title = f"::{escape(q.title)}::" if q.title else ""
        explanation = f"\n####{escape(q.explanation)}" if q.explanation else ""
        if q.kind is QuestionKind.TRUE_FALSE:
            answer = "T" if q.choices[0].correct else "F"
            parts.append(f"{head}{title}[markdown]{escape(q.prompt)} {{{answer}{explanation}\n}}")
            continue
        right = len(q.correct_indices)
        lines = []
        for choice in q.choices:
            if q.kind is QuestionKind.SINGLE:
                marker = "=" if choice.correct else "~"
            else:
                marker = f"~%{100 / right:.5g}%" if choice.correct else "~%-100%"
            lines.append(f"\t{marker}{escape(choice.text)}")
        body = "\n".join(lines)
        parts.append(f"{head}{title}[markdown]{escape(q.prompt)} {{\n{body}{explanation}\n}}")
    return "\n\n".join(parts) + "\n"
