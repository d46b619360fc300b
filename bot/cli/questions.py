"""`quizbot questions ...`: validate, list, import and export decks from the command line.

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

from bot.cli.help import QuizbotParser, example, fail
from bot.core.cards import letters
from bot.core.model import Question
from bot.questions.importers import EXPORT_FORMATS, IMPORT_FORMATS, export_deck, parse_deck
from bot.questions.limits import MAX_FILE_BYTES
from bot.questions.loader import LoadResult, load_decks
from bot.questions.problems import QuestionFileError
from bot.shipped import shipped_decks_dir

Handler = Callable[[argparse.Namespace], int]


def default_questions_dir() -> Path:
    """The deck directory: $QUESTIONS_DIR, else the decks shipped with quizbot.

    A QUESTIONS_DIR that does not exist is a QuestionFileError naming the setting."""
    folder = os.environ.get("QUESTIONS_DIR", "").strip()
    if not folder:
        return shipped_decks_dir()
    if not Path(folder).exists():
        raise QuestionFileError(
            f"QUESTIONS_DIR={folder}: no such folder (unset it for the decks shipped with quizbot)"
        )
    return Path(folder)


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


def _refuse_existing(output: str | None, force: bool) -> None:
    """Never overwrite a file silently."""
    if output and Path(output).exists() and not force:
        raise QuestionFileError(f"{output}: already exists; add --force to overwrite it")


def _write(output: str | None, text: str) -> None:
    """Text to the output file, or to stdout."""
    if not output:
        sys.stdout.write(text)
        return
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise QuestionFileError(f"{output}: cannot write: {exc.strerror or exc}") from None


def read_input(path: Path) -> bytes:
    """An import file's bytes, at most one past the size limit (the importer reports it)."""
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise QuestionFileError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if size > MAX_FILE_BYTES:
        raise QuestionFileError(
            f"{path}: file is {size:,} bytes: an import may be at most {MAX_FILE_BYTES:,}"
        )
    return data


def import_command(args: argparse.Namespace) -> int:
    """Import questions from another format into deck YAML (stdout, or -o OUTPUT)."""
    _refuse_existing(args.output, args.force)
    source = Path(args.input)
    result = parse_deck(
        read_input(source), str(source), args.import_format, args.deck, strict=args.strict
    )
    for skipped in result.skipped:
        print(skipped, file=sys.stderr)
    for problem in result.problems:
        print(problem, file=sys.stderr)
    if result.deck is None:
        print(f"nothing written: {result.summary()}", file=sys.stderr)
        return 1
    _write(args.output, result.yaml_text)
    print(result.summary(), file=sys.stderr)
    return 0


def export_command(args: argparse.Namespace) -> int:
    """Write a deck (a name in the questions directory, or a file) as YAML, GIFT or CSV."""
    _refuse_existing(args.output, args.force)
    path = Path(args.deck)
    by_path = path.suffix in (".yaml", ".yml") or path.exists()
    result = load_decks(path if by_path else default_questions_dir())
    decks = result.decks if by_path else [d for d in result.decks if d.name == args.deck]
    for problem in result.problems:
        if not by_path and problem.path != str(path):
            continue
        print(problem, file=sys.stderr)
    if len(decks) != 1:
        where = args.deck if by_path else f"{default_questions_dir()}"
        raise QuestionFileError(f"{where}: no deck {args.deck!r} without problems to export")
    _write(args.output, export_deck(decks[0].questions, args.format, decks[0]))
    count = len(decks[0].questions)
    print(f"{count} question{'' if count == 1 else 's'} exported as {args.format}", file=sys.stderr)
    return 0


