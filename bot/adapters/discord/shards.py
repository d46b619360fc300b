"""Sharding: which shards of the bot this process runs, and the shard id on its logs.

Discord sends each guild's events, interactions included, on the gateway connection
of the guild's shard, `(guild_id >> 22) % shard_count`. A process that runs some of
the shards therefore answers only the clicks of their guilds; everything else the bot
does (closing rounds, posting over REST, the weekly board) is claimed in the database
and works from any process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import discord

from bot.config import Settings
from bot.core.errors import SettingsError
from bot.ops.logs import current_shard

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ShardPlan:
    """DISCORD_SHARD_COUNT and DISCORD_SHARD_IDS: `count` None means ask Discord."""

    count: int | None = None
    ids: tuple[int, ...] | None = None

    @classmethod
    def of(cls, settings: Settings) -> ShardPlan:
        """The plan the settings describe (checked by Settings already)."""
        count = settings.discord_shard_count
        return cls(int(count) if count.isdigit() else None, settings.discord_shard_ids)


@dataclass(frozen=True)
class Recommendation:
    """What `GET /gateway/bot` says: the shard count and the session-start budget."""

    shards: int
    session_start_limit: dict[str, Any]


async def recommended(http: discord.http.HTTPClient) -> Recommendation:
    """Discord's recommendation for this bot, asked over REST (the client must be
    logged in). The gateway URL it also returns is ignored, so DISCORD_GATEWAY_URL
    keeps deciding where the shards connect."""
    shards, _url, limit = await http.get_bot_gateway()
    return Recommendation(int(shards), dict(limit))


def resolve(plan: ShardPlan, recommended_count: int | None) -> tuple[int, list[int]]:
    """(shard count, this process's shard ids); SettingsError when `auto` turned out
    smaller than an id of DISCORD_SHARD_IDS."""
    count = plan.count if plan.count is not None else recommended_count
    if count is None:
        raise SettingsError("DISCORD_SHARD_COUNT: Discord did not recommend a shard count")
    ids = list(plan.ids) if plan.ids is not None else list(range(count))
    if ids[-1] >= count:
        raise SettingsError(
            f"DISCORD_SHARD_IDS: shard {ids[-1]} is outside the {count} shard(s) Discord "
            "recommends (DISCORD_SHARD_COUNT=auto): set DISCORD_SHARD_COUNT to a number"
        )
    return count, ids


def shard_of(guild_id: int | None, count: int) -> int:
    """The shard whose connection carries a guild's events (direct messages: shard 0)."""
    return 0 if guild_id is None else (guild_id >> 22) % count


def tag_interactions(
    parsers: dict[str, Callable[[Any], None]], count: int, seen: Callable[[int], None]
) -> None:
    """Run the INTERACTION_CREATE parser with the interaction's shard as log context.

    The parser starts the tasks that handle the interaction; they copy the context,
    so every line logged about that click carries its shard id. `seen` counts it.
    """
    parse = parsers["INTERACTION_CREATE"]
    parse = getattr(parse, "untagged", parse)  # launched again: wrap the original once

    def parse_tagged(data: Any) -> None:
        guild = data.get("guild_id")
        shard = shard_of(int(guild) if guild is not None else None, count)
        seen(shard)
        token = current_shard.set(shard)
        try:
            parse(data)
        finally:
            current_shard.reset(token)

    parse_tagged.untagged = parse  # type: ignore[attr-defined]
    parsers["INTERACTION_CREATE"] = parse_tagged
