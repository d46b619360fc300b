"""CSV: a header row, then a question a row; also Kahoot's spreadsheet template saved as CSV.

    question,choices,correct,explanation,tags
    "Which are even?","2
    3
    4",A C,"2 and 4 divide by 2.",arithmetic

Choices are one cell, one choice a line, or columns of their own (`a`, `b`, ...,
`choice 1`, `option a`, Kahoot's `Answer 1 - max 75 characters`). `correct` holds
letters (A, C) or numbers (1, 3). Optional columns: id, title, kind, difficulty,
source, shuffle. Kahoot's `Time limit` column is ignored.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence

from bot.core.cards import letters
from bot.core.model import Question, QuestionKind
from bot.questions.importers.base import Draft, Parsed, Skips

FORMAT = "CSV"
EXPORT_COLUMNS = (
    *("id", "title", "kind", "question", "choices", "correct"),
    *("explanation", "tags", "difficulty", "source", "shuffle"),
)
_ALIASES = {
    "prompt": "question",
    "correct answer(s)": "correct",
    "correct answers": "correct",
    "correct answer": "correct",
    "answer": "correct",
    "answers": "correct",
    "feedback": "explanation",
}
_CHOICE_COLUMN = re.compile(r"(?:(?:choice|option|answer)\s*)?([a-j]|10|[1-9])")
_LETTERS = "abcdefghij"


def _field(header: str) -> str:
    """A header cell as a field name: "Answer 1 - max 75 characters" -> "answer 1"."""
    name = re.split(r"\s+[-–(]|\s*\(", header.strip().lower(), maxsplit=1)[0].strip()
    name = _ALIASES.get(name, name)
    choice = _CHOICE_COLUMN.fullmatch(name)
    if choice and name != "correct":
        key = choice.group(1)
        return f"choice {int(key) if key.isdigit() else _LETTERS.index(key) + 1}"
    return name


def _rows(text: str, out: Skips) -> list[tuple[int, list[str]]]:
    """(first line, cells) of every record."""
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for row in reader:
            rows.append((start, row))
            start = reader.line_num + 1
    except csv.Error as exc:
        out.problem(start, f"CSV syntax: {exc}")
    return rows


def parse(text: str, label: str) -> Parsed:
    """Every question of a CSV file."""
    parsed = Parsed()
    out = Skips(label, parsed)
    rows = _rows(text, out)
    header_at = next(
        (i for i, (_, row) in enumerate(rows[:10]) if "question" in [_field(c) for c in row]), None
    )
    if header_at is None:
        if not parsed.problems:
            out.problem(1, "no header row with a question column (question, choices, correct)")
        return parsed
    fields = [_field(c) for c in rows[header_at][1]]
    has_choices = "choices" in fields or any(f.startswith("choice ") for f in fields)
    if not has_choices or "correct" not in fields:
        out.problem(rows[header_at][0], "the header needs choices (or a, b, ...) and correct")
        return parsed
    for line, row in rows[header_at + 1 :]:
        if not any(cell.strip() for cell in row):
            continue
        cells: dict[str, str] = {}
        for name, cell in zip(fields, row, strict=False):
            cells.setdefault(name, cell.strip())
        draft = _question(cells, line, out)
        if draft is not None:
            parsed.drafts.append(draft)
    return parsed


def _question(cells: dict[str, str], line: int, out: Skips) -> Draft | None:
    """One row."""
    if cells.get("choices"):
        texts = [t.strip() for t in cells["choices"].splitlines() if t.strip()]
    else:
        numbered = sorted(
            (int(k.split()[1]), v) for k, v in cells.items() if k.startswith("choice ") and v
        )
        texts = [v for _, v in numbered]
    if not texts:
        out.problem(line, "a question without choices")
        return None
    correct: set[int] = set()
    for token in re.split(r"[\s,;]+", cells.get("correct", "").strip()):
        if not token:
            continue
        if token.isdigit() and 1 <= int(token) <= len(texts):
            correct.add(int(token) - 1)
        elif len(token) == 1 and token.lower() in _LETTERS[: len(texts)]:
            correct.add(_LETTERS.index(token.lower()))
        else:
            out.problem(
                line, f"correct {token!r}: a letter A-{letters([len(texts) - 1])} or 1-{len(texts)}"
            )
            return None
    choices = [(text, i in correct) for i, text in enumerate(texts)]
    kind_text = cells.get("kind", "").lower()
    if kind_text in {k.value for k in QuestionKind}:
        kind = QuestionKind(kind_text)
    elif [t.lower() for t in texts] == ["true", "false"]:
        kind = QuestionKind.TRUE_FALSE
    else:
        kind = QuestionKind.MULTIPLE if len(correct) > 1 else QuestionKind.SINGLE
    tags = tuple(t for t in re.split(r"[\s,;]+", cells.get("tags", "")) if t)
    draft = Draft(line, kind, cells.get("question", ""), choices, cells.get("explanation", ""))
    draft.title = cells.get("title") or None
    draft.tags = tags
    draft.qid = cells.get("id") or None
    draft.difficulty = cells.get("difficulty") or None
    draft.source = cells.get("source") or None
    if cells.get("shuffle", "").lower() in ("false", "no", "0"):
        draft.shuffle = False
    return draft


def export(questions: Sequence[Question]) -> str:
    """Questions as CSV with the columns the importer reads back."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for q in questions:
        writer.writerow(
            [
                q.id,
                q.title or "",
                q.kind.value,
                q.prompt,
                "\n".join(c.text for c in q.choices),
                " ".join(letters([i]) for i in q.correct_indices),
                q.explanation,
                ", ".join(q.tags),
                q.difficulty or "",
                q.source or "",
                "" if q.shuffle else "false",
            ]
        )
    return buffer.getvalue()
