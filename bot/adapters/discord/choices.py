"""The choice items of a question, for the quiz's and the review's messages alike.

A question's lettered buttons and its "check all that apply" menu, and how a clicked
item is rebuilt from its custom_id: every number the click needs is in the id, so a
click works on any process, before and after a restart (discord.py's
examples/views/dynamic_counter.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Self

import discord
from discord import ui

from bot.core.cards import letter
from bot.render import to_chat_text

BUTTONS_PER_ROW = 5
MAX_SELECT_OPTIONS = 25
DESCRIPTION_LIMIT = 4096
_OPTION_TEXT_LIMIT = 100


def clip(text: str, limit: int = DESCRIPTION_LIMIT) -> str:
    """Text cut to a Discord limit (an embed description's by default), with an ellipsis
    when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def choice_button(
    custom_id: str,
    position: int,
    *,
    style: discord.ButtonStyle = discord.ButtonStyle.primary,
    disabled: bool = False,
    emoji: str | None = None,
) -> ui.Button[ui.View]:
    """The lettered button of one choice."""
    return ui.Button(
        label=letter(position), style=style, disabled=disabled, emoji=emoji, custom_id=custom_id
    )


def choice_row(position: int) -> int:
    """The row of a choice's button: five to a row, in letter order."""
    return position // BUTTONS_PER_ROW


def choices_menu(custom_id: str, choices: Sequence[str]) -> ui.Select[ui.View]:
    """The "check all that apply" menu of a question's lettered choices (a rebuilt
    menu has none: its picks come with the interaction)."""
    options = [
        discord.SelectOption(
            label=letter(i), value=str(i), description=clip(to_chat_text(c), _OPTION_TEXT_LIMIT)
        )
        for i, c in enumerate(choices[:MAX_SELECT_OPTIONS])
    ]
    return ui.Select(
        custom_id=custom_id,
        placeholder="Check all that apply",
        min_values=1,
        max_values=max(1, len(options)),
        options=options or [discord.SelectOption(label="A", value="0")],
    )


def release_view(item: ui.Item[Any]) -> None:
    """Empty the View that discord.py built from the clicked message for this dynamic
    item, once the click is answered.

    discord.py builds one per click (`View.from_message`), and the View and its items
    point at each other: a reference cycle that only the garbage collector frees. In a
    burst they outlive the young generations and pile up for a full collection, which
    freed 16,000 of them in one pause of 15 to 35 ms while 50 clicks waited (P5).
    Emptied, they are freed at once.
    """
    view = item.view
    if view is not None:
        view.clear_items()


class RebuiltFromId:
    """A DynamicItem whose constructor takes the numbers of its template's groups, in
    order: the clicked item is rebuilt from them (a menu's picks come with the
    interaction)."""

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> Self:
        """Rebuild the item from a clicked custom_id."""
        return cls(*(int(group) for group in match.groups()))
