"""The engine's ChatPort (and BoardPort) on Discord: questions, reveals, summaries, boards."""

from __future__ import annotations

import asyncio
import io
import logging

import discord
from discord.utils import MISSING

from bot.adapters.discord.delivery import SEND_TIMEOUT, delivering
from bot.adapters.discord.direct import send_direct
from bot.adapters.discord.views import (
    closed_question_embed,
    closed_question_view,
    question_embed,
    question_view,
    reveal_embed,
    summary_embed,
    weekly_board_embed,
)
from bot.core.cards import QuestionCard, RevealCard, SummaryCard
from bot.core.delivery import Undeliverable
from bot.core.rhythm.cards import WeeklyBoardCard
from bot.render.chart import LEADERBOARD_IMAGE
from bot.render.pictures import (
    MathPicture,
    explanation_picture,
    question_picture,
    question_picture_name,
    question_source,
)

log = logging.getLogger(__name__)


def attachment(picture: MathPicture) -> discord.File:
    """A math picture as an upload, its words as the description a screen reader reads."""
    return discord.File(io.BytesIO(picture.png), filename=picture.filename, description=picture.alt)


class DiscordChat:
    """Shows the engine's cards in Discord channels (the core's ChatPort and BoardPort),
    and sends study reminders (DirectMessagePort)."""

    def __init__(
        self, client: discord.Client, *, theme: str = "dark", timeout: float = SEND_TIMEOUT
    ) -> None:
        self.client = client
        self.theme = theme
        self.timeout = timeout  # a request hanging longer is retried later by the outbox
        self._images: dict[int, str] = {}  # round id -> attached picture, for the reveal edit

    def _channel(self, channel_id: str) -> discord.PartialMessageable:
        # no fetch and no cache needed: a channel id is enough to post and edit
        return self.client.get_partial_messageable(int(channel_id))

    async def post_question(self, channel_id: str, card: QuestionCard, *, key: str) -> str:
        """Post a question with its answer components; returns the message id."""
        picture = await question_picture(card, self.theme)
        if picture is not None:
            self._images[card.round_id] = picture.filename
        async with delivering("posting a question", seconds=self.timeout):
            message = await self._channel(channel_id).send(
                embed=question_embed(card, image=picture is not None),
                view=question_view(card),
                file=attachment(picture) if picture is not None else MISSING,
                nonce=key,
            )
        return str(message.id)

    async def update_question(
        self, channel_id: str, message_ref: str, card: QuestionCard, *, key: str
    ) -> None:
        """Refresh the answers-so-far line (the engine limits how often)."""
        image = card.round_id in self._images or question_source(card) is not None
        message = self._channel(channel_id).get_partial_message(int(message_ref))
        async with delivering("updating a question", seconds=self.timeout):
            await message.edit(embed=question_embed(card, image=image))

    async def post_reveal(
        self, channel_id: str, message_ref: str | None, card: RevealCard, *, key: str
    ) -> None:
        """Close the question message (buttons off, answer marked) and post the reveal,
        with a picture of the explanation's math when its text falls short."""
        channel = self._channel(channel_id)
        if message_ref is not None:
            image = self._images.pop(card.round_id, None)
            if image is None and question_source(card) is not None:
                image = question_picture_name(card)
            try:
                async with delivering("closing a question", seconds=self.timeout):
                    await channel.get_partial_message(int(message_ref)).edit(
                        embed=closed_question_embed(card, image_name=image),
                        view=closed_question_view(card),
                    )
            except Undeliverable as exc:
                # the message is gone or not ours: the reveal matters more, post it anyway
                log.warning("closing the question of round %s failed: %s", card.round_id, exc)
        embed = reveal_embed(card)
        picture = await explanation_picture(card, self.theme)
        if picture is not None:
            embed.set_image(url=f"attachment://{picture.filename}")
        async with delivering("posting a reveal", seconds=self.timeout):
            await channel.send(
                embed=embed,
                file=attachment(picture) if picture is not None else MISSING,
                nonce=key,
            )

    async def send_direct(self, player_external_id: str, text: str) -> None:
        """DM a member; DirectMessageRefused when Discord will not deliver it."""
        await send_direct(self.client, player_external_id, text)

    async def post_summary(self, channel_id: str, card: SummaryCard, *, key: str) -> None:
        """Post the end-of-quiz summary."""
        async with delivering("posting a summary", seconds=self.timeout):
            await self._channel(channel_id).send(embed=summary_embed(card), nonce=key)

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
                async with asyncio.timeout(self.timeout):
                    await channel.send(
                        embed=weekly_board_embed(card, image=True),
                        file=discord.File(io.BytesIO(image), filename=LEADERBOARD_IMAGE),
                        nonce=key,
                    )
                return
            except (discord.HTTPException, TimeoutError):
                log.warning(
                    "posting the board of %s with its chart failed", card.week, exc_info=True
                )
        # the same nonce: a refused upload created nothing, an accepted one is returned
        async with delivering("posting a board", seconds=self.timeout):
            await channel.send(embed=weekly_board_embed(card), nonce=key)
