"""A first click of a player the caller does not know yet: the player and the answer are
written in one transaction, so they are both there or neither is."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from bot.core.model import Mode
from bot.core.ports import AnswerOutcome, PlayerKey
from bot.store import SqlStore
from bot.store.tables import AnswerRow, PlayerRow
from tests.store.helpers import T0, counted_commits, start_quiz


async def stored_players(store: SqlStore, external_id: str) -> list[tuple[int, str]]:
    """(id, display name) of the stored players of that external id on "test"."""
    stmt = select(PlayerRow.id, PlayerRow.display_name).where(
        PlayerRow.platform == "test", PlayerRow.external_id == external_id
    )
    async with store.engine.connect() as conn:
        return [(int(r.id), str(r.display_name)) for r in await conn.execute(stmt)]


async def answer_count(store: SqlStore, round_id: int, player_id: int | None = None) -> int:
    stmt = select(func.count()).select_from(AnswerRow).where(AnswerRow.round_id == round_id)
    if player_id is not None:
        stmt = stmt.where(AnswerRow.player_id == player_id)
    async with store.engine.connect() as conn:
        return int((await conn.execute(stmt)).scalar_one())


async def refuse_answers(store: SqlStore) -> None:
    """Have the database fail every answer insert, as a full disk or a lost connection
    would fail it midway through the click's transaction."""
    async with store.engine.begin() as conn:
        if store.db.postgres:
            await conn.execute(
                text(
                    "CREATE FUNCTION refuse_answer() RETURNS trigger LANGUAGE plpgsql"
                    " AS $$ BEGIN RAISE EXCEPTION 'answers refused'; END $$"
                )
            )
            await conn.execute(
                text(
                    "CREATE TRIGGER refuse_answers BEFORE INSERT ON answers"
                    " FOR EACH ROW EXECUTE FUNCTION refuse_answer()"
                )
            )
        else:
            await conn.execute(
                text(
                    "CREATE TRIGGER refuse_answers BEFORE INSERT ON answers"
                    " BEGIN SELECT RAISE(ABORT, 'answers refused'); END"
                )
            )


async def test_a_first_click_stores_the_player_and_its_answer_in_one_transaction(
    store: SqlStore,
) -> None:
    _, _, first = await start_quiz(store)
    now = T0 + timedelta(seconds=2)

    with counted_commits(store) as commits:
        result = await store.add_answer(first.id, PlayerKey("test", "new", "Newcomer"), (1,), now)

    assert len(commits) == 1
    assert result.outcome is AnswerOutcome.INSERTED
    assert result.answer is not None and result.answer.player_id == result.player_id
    assert await stored_players(store, "new") == [(result.player_id, "Newcomer")]
    assert await answer_count(store, first.id, result.player_id) == 1
    # the id is the player's for good: the same person found by lookup is the same row
    assert (await store.player("test", "new", "Newcomer")).id == result.player_id


async def test_a_failed_first_click_leaves_neither_player_nor_answer(store: SqlStore) -> None:
    _, _, first = await start_quiz(store)
    await refuse_answers(store)

    with pytest.raises(DBAPIError, match="answers refused"):
        await store.add_answer(
            first.id, PlayerKey("test", "new", "Newcomer"), (1,), T0 + timedelta(seconds=2)
        )

    assert await stored_players(store, "new") == []
    assert await answer_count(store, first.id) == 0


async def test_a_burst_of_first_clicks_gets_one_player_and_one_answer_per_person(
    store: SqlStore,
) -> None:
    _, _, first = await start_quiz(store)
    renamed = await store.player("test", "old", "Old name")
    now = T0 + timedelta(seconds=2)
    keys = [PlayerKey("test", f"u{i}", f"User {i}") for i in range(6)]

    with counted_commits(store) as commits:
        results = await asyncio.gather(
            *(store.add_answer(first.id, key, (i % 3,), now) for i, key in enumerate(keys)),
            store.add_answer(first.id, keys[0], (2,), now),  # a double click of a newcomer
            store.add_answer(first.id, PlayerKey("test", "old", "New name"), (0,), now),
        )

    *firsts, double, old = results
    assert [r.outcome for r in firsts] == [AnswerOutcome.INSERTED] * 6
    assert len({r.player_id for r in firsts}) == 6
    assert double.outcome is AnswerOutcome.DUPLICATE and double.player_id == firsts[0].player_id
    assert double.answer is not None and double.answer.selected == (0,)  # the first click's
    assert old.outcome is AnswerOutcome.INSERTED and old.player_id == renamed.id
    assert await stored_players(store, "old") == [(renamed.id, "New name")]
    for key, result in zip(keys, firsts, strict=True):
        assert await stored_players(store, key.external_id) == [
            (result.player_id, key.display_name)
        ]
    assert await answer_count(store, first.id) == 7
    # one transaction for the burst (players and answers), one for the double click alone
    assert len(commits) <= 2


async def test_a_first_click_in_teams_mode_still_needs_a_team(store: SqlStore) -> None:
    community_id, _, first = await start_quiz(store, mode=Mode.TEAMS)
    member = await store.player("test", "member", "Member")
    team = await store.create_team(community_id, "Owls", member.id)
    now = T0 + timedelta(seconds=2)

    # a member the caller knows only by key (as after a restart) votes for their team;
    # a newcomer is in no team yet, so their click is refused, but they now exist
    voted, refused = await asyncio.gather(
        store.add_answer(first.id, PlayerKey("test", "member", "Member"), (1,), now, community_id),
        store.add_answer(first.id, PlayerKey("test", "new", "Newcomer"), (1,), now, community_id),
    )

    assert voted.outcome is AnswerOutcome.INSERTED and voted.player_id == member.id
    assert voted.answer is not None and voted.answer.team_id == team.id
    assert refused.outcome is AnswerOutcome.NO_TEAM
    assert await stored_players(store, "new") == [(refused.player_id, "Newcomer")]
    assert await answer_count(store, first.id) == 1


async def test_a_first_click_on_a_closed_round_is_closed(store: SqlStore) -> None:
    _, _, first = await start_quiz(store)

    late = await store.add_answer(
        first.id, PlayerKey("test", "new", "Newcomer"), (1,), first.closes_at
    )

    assert late.outcome is AnswerOutcome.CLOSED and late.answer is None
    assert await answer_count(store, first.id) == 0
