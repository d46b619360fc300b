"""The engine's ChatPort on Slack's Web API, the Web API client the bot uses, and the
replies to the member who typed or clicked."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Mapping
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.interval_calculator import RetryIntervalCalculator
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.acks import ClicksInFlight
from bot.adapters.slack.blocks import (
    board_text,
    closed_question_blocks,
    question_blocks,
    question_text,
    reveal_blocks,
    reveal_text,
    summary_blocks,
    summary_text,
)
from bot.adapters.slack.delivery import delivering
from bot.adapters.slack.direct import send_direct
from bot.core.cards import QuestionCard, RevealCard, SummaryCard
from bot.core.delivery import Undeliverable
from bot.core.rhythm.cards import WeeklyBoardCard
from bot.render.pictures import MathPicture, explanation_picture, question_picture

log = logging.getLogger(__name__)

Body = Mapping[str, Any]

PICTURE_THEME = "light"  # Slack's usual client theme: the colours of the math pictures
RATE_LIMIT_RETRIES = 3
# a 500 or 503 is retried twice here, 0.25 s and 0.5 s later; past that the outbox
# retries the message with its own, longer backoff
SERVER_ERROR_RETRIES = 2
SERVER_ERROR_BACKOFF = 0.25
HTTP_TIMEOUT = 10.0


class ShortBackoff(RetryIntervalCalculator):
    """`base`, 2 x `base`, 4 x `base`, ... plus up to `jitter` seconds.

    slack_sdk's default adds up to a whole second of jitter to every retry: too slow for
    a question the players are waiting for.
    """

    def __init__(self, base: float = SERVER_ERROR_BACKOFF, jitter: float = 0.1) -> None:
        self.base = base
        self.jitter = jitter

    def calculate_sleep_duration(self, current_attempt: int) -> float:
        """Seconds to wait before retry number `current_attempt` + 1."""
        return float(self.base * 2**current_attempt + random.random() * self.jitter)


class RetryAfterHandler(AsyncRateLimitErrorRetryHandler):
    """Retries a 429 after the Retry-After Slack sent, plus a little jitter.

    slack_sdk's own handler rounds Retry-After down to whole seconds and always adds up
    to a second of jitter; this one waits what Slack asked and spreads workers by
    `jitter` seconds at most.
    """

    def __init__(self, max_retry_count: int = RATE_LIMIT_RETRIES, jitter: float = 0.5) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.jitter = jitter

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        """Sleep for Retry-After (1 s if absent) plus jitter, then ask for another attempt."""
        if response is None:
            raise error or RuntimeError("rate-limit retry without a response")
        state.next_attempt_requested = True
        await asyncio.sleep(retry_after(response) + random.random() * self.jitter)
        state.increment_current_attempt()


def retry_after(response: HttpResponse) -> float:
    """Seconds to wait from a 429's Retry-After header (1 when missing or unreadable)."""
    for name, values in response.headers.items():
        if name.lower() == "retry-after" and values:
            try:
                return max(0.0, float(values[0]))
            except ValueError:
                break
    return 1.0


def http_session(timeout: float = HTTP_TIMEOUT) -> aiohttp.ClientSession:
    """One HTTP session for all of the bot's calls to Slack; create it inside the event loop.

    Without it slack_sdk opens a new session, connection and TLS handshake per call.
    """
    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout))


def web_client(
    token: str,
    base_url: str,
    *,
    session: aiohttp.ClientSession | None = None,
    jitter: float = 0.5,
) -> AsyncWebClient:
    """The bot's Web API client: retries connection errors, 429s (chat.update is Tier 3)
    and 500/503s, each a bounded number of times."""
    handlers: list[AsyncRetryHandler] = [
        AsyncConnectionErrorRetryHandler(),
        RetryAfterHandler(jitter=jitter),
        AsyncServerErrorRetryHandler(
            max_retry_count=SERVER_ERROR_RETRIES,
            interval_calculator=ShortBackoff(jitter=min(jitter, 0.1)),
        ),
    ]
    return AsyncWebClient(
        token=token,
        base_url=base_url,
        session=session,
        timeout=int(HTTP_TIMEOUT),
        retry_handlers=handlers,
    )


