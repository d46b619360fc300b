"""A click is acknowledged after its answer is committed; a slow write is acknowledged
late (counted) and the receipt follows by response_url; a failed write gets a clear line."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import pytest

from bot.adapters.slack.acks import AckAfterCommit
from bot.core.cards import Receipt
from bot.core.model import PlayerRef
from tests.mock_slack.harness import ADA, BEN, CY, SlackHarness, right_letters

LATE_AFTER = 0.3


class Counter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


@pytest.fixture
async def late() -> Counter:
    return Counter()


@pytest.fixture
async def acks(late: Counter) -> AckAfterCommit:
    return AckAfterCommit(late_after=LATE_AFTER, on_late=late)


@pytest.fixture
async def harness(database_url: str, acks: AckAfterCommit) -> AsyncIterator[SlackHarness]:
    opened = await SlackHarness.open(database_url, acks=acks)
    try:
        yield opened
    finally:
        await opened.close()


RecordAnswer = Callable[[int, PlayerRef, Sequence[int]], Awaitable[Receipt]]


def gate_answers(h: SlackHarness, monkeypatch: pytest.MonkeyPatch) -> asyncio.Event:
    """Hold every answer's write until the returned event is set."""
    gate = asyncio.Event()
    record: RecordAnswer = h.engine.record_answer

    async def held(*args: Any, **kwargs: Any) -> Receipt:
        await gate.wait()
        return await record(*args, **kwargs)

    monkeypatch.setattr(h.engine, "record_answer", held)
    return gate


def gate_player(h: SlackHarness, monkeypatch: pytest.MonkeyPatch, player: str) -> asyncio.Event:
    """Hold one player's answer writes until the returned event is set."""
    gate = asyncio.Event()
    record: RecordAnswer = h.engine.record_answer

    async def held(round_id: int, who: PlayerRef, positions: Sequence[int]) -> Receipt:
        if who.external_id == player:
            await gate.wait()
        return await record(round_id, who, positions)

    monkeypatch.setattr(h.engine, "record_answer", held)
    return gate


async def answered(h: SlackHarness) -> int:
    rounds = await h.store.open_round_counts([_round_id(h)])
    return rounds[0].answered if rounds else -1


def _round_id(h: SlackHarness) -> int:
    button = next(e for b in h.question().blocks if b["type"] == "actions" for e in b["elements"])
    return int(str(button["value"]).split(":")[0])


async def start(h: SlackHarness) -> None:
    await h.slack.command(ADA, "start science 3 30s")
    await h.mock.wait_for(lambda: any(m.startswith("*Question") for m in h.messages()))
    await h.settle()


async def test_the_200_goes_out_only_once_the_answer_is_stored(
    harness: SlackHarness, monkeypatch: pytest.MonkeyPatch, late: Counter, acks: AckAfterCommit
) -> None:
    acks.late_after = 5.0  # no write takes that long here, however busy the machine
    await start(harness)
    gate = gate_answers(harness, monkeypatch)
    q = harness.question()
    click = asyncio.create_task(harness.slack.click(BEN, q, right_letters(q)[0]))
    done, _ = await asyncio.wait({click}, timeout=0.1)
    assert not done, "acknowledged before the answer was written"
    gate.set()
    reply = await click
    assert reply.status == 200
    assert await answered(harness) == 1  # stored by the time Slack has its 200
    assert late.count == 0
    [receipt] = await harness.mock.wait_for_ephemerals(BEN.id, 1)
    assert receipt.startswith("Locked in")


async def test_a_slow_write_is_acknowledged_late_then_the_receipt_follows(
    harness: SlackHarness, monkeypatch: pytest.MonkeyPatch, late: Counter
) -> None:
    await start(harness)
    gate = gate_answers(harness, monkeypatch)
    q = harness.question()
    reply = await harness.slack.click(BEN, q, right_letters(q)[0])
    assert reply.status == 200
    assert LATE_AFTER <= reply.seconds < LATE_AFTER + 1.0
    assert late.count == 1
    assert await answered(harness) == 0 and not harness.mock.ephemerals_for(BEN.id)
    gate.set()
    [receipt] = await harness.mock.wait_for_ephemerals(BEN.id, 1)
    assert await answered(harness) == 1
    assert receipt.startswith("Locked in")


async def test_a_failed_write_is_acknowledged_and_the_member_told(
    harness: SlackHarness, monkeypatch: pytest.MonkeyPatch, late: Counter
) -> None:
    await start(harness)

    async def broken(*args: Any, **kwargs: Any) -> Receipt:
        raise ConnectionError("database away")

    monkeypatch.setattr(harness.engine, "record_answer", broken)
    q = harness.question()
    reply = await harness.slack.click(BEN, q, right_letters(q)[0])
    assert reply.status == 200
    [line] = await harness.mock.wait_for_ephemerals(BEN.id, 1)
    assert "click again" in line
    assert late.count == 0


async def test_a_listener_failing_after_its_ack_is_answered_200_and_the_member_told(
    harness: SlackHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the decks are unreadable")

    monkeypatch.setattr(harness.engine, "decks_of", broken)
    reply = await harness.slack.command(ADA, "start science 3 30s")
    assert reply.status == 200  # acknowledged before the listener went on and failed
    [line] = await harness.mock.wait_for_ephemerals(ADA.id, 1)
    assert line == "Something went wrong on my side; please try again"


async def test_receipts_wait_for_the_clicks_being_written_to_be_acknowledged(
    harness: SlackHarness, monkeypatch: pytest.MonkeyPatch, acks: AckAfterCommit
) -> None:
    acks.late_after = 5.0
    await start(harness)
    gate = gate_player(harness, monkeypatch, CY.id)
    q = harness.question()
    held = asyncio.create_task(harness.slack.click(CY, q, right_letters(q)[0]))
    await asyncio.sleep(0.05)  # Cy's click is in, its write held
    reply = await harness.slack.click(BEN, q, right_letters(q)[0])
    assert reply.status == 200  # Ben's answer is stored and acknowledged...
    await asyncio.sleep(0.1)
    assert not harness.mock.ephemerals_for(BEN.id)  # ...his receipt waits for Cy's ack
    gate.set()
    assert (await held).status == 200
    [ben] = await harness.mock.wait_for_ephemerals(BEN.id, 1)
    [cy] = await harness.mock.wait_for_ephemerals(CY.id, 1)
    assert ben.startswith("Locked in") and cy.startswith("Locked in")


async def test_a_receipt_waits_for_other_clicks_a_bounded_time(
    harness: SlackHarness, monkeypatch: pytest.MonkeyPatch, acks: AckAfterCommit
) -> None:
    acks.late_after = 5.0
    acks.in_flight.at_most = 0.2
    await start(harness)
    gate = gate_player(harness, monkeypatch, CY.id)
    q = harness.question()
    held = asyncio.create_task(harness.slack.click(CY, q, right_letters(q)[0]))
    await asyncio.sleep(0.05)
    assert (await harness.slack.click(BEN, q, right_letters(q)[0])).status == 200
    # Cy's write is still held: Ben's receipt goes anyway once it has waited 0.2 s
    [ben] = await harness.mock.wait_for_ephemerals(BEN.id, 1)
    assert ben.startswith("Locked in") and not held.done()
    gate.set()
    assert (await held).status == 200
