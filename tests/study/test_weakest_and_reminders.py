"""`pick weakest` draws where the group's recall is lowest; reminders go once a day, once
across processes, and a refused DM turns them off."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.core.clock import ManualClock
from bot.core.model import Scoring, StartRequest
from bot.core.ratings import Rating
from bot.core.study.memory import review_card
from bot.core.study.model import ReviewSource
from bot.core.study.picking import weakest_draw
from bot.core.study.ports import DirectMessageRefused
from bot.runtime import study_for
from bot.store import SqlStore
from bot.store.study import StudyCards
from tests.rhythm.helpers import ADMIN, ALGEBRA, CHANNEL, GUILD, BoardChat, make_process, user
from tests.study.helpers import T0

ALGEBRA_IDS = [q.id for q in ALGEBRA.questions]


async def seed(store: SqlStore, player: str, ratings: list[tuple[str, Rating, datetime]]) -> int:
    """Give a player cards: each question rated once at the given moment."""
    community = await store.community("test", GUILD.external_id, GUILD.name)
    pid = (await store.player("test", player, player)).id
    updates = [
        review_card(None, community_id=community.id, player_id=pid, question_id=qid,
                    content_hash="h", rating=rating, source=ReviewSource.QUIZ, now=when)
        for qid, rating, when in ratings
    ]  # fmt: skip
    async with store.db.write() as conn:
        await StudyCards(store.db).write_updates(conn, updates)
    return pid


def group_history(now: datetime) -> list[tuple[str, Rating, datetime]]:
    """algebra-1 forgotten long ago, algebra-2 learnt long ago, algebra-3 and 4 fresh;
    algebra-5 never seen."""
    return [
        ("algebra-1", Rating.AGAIN, now - timedelta(days=10)),
        ("algebra-2", Rating.GOOD, now - timedelta(days=10)),
        ("algebra-3", Rating.GOOD, now - timedelta(days=1)),
        ("algebra-4", Rating.EASY, now - timedelta(days=1)),
    ]


async def test_pick_weakest_draws_the_groups_weakest_questions(store: SqlStore) -> None:
    clock = ManualClock(T0)
    process = make_process(store, clock)
    study_for(process.engine, process.rhythm)
    for member in ("u1", "u2"):
        await seed(store, member, group_history(T0))
    await process.rhythm.set_config(GUILD, CHANNEL, "pick", "weakest", is_admin=True)
    request = StartRequest(decks=("algebra",), questions=4, seconds=20, scoring=Scoring.ACCURACY)
    quiz = await process.engine.start(GUILD, CHANNEL, ADMIN, request)
    # three weakest seen questions, and one in four never seen
    assert sorted(quiz.question_ids) == ["algebra-1", "algebra-2", "algebra-3", "algebra-5"]
    assert sorted(quiz.options.weak_picks) == ["algebra-1", "algebra-2", "algebra-3"]
    await process.engine.stop(GUILD, CHANNEL, ADMIN, is_admin=True)
    reveal = process.chat.reveals[-1]
    first = await store.round(reveal.round_id)
    assert first is not None
    assert reveal.picked_weak is (first.question.question_id != "algebra-5")
    if reveal.picked_weak:
        assert reveal.picked_note == "picked because the group is likely to forget it"


def test_weakest_draw_orders_by_mean_recall() -> None:
    cards: dict[str, list] = {}
    for pid in (1, 2):
        for qid, rating, when in group_history(T0):
            update = review_card(None, community_id=1, player_id=pid, question_id=qid,
                                 content_hash="h", rating=rating, source=ReviewSource.QUIZ,
                                 now=when)  # fmt: skip
            cards.setdefault(qid, []).append(update.card)
    drawn, weak = weakest_draw(list(ALGEBRA.questions), cards, 2, T0, 0.9, random.Random(1))
    assert sorted(q.id for q in drawn) == ["algebra-1", "algebra-2"] == sorted(weak)


@dataclass
class DirectChat(BoardChat):
    """A chat that also sends DMs, or refuses them."""

    sent: list[tuple[str, str]] = field(default_factory=list)
    refuse: bool = False

    async def send_direct(self, player_external_id: str, text: str) -> None:
        if self.refuse:
            raise DirectMessageRefused("Cannot send messages to this user")
        self.sent.append((player_external_id, text))


def process_with_dm(store: SqlStore, clock: ManualClock, chat: DirectChat):  # type: ignore[no-untyped-def]
    process = make_process(store, clock)
    process.engine.chat = chat
    process.rhythm.boards.board = chat
    reviews = study_for(process.engine, process.rhythm)
    assert reviews is not None
    return process, reviews


async def test_reminders_go_once_a_day_across_two_processes(database_url: str) -> None:
    clock = ManualClock(T0 - timedelta(hours=1))  # 07:00 UTC, before the morning
    stores = [SqlStore.from_url(database_url), SqlStore.from_url(database_url)]
    chats = [DirectChat(), DirectChat()]
    try:
        procs = [process_with_dm(s, clock, c) for s, c in zip(stores, chats, strict=True)]
        await seed(stores[0], "u1", group_history(T0 - timedelta(days=1)))
        await seed(stores[0], "u2", group_history(T0 - timedelta(days=1)))
        assert await procs[0][1].set_reminders(GUILD, user(1), True)
        await asyncio.gather(*(p.rhythm.run_due() for p, _ in procs))
        assert chats[0].sent == chats[1].sent == []  # not 09:00 yet
        clock.set(T0 + timedelta(hours=1, minutes=5))  # 09:05
        await asyncio.gather(*(p.rhythm.run_due() for p, _ in procs))
        await asyncio.gather(*(p.rhythm.run_due() for p, _ in procs))
        sent = chats[0].sent + chats[1].sent
        cards = await procs[0][1].store.due_cards((await stores[0].player("test", "u1", "")).id,
                                                  clock.now())  # fmt: skip
        assert sent == [("u1", f"{len(cards)} questions are due. /quiz review")]
        clock.set(T0 + timedelta(days=1, hours=2))  # the next morning: one more
        await asyncio.gather(*(p.rhythm.run_due() for p, _ in procs))
        assert len(chats[0].sent + chats[1].sent) == 2
    finally:
        for s in stores:
            await s.close()


async def test_a_refused_dm_turns_the_players_reminders_off(store: SqlStore) -> None:
    clock = ManualClock(T0 + timedelta(hours=2))
    chat = DirectChat(refuse=True)
    process, reviews = process_with_dm(store, clock, chat)
    pid = await seed(store, "u1", group_history(T0))
    await reviews.set_reminders(GUILD, user(1), True)
    community = await store.community("test", GUILD.external_id, GUILD.name)
    assert await reviews.store.reminders_on(community.id, pid)
    await process.rhythm.run_due()
    assert not await reviews.store.reminders_on(community.id, pid)
    chat.refuse = False
    clock.set(T0 + timedelta(days=1, hours=2))
    await process.rhythm.run_due()
    assert chat.sent == []  # off stays off until the player turns it on again
