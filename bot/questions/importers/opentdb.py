"""Open Trivia DB JSON (https://opentdb.com/api_config.php), the API's answer saved to a file.

    {"response_code": 0, "results": [{"type": "multiple", "difficulty": "easy",
      "category": "Science", "question": "...", "correct_answer": "...",
      "incorrect_answers": ["...", "..."]}]}

Text comes HTML-encoded (`&quot;`, `&#039;`) and is decoded; `boolean` questions
become true/false, the category a tag.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

from bot.core.model import QuestionKind
from bot.questions.importers.base import Draft, Parsed, Skips
from bot.questions.importers.text import slug

FORMAT = "Open Trivia DB"
_QUESTION_KEY = re.compile(r'(?<!\\)"question"\s*:')
_DIFFICULTIES = ("easy", "medium", "hard")


def parse(text: str, label: str) -> Parsed:
    """Every question of an Open Trivia DB answer."""
    parsed = Parsed()
    out = Skips(label, parsed)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        out.problem(exc.lineno, f"JSON syntax: {exc.msg}", exc.colno)
        return parsed
    except RecursionError:
        out.problem(1, "nested too deep: not an Open Trivia DB file")
        return parsed
    results = document.get("results") if isinstance(document, dict) else None
    if not isinstance(results, list):
        out.problem(1, 'not an Open Trivia DB file: no "results" list')
        return parsed
    # json gives no positions: the n-th "question" key is on the n-th question's line.
    lines = [text.count("\n", 0, m.start()) + 1 for m in _QUESTION_KEY.finditer(text)]
    for index, item in enumerate(results):
        line = lines[index] if index < len(lines) else 1
        draft = _question(item, line, out)
        if draft is not None:
            parsed.drafts.append(draft)
    return parsed


def _decoded(value: Any) -> str:
    """An HTML-encoded text as plain text; trivia has no math, so every `$` is a dollar sign."""
    return re.sub(r"(?<!\\)\$", r"\\$", html.unescape(str(value)).strip())


def _question(item: Any, line: int, out: Skips) -> Draft | None:
    """One result."""
    if not isinstance(item, dict):
        out.problem(line, "a result is an object with question, correct_answer, ...")
        return None
    kind = item.get("type")
    missing = [k for k in ("question", "correct_answer") if not isinstance(item.get(k), str)]
    wrong = item.get("incorrect_answers")
    if missing or not isinstance(wrong, list):
        what = ", ".join([*missing, *([] if isinstance(wrong, list) else ["incorrect_answers"])])
        out.problem(line, f"a result without {what}")
        return None
    category = slug(html.unescape(str(item.get("category", ""))))
    difficulty = item.get("difficulty")
    prompt = _decoded(item["question"])
    if kind == "boolean":
        truth = item["correct_answer"].strip().lower() == "true"
        draft = Draft(
            line, QuestionKind.TRUE_FALSE, prompt, [("True", truth), ("False", not truth)]
        )
    elif kind == "multiple":
        choices = [(_decoded(item["correct_answer"]), True)]
        choices += [(_decoded(w), False) for w in wrong]
        draft = Draft(line, QuestionKind.SINGLE, prompt, choices)
    else:
        out.skip(line, str(kind), FORMAT)
        return None
    draft.tags = (category,) if category else ()
    draft.difficulty = difficulty if difficulty in _DIFFICULTIES else None
    return draft
