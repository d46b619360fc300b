"""The outbox as the core sees it: what a change of state asks to be shown, a claimed
row, and the JSON form of the cards frozen in a row.

A row's payload holds the card where it must be frozen at the change (a reveal, a
board) and only references where the content is computed when it is sent (a question,
a count edit, a summary): `bot.core.dispatch` turns rows into ChatPort calls.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import Enum, StrEnum
from typing import Any, Protocol, TypeVar

from bot.core.cards import RevealCard
from bot.core.delivery import MAX_KEY_LENGTH

if typing.TYPE_CHECKING:
    from bot.core.ports import ClosedRound

CardT = TypeVar("CardT")


class OutboxKind(StrEnum):
    """What a row shows."""

    QUESTION = "question"  # a round's question, built when sent
    COUNT = "count"  # the answers-so-far edit of a question, built when sent
    REVEAL = "reveal"  # the closed-question edit and the reveal, frozen at the close
    SUMMARY = "summary"  # the end of a quiz, totals read when sent
    BOARD = "board"  # a week's board, frozen when the week was claimed


class OutboxStatus(StrEnum):
    """Where a row is in its life."""

    PENDING = "pending"
    SENDING = "sending"  # claimed by a dispatcher until its lease ends
    DONE = "done"
    FAILED = "failed"  # undeliverable, or out of attempts
    DROPPED = "dropped"  # no longer wanted (a count edit of a closed round, a stopped quiz)


UNFINISHED = (OutboxStatus.PENDING.value, OutboxStatus.SENDING.value)


@dataclass(frozen=True)
class OutboxMessage:
    """A message to write to the outbox, in the transaction of the change."""

    kind: OutboxKind
    channel_id: str
    round_id: int | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OutboxItem:
    """A row claimed for delivery."""

    id: int
    platform: str
    channel_id: str
    community_id: int
    quiz_id: int | None
    round_id: int | None
    kind: OutboxKind
    payload: Mapping[str, Any]
    attempts: int  # including this one
    created_at: datetime
    # a reveal's question message, read with the claim (no read of its own before sending)
    round_ref: str | None = None

    @property
    def key(self) -> str:
        """The idempotency key of every attempt of this row (Discord's nonce)."""
        key = f"quizbot-{self.id}"
        assert len(key) <= MAX_KEY_LENGTH
        return key


@dataclass(frozen=True, eq=False)
class OutboxSender:
    """A dispatcher of this process that takes rows as they are written.

    The first row of a free lane is claimed (leased to this process) in the very
    transaction that writes it and, once that commits, handed to `take`: it goes out
    with no claim of its own, and without waiting for one behind the other writers.
    """

    platform: str
    channel_id: str | None  # only this channel's rows, if given
    lease: timedelta
    take: Callable[[list[OutboxItem]], None]


@dataclass(frozen=True)
class OutboxBatch:
    """Messages a change of state writes to the outbox, all of one quiz (or of none)."""

    platform: str
    community_id: int
    quiz_id: int | None
    messages: Sequence[OutboxMessage]


@dataclass(frozen=True)
class OutboxClaim:
    """Which rows a dispatcher claims: the due first rows of `platform`'s lanes (of one
    channel, if given), at most `limit`, leased to it until `lease_until`."""

    platform: str
    channel_id: str | None
    now: datetime
    lease_until: datetime
    limit: int


@dataclass(frozen=True)
class QuestionShown:
    """A question row delivered: its round's message, and when the question came late,
    the round's new opening and deadline (`moved`)."""

    item_id: int
    round_id: int
    message_ref: str
    moved: tuple[datetime, datetime] | None


@dataclass(frozen=True)
class OutboxStats:
    """The outbox seen from outside: how much waits, and for how long."""

    depth: int  # pending or sending rows
    oldest_age: float  # seconds since the oldest of them was written; 0 when none


def question_message(channel_id: str, round_id: int) -> OutboxMessage:
    """Post a round's question."""
    return OutboxMessage(OutboxKind.QUESTION, channel_id, round_id)


def close_messages(closed: ClosedRound) -> list[OutboxMessage]:
    """What a close shows: the reveal (frozen), then the next question or the summary."""
    from bot.core.cards import reveal_card

    quiz, rnd = closed.quiz, closed.context.round
    channel = quiz.channel_id
    messages = [
        OutboxMessage(
            OutboxKind.REVEAL,
            channel,
            rnd.id,
            {"card": to_json(reveal_card(closed))},
        )
    ]
    if closed.next_round is not None:
        messages.append(question_message(channel, closed.next_round.id))
    elif closed.decision.ending is not None:
        summary = {"reason": closed.decision.ending, "rounds_played": rnd.position}
        messages.append(OutboxMessage(OutboxKind.SUMMARY, channel, rnd.id, summary))
    return messages


def reveal_of(item: OutboxItem) -> RevealCard:
    """The reveal card frozen in a reveal row."""
    return from_json(RevealCard, item.payload["card"])


# ---- cards as JSON: frozen dataclasses of ints, strings, enums, dates, tuples ------------


def to_json(value: Any) -> Any:
    """A card (or any part of one) as JSON-ready values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [to_json(v) for v in value]
    return value


def from_json(cls: type[CardT], data: Any) -> CardT:
    """The card of type `cls` that `to_json` turned into `data`."""
    return typing.cast(CardT, _decode(cls, data))


@functools.cache
def _field_types(cls: type) -> dict[str, Any]:
    # resolving a card's annotations is slow, and every sent row decodes a card
    return typing.get_type_hints(cls)


def _decode(hint: Any, data: Any) -> Any:
    if data is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(hint) if a is not type(None)]
        return _decode(inner[0], data)
    if origin is tuple:
        item = typing.get_args(hint)[0]
        return tuple(_decode(item, v) for v in data)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        hints = _field_types(hint)
        return hint(
            **{f.name: _decode(hints[f.name], data[f.name]) for f in dataclasses.fields(hint)}
        )
    if hint is datetime:
        return datetime.fromisoformat(data)
    if hint is date:
        return date.fromisoformat(data)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint(data)
    if hint is float:
        return float(data)
    return data


class OutboxStore(Protocol):
    """The outbox's storage (bot.store.outbox); each method is one transaction."""

    async def add_outbox(self, batches: Sequence[OutboxBatch], now: datetime) -> None:
        """Write batches of messages in one transaction of their own (count edits)."""
        ...

    def deliver_as_written(self, sender: OutboxSender) -> None:
        """Hand `sender` the rows of its platform (and channel) that are written from now
        on and can go at once (the first of their lane)."""
        ...

    def stop_delivering_as_written(self, sender: OutboxSender) -> None:
        """No more rows for `sender`; what it was handed stays leased to it."""
        ...

    async def claim_outbox(self, claim: OutboxClaim) -> list[OutboxItem]:
        """Claim the due first row of each lane until `claim.lease_until`."""
        ...

    async def outbox_done(self, item_id: int, now: datetime, message_ref: str | None) -> None:
        """A row was delivered."""
        ...

    async def outbox_done_many(self, item_ids: Sequence[int], now: datetime) -> None:
        """Rows were delivered (one transaction for a dispatcher's whole pass)."""
        ...

    async def question_shown(self, shown: QuestionShown, now: datetime) -> None:
        """A question was posted; `shown.moved` are its round's new opening and deadline."""
        ...

    async def retry_outbox(self, item_id: int, not_before: datetime, error: str) -> None:
        """Try a row again from `not_before`."""
        ...

    async def drop_outbox(self, item_id: int, now: datetime, reason: str) -> None:
        """A row is no longer wanted."""
        ...

    async def fail_outbox(self, item: OutboxItem, now: datetime, error: str) -> str | None:
        """A row can never be delivered; stops its quiz; the host's id if it stopped one."""
        ...

    async def outbox_stats(self, platform: str | None, now: datetime) -> OutboxStats:
        """Depth and oldest age of the unfinished rows."""
        ...

    async def next_outbox_time(self, platform: str, channel_id: str | None) -> datetime | None:
        """When the next unfinished row of these lanes is due; None when none waits."""
        ...
