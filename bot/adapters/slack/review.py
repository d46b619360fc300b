"""Slack's private review: `/quiz review`, an ephemeral message updated in place.

The command's reply is an ephemeral message (only the member sees it) posted through
the command's response_url. A click on it comes with a response_url of its own,
which replaces the clicked message (`replace_original`), ephemeral or not: the
feedback with the explanation above the next question, or the summary. chat.update
cannot edit ephemeral messages; a response_url can (docs/slack.md says more).

Each click is recorded by the core before Bolt acknowledges it (Bolt waits up to 3 s
for the ack; past ACK_WITHIN it is sent anyway and the update follows).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from slack_bolt.context.ack.async_ack import AsyncAck

from bot.adapters.slack.ack_first import Listen
from bot.adapters.slack.blocks import card_text, escape
from bot.adapters.slack.body import community_of, player_of
from bot.adapters.slack.chat import Body, Replies
from bot.adapters.slack.parse import Review
from bot.adapters.slack.review_blocks import (
    REVIEW_ACTION_PATTERN,
    REVIEW_CHOICES_ACTION,
    REVIEW_SUBMIT_ACTION,
    mastery_text,
    parse_review_value,
    review_blocks,
    review_text,
)
from bot.core.errors import NotAllowedError, QuizError
from bot.core.model import PlayerRef
from bot.core.rhythm.service import Rhythm as WeeklyRhythm
from bot.core.study.model import ReviewStep
from bot.core.study.ports import Reviews
from bot.render.review import NOT_YOURS

log = logging.getLogger(__name__)

ACK_WITHIN = 2.0  # seconds; Slack's limit is 3
DEFAULT_QUESTIONS = 10
MAX_QUESTIONS = 50
USAGE = "/quiz review [questions] [deck]  ·  /quiz review remind on|off"
_QUESTION_UNITS = ("q", "question", "questions")

__all__ = ["ReviewRequest", "SlackReviews", "parse_review"]


@dataclass(frozen=True)
class ReviewRequest:
    """What `/quiz review ...` asks: a session (size, deck) or a reminder switch."""

    questions: int = DEFAULT_QUESTIONS
    deck: str | None = None
    remind: bool | None = None


def parse_review(words: Sequence[str], deck_names: Sequence[str]) -> ReviewRequest:
    """The words after `/quiz review`; a QuizError names a word that fits nowhere."""
    lowered = [w.lower() for w in words]
    if lowered[:1] == ["remind"]:
        if lowered[1:] in (["on"], ["off"]):
            return ReviewRequest(remind=lowered[1] == "on")
        raise QuizError(f"Say `/quiz review remind on` or `off`.\nUsage: `{USAGE}`")
    decks = {name.lower(): name for name in deck_names}
    questions, deck = DEFAULT_QUESTIONS, None
    for word in lowered:
        number = word.rstrip("abcdefghijklmnopqrstuvwxyz")
        unit = word[len(number) :]
        if number.isdigit() and (not unit or unit in _QUESTION_UNITS):
            questions = int(number)
        elif word in decks:
            deck = decks[word]
        else:
            raise QuizError(
                f"I don't understand `{escape(word)}` in `/quiz review`.\nUsage: `{USAGE}`"
            )
    if not 1 <= questions <= MAX_QUESTIONS:
        raise QuizError(f"A review has 1 to {MAX_QUESTIONS} questions")
    return ReviewRequest(questions, deck)


class SlackReviews:
    """`/quiz review`, its answer controls, and the recall lines of `/quiz stats`."""

    def __init__(
        self, reviews: Reviews | None, replies: Replies, deck_names: Sequence[str]
    ) -> None:
        self.reviews = reviews
        self.replies = replies
        self.deck_names = list(deck_names)

    def register(self, listen: Listen) -> None:
        """Listen for the review's buttons, its checkboxes and its Submit."""
        listen.action(REVIEW_ACTION_PATTERN, self.answer_button)
        listen.action(REVIEW_SUBMIT_ACTION, self.submit_button)
        listen.action(REVIEW_CHOICES_ACTION, self.ticked)

    def _reviews(self) -> Reviews:
        if self.reviews is None:
            raise QuizError("Reviews are not available here")
        return self.reviews

    # ---- /quiz review ----------------------------------------------------------------

    async def run(self, command: Review, body: Body) -> None:
        """Start or resume a review (a new ephemeral message), or switch reminders."""
        request = parse_review(command.words, self.deck_names)
        reviews = self._reviews()
        community, player = community_of(body), player_of(body)
        if request.remind is not None:
            on = await reviews.set_reminders(community, player, request.remind)
            text = (
                "Reminders on: on mornings when questions are due, I send you a DM."
                if on
                else "Reminders off."
            )
            await self.replies.ephemeral(body, text)
            return
        step = await reviews.start_review(community, player, request.questions, request.deck)
        await self.replies.send(body, review_text(step), blocks=review_blocks(step))

    # ---- clicks ----------------------------------------------------------------------

    async def answer_button(self, ack: AsyncAck, body: Body, action: Body) -> None:
        """A letter button of a review question."""
        parsed = parse_review_value(str(action.get("value", "")))
        position = parsed[2] if parsed is not None else None
        if parsed is None or position is None:
            await ack()
            return
        await self._answer(ack, body, parsed[0], parsed[1], [position])

    async def submit_button(self, ack: AsyncAck, body: Body, action: Body) -> None:
        """Submit under the checkboxes of a multiple-answer review question."""
        parsed = parse_review_value(str(action.get("value", "")))
        if parsed is None:
            await ack()
            return
        session_id, item, _ = parsed
        positions = ticked_positions(body, session_id, item)
        if not positions:
            await ack()
            await self.replies.ephemeral(body, "Tick one or more boxes first, then Submit")
            return
        await self._answer(ack, body, session_id, item, positions)

    async def ticked(self, ack: AsyncAck) -> None:
        """A box ticked: not an answer yet, Submit is."""
        await ack()

    async def _answer(
        self, ack: AsyncAck, body: Body, session_id: int, item: int, positions: list[int]
    ) -> None:
        """Record the answer, acknowledge, then replace the clicked message."""
        task = asyncio.ensure_future(self._record(body, session_id, item, positions))
        await asyncio.wait({task}, timeout=ACK_WITHIN)
        await ack()
        outcome = await task
        if isinstance(outcome, str):
            await self.replies.ephemeral(body, escape(outcome))
            return
        await self.replies.send(
            body, review_text(outcome), blocks=review_blocks(outcome), replace=True
        )

    async def _record(
        self, body: Body, session_id: int, item: int, positions: list[int]
    ) -> ReviewStep | str:
        """The step after the answer, or the line to tell the clicker instead."""
        try:
            return await self._reviews().answer(
                community_of(body), player_of(body), session_id, item, positions
            )
        except NotAllowedError:
            return NOT_YOURS
        except QuizError as exc:
            return str(exc)

    # ---- /quiz stats -----------------------------------------------------------------

    async def stats(
        self,
        rhythm: WeeklyRhythm,
        body: Body,
        target: PlayerRef | None,
        *,
        group: bool,
    ) -> None:
        """`/quiz stats [@member]` (its card has the recall per tag), or `/quiz stats group`."""
        community, player = community_of(body), player_of(body)
        if group:
            card = await self._reviews().mastery(community, player, group=True)
            active = f"Active members (answered in the last 14 days): {card.players}"
            await self.replies.ephemeral(body, f"{mastery_text(card)}\n{active}")
            return
        # the stats card carries the recall lines when study mode is on
        stats = await rhythm.stats(community, player, target)
        await self.replies.ephemeral(body, card_text(stats.heading, stats.lines()))


def ticked_positions(body: Body, session_id: int, item: int) -> list[int]:
    """The ticked boxes of this review item, from the Submit click's state."""
    values = (body.get("state") or {}).get("values") or {}
    positions: list[int] = []
    for block in values.values():
        if not isinstance(block, Mapping):
            continue
        element = block.get(REVIEW_CHOICES_ACTION) or {}
        for option in element.get("selected_options") or []:
            parsed = parse_review_value(str(option.get("value", "")))
            if parsed is not None and parsed[:2] == (session_id, item) and parsed[2] is not None:
                positions.append(parsed[2])
    return positions
