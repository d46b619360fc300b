"""Discord's `/quiz deck add|list|show|remove|export`: a community's own decks from chat.

`/quiz deck add` takes the file as an app-command attachment option. Its size is
checked from the attachment's metadata before anything is downloaded, and the download
has a time limit; the library (bot.questions.community_decks) parses and stores it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, Literal

import discord
from discord import app_commands

from bot.adapters.discord.choices import clip
from bot.adapters.discord.views import Reply, player_of, respond
from bot.core.cards import counted
from bot.core.errors import QuizError
from bot.core.model import CommunityRef
from bot.questions.community_decks import (
    DOWNLOAD_SECONDS,
    CommunityDeckLibrary,
    DeckEntry,
    check_upload_size,
)

if TYPE_CHECKING:
    from bot.adapters.discord.client import QuizBot

MESSAGE_LIMIT = 2000  # characters of a Discord message's content
DECKS_COLOUR = discord.Colour.blurple()


def _community(interaction: discord.Interaction[Any]) -> CommunityRef:
    # commands.py registers this module: import it only when a command runs
    from bot.adapters.discord.commands import community_of

    return community_of(interaction)


def _may_edit_anyway(interaction: discord.Interaction[Any]) -> bool:
    """Admins (Manage Server) may always change decks."""
    return interaction.permissions.manage_guild


def decks_list_embed(entries: list[DeckEntry]) -> discord.Embed:
    """The bot's decks and the server's own, each marked."""
    lines = [
        f"**{e.name}**: {e.title} ({counted(e.questions, 'question')}) · "
        + ("this server's own" if e.own else "bot deck")
        for e in entries
    ]
    return discord.Embed(
        title="Decks",
        description=clip("\n".join(lines) or "No decks yet: /quiz deck add"),
        colour=DECKS_COLOUR,
    )


async def deck_choices(
    bot: QuizBot, interaction: discord.Interaction[Any], current: str, *, own_only: bool = False
) -> list[app_commands.Choice[str]]:
    """Autocomplete of the community's decks (the bot's and its own, marked)."""
    catalogue = await bot.engine.decks_of(_community(interaction))
    typed = current.lower()
    choices = []
    for deck in catalogue.bank.decks():
        own = catalogue.is_own(deck.name)
        if own_only and not own:
            continue
        if typed in deck.name.lower() or typed in deck.title.lower():
            mark = " · own" if own else ""
            label = f"{deck.title} ({len(deck.questions)}){mark}"
            choices.append(app_commands.Choice(name=label[:100], value=deck.name))
    return choices[:25]


async def read_attachment(attachment: discord.Attachment) -> bytes:
    """The attachment's bytes: its size checked first, the download time-limited."""
    check_upload_size(attachment.size, attachment.filename)
    try:
        return await asyncio.wait_for(attachment.read(), DOWNLOAD_SECONDS)
    except TimeoutError:
        raise QuizError(
            f"Downloading {attachment.filename} took over {DOWNLOAD_SECONDS:.0f} s: try again"
        ) from None
    except discord.HTTPException:
        raise QuizError(f"Could not download {attachment.filename}: try again") from None


class DeckCommands(app_commands.Group, name="deck", description="This server's own decks"):
    """/quiz deck add|list|show|remove|export."""

    def __init__(self, bot: QuizBot) -> None:
        super().__init__()
        self.bot = bot

    @property
    def library(self) -> CommunityDeckLibrary:
        """The community decks, on the bot's engine."""
        return CommunityDeckLibrary(self.bot.engine)

    async def _respond(self, interaction: discord.Interaction[Any], work: Awaitable[Reply]) -> None:
        await respond(interaction, work, defer_after=self.bot.defer_after)

    @app_commands.command(description="Add or replace a deck from a file (admins, by default)")
    @app_commands.describe(
        file="A deck: YAML, GIFT, Moodle XML, Aiken, Open Trivia DB JSON or CSV (1 MB at most)",
        name="The deck's name (default: the file's name)",
    )
    async def add(
        self,
        interaction: discord.Interaction[Any],
        file: discord.Attachment,
        name: str | None = None,
    ) -> None:
        """/quiz deck add."""
        await self._respond(interaction, self._add(interaction, file, name))

    async def _add(
        self, interaction: discord.Interaction[Any], file: discord.Attachment, name: str | None
    ) -> Reply:
        library = self.library
        community, admin = _community(interaction), _may_edit_anyway(interaction)
        await library.editable(community, is_admin=admin)  # before downloading anything
        data = await read_attachment(file)
        added = await library.add(
            community, player_of(interaction), data, file.filename, name, is_admin=admin
        )
        return Reply(clip(added.text(), MESSAGE_LIMIT))

    @app_commands.command(name="list", description="The bot's decks and this server's own")
    async def list_(self, interaction: discord.Interaction[Any]) -> None:
        """/quiz deck list."""
        await self._respond(interaction, self._list(interaction))

    async def _list(self, interaction: discord.Interaction[Any]) -> Reply:
        entries = await self.library.entries(_community(interaction))
        return Reply(embed=decks_list_embed(entries))

    @app_commands.command(description="A deck's questions by kind, and its first questions")
    @app_commands.describe(name="The deck")
    async def show(self, interaction: discord.Interaction[Any], name: str) -> None:
        """/quiz deck show."""
        await self._respond(interaction, self._show(interaction, name))

    async def _show(self, interaction: discord.Interaction[Any], name: str) -> Reply:
        summary = await self.library.show(_community(interaction), name)
        lines = summary.lines()
        embed = discord.Embed(
            title=lines[0], description=clip("\n".join(lines[1:])), colour=DECKS_COLOUR
        )
        return Reply(embed=embed)

    @app_commands.command(description="Remove one of this server's decks (admins, by default)")
    @app_commands.describe(name="The deck")
    async def remove(self, interaction: discord.Interaction[Any], name: str) -> None:
        """/quiz deck remove."""
        await self._respond(interaction, self._remove(interaction, name))

    async def _remove(self, interaction: discord.Interaction[Any], name: str) -> Reply:
        text = await self.library.remove(
            _community(interaction), name, is_admin=_may_edit_anyway(interaction)
        )
        return Reply(text)

    @app_commands.command(description="Get a deck back as a file")
    @app_commands.describe(name="The deck", format="The file's format (default yaml)")
    async def export(
        self,
        interaction: discord.Interaction[Any],
        name: str,
        format: Literal["yaml", "gift", "csv"] = "yaml",
    ) -> None:
        """/quiz deck export."""
        await self._respond(interaction, self._export(interaction, name, format))

    async def _export(self, interaction: discord.Interaction[Any], name: str, fmt: str) -> Reply:
        filename, text = await self.library.export(_community(interaction), name, fmt)
        return Reply(f"Deck {name} as {fmt}", image=text.encode(), image_name=filename)

    @show.autocomplete("name")
    @export.autocomplete("name")
    async def _any_deck(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        return await deck_choices(self.bot, interaction, current)

    @remove.autocomplete("name")
    async def _own_deck(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        return await deck_choices(self.bot, interaction, current, own_only=True)
