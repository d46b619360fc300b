"""Who and where, from the body of a Slack request: its workspace, member and channel.

A slash command's body has them flat (`team_id`, `user_id`, `channel_id`); an
interaction's, as objects (`team`, `user`, `channel` or the message's `container`).
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.adapters.slack.chat import Body
from bot.core.model import CommunityRef, PlayerRef


def community_of(body: Body) -> CommunityRef:
    """The workspace a slash command or an interaction comes from."""
    team = body.get("team")
    if isinstance(team, Mapping):
        return CommunityRef(str(team.get("id", "")), str(team.get("domain", "")))
    return CommunityRef(str(body.get("team_id", "")), str(body.get("team_domain", "")))


def player_of(body: Body) -> PlayerRef:
    """The member who typed the command or clicked."""
    user = body.get("user")
    if isinstance(user, Mapping):
        name = user.get("username") or user.get("name") or user.get("id")
        return PlayerRef(str(user.get("id", "")), str(name))
    return PlayerRef(str(body.get("user_id", "")), str(body.get("user_name", "")))


def channel_of(body: Body) -> str:
    """The channel of a command or of the clicked message."""
    channel = body.get("channel")
    if isinstance(channel, Mapping):
        return str(channel.get("id", ""))
    container = body.get("container")
    if isinstance(container, Mapping) and container.get("channel_id"):
        return str(container["channel_id"])
    return str(body.get("channel_id", ""))
