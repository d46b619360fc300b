"""The answers-so-far line and early closes when several bot processes share one store."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from typing import Any, cast

from bot.core.cards import QuestionCard, RevealCard
from bot.core.clock import ManualClock
from bot.core.model import Scoring, StartRequest
from bot.core.ports import OpenRoundCount, Store

from .helpers import GUILD, HOST, RecordingChat, make_engine, user

THREE = StartRequest(decks=("basics",), questions=3, seconds=20, scoring=Scoring.ACCURACY)


async def test_two_processes_close_a_round_only_they_together_completed(store: Store) -> None:
    clock = ManualClock()
    chat_a, chat_b = RecordingChat(), RecordingChat()
    a = make_engine(store, chat_a, clock)
    b = make_engine(store, chat_b, clock)
    await a.start(GUILD, "chan", HOST, THREE)
    first = chat_a.current
    for n in (1, 2, 3):
        await a.record_answer(first.round_id, user(n), (0,))
    clock.advance(21)
    await a.close_due_rounds()
    second = chat_a.current
    assert second.position == 2

    await a.record_answer(second.round_id, user(1), (0,))
    await a.idle()  # A checked: two players missing; it waits for two more of its own
    await b.record_answer(second.round_id, user(2), (0,))
    await b.idle()  # B checked: one player missing; it waits for one more of its own
    await a.record_answer(second.round_id, user(3), (0,))
    await a.idle()  # one is fewer than A waits for, but its count refresh sees three

    assert len(chat_a.reveals) == 2
    assert chat_a.reveals[-1].round_id == second.round_id
    assert chat_a.current.position == 3
    assert not chat_b.reveals


async def test_every_running_quiz_shows_its_own_count(store: Store) -> None:
    clock = ManualClock()
    chat = RecordingChat()
    engine = make_engine(store, chat, clock)
    for channel in ("c1", "c2", "c3"):
        await engine.start(GUILD, channel, HOST, THREE)
    rounds = [card.round_id for card in chat.questions]

    for i, round_id in enumerate(rounds):
        for n in range(i + 1):
            await engine.record_answer(round_id, user(n), (0,))
    await engine.idle()

    last_count = {card.round_id: card.answered for card in chat.updates}
    assert last_count == {rounds[0]: 1, rounds[1]: 2, rounds[2]: 3}


class GatedCounts:
    """A store whose count reads wait at a gate after reading, as a slow one would."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.read = asyncio.Event()
        self.gate = asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def open_round_counts(self, round_ids: Collection[int]) -> list[OpenRoundCount]:
        counts = await self._store.open_round_counts(round_ids)
        self.read.set()
        await self.gate.wait()
        return counts


class OrderedChat(RecordingChat):
    """Also keeps the order of edits and reveals."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple[str, int]] = []

    async def update_question(
        self, channel_id: str, message_ref: str, card: QuestionCard, *, key: str
    ) -> None:
        self.events.append(("count", card.round_id))
        await super().update_question(channel_id, message_ref, card, key=key)

    async def post_reveal(
        self, channel_id: str, message_ref: str | None, card: RevealCard, *, key: str
    ) -> None:
        self.events.append(("reveal", card.round_id))
        await super().post_reveal(channel_id, message_ref, card, key=key)


async def test_a_count_read_before_the_reveal_is_not_shown_after_it(store: Store) -> None:
    clock = ManualClock()
    chat = OrderedChat()
    gated = GatedCounts(store)
    engine = make_engine(cast(Store, gated), chat, clock)
    await engine.start(GUILD, "chan", HOST, THREE)
    first = chat.current
    await engine.record_answer(first.round_id, user(1), (0,))
    await gated.read.wait()  # the refresh read "round open, 1 answer" ...
    clock.advance(21)
    await engine.close_due_rounds()  # ... then the round closed and was revealed
    gated.gate.set()
    await engine.idle()

    assert ("reveal", first.round_id) in chat.events
    assert ("count", first.round_id) not in chat.events


async def test_a_newcomer_does_not_stand_in_for_an_expected_player(store: Store) -> None:
    clock = ManualClock()
    chat = RecordingChat()
    engine = make_engine(store, chat, clock)
    await engine.start(GUILD, "chan", HOST, THREE)
    first = chat.current
    for n in (1, 2):
        await engine.record_answer(first.round_id, user(n), (0,))
    clock.advance(21)
    await engine.close_due_rounds()
    second = chat.current

    await engine.record_answer(second.round_id, user(3), (0,))  # new in round 2
    await engine.record_answer(second.round_id, user(1), (0,))
    await engine.idle()
    assert len(chat.reveals) == 1  # two answers, but user 2 is still missing
    await engine.record_answer(second.round_id, user(2), (0,))
    await engine.idle()
    assert len(chat.reveals) == 2 and chat.reveals[-1].round_id == second.round_id