class SlackChat:
    """Shows the engine's cards in Slack channels: the ChatPort (and BoardPort) for Slack,
    and sends study reminders (DirectMessagePort).

    Failures are raised as RetryLater or Undeliverable (bot.core.delivery). The `key`
    of each call is not sent: Slack has no idempotent post, so a post Slack accepted
    just before the process died, unrecorded, is posted again by the next attempt.
    """

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def send_direct(self, player_external_id: str, text: str) -> None:
        """DM a member; DirectMessageRefused when Slack refuses the DM."""
        await send_direct(self.client, player_external_id, text)

    async def post_question(self, channel_id: str, card: QuestionCard, *, key: str) -> str:
        """Post a question; its message ts is the reference for later edits."""
        async with delivering("chat.postMessage (question)"):
            response = await self.client.chat_postMessage(
                channel=channel_id, text=question_text(card), blocks=question_blocks(card)
            )
        await self._attach(channel_id, await question_picture(card, PICTURE_THEME), card.heading)
        return str(response["ts"])

    async def update_question(
        self, channel_id: str, message_ref: str, card: QuestionCard, *, key: str
    ) -> None:
        """Refresh the answers-so-far line (the engine already bounds how often)."""
        async with delivering("chat.update (count)"):
            await self.client.chat_update(
                channel=channel_id,
                ts=message_ref,
                text=question_text(card),
                blocks=question_blocks(card),
            )

    async def post_reveal(
        self, channel_id: str, message_ref: str | None, card: RevealCard, *, key: str
    ) -> None:
        """Take the buttons off the question, mark the answer, then post the reveal.

        A passing failure of the edit is raised, so that the retry closes the message
        before it reveals; an edit that can never work (the message was deleted) is
        logged and the reveal posted anyway.
        """
        if message_ref is not None:
            try:
                async with delivering("chat.update (closed question)"):
                    await self.client.chat_update(
                        channel=channel_id,
                        ts=message_ref,
                        text=question_text_closed(card),
                        blocks=closed_question_blocks(card),
                    )
            except Undeliverable as exc:
                log.warning("closing the question message failed: %s", exc.reason)
        async with delivering("chat.postMessage (reveal)"):
            await self.client.chat_postMessage(
                channel=channel_id, text=reveal_text(card), blocks=reveal_blocks(card)
            )
        await self._attach(channel_id, await explanation_picture(card, PICTURE_THEME), card.heading)

    async def _attach(self, channel_id: str, picture: MathPicture | None, title: str) -> None:
        """Share a math picture under the message it belongs to, as the leaderboard chart
        is shared; its words go as `alt_txt` for a screen reader. Without files:write
        (or on any upload error) the message's Unicode text stands alone.

        Never raises: the message itself is posted already, and a retry of the whole
        delivery would post it a second time."""
        if picture is None:
            return
        try:
            await self.client.files_upload_v2(
                channel=channel_id,
                file=picture.png,
                filename=picture.filename,
                title=f"{title} (math)",
                alt_txt=picture.alt,
            )
        except Exception as exc:
            log.warning("uploading the math picture failed: %s", exc)

    async def post_summary(self, channel_id: str, card: SummaryCard, *, key: str) -> None:
        """Post the end-of-quiz podium."""
        async with delivering("chat.postMessage (summary)"):
            await self.client.chat_postMessage(
                channel=channel_id, text=summary_text(card), blocks=summary_blocks(card)
            )

    async def notify_host(self, channel_id: str, host_external_id: str, text: str) -> None:
        """Tell the host, best effort: in the channel where only they see it, else (the
        bot may no longer post there) in the app's direct message with them."""
        try:
            await self.client.chat_postEphemeral(
                channel=channel_id, user=host_external_id, text=text
            )
            return
        except Exception as exc:
            log.info("telling the host %s in the channel failed: %s", host_external_id, exc)
        try:
            await self.client.chat_postMessage(channel=host_external_id, text=text)
        except Exception:
            log.warning("telling the host %s failed", host_external_id, exc_info=True)

    async def post_board(
        self, channel_id: str, card: WeeklyBoardCard, image: bytes | None, *, key: str
    ) -> None:
        """Post a week's board: the chart as a file with the text as its comment.

        Without the files:write scope (or any upload error) the text alone is posted.
        """
        text = board_text(card)
        if image is not None:
            try:
                await self.client.files_upload_v2(
                    channel=channel_id,
                    file=image,
                    filename=f"board-{card.week}.png",
                    title=card.heading,
                    alt_txt=card.heading,
                    initial_comment=text,
                )
                return
            except SlackApiError as exc:
                log.warning("uploading the board chart failed: %s", exc.response.get("error"))
        async with delivering("chat.postMessage (board)"):
            await self.client.chat_postMessage(
                channel=channel_id,
                text=text,
                blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}],
            )


