"""Questions written back as the project's deck YAML (the export, and an import's output)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.core.model import Deck, Question, QuestionKind
from bot.questions.importers.text import dump_deck


def question_entry(q: Question) -> dict[str, Any]:
    """One question as a deck file writes it, keys in the documented order."""
    entry: dict[str, Any] = {"id": q.id}
    if q.title:
        entry["title"] = q.title
    entry["kind"] = q.kind.value
    entry["prompt"] = q.prompt
    if q.kind is QuestionKind.TRUE_FALSE:
        entry["answer"] = q.choices[0].correct
    else:
        entry["choices"] = [{"correct" if c.correct else "wrong": c.text} for c in q.choices]
    if not q.shuffle:
        entry["shuffle"] = False
    if q.explanation:
        entry["explanation"] = q.explanation
    if q.tags:
        entry["tags"] = list(q.tags)
    if q.difficulty:
        entry["difficulty"] = q.difficulty
    if q.source:
        entry["source"] = q.source
    return entry


def dump_questions(questions: Sequence[Question], deck: Deck | None = None) -> str:
    """A deck file holding the questions (named after `deck`, else their first deck)."""
    name = deck.name if deck else (questions[0].deck if questions else "exported")
    document: dict[str, Any] = {"name": name, "title": deck.title if deck else name}
    if deck and deck.description:
        document["description"] = deck.description
    if deck and (deck.default_seconds or deck.default_scoring):
        defaults: dict[str, Any] = {}
        if deck.default_seconds:
            defaults["seconds"] = deck.default_seconds
        if deck.default_scoring:
            defaults["scoring"] = deck.default_scoring.value
        document["defaults"] = defaults
    document["questions"] = [question_entry(q) for q in questions]
    return dump_deck(document)
