"""Once-only jobs: work that exactly one process does once (a week's board, a day's
study reminder), claimed in the jobs table under a lease.

The weekly rhythm's store and study mode's reminders both claim through `JobClaims`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class JobStatus(StrEnum):
    """Life cycle of a job row."""

    RUNNING = "running"  # claimed; the claimer holds a lease
    DONE = "done"
    SKIPPED = "skipped"  # nothing to do (a week nobody played)
    FAILED = "failed"  # gave up after MAX_ATTEMPTS


@dataclass(frozen=True)
class JobRequest:
    """A job to claim: its community, kind and key (which week, which day and player),
    and the lease a claim at `now` holds until `lease_until`; a job is given up after
    `max_attempts` claims whose lease ran out."""

    community_id: int
    kind: str
    key: str
    now: datetime
    lease_until: datetime
    max_attempts: int


@dataclass(frozen=True)
class JobClaim:
    """A job this process holds; `token` proves it when finishing."""

    id: int
    community_id: int
    kind: str
    key: str
    token: str
    attempts: int


class JobClaims(Protocol):
    """The jobs table's once-only claims."""

    async def claim_job(self, job: JobRequest) -> JobClaim | None:
        """Claim a job by inserting its key (insert-or-nothing), or take over one whose
        lease ran out with fewer than `max_attempts` attempts (one with none left is
        marked failed); None if another process holds it or it is finished."""
        ...

    async def finish_job(
        self, claim: JobClaim, status: JobStatus, now: datetime, detail: str | None = None
    ) -> bool:
        """Mark a held job done, skipped or failed; False if the claim was lost."""
        ...

    async def retry_job_later(self, claim: JobClaim, retry_at: datetime, detail: str) -> None:
        """Release a held job after a failure, for a retry from `retry_at` on."""
        ...
