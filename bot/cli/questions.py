"""`quizbot questions ...`: validate, list and import decks from the command line.

Every error a user can cause ends as one line on stderr and exit status 1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.core.cards import letters
from bot.core.model import Question
from bot.questions.loader import LoadResult, load_decks
from bot.questions.problems import QuestionFileError
from bot.questions.text_import import import_text, read_import_input, slug

Handler = Callable[[argparse.Namespace], int]


def default_questions_dir() -> Path:
    """The deck directory: $QUESTIONS_DIR, else `questions` in the working directory."""
    return Path(os.environ.get("QUESTIONS_DIR") or "questions")


def question_json(question: Question) -> dict[str, Any]:
    """One question in the stable `list --json` format (see docs/questions.md)."""
    return {
        "id": question.id,
        "deck": question.deck,
        "kind": question.kind.value,
        "title": question.title,
        "prompt": question.prompt,
        "choices": [c.text for c in question.choices],
        "correct": list(question.correct_indices),
        "explanation": question.explanation,
        "tags": list(question.tags),
    }


def _summary(result: LoadResult) -> str:
    """ "14 questions in 3 decks", with plurals right."""
    questions = result.question_count
    decks = len(result.decks)
    return (
        f"{questions} question{'' if questions == 1 else 's'} "
        f"in {decks} deck{'' if decks == 1 else 's'}"
    )


def _load(args: argparse.Namespace) -> LoadResult:
    """The decks named on the command line, or the questions directory."""
    paths = [Path(p) for p in args.paths] or [default_questions_dir()]
    return load_decks(paths)


def validate(args: argparse.Namespace) -> int:
    """Report every problem as `path:line:col: message`; exit 0 only when there is none."""
    result = _load(args)
    for problem in result.problems:
        print(problem)
    for warning in result.warnings:
        print(f"{warning.path}:{warning.line}:{warning.col}: warning: {warning.message}")
    files = len({p.path for p in result.problems})
    if result.problems:
        count = len(result.problems)
        print(
            f"{count} problem{'' if count == 1 else 's'} in {files} "
            f"file{'' if files == 1 else 's'}; {_summary(result)} without problems",
            file=sys.stderr,
        )
        return 1
    if not result.decks:
        print("no deck files (*.yaml, *.yml) found", file=sys.stderr)
        return 1
    print(f"{_summary(result)}, no problems")
    return 0


def list_questions(args: argparse.Namespace) -> int:
    """Print the questions as a table, or as the stable JSON array with --json."""
    result = _load(args)
    questions = [q for deck in result.decks for q in deck.questions]
    if args.json:
        json.dump([question_json(q) for q in questions], sys.stdout, ensure_ascii=False, indent=2)
        print()
    else:
        _print_table(questions)
        print(_summary(result))
    for problem in result.problems:
        print(problem, file=sys.stderr)
    if result.problems:
        print(
            "files with problems were left out: run `quizbot questions validate`", file=sys.stderr
        )
        return 1
    return 0


def _print_table(questions: list[Question]) -> None:
    """A readable table: id, kind, correct letters and the start of the prompt."""
    if not questions:
        return
    rows = [
        (q.id, q.kind.value, letters(list(q.correct_indices)), " ".join(q.prompt.split()))
        for q in questions
    ]
    widths = [max(len(r[i]) for r in [*rows, ("ID", "KIND", "ANSWER", "")]) for i in range(3)]
    print(f"{'ID':<{widths[0]}}  {'KIND':<{widths[1]}}  {'ANSWER':<{widths[2]}}  PROMPT")
    for row in rows:
        prompt = row[3] if len(row[3]) <= 60 else row[3][:59] + "…"
        print(f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:<{widths[2]}}  {prompt}")


def import_text_command(args: argparse.Namespace) -> int:
    """Import a quiz page copied as text into deck YAML (stdout, or -o OUTPUT)."""
    source = Path(args.input)
    text = read_import_input(source)
    deck = args.deck or slug(source.stem) or "imported"
    result = import_text(text, source.name, deck)
    for left in result.left_out:
        title = f" {left.title!r}" if left.title else ""
        print(f"{args.input}:{left.line}: question{title} left out: {left.reason}", file=sys.stderr)
    if args.output:
        try:
            Path(args.output).write_text(result.deck_yaml, encoding="utf-8")
        except OSError as exc:
            raise QuestionFileError(f"{args.output}: cannot write: {exc.strerror or exc}") from None
    else:
        sys.stdout.write(result.deck_yaml)
    reasons = sorted({left.reason for left in result.left_out})
    why = f" ({'; '.join(reasons)})" if reasons else ""
    print(f"{result.imported} imported, {len(result.left_out)} left out{why}", file=sys.stderr)
    return 0


def _guarded(handler: Handler) -> Handler:
    """Turn the area's errors into one line on stderr and exit status 1."""

    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except QuestionFileError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        except BrokenPipeError:
            # `quizbot questions list --json | head`: the reader left; say nothing more,
            # and keep Python from failing again when it flushes stdout at exit.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            return 1

    run.__doc__ = handler.__doc__
    return run


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `questions validate|list|import text` to the main command line."""
    questions = subparsers.add_parser(
        "questions",
        help="validate, list and import question decks",
        description="Validate, list and import question decks.",
    )
    commands = questions.add_subparsers(dest="questions_command", metavar="COMMAND")
    commands.required = True

    path_help = "deck files or directories (default: $QUESTIONS_DIR or ./questions)"
    check = commands.add_parser("validate", help="check decks; report every problem")
    check.add_argument("paths", nargs="*", metavar="PATH", help=path_help)
    check.set_defaults(func=_guarded(validate))

    listing = commands.add_parser("list", help="list the questions of the decks")
    listing.add_argument("paths", nargs="*", metavar="PATH", help=path_help)
    listing.add_argument(
        "--json",
        action="store_true",
        help="print the stable JSON array described in docs/questions.md",
    )
    listing.set_defaults(func=_guarded(list_questions))

    importer = commands.add_parser("import", help="import questions from another format")
    formats = importer.add_subparsers(dest="import_format", metavar="FORMAT")
    formats.required = True
    text = formats.add_parser("text", help="a quiz page copied as text (☆ title, ☒/☐ choices)")
    text.add_argument("input", metavar="INPUT", help="the text file")
    text.add_argument("-o", "--output", metavar="OUTPUT", help="write the deck here, not stdout")
    text.add_argument(
        "--deck", metavar="NAME", help="deck name and id prefix (default: from INPUT)"
    )
    text.set_defaults(func=_guarded(import_text_command))


def main(argv: list[str] | None = None) -> int:
    """Run only the `questions` commands (`python -m bot.cli.questions questions ...`)."""
    parser = argparse.ArgumentParser(prog="quizbot")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    handler: Handler = args.func
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
