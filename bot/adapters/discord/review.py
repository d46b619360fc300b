"""Discord's private review: `/quiz review`, one ephemeral message the player answers.

The slash command answers with an ephemeral message (only the player sees it) holding
the question and its buttons. A click is recorded by the core first; then the same
message is edited through the interaction's response (`response.edit_message`): the
feedback with the explanation above the next question, or the summary. The buttons
are DynamicItems whose custom_id carries the session, the item and the choice, so a
click works on any process, before and after a restart, as in discord.py's
examples/views/dynamic_counter.py.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import discord
from discord import app_commands, ui

from bot.adapters.discord.choices import (
    RebuiltFromId,
    choice_button,
    choice_row,
    choices_menu,
    release_view,
)
from bot.adapters.discord.commands import channel_of, community_of
from bot.adapters.discord.decks import deck_choices
from bot.adapters.discord.review_views import review_embeds
from bot.adapters.discord.views import player_of
from bot.core.deadline import act_if_slow
from bot.core.errors import NotAllowedError, QuizError
from bot.core.model import QuestionKind
from bot.core.study.model import ReviewStep
from bot.core.study.ports import Reviews
from bot.render.review import NOT_YOURS, step_notice

if TYPE_CHECKING:
    from bot.adapters.discord.client import QuizBot

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_REVIEW_QUESTIONS = 50
FAILED = "Something went wrong on our side; please try again."


def reviews_of(bot: QuizBot) -> Reviews:
    """The bot's study mode; a clear line when this bot has none."""
    if bot.reviews is None:
        raise QuizError("Reviews are not available on this bot")
    return bot.reviews


# ---- the answer components ------------------------------------------------------------


def review_view(step: ReviewStep) -> ui.View | None:
    """The answer components of the step's question; None once the review is over."""
    card = step.question
    if card is None:
        return None
    view = ui.View(timeout=None)
    if card.kind is QuestionKind.MULTIPLE:
        view.add_item(ReviewSelect(card.session_id, card.item, card.choices))
    else:
        for position in range(len(card.choices)):
            view.add_item(ReviewButton(card.session_id, card.item, position))
    return view


# ---- answering ------------------------------------------------------------------------


async def within(interaction: discord.Interaction[Any], work: Awaitable[T], seconds: float) -> T:
    """The result of `work`; when it takes longer than `seconds`, the interaction is
    deferred first (a deferred update: nothing visible changes) to keep Discord's 3 s."""
    return await act_if_slow(work, seconds, interaction.response.defer)


async def show_answer(
    interaction: discord.Interaction[Any], session_id: int, item: int, positions: Sequence[int]
) -> None:
    """Record a click with the core, then edit the clicked message to the next step.

    Someone else's click (an ephemeral message only its player sees, so a crafted
    one) gets a private refusal and edits nothing.
    """
    bot: QuizBot = interaction.client
    try:
        reviews = reviews_of(bot)
        work = reviews.answer(
            community_of(interaction), player_of(interaction), session_id, item, positions
        )
        step = await within(interaction, work, bot.defer_after)
    except NotAllowedError:
        await _private_line(interaction, NOT_YOURS)
        return
    except QuizError as exc:
        await _private_line(interaction, str(exc))
        return
    except Exception:
        log.exception("answering review %s failed", session_id)
        await _private_line(interaction, FAILED)
        return
    content = step_notice(step)
    embeds, view = review_embeds(step), review_view(step)
    if interaction.response.is_done():
        await interaction.edit_original_response(content=content, embeds=embeds, view=view)
    else:
        await interaction.response.edit_message(content=content, embeds=embeds, view=view)


async def _private_line(interaction: discord.Interaction[Any], text: str) -> None:
    if interaction.response.is_done():
        await interaction.followup.send(text, ephemeral=True)
    else:
        await interaction.response.send_message(text, ephemeral=True)


