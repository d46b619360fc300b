"""Complete Discord API payloads, shaped after discord/types/*.py, for the fake to send."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

Json = dict[str, Any]

# Manage Server (1 << 5) and Manage Messages (1 << 13)
MANAGE_GUILD = 1 << 5
MANAGE_MESSAGES = 1 << 13
# View Channel, Send Messages, Embed Links, Attach Files, Read Message History, Use App Commands
MEMBER_PERMISSIONS = (1 << 10) | (1 << 11) | (1 << 14) | (1 << 15) | (1 << 16) | (1 << 31)

_ids = itertools.count(1_300_000_000_000_000_000)


def snowflake() -> str:
    """A fresh, increasing snowflake as Discord sends it (a string)."""
    return str(next(_ids))


def iso_now() -> str:
    """An ISO 8601 timestamp like the ones in Discord payloads."""
    return datetime.now(UTC).isoformat()


def user(user_id: str, name: str, *, bot: bool = False) -> Json:
    """A User object."""
    return {
        "id": user_id,
        "username": name.lower().replace(" ", "_"),
        "discriminator": "0",
        "global_name": name,
        "avatar": None,
        "bot": bot,
        "system": False,
        "public_flags": 0,
        "flags": 0,
    }


def member(user_payload: Json, *, permissions: int = MEMBER_PERMISSIONS) -> Json:
    """A guild Member object with the user and their resolved channel permissions."""
    return {
        "user": user_payload,
        "nick": None,
        "avatar": None,
        "roles": [],
        "joined_at": "2026-01-05T10:00:00+00:00",
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "pending": False,
        "flags": 0,
        "permissions": str(permissions),
    }


def text_channel(channel_id: str, guild_id: str, name: str) -> Json:
    """A guild text channel."""
    return {
        "id": channel_id,
        "type": 0,
        "guild_id": guild_id,
        "name": name,
        "position": 0,
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
        "topic": None,
        "last_message_id": None,
        "rate_limit_per_user": 0,
    }


def everyone_role(guild_id: str) -> Json:
    """The @everyone role, whose id is the guild's."""
    return {
        "id": guild_id,
        "name": "@everyone",
        "color": 0,
        "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
        "hoist": False,
        "position": 0,
        "permissions": str(MEMBER_PERMISSIONS),
        "managed": False,
        "mentionable": False,
        "flags": 0,
    }


def guild(
    guild_id: str, name: str, owner_id: str, channels: list[Json], members: list[Json]
) -> Json:
    """A full Guild object as GUILD_CREATE sends it."""
    return {
        "id": guild_id,
        "name": name,
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "emojis": [],
        "stickers": [],
        "features": [],
        "description": None,
        "incidents_data": None,
        "owner_id": owner_id,
        "region": "europe",
        "afk_channel_id": None,
        "afk_timeout": 300,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "roles": [everyone_role(guild_id)],
        "mfa_level": 0,
        "nsfw_level": 0,
        "application_id": None,
        "system_channel_id": None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "vanity_url_code": None,
        "banner": None,
        "premium_tier": 0,
        "preferred_locale": "en-US",
        "public_updates_channel_id": None,
        "stage_instances": [],
        "guild_scheduled_events": [],
        "joined_at": "2026-01-05T10:00:00+00:00",
        "large": False,
        "unavailable": False,
        "member_count": len(members),
        "voice_states": [],
        "members": members,
        "channels": channels,
        "threads": [],
        "presences": [],
        "max_members": 500000,
        "premium_subscription_count": 0,
        "soundboard_sounds": [],
    }


def application(app_id: str, owner: Json) -> Json:
    """An AppInfo object for GET /oauth2/applications/@me."""
    return {
        "id": app_id,
        "name": "Quiz Bot",
        "icon": None,
        "description": "",
        "summary": "",
        "verify_key": "00" * 32,
        "flags": 0,
        "owner": owner,
        "bot_public": True,
        "bot_require_code_grant": False,
        "team": None,
        "interactions_endpoint_url": None,
        "redirect_uris": [],
        "tags": [],
    }


def attachment(filename: str, size: int, content_type: str | None) -> Json:
    """An Attachment object for an uploaded file."""
    attachment_id = snowflake()
    url = f"https://cdn.example.invalid/attachments/{attachment_id}/{filename}"
    return {
        "id": attachment_id,
        "filename": filename,
        "size": size,
        "url": url,
        "proxy_url": url,
        "content_type": content_type,
    }


