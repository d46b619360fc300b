"""Moodle XML (https://docs.moodle.org/en/Moodle_XML_format): multichoice and truefalse.

Parsed with defusedxml: a DTD, entity declarations (the "billion laughs" bomb)
and external entities are refused before anything is expanded. Other question
types (shortanswer, numerical, matching, essay, ...) are skipped; `category`
entries name the tag of the questions after them.
"""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml  # type: ignore[import-untyped]
from defusedxml.ElementTree import DefusedXMLParser  # type: ignore[import-untyped]

from bot.core.model import QuestionKind
from bot.questions.importers.base import Draft, Parsed, Skips
from bot.questions.importers.html_markdown import html_to_markdown, tex_delimiters_to_dollars
from bot.questions.importers.text import slug

FORMAT = "Moodle XML"
MAX_DEPTH = 20  # a quiz is five levels deep (quiz, question, answer, feedback, text)
_NOT_A_QUESTION = ("category",)


class _LineParser(DefusedXMLParser):  # type: ignore[misc]
    """defusedxml's parser, noting the line each element starts on and refusing deep nesting."""

    def __init__(self) -> None:
        super().__init__(forbid_dtd=True, forbid_entities=True, forbid_external=True)
        self.lines: dict[int, int] = {}
        self.depth = 0

    def _start(self, tag: str, attr_list: Any) -> Element:
        element: Element = super()._start(tag, attr_list)
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _TooDeep(self.parser.CurrentLineNumber)
        self.lines[id(element)] = self.parser.CurrentLineNumber
        return element

    def _end(self, tag: str) -> Element:
        self.depth -= 1
        element: Element = super()._end(tag)
        return element


class _TooDeep(Exception):
    """Nesting beyond what a quiz file has."""

    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


def parse(text: str, label: str) -> Parsed:
    """Every question of a Moodle XML quiz."""
    parsed = Parsed()
    out = Skips(label, parsed)
    parser = _LineParser()
    try:
        parser.feed(text)
        root = parser.close()
    except ParseError as exc:
        line, col = exc.position
        out.problem(line, f"XML syntax: {str(exc).split(':')[0]}", col + 1)
        return parsed
    except defusedxml.DTDForbidden:
        out.problem(1, "a DTD (<!DOCTYPE ...>) is not allowed in a Moodle XML import")
        return parsed
    except (defusedxml.EntitiesForbidden, defusedxml.ExternalReferenceForbidden):
        out.problem(1, "entity declarations and external entities are not allowed")
        return parsed
    except _TooDeep as exc:
        out.problem(exc.line, f"nested more than {MAX_DEPTH} levels deep: not a Moodle quiz")
        return parsed
    if root.tag != "quiz":
        out.problem(1, f"the root element is <{root.tag}>: a Moodle XML file has <quiz>")
        return parsed
    category: str | None = None
    for question in root.iter("question"):
        line = parser.lines.get(id(question), 1)
        kind = question.get("type", "")
        if kind == "category":
            path = _plain(question.find("category"))
            category = slug(path.strip("/").split("/")[-1]) or None
            continue
        if kind not in ("multichoice", "truefalse"):
            out.skip(line, kind or "untyped", FORMAT)
            continue
        draft = _question(question, kind, line, out)
        if draft is not None:
            if not draft.tags and category:
                draft.tags = (category,)
            parsed.drafts.append(draft)
    return parsed


def _plain(element: Element | None) -> str:
    """The <text> of an element, as written."""
    if element is None:
        return ""
    text = element.find("text")
    return (text.text or "") if text is not None else (element.text or "")


def _markdown(element: Element | None) -> str:
    """The <text> of an element as Markdown (HTML converted, unless its format says plain)."""
    raw = _plain(element).strip()
    fmt = element.get("format", "html") if element is not None else "html"
    if fmt in ("html", "moodle_auto_format"):
        return html_to_markdown(raw)
    return tex_delimiters_to_dollars(raw)


def _question(element: Element, kind: str, line: int, out: Skips) -> Draft | None:
    """A multichoice or truefalse question."""
    prompt = _markdown(element.find("questiontext"))
    title = " ".join(_plain(element.find("name")).split()) or None
    explanation = _markdown(element.find("generalfeedback"))
    tags = tuple(t for t in (_plain(tag).strip() for tag in element.iter("tag")) if t)
    choices: list[tuple[str, bool]] = []
    feedback: list[str] = []
    for answer in element.findall("answer"):
        try:
            fraction = float(answer.get("fraction", "0"))
        except ValueError:
            out.problem(
                line, f"answer fraction {answer.get('fraction')!r}: a number from -100 to 100"
            )
            return None
        text = _markdown(answer)
        choices.append((text, fraction > 0))
        if fraction > 0:
            note = _markdown(answer.find("feedback"))
            if note:
                feedback.append(note)
    explanation = explanation or " ".join(feedback)
    if kind == "truefalse":
        truth = {text.lower(): ok for text, ok in choices}
        if set(truth) != {"true", "false"}:
            out.problem(line, "a truefalse question has the answers true and false")
            return None
        pair = [("True", truth["true"]), ("False", truth["false"])]
        return Draft(line, QuestionKind.TRUE_FALSE, prompt, pair, explanation, title, tags)
    single = (element.findtext("single") or "true").strip()
    multiple = single.lower() in ("false", "0")
    draft_kind = QuestionKind.MULTIPLE if multiple else QuestionKind.SINGLE
    shuffle_text = (element.findtext("shuffleanswers") or "").strip().lower()
    draft = Draft(line, draft_kind, prompt, choices, explanation, title, tags)
    if shuffle_text in ("0", "false"):
        draft.shuffle = False
    return draft
