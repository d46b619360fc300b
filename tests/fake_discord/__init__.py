"""A local fake of Discord's REST API and gateway for end-to-end adapter tests."""

from tests.fake_discord.server import (
    FakeDiscord,
    FakeGuild,
    FakeUser,
    InteractionRecord,
    RestCall,
    Upload,
    buttons,
    embed_text,
    message_text,
    selects,
)

__all__ = [
    "FakeDiscord",
    "FakeGuild",
    "FakeUser",
    "InteractionRecord",
    "RestCall",
    "Upload",
    "buttons",
    "embed_text",
    "message_text",
    "selects",
]
