"""The lines of `quizbot doctor`'s checklist: what was checked, what was found, the fix."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    """Outcome of one check."""

    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"


MARKS = {Status.OK: "✓", Status.FAILED: "✗", Status.SKIPPED: "-"}


@dataclass(frozen=True)
class Check:
    """One line of the checklist: what was checked, what was found, and the fix if failed."""

    name: str
    status: Status
    detail: str
    fix: str = ""

    @classmethod
    def ok(cls, name: str, detail: str) -> Check:
        """A check that passed."""
        return cls(name, Status.OK, detail)

    @classmethod
    def failed(cls, name: str, detail: str, fix: str) -> Check:
        """A check that failed, with the one line that fixes it."""
        return cls(name, Status.FAILED, detail, fix)

    @classmethod
    def skipped(cls, name: str, detail: str) -> Check:
        """A check that does not apply to this setup."""
        return cls(name, Status.SKIPPED, detail)

    def lines(self) -> list[str]:
        """The check as printed: a mark line, and a fix line if it failed."""
        out = [f"{MARKS[self.status]} {self.name}: {self.detail}"]
        if self.fix:
            out.append(f"    fix: {self.fix}")
        return out


def reason_of(exc: BaseException) -> str:
    """An exception in one line: its type and the first line of its message."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, TimeoutError):
        text = "no answer in time"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