class ReviewButton(
    RebuiltFromId,
    ui.DynamicItem[ui.Button[ui.View]],
    template=r"quiz:r:(?P<session>[0-9]+):(?P<item>[0-9]+):(?P<pos>[0-9]+)",
):
    """One choice of a review question: the session, the item and the position."""

    def __init__(self, session_id: int, item: int, position: int) -> None:
        super().__init__(
            choice_button(f"quiz:r:{session_id}:{item}:{position}", position),
            row=choice_row(position),
        )
        self.session_id = session_id
        self.review_item = item
        self.position = position

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Answer the review item with this choice."""
        try:
            await show_answer(interaction, self.session_id, self.review_item, (self.position,))
        finally:
            release_view(self)


class ReviewSelect(
    RebuiltFromId,
    ui.DynamicItem[ui.Select[ui.View]],
    template=r"quiz:rm:(?P<session>[0-9]+):(?P<item>[0-9]+)",
):
    """The menu of a multiple-answer review question: pick one or more choices."""

    def __init__(self, session_id: int, item: int, choices: Sequence[str] = ()) -> None:
        super().__init__(choices_menu(f"quiz:rm:{session_id}:{item}", choices))
        self.session_id = session_id
        self.review_item = item

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Answer the review item with the picked choices."""
        positions = [int(v) for v in self.item.values if v.isdigit()]
        try:
            await show_answer(interaction, self.session_id, self.review_item, positions)
        finally:
            release_view(self)


# ---- /quiz review -----------------------------------------------------------------------


async def start_review(
    interaction: discord.Interaction[Any], questions: int | None, deck: str | None
) -> None:
    """Start (or resume) the player's review and show it in an ephemeral message."""
    bot: QuizBot = interaction.client
    try:
        reviews = reviews_of(bot)
        channel_of(interaction)  # a review is started from a server channel
        work = reviews.start_review(
            community_of(interaction), player_of(interaction), questions or 10, deck
        )
        step = await _deferred_ephemeral(interaction, work, bot.defer_after)
    except QuizError as exc:
        await _private_line(interaction, str(exc))
        return
    content = step_notice(step) or ""
    embeds, view = review_embeds(step), review_view(step)
    if interaction.response.is_done():
        await interaction.edit_original_response(content=content or None, embeds=embeds, view=view)
    elif view is None:
        await interaction.response.send_message(content, embeds=embeds, ephemeral=True)
    else:
        await interaction.response.send_message(content, embeds=embeds, view=view, ephemeral=True)


async def _deferred_ephemeral(
    interaction: discord.Interaction[Any], work: Awaitable[T], seconds: float
) -> T:
    def defer() -> Awaitable[object]:
        return interaction.response.defer(ephemeral=True, thinking=True)

    return await act_if_slow(work, seconds, defer)


async def set_reminders(interaction: discord.Interaction[Any], on: bool) -> None:
    """Turn the player's daily reminder DM on or off."""
    bot: QuizBot = interaction.client
    try:
        now_on = await reviews_of(bot).set_reminders(
            community_of(interaction), player_of(interaction), on
        )
    except QuizError as exc:
        await _private_line(interaction, str(exc))
        return
    text = (
        "Reminders on: on mornings when questions are due, I send you a DM."
        if now_on
        else "Reminders off."
    )
    await _private_line(interaction, text)


def review_command() -> app_commands.Command[Any, Any, None]:
    """`/quiz review [questions] [deck] [remind]`, a new command object per command tree."""

    @app_commands.command(name="review", description="Review your questions privately, when due")
    @app_commands.describe(
        questions="How many questions (default 10)",
        deck="Only this deck's questions",
        remind="Turn the daily reminder DM on or off instead of reviewing",
    )
    async def review(
        interaction: discord.Interaction[Any],
        questions: app_commands.Range[int, 1, MAX_REVIEW_QUESTIONS] | None = None,
        deck: str | None = None,
        remind: Literal["on", "off"] | None = None,
    ) -> None:
        if remind is not None:
            await set_reminders(interaction, remind == "on")
        else:
            await start_review(interaction, questions, deck)

    @review.autocomplete("deck")
    async def _deck_names(
        interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        bot: QuizBot = interaction.client
        return await deck_choices(bot, interaction, current)

    return review


def add_review(group: app_commands.Group, bot: discord.Client) -> None:
    """Put `/quiz review` in the /quiz group and listen for its buttons on any message."""
    group.add_command(review_command())
    bot.add_dynamic_items(ReviewButton, ReviewSelect)
