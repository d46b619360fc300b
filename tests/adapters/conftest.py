"""Fixtures of the Discord scenarios: the fake Discord, a store, the bot logged in."""

from __future__ import annotations

from collections.abc import AsyncIterator

import discord
import pytest
from discord.gateway import DiscordWebSocket

from bot.core.clock import ManualClock
from bot.store import SqlStore
from tests.fake_discord import FakeDiscord
from tests.fake_discord.harness import Harness, start_bot


@pytest.fixture
async def fake(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[FakeDiscord]:
    """A running fake Discord; discord.py's endpoints are restored afterwards.

    Discord's 3 s are 1.5 s here (an indirect parameter may change that): 50 clicks
    handled on one event loop with the fake need that margin on a busy CI machine.
    """
    server = FakeDiscord(time_scale=getattr(request, "param", 0.5))
    await server.start()
    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)
    monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", DiscordWebSocket.DEFAULT_GATEWAY)
    try:
        yield server
        assert not server.violations, server.violations
    finally:
        await server.close()


@pytest.fixture
async def bot(fake: FakeDiscord, store: SqlStore, database_url: str) -> AsyncIterator[Harness]:
    """The quiz bot, logged in to the fake; `store` stays open across bot restarts."""
    harness = await start_bot(fake, store, ManualClock(), database_url=database_url)
    try:
        yield harness
    finally:
        await harness.stop()