def _guarded(handler: Handler) -> Handler:
    """Turn the area's errors into one line on stderr and exit status 1."""

    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except QuestionFileError as exc:
            return fail(str(exc))
        except BrokenPipeError:
            # `quizbot questions list --json | head`: the reader left; say nothing more,
            # and keep Python from failing again when it flushes stdout at exit.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            return 1

    run.__doc__ = handler.__doc__
    return run


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add `questions validate|list|import|export` to the main command line."""
    questions = subparsers.add_parser(
        "questions",
        help="validate, list and import question decks",
        description="Validate, list, import and export question decks (docs/questions.md).",
        epilog=example("quizbot questions validate", "quizbot questions list --json"),
    )
    commands = questions.add_subparsers(dest="questions_command", metavar="COMMAND")
    commands.required = True

    path_help = "deck files or directories (default: $QUESTIONS_DIR, else the shipped decks)"
    check = commands.add_parser(
        "validate",
        help="check decks; report every problem",
        description="Check deck files and report every problem as path:line:col, one a line.",
        epilog=example("quizbot questions validate", "quizbot questions validate my-deck.yaml"),
    )
    check.add_argument("paths", nargs="*", metavar="PATH", help=path_help)
    check.set_defaults(func=_guarded(validate))

    listing = commands.add_parser(
        "list",
        help="list the questions of the decks",
        description="List the questions of the decks: id, deck and prompt, or JSON.",
        epilog=example("quizbot questions list", "quizbot questions list --json questions/"),
    )
    listing.add_argument("paths", nargs="*", metavar="PATH", help=path_help)
    listing.add_argument(
        "--json",
        action="store_true",
        help="print the stable JSON array described in docs/questions.md",
    )
    listing.set_defaults(func=_guarded(list_questions))

    _add_import(commands)
    _add_export(commands)


def _add_import(commands: argparse._SubParsersAction[Any]) -> None:
    """`quizbot questions import`."""
    importer = commands.add_parser(
        "import",
        help="import questions from another format (see docs/questions.md)",
        description="Import questions from GIFT, Moodle XML, Aiken, Open Trivia DB, CSV or "
        "text as a deck YAML file; an existing OUTPUT is kept unless --force.",
        epilog=example(
            "quizbot questions import quiz.gift -o questions/quiz.yaml",
            "quizbot questions import moodle-xml export.xml --deck moodle",
        ),
    )
    importer.add_argument(
        "import_format",
        metavar="FORMAT",
        nargs="?",
        default="auto",
        choices=IMPORT_FORMATS,
        help=f"one of {', '.join(IMPORT_FORMATS)} (default auto: from the file's content and name)",
    )
    importer.add_argument("input", metavar="INPUT", help="the file to import")
    importer.add_argument("-o", "--output", metavar="OUTPUT", help="write the deck here")
    importer.add_argument(
        "--deck", metavar="NAME", help="deck name and id prefix (default: from INPUT)"
    )
    importer.add_argument(
        "--strict", action="store_true", help="questions the bot cannot play are errors"
    )
    importer.add_argument("--force", action="store_true", help="overwrite OUTPUT if it exists")
    importer.set_defaults(func=_guarded(import_command))


def _add_export(commands: argparse._SubParsersAction[Any]) -> None:
    """`quizbot questions export`."""
    exporter = commands.add_parser(
        "export",
        help="write a deck as YAML, GIFT or CSV",
        description="Write a deck (a name in the decks folder, or a file) as YAML, GIFT or CSV.",
        epilog=example("quizbot questions export deep-learning --format gift -o dl.gift"),
    )
    exporter.add_argument("deck", metavar="DECK", help="a deck name in $QUESTIONS_DIR, or a file")
    exporter.add_argument("--format", choices=EXPORT_FORMATS, default="yaml", help="yaml|gift|csv")
    exporter.add_argument("-o", "--output", metavar="FILE", help="write here, not stdout")
    exporter.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    exporter.set_defaults(func=_guarded(export_command))


def main(argv: list[str] | None = None) -> int:
    """Run only the `questions` commands (`python -m bot.cli.questions questions ...`)."""
    parser = QuizbotParser(prog="quizbot")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    handler: Handler = args.func
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
