"""Doubles for outbox tests: a chat that fails on a pattern and logs every attempt."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select

from bot.core.cards import QuestionCard, RevealCard, SummaryCard
from bot.core.clock import ManualClock
from bot.core.delivery import RetryLater, Undeliverable
from bot.core.engine import QuizEngine
from bot.store import SqlStore
from bot.store.tables import OutboxRow

# (method, round or quiz id) of a call; a pattern decides, per call, what it raises
Call = tuple[str, int]
Fault = Callable[[int, Call], BaseException | None]


def every_third(n: int, call: Call) -> Exception | None:
    """RetryLater on calls 3, 6, 9, ... (1 in 3)."""
    return RetryLater("503 Service Unavailable") if n % 3 == 0 else None


@dataclass
class FlakyChat:
    """A ChatPort that fails calls as `fault` says and records each attempt and delivery.

    `delivered` lists successful calls in order, with their keys; `attempts` every call.
    """

    fault: Fault | None = None
    channel_log: list[tuple[str, str, int]] | None = None  # shared across chats: order
    delay: float = 0.0  # seconds each call takes (random up to this)
    delivered: list[tuple[str, int, str]] = field(default_factory=list)
    attempts: list[tuple[str, int, str]] = field(default_factory=list)
    questions: list[QuestionCard] = field(default_factory=list)
    updates: list[QuestionCard] = field(default_factory=list)
    reveals: list[RevealCard] = field(default_factory=list)
    summaries: list[SummaryCard] = field(default_factory=list)
    host_notes: list[tuple[str, str]] = field(default_factory=list)
    calls: int = 0

    async def _call(self, channel_id: str, call: Call, key: str) -> None:
        self.calls += 1
        self.attempts.append((*call, key))
        if self.delay:
            await asyncio.sleep(random.uniform(0, self.delay))
        failure = self.fault(self.calls, call) if self.fault else None
        if failure is not None:
            raise failure
        self.delivered.append((*call, key))
        if self.channel_log is not None:
            self.channel_log.append((channel_id, *call))

    async def post_question(self, channel_id: str, card: QuestionCard, *, key: str) -> str:
        await self._call(channel_id, ("question", card.round_id), key)
        self.questions.append(card)
        return f"msg-{card.round_id}"

    async def update_question(
        self, channel_id: str, message_ref: str, card: QuestionCard, *, key: str
    ) -> None:
        await self._call(channel_id, ("count", card.round_id), key)
        self.updates.append(card)

    async def post_reveal(
        self, channel_id: str, message_ref: str | None, card: RevealCard, *, key: str
    ) -> None:
        await self._call(channel_id, ("reveal", card.round_id), key)
        self.reveals.append(card)

    async def post_summary(self, channel_id: str, card: SummaryCard, *, key: str) -> None:
        await self._call(channel_id, ("summary", card.quiz_id), key)
        self.summaries.append(card)

    async def notify_host(self, channel_id: str, host_external_id: str, text: str) -> None:
        self.host_notes.append((host_external_id, text))

    @property
    def current(self) -> QuestionCard:
        return self.questions[-1]


def dies_on(method: str) -> Fault:
    """The process dies in the middle of every call of `method`: its send task ends with
    the row still claimed, nothing sent and nothing recorded."""

    def fault(n: int, call: Call) -> BaseException | None:
        return asyncio.CancelledError() if call[0] == method else None

    return fault


def undeliverable_on(method: str) -> Fault:
    """Every call of `method` is refused for good."""

    def fault(n: int, call: Call) -> Exception | None:
        return Undeliverable("missing permission") if call[0] == method else None

    return fault


async def settle(engine: QuizEngine, clock: ManualClock, store: SqlStore) -> None:
    """Deliver until nothing waits, moving the clock to each retry's time."""
    for _ in range(200):
        await engine.idle()
        due = await store.next_outbox_time(engine.platform, None)
        if due is None:
            return
        if due > clock.now():
            clock.set(due)
    raise AssertionError("the outbox never settled")


async def outbox_statuses(store: SqlStore) -> list[tuple[str, str]]:
    """(kind, status) of every outbox row, in id order."""
    async with store.engine.connect() as conn:
        rows = await conn.execute(select(OutboxRow.kind, OutboxRow.status).order_by(OutboxRow.id))
        return [(r.kind, r.status) for r in rows]