def message(
    message_id: str,
    channel_id: str,
    guild_id: str | None,
    author: Json,
    body: Json,
    *,
    attachments: list[Json] | None = None,
    webhook_id: str | None = None,
    application_id: str | None = None,
) -> Json:
    """A Message object built from a create-message request body."""
    payload: Json = {
        "id": message_id,
        "channel_id": channel_id,
        "author": author,
        "content": body.get("content") or "",
        "timestamp": iso_now(),
        "edited_timestamp": None,
        "tts": bool(body.get("tts", False)),
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": attachments or [],
        "embeds": body.get("embeds") or [],
        "components": body.get("components") or [],
        "pinned": False,
        "type": 0,
        "flags": int(body.get("flags") or 0),
    }
    if guild_id is not None:
        payload["guild_id"] = guild_id
    if webhook_id is not None:
        payload["webhook_id"] = webhook_id
    if application_id is not None:
        payload["application_id"] = application_id
    return payload


def interaction(
    *,
    interaction_id: str,
    token: str,
    kind: int,
    app_id: str,
    guild_id: str,
    channel: Json,
    member_payload: Json,
    data: Json,
    message_payload: Json | None = None,
) -> Json:
    """An Interaction object as INTERACTION_CREATE sends it."""
    payload: Json = {
        "id": interaction_id,
        "application_id": app_id,
        "type": kind,
        "token": token,
        "version": 1,
        "guild_id": guild_id,
        "guild": {"id": guild_id, "locale": "en-US", "features": []},
        "channel_id": channel["id"],
        "channel": channel,
        "member": member_payload,
        "app_permissions": str(MEMBER_PERMISSIONS),
        "locale": "en-US",
        "guild_locale": "en-US",
        "entitlements": [],
        "authorizing_integration_owners": {"0": guild_id},
        "context": 0,
        "attachment_size_limit": 25 * 1024 * 1024,
        "data": data,
    }
    if message_payload is not None:
        payload["message"] = message_payload
    return payload


def command_options(path: list[str], options: dict[str, Any]) -> Json:
    """`data` of a chat-input command: ["quiz", "team", "join"] with {"name": "Owls"}.

    A MemberOption value becomes a user option, its member in `resolved` as Discord
    sends it.
    """
    leaf: list[Json] = [_option(name, value) for name, value in options.items()]
    # wrap from the innermost subcommand outwards: type 1 is a subcommand, 2 a group
    for depth, name in reversed(list(enumerate(path[1:], start=1))):
        is_leaf = depth == len(path) - 1
        leaf = [{"name": name, "type": 1 if is_leaf else 2, "options": leaf}]
    data: Json = {"id": snowflake(), "name": path[0], "type": 1, "options": leaf}
    files = [v for v in options.values() if isinstance(v, FileOption)]
    if files:
        data["resolved"] = {"attachments": {f.attachment["id"]: f.attachment for f in files}}
    mentioned = [v for v in options.values() if isinstance(v, MemberOption)]
    if mentioned:
        data["resolved"] = {
            "users": {m.user["id"]: m.user for m in mentioned},
            "members": {
                m.user["id"]: {k: v for k, v in m.member.items() if k != "user"} for m in mentioned
            },
        }
    return data


def _option(name: str, value: Any) -> Json:
    if isinstance(value, FileOption):
        return {"name": name, "type": 11, "value": value.attachment["id"]}
    if isinstance(value, MemberOption):
        return {"name": name, "type": 6, "value": value.user["id"]}
    if isinstance(value, Focused):
        return {"name": name, "type": 3, "value": value.text, "focused": True}
    if isinstance(value, bool):
        return {"name": name, "type": 5, "value": value}
    if isinstance(value, int):
        return {"name": name, "type": 4, "value": value}
    return {"name": name, "type": 3, "value": str(value)}


class Focused:
    """An option value being typed, for autocomplete interactions."""

    def __init__(self, text: str) -> None:
        self.text = text


class MemberOption:
    """A guild member picked in a user option (e.g. /quiz stats player)."""

    def __init__(self, user_payload: Json, member_payload: Json) -> None:
        self.user = user_payload
        self.member = member_payload


class FileOption:
    """A file attached in an attachment option (e.g. /quiz deck add file); the fake
    serves its bytes at the attachment's URL."""

    def __init__(self, filename: str, data: bytes, *, size: int | None = None) -> None:
        self.filename = filename
        self.data = data
        # `size` as the metadata says it, to test a size check made before the download
        self.attachment = attachment(filename, len(data) if size is None else size, None)
