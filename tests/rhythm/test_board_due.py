"""The weekly check reads only due communities: `next_board_at` moves to the end of the
week once a community's ended weeks are settled, and a settings change makes it due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.clock import ManualClock
from bot.core.model import CommunityRef
from bot.core.rhythm.report import RunOutcome
from bot.store import SqlStore
from bot.store.communities import BOARD_DUE_NOW
from bot.store.rhythm import SqlRhythmStore

from .helpers import BOARD_CHANNEL, GUILD, make_process

# Tuesday of 2026-W48 (Mon 23 Nov - Sun 29 Nov, UTC); the week ends Mon 30 Nov 00:00 UTC.
TUESDAY = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
WEEK_END = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)


async def test_a_check_moves_the_next_board_to_the_end_of_the_week(store: SqlStore) -> None:
    clock = ManualClock(TUESDAY)
    process = make_process(store, clock)
    rhythm_store = SqlRhythmStore(store)
    await process.rhythm.config(GUILD, BOARD_CHANNEL, ["channel", "here"], is_admin=True)
    # a community without a channel is never due
    await process.engine.community(CommunityRef("guild-quiet", "Quiet"))

    due = await rhythm_store.due_boards("test", clock.now())
    assert [(d.community.external_id, d.due_at) for d in due] == [
        (GUILD.external_id, BOARD_DUE_NOW)
    ]
    assert (await process.rhythm.run_due()).idle
    assert await rhythm_store.due_boards("test", clock.now()) == []

    clock.set(WEEK_END - timedelta(seconds=1))
    assert await rhythm_store.due_boards("test", clock.now()) == []
    clock.set(WEEK_END)
    (found,) = await rhythm_store.due_boards("test", clock.now())
    assert found.due_at == WEEK_END
    report = await process.rhythm.run_due()
    assert [(b.week, b.outcome) for b in report.boards] == [("2026-W48", RunOutcome.QUIET)]
    assert await rhythm_store.due_boards("test", clock.now()) == []
    assert await rhythm_store.due_boards("test", WEEK_END + timedelta(days=7)) != []


async def test_a_settings_change_makes_the_check_due_and_wins_over_a_stale_move(
    store: SqlStore,
) -> None:
    clock = ManualClock(TUESDAY)
    process = make_process(store, clock)
    rhythm_store = SqlRhythmStore(store)
    await process.rhythm.config(GUILD, BOARD_CHANNEL, ["channel", "here"], is_admin=True)
    await process.rhythm.run_due()
    assert await rhythm_store.due_boards("test", clock.now()) == []

    await process.rhythm.config(GUILD, BOARD_CHANNEL, ["timezone", "Asia/Tokyo"], is_admin=True)
    (found,) = await rhythm_store.due_boards("test", clock.now())
    assert found.due_at == BOARD_DUE_NOW
    # a tick that read the old moment must not push the check past the change
    assert not await rhythm_store.move_board(found.community.id, WEEK_END, WEEK_END)
    assert await rhythm_store.move_board(found.community.id, BOARD_DUE_NOW, WEEK_END)

    await process.rhythm.config(GUILD, BOARD_CHANNEL, ["channel", "off"], is_admin=True)
    assert await rhythm_store.due_boards("test", WEEK_END + timedelta(days=30)) == []