def question_text_closed(card: RevealCard) -> str:
    """The notification text of a closed question message."""
    return f"Question {card.position}/{card.total} (closed)"


# Replies (receipts) sent at once; more wait for a slot.
REPLIES_IN_FLIGHT = 8


class Replies:
    """Answers to the member who asked, through the request's response_url.

    The Web API client's HTTP session is reused, so a burst of clicks does not open a
    connection (and a TLS handshake) per receipt; response_url is not rate-limited per
    app the way chat.postEphemeral is.
    """

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        concurrent: int = REPLIES_IN_FLIGHT,
        yield_to: ClicksInFlight | None = None,
    ) -> None:
        self.client = client
        # Under a burst of clicks the acks, which Slack needs within 3 s, come first:
        # replies wait for the clicks in flight (`yield_to`) to be acknowledged, then go
        # a few at a time while the rest wait their turn, parked.
        self._slots = asyncio.Semaphore(concurrent)
        self._yield_to = yield_to

    async def send(
        self,
        body: Body,
        text: str,
        *,
        blocks: list[dict[str, Any]] | None = None,
        in_channel: bool = False,
        replace: bool = False,
    ) -> None:
        """Reply to a command or click: only the asker sees it unless `in_channel`;
        `replace` puts the reply in place of the clicked message, ephemeral ones too."""
        url = body.get("response_url")
        if not url:
            log.warning("no response_url to reply to")
            return
        payload: dict[str, Any] = {
            "text": text,
            "response_type": "in_channel" if in_channel else "ephemeral",
            "replace_original": replace,
        }
        if blocks:
            payload["blocks"] = blocks
        if self._yield_to is not None:
            await self._yield_to.until_quiet()
        async with self._slots:
            session = self.client.session
            if session is None:
                async with http_session() as own:
                    await _post_reply(own, str(url), payload)
            else:
                await _post_reply(session, str(url), payload)

    async def ephemeral(self, body: Body, text: str) -> None:
        """A line only the asker sees."""
        await self.send(body, text)


async def _post_reply(session: aiohttp.ClientSession, url: str, payload: dict[str, Any]) -> None:
    """POST a reply to a response_url on the bot's session, once more if the connection
    drops (a kept-alive connection the other end just closed).

    Straight on aiohttp rather than through slack_sdk's webhook client, which costs a
    client object and its headers per receipt: about 0.1 ms of the bot's CPU per click.
    """
    for attempt in (1, 2):
        try:
            async with session.post(url, json=payload) as response:
                if response.status != 200:
                    body = await response.text()
                    log.warning("reply by response_url failed: %s %s", response.status, body)
                return
        except aiohttp.ClientConnectionError:
            if attempt == 2:
                raise
