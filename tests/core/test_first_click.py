"""A player's first click through the engine: one transaction creates the player and
stores the answer, and the receipt comes after it committed."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from bot.core.cards import ReceiptKind
from bot.core.clock import ManualClock
from bot.core.model import Round, StartRequest
from bot.store import SqlStore
from bot.store.tables import AnswerRow, PlayerRow
from tests.store.helpers import counted_commits

from .helpers import CHANNEL, GUILD, HOST, RecordingChat, make_engine, right_positions, user

ONE = StartRequest(decks=("basics",), questions=2, seconds=20, allow_change=True)


async def stored(store: SqlStore, external_id: str) -> tuple[int, int]:
    """How many players of that id are stored, and how many answers they have."""
    async with store.engine.connect() as conn:
        players = (
            await conn.execute(select(PlayerRow.id).where(PlayerRow.external_id == external_id))
        ).all()
        answers = (
            await conn.execute(
                select(func.count())
                .select_from(AnswerRow)
                .join(PlayerRow, PlayerRow.id == AnswerRow.player_id)
                .where(PlayerRow.external_id == external_id)
            )
        ).scalar_one()
    return len(players), int(answers)


async def test_a_first_click_is_one_transaction_and_the_player_is_then_known(
    store: SqlStore,
) -> None:
    clock, chat = ManualClock(), RecordingChat()
    engine = make_engine(store, chat, clock)
    await engine.start(GUILD, CHANNEL, HOST, ONE)
    await engine.idle()  # the question's delivery is recorded: nothing else is writing
    card = chat.current
    good = right_positions(card)
    clock.advance(2)
    other = ((good[0] + 1) % len(card.choices),)
    with counted_commits(store) as commits:
        first = await engine.record_answer(card.round_id, user(1), good)
        committed_by_first = len(commits)
    again = await engine.record_answer(card.round_id, user(1), good)
    changed = await engine.record_answer(card.round_id, user(1), other)

    assert first.kind is ReceiptKind.ACCEPTED
    assert committed_by_first == 1  # the new player and the answer, together
    assert await stored(store, "u1") == (1, 1)
    assert again.kind is ReceiptKind.ALREADY_ANSWERED and again.selected == good
    assert changed.kind is ReceiptKind.CHANGED  # the change found the new player's id
    assert await engine.player_id(user(1)) == (await store.player("test", "u1", "User 1")).id


async def test_a_rounds_first_clicks_together_read_its_facts_once(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock, chat = ManualClock(), RecordingChat()
    engine = make_engine(store, chat, clock)
    await engine.start(GUILD, CHANNEL, HOST, ONE)
    await engine.idle()
    card = chat.current
    # another process's engine: it has not seen the round yet
    fresh = make_engine(store, RecordingChat(), clock)
    reads: list[int] = []
    read_round = store.round

    async def counted(round_id: int) -> Round | None:
        reads.append(round_id)
        return await read_round(round_id)

    monkeypatch.setattr(store, "round", counted)
    receipts = await asyncio.gather(
        *(fresh.record_answer(card.round_id, user(n), right_positions(card)) for n in range(20))
    )
    assert [r.kind for r in receipts] == [ReceiptKind.ACCEPTED] * 20
    assert reads == [card.round_id]
