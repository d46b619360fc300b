"""What can be wrong with a deck file: problems to report, and the one fatal error type."""

from __future__ import annotations

from dataclasses import dataclass


class QuestionFileError(Exception):
    """A deck or import file that cannot be read at all; the message is one line naming it."""


@dataclass(frozen=True, order=True)
class Problem:
    """One mistake in a file, at the line and column (both 1-based) of the offending node."""

    path: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.message}"
