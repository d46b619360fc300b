"""Aiken (https://docs.moodle.org/en/Aiken_format): single-answer questions in plain text.

    What is the capital of France?
    A. Paris
    B) London
    ANSWER: A

The question is one line (the lines before the first choice are joined), each
choice a capital letter with `.` or `)`, and the `ANSWER:` line names the letter.
"""

from __future__ import annotations

import re

from bot.core.model import QuestionKind
from bot.questions.importers.base import Draft, Parsed, Skips

FORMAT = "Aiken"
CHOICE = re.compile(r"([A-Z])[.)]\s+(.*)")
ANSWER = re.compile(r"ANSWER:\s*(.*)", re.IGNORECASE)


def parse(text: str, label: str) -> Parsed:
    """Every question of an Aiken file."""
    parsed = Parsed()
    out = Skips(label, parsed)
    prompt: list[str] = []
    start = 0
    choices: list[tuple[str, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        answer = ANSWER.fullmatch(line)
        choice = CHOICE.fullmatch(line)
        if answer:
            if not prompt or not choices:
                out.problem(number, "ANSWER: with no question and choices before it")
            else:
                _finish(parsed, out, start, prompt, choices, answer.group(1).strip(), number)
            prompt, choices = [], []
        elif choice and prompt:
            choices.append((choice.group(1), choice.group(2).strip()))
        elif choices:
            out.problem(number, "a choice starts with a capital letter and . or ) then a space")
        else:
            if not prompt:
                start = number
            prompt.append(line)
    if prompt:
        out.problem(start, "question without an ANSWER: line (e.g. ANSWER: B)")
    return parsed


def _finish(
    parsed: Parsed,
    out: Skips,
    start: int,
    prompt: list[str],
    choices: list[tuple[str, str]],
    answer: str,
    line: int,
) -> None:
    """One complete question, checked."""
    letters = [letter for letter, _ in choices]
    if answer not in letters:
        out.problem(line, f"ANSWER: {answer!r} is not one of the choices {', '.join(letters)}")
        return
    if len(set(letters)) != len(letters):
        out.problem(start, "two choices have the same letter")
        return
    pairs = [(text, letter == answer) for letter, text in choices]
    parsed.drafts.append(Draft(start, QuestionKind.SINGLE, " ".join(prompt), pairs))
