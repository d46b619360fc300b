"""The engine's ChatPort (and BoardPort) on Discord: questions, reveals, summaries, boards."""

from __future__ import annotations

import asyncio
import io
import logging

import discord
from discord.utils import MISSING

from bot.adapters.discord.views import (
    closed_question_embed,
    closed_question_view,
    question_embed,
    question_image_name,
    question_view,
    reveal_embed,
    summary_embed,
    weekly_board_embed,
)
from bot.core.cards import QuestionCard, RevealCard, SummaryCard
from bot.core.delivery import Undeliverable
from bot.core.rhythm.cards import WeeklyBoardCard
from bot.render import needs_image, render_math_png
from bot.render.chart import LEADERBOARD_IMAGE

log = logging.getLogger(__name__)


class DiscordChat:
    """Shows the engine's cards in Discord channels (the core's ChatPort and BoardPort)."""

    def __init__(self, client: discord.Client, *, theme: str = "dark") -> None:
        self.client = client
        self.theme = theme
        self._images: dict[int, str] = {}  # round id -> attached picture, for the reveal edit

    def _channel(self, channel_id: str) -> discord.PartialMessageable:
        # no fetch and no cache needed: a channel id is enough to post and edit
        return self.client.get_partial_messageable(int(channel_id))

    async def _picture(self, card: QuestionCard) -> discord.File | None:
        if not needs_image(card.prompt):
            return None
        try:
            # matplotlib is slow to draw: keep the event loop (and other clicks) moving
            png = await asyncio.to_thread(render_math_png, card.prompt, self.theme)
        except Exception:
            log.exception("drawing the math of round %s failed; posting text only", card.round_id)
            return None
        return discord.File(io.BytesIO(png), filename=question_image_name(card))

    async def post_question(self, channel_id: str, card: QuestionCard, *, key: str) -> str:
        """Post a question with its answer components; returns the message id."""
        picture = await self._picture(card)
        if picture is not None:
            self._images[card.round_id] = question_image_name(card)
        try:
            message = await self._channel(channel_id).send(
                embed=question_embed(card, image=picture is not None),
                view=question_view(card),
                file=picture or MISSING,
            )
        except discord.Forbidden as exc:
            raise Undeliverable(f"missing permission ({exc.text or exc.status})") from exc
        return str(message.id)

    async def update_question(
        self, channel_id: str, message_ref: str, card: QuestionCard, *, key: str
    ) -> None:
        """Refresh the answers-so-far line (the engine limits how often)."""
        image = card.round_id in self._images or needs_image(card.prompt)
        message = self._channel(channel_id).get_partial_message(int(message_ref))
        await message.edit(embed=question_embed(card, image=image))

    async def post_reveal(
        self, channel_id: str, message_ref: str | None, card: RevealCard, *, key: str
    ) -> None:
        """Close the question message (buttons off, answer marked) and post the reveal."""
        channel = self._channel(channel_id)
        if message_ref is not None:
            image = self._images.pop(card.round_id, None)
            if image is None and needs_image(card.prompt):
                image = f"question-{card.round_id}.png"
            try:
                await channel.get_partial_message(int(message_ref)).edit(
                    embed=closed_question_embed(card, image_name=image),
                    view=closed_question_view(card),
                )
            except discord.HTTPException:
                # the reveal matters more than the old message: post it anyway
                log.exception("closing the question message of round %s failed", card.round_id)
        await channel.send(embed=reveal_embed(card))

    async def post_summary(self, channel_id: str, card: SummaryCard, *, key: str) -> None:
        """Post the end-of-quiz summary."""
        await self._channel(channel_id).send(embed=summary_embed(card))

    async def notify_host(self, channel_id: str, host_external_id: str, text: str) -> None:
        """Send the host a direct message, best effort."""
        try:
            user = await self.client.fetch_user(int(host_external_id))
            await user.send(text)
        except Exception:
            log.warning("telling the host %s failed", host_external_id, exc_info=True)

    async def post_board(
        self, channel_id: str, card: WeeklyBoardCard, image: bytes | None, *, key: str
    ) -> None:
        """Post a week's board: an embed with the chart attached and shown under it.

        When the upload fails (no Attach Files here, too large, ...) the text alone is
        posted; this raises only when nothing could be posted.
        """
        channel = self._channel(channel_id)
        if image is not None:
            try:
                await channel.send(
                    embed=weekly_board_embed(card, image=True),
                    file=discord.File(io.BytesIO(image), filename=LEADERBOARD_IMAGE),
                )
                return
            except discord.HTTPException:
                log.warning(
                    "posting the board of %s with its chart failed", card.week, exc_info=True
                )
        await channel.send(embed=weekly_board_embed(card))
