"""When to check whether everyone answered a round: the early close's bookkeeping.

A round closes early once every expected player has answered. Asking the store costs
a query, so checks run once per burst rather than once per click:

- While a check of a round runs, later answers only ask for one more check after it;
  that one starts after their commit, so the last answer is always seen.
- After a check found m players missing, the next one waits until this process took
  m more answers (fewer cannot complete the round).
- Answers other processes took are covered by the sweep of the rate-bounded count
  refresh: it asks for a check once the round's count could cover the players
  missing at the last check.

The engine runs the checks; this object only decides when, from per-round tallies
that the engine forgets when the round is revealed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class AfterCheck(Enum):
    """What to do when a running check ends without closing its round."""

    DONE = "done"  # nothing more
    IF_ENOUGH = "if-enough"  # another if this process took enough answers meanwhile
    AGAIN = "again"  # another in any case (the refresh's sweep asked)


@dataclass
class RoundTally:
    """What this process knows about one open round's answers since its last check."""

    missing: int | None = None  # players missing at the last check (None: not checked)
    unchecked: int = 0  # answers this process took since that check
    counted: int = 0  # the round's answer count before that check
    sweep_floor: int = 0  # the answer count a sweep saw, for the next check
    after_check: AfterCheck | None = None  # None while no check runs


class EarlyCloseBook:
    """Per-round tallies that say when a check for an early close is worth its query."""

    def __init__(self) -> None:
        self._rounds: dict[int, RoundTally] = {}

    def _tally(self, round_id: int) -> RoundTally:
        tally = self._rounds.get(round_id)
        if tally is None:
            tally = self._rounds[round_id] = RoundTally()
        return tally

    def expect(self, round_id: int, missing: int) -> None:
        """At least `missing` players are known to be missing from a new round."""
        self._tally(round_id).missing = missing

    def wants_check(self, round_id: int, *, sweep: bool = False) -> bool:
        """Note an answer this process took (or a sweep's request); True when a check
        should start now, and then it counts as running."""
        tally = self._tally(round_id)
        if not sweep:
            tally.unchecked += 1
        if tally.after_check is not None:
            if sweep:
                tally.after_check = AfterCheck.AGAIN
            elif tally.after_check is AfterCheck.DONE:
                tally.after_check = AfterCheck.IF_ENOUGH
            return False
        if sweep and not tally.unchecked:
            return False
        if not sweep and tally.missing is not None and tally.unchecked < tally.missing:
            return False
        tally.after_check = AfterCheck.DONE
        return True

    def check_started(self, round_id: int) -> int:
        """A check reads the store now; returns the sweep floor it will cover."""
        tally = self._tally(round_id)
        tally.after_check = AfterCheck.DONE
        tally.unchecked = 0
        floor, tally.sweep_floor = tally.sweep_floor, 0
        return floor

    def check_found(self, round_id: int, floor: int, missing: int) -> bool:
        """Record what a check found; True when another check should follow it."""
        tally = self._tally(round_id)
        tally.counted = floor
        if missing == 0:
            return False
        tally.missing = missing
        again = tally.after_check or AfterCheck.DONE
        if again is AfterCheck.DONE:
            return False
        return not (again is AfterCheck.IF_ENOUGH and tally.unchecked < missing)

    def check_ended(self, round_id: int) -> None:
        """The running check of a round is over."""
        tally = self._rounds.get(round_id)
        if tally is not None:
            tally.after_check = None
            if tally == RoundTally():
                del self._rounds[round_id]  # an empty tally says no more than none

    def sweep_due(self, round_id: int, answered: int) -> bool:
        """Whether a count of `answered` may complete the round; if so it is the floor
        of the next check. False while it cannot cover the players missing at the last
        check (the count then was at least the floor recorded before it)."""
        tally = self._rounds.get(round_id)
        missing = tally.missing if tally is not None else None
        if tally is not None and missing is not None and answered < tally.counted + missing:
            return False
        self._tally(round_id).sweep_floor = answered
        return True

    def forget(self, round_id: int) -> None:
        """Drop a revealed round's tally (a check still running keeps only its state)."""
        tally = self._rounds.pop(round_id, None)
        if tally is not None and tally.after_check is not None:
            self._rounds[round_id] = RoundTally(after_check=tally.after_check)
