"""The sharded client on the sharding fake: the count asked of Discord, several shards
in one process, each guild on its own shard, and a shard outside the count refused."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import discord
import pytest
import yarl
from discord.gateway import DiscordWebSocket

from bot.adapters.discord.client import QuizBot
from bot.adapters.discord.shards import ShardPlan
from tests.fake_discord import FakeDiscord


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    """A running fake with discord.py pointed at it (restored afterwards)."""
    server = FakeDiscord(time_scale=0.5)
    await server.start()
    monkeypatch.setattr(discord.http.Route, "BASE", server.api_url)
    monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(server.gateway_url))
    try:
        yield server
    finally:
        await server.close()


async def connected(client: discord.Client, token: str) -> asyncio.Task[None]:
    """Start the client; returns its task once it is READY."""
    task = asyncio.create_task(client.start(token))
    ready = asyncio.create_task(client.wait_until_ready())
    done, _ = await asyncio.wait({task, ready}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        task.result()
    assert ready in done, "no READY"
    return task


async def test_with_no_count_set_discord_is_asked_but_the_gateway_url_stays(
    fake: FakeDiscord,
) -> None:
    # were the advertised URL used, the client could not connect at all
    fake.advertised_gateway_url = "ws://127.0.0.1:9/not-here"
    bot = QuizBot(guild_ready_timeout=0.05)
    task = await connected(bot, fake.token)

    assert fake.calls_to("GET", "/gateway/bot")
    assert fake.identifies == [(0, 1)]
    assert bot.shard_count == 1 and [g.id for g in bot.guilds] == [int(fake.guild_id)]
    await bot.close()
    await task


async def test_one_process_runs_every_shard_and_each_guild_comes_on_its_own(
    fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.recommended_shards = 3
    guilds = [fake.add_guild(shard=n, count=3) for n in range(3)]
    bot = QuizBot(guild_ready_timeout=0.05)

    async def no_pause(shard_id: int | None, *, initial: bool = False) -> None:
        return None  # Discord's 5 s between identifies, which the fake does not enforce

    monkeypatch.setattr(bot, "before_identify_hook", no_pause)
    task = await connected(bot, fake.token)

    assert sorted(fake.identifies) == [(0, 3), (1, 3), (2, 3)]
    for guild in guilds:
        found = bot.get_guild(int(guild.id))
        assert found is not None and found.shard_id == guild.shard(3)
    await bot.close()
    await task


async def test_a_process_with_some_shards_sees_only_their_guilds(fake: FakeDiscord) -> None:
    mine, theirs = fake.add_guild(shard=1, count=2), fake.add_guild(shard=0, count=2)
    bot = QuizBot(guild_ready_timeout=0.05, shards=ShardPlan(2, (1,)))
    task = await connected(bot, fake.token)

    assert fake.identifies == [(1, 2)]
    assert not fake.calls_to("GET", "/gateway/bot")
    assert bot.get_guild(int(mine.id)) is not None
    assert bot.get_guild(int(theirs.id)) is None
    # an event of the other shard's guild is not sent on this connection
    assert await fake.dispatch("GUILD_UPDATE", {"guild_id": theirs.id}) == []
    await bot.close()
    await task


async def test_a_shard_outside_the_count_is_closed_with_4010(fake: FakeDiscord) -> None:
    client = discord.AutoShardedClient(
        intents=discord.Intents(guilds=True), shard_count=2, shard_ids=[2]
    )
    with pytest.raises(discord.ConnectionClosed) as closed:
        await asyncio.wait_for(client.start(fake.token), 10)
    assert closed.value.code == 4010
    assert fake.connected_shards() == []
    await client.close()
