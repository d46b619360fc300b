"""The `quizbot` parser class: one error prefix, and help that keeps its examples' lines."""

from __future__ import annotations

import argparse
import sys
from typing import Any, NoReturn

PREFIX = "quizbot: "
"""Every error line of every command starts so."""


class QuizbotParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one `quizbot: ` line, like every other
    error, and whose descriptions and examples are printed as written."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        """`quizbot: MESSAGE (see quizbot play --help)`, exit status 2 as argparse's."""
        self.exit(2, f"{PREFIX}{message} (see {self.prog} --help)\n")


def positive_number(text: str) -> int:
    """An argument that counts something (`--questions 5`): a whole number above 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive whole number")
    return value


# A terminal player's name is also their key in the store (players.external_id, 128
# characters): a longer one would fail there, on PostgreSQL, as a database error.
PLAYER_NAME_LIMIT = 100


def player_name(text: str) -> str:
    """`--player NAME`: the name as typed, without surrounding spaces; neither blank nor
    longer than PLAYER_NAME_LIMIT characters."""
    name = text.strip()
    if not name:
        raise argparse.ArgumentTypeError("give a name, not a blank one")
    if len(name) > PLAYER_NAME_LIMIT:
        raise argparse.ArgumentTypeError(
            f"a name of at most {PLAYER_NAME_LIMIT} characters, not {len(name)}"
        )
    return name


def example(*lines: str) -> str:
    """The epilog of a command's help: its examples, one a line."""
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


def fail(message: str) -> int:
    """Print one error line with the prefix; the exit status 1 of a user's mistake."""
    print(f"{PREFIX}{message}", file=sys.stderr)
    return 1
