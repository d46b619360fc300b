"""Study mode's DirectMessagePort on Discord: a DM to a member, by user id.

Discord answers a DM the user does not accept (DMs from server members turned off,
the bot blocked, no server shared any more) with 403 and code 50007, "Cannot send
messages to this user"; an unknown user is 404 with 10013. Both are refusals that
no retry will change: DirectMessageRefused.
"""

from __future__ import annotations

import discord

from bot.core.study.ports import DirectMessageRefused

CANNOT_MESSAGE_USER = 50007
UNKNOWN_USER = 10013
_DM_LIMIT = 2000


async def send_direct(client: discord.Client, player_external_id: str, text: str) -> None:
    """DM `text` to the user; DirectMessageRefused when Discord will not deliver it."""
    try:
        channel = await client.create_dm(discord.Object(int(player_external_id)))
        await channel.send(text[:_DM_LIMIT])
    except (discord.Forbidden, discord.NotFound) as exc:
        if exc.code in (CANNOT_MESSAGE_USER, UNKNOWN_USER):
            raise DirectMessageRefused(
                f"Discord refused a DM to {player_external_id}: {exc.text}"
            ) from exc
        raise
