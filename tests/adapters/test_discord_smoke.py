"""The fake Discord against a bare discord.Client: login, handshake, one slash command.

This guards the discord.py internals the adapter and the fake rely on
(Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY, the callback's response shape).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import discord
import pytest
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket

from tests.fake_discord import FakeDiscord


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    """A running fake with discord.py pointed at it (restored afterwards)."""
    server = FakeDiscord(time_scale=0.1)  # Discord's 3 s are 0.3 s here
    await server.start()
    monkeypatch.setattr(discord.http.Route, "BASE", server.api_url)
    monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(server.gateway_url))
    try:
        yield server
    finally:
        await server.close()


async def test_real_client_logs_in_and_answers_a_slash_command(fake: FakeDiscord) -> None:
    client = discord.Client(intents=discord.Intents(guilds=True), guild_ready_timeout=0.05)
    tree = app_commands.CommandTree(client)

    @tree.command(description="Say pong")
    async def ping(interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"pong, {interaction.user.display_name}")

    task = asyncio.create_task(client.start(fake.token))
    await asyncio.wait_for(client.wait_until_ready(), 5)

    assert client.user is not None and client.user.name == "quiz_bot"
    assert [g.name for g in client.guilds] == ["Study Group"]
    assert client.application_id == int(fake.app_id)

    reply = await fake.slash(fake.user("Alice"), "ping")
    assert reply.content == "pong, Alice"
    assert not reply.ephemeral
    assert not fake.violations

    await client.close()
    await task
    paths = [(c.method, c.path) for c in fake.calls]
    assert ("GET", "/users/@me") in paths
    assert ("GET", "/oauth2/applications/@me") in paths
    callback = fake.calls_to("POST", r"/interactions/\d+/[^/]+/callback")
    assert callback and callback[0].query == {"with_response": "1"}


async def test_a_late_first_response_is_a_violation(fake: FakeDiscord) -> None:
    client = discord.Client(intents=discord.Intents(guilds=True), guild_ready_timeout=0.05)
    tree = app_commands.CommandTree(client)

    @tree.command(description="Too slow")
    async def slow(interaction: discord.Interaction) -> None:
        await asyncio.sleep(fake.first_response_limit * 1.3)
        with contextlib.suppress(discord.NotFound):  # Discord's answer to a late callback
            await interaction.response.send_message("late")

    task = asyncio.create_task(client.start(fake.token))
    await asyncio.wait_for(client.wait_until_ready(), 5)
    with pytest.raises(AssertionError, match="no response within 3 s"):
        await fake.slash(fake.user("Bob"), "slow")
    # the late callback arrives a moment later; wait for it rather than guess how long
    for _ in range(250):
        if any("after" in v for v in fake.violations):
            break
        await asyncio.sleep(0.02)
    assert any("after" in v for v in fake.violations)
    await client.close()
    await task


async def test_a_wrong_token_is_refused(fake: FakeDiscord) -> None:
    client = discord.Client(intents=discord.Intents(guilds=True))
    with pytest.raises(discord.LoginFailure):
        await client.login("not-the-token")
    await client.close()
