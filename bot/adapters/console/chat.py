"""The engine's ChatPort for a terminal: prints its own quiz's cards, ignores the rest."""

from __future__ import annotations

import asyncio
from typing import TextIO

from bot.adapters.console.screen import Screen
from bot.adapters.console.text import (
    question_markdown,
    question_text,
    reveal_markdown,
    reveal_text,
    summary_text,
    verdict_text,
)
from bot.core.cards import QuestionCard, RevealCard, SummaryCard


class ConsoleChat:
    """A ChatPort that prints to a terminal and tells the game loop what is on screen.

    With a `channel`, only that channel's cards are shown: a terminal game sees its own
    quiz, never another terminal's rounds that this process's ticker happened to close.
    """

    def __init__(
        self, out: TextIO | Screen, *, channel: str | None = None, rich: bool = False
    ) -> None:
        self.screen = out if isinstance(out, Screen) else Screen(out, rich=rich)
        self.channel = channel
        self.current: QuestionCard | None = None
        self.summary: SummaryCard | None = None
        self.picked: dict[int, tuple[int, ...]] = {}  # round id -> this player's choice
        self.changed = asyncio.Event()

    def _mine(self, channel_id: str) -> bool:
        return self.channel is None or channel_id == self.channel

    async def post_question(self, channel_id: str, card: QuestionCard, *, key: str) -> str:
        """Print a question and make it the one answers go to."""
        if self._mine(channel_id):
            self.screen.markdown(question_markdown(card), question_text(card))
            self.current = card
            self.changed.set()
        return str(card.round_id)

    async def update_question(
        self, channel_id: str, message_ref: str, card: QuestionCard, *, key: str
    ) -> None:
        """Answer counts need no redraw in a terminal."""

    async def post_reveal(
        self, channel_id: str, message_ref: str | None, card: RevealCard, *, key: str
    ) -> None:
        """Print the reveal and the player's own result."""
        if not self._mine(channel_id):
            return
        if self.current is not None and self.current.round_id == card.round_id:
            self.current = None
        self.screen.markdown(reveal_markdown(card), reveal_text(card))
        self.screen.line(verdict_text(card, self.picked.get(card.round_id)))
        self.changed.set()

    async def post_summary(self, channel_id: str, card: SummaryCard, *, key: str) -> None:
        """Print the final standings and end the game loop."""
        if not self._mine(channel_id):
            return
        self.screen.line(summary_text(card))
        self.summary = card
        self.changed.set()

    async def notify_host(self, channel_id: str, host_external_id: str, text: str) -> None:
        """The host is the player at this terminal: print it."""
        if self._mine(channel_id):
            self.screen.line(text)
