"""`quizbot serve slack --http` processes on the mock Slack, and what the channel shows."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.processes import BotProcess, free_port, write_decks
from tests.mock_slack.requests import SlackRequests, User
from tests.mock_slack.server import Message, MockSlack

BOT_TOKEN = "xoxb-1111-2222-e2esecret"
SIGNING_SECRET = "5ec2e75ec2e75ec2e75ec2e75ec2e7bb"
HOST = User("UHOST", "host")
PLAYERS = [User(f"U{n:04d}", f"player{n}") for n in range(40)]

_KINDS = (
    (re.compile(r"^Question (\d+)/\d+"), "Q"),
    (re.compile(r"^Answer (\d+)/\d+"), "A"),
    (re.compile(r"^Quiz (over|stopped)"), "S"),
)


def kind_of(message: Message) -> str:
    """ "Q1", "A1", ..., "S" (the summary) or "?" for a channel message."""
    for pattern, kind in _KINDS:
        match = pattern.match(message.history_text)
        if match:
            return kind if kind == "S" else f"{kind}{match.group(1)}"
    return "?"


def expected_sequence(questions: int) -> list[str]:
    """Every question and reveal once, in order, then the summary."""
    return [k for n in range(1, questions + 1) for k in (f"Q{n}", f"A{n}")] + ["S"]


@dataclass
class SlackBot:
    """One serving process and a way to send it what Slack would."""

    bot: BotProcess
    slack: SlackRequests

    @classmethod
    async def start(cls, root: Path, mock: MockSlack, database_url: str) -> SlackBot:
        """Start a process in `root` and wait until it serves."""
        port = free_port()
        settings = {
            "DATABASE_URL": database_url,
            "QUESTIONS_DIR": str(write_decks(root)),
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": mock.base_url,
            "LOG_LEVEL": "INFO",
        }
        args = ["serve", "slack", "--http", "--host", "127.0.0.1", "--port", str(port)]
        bot = await BotProcess.start(root, args, settings)
        slack = SlackRequests(f"http://127.0.0.1:{port}/slack/events", mock, SIGNING_SECRET)
        try:
            await bot.wait_until_serving(f"http://127.0.0.1:{port}/healthz")
        except BaseException:
            await slack.close()
            await bot.reap()
            raise
        return cls(bot, slack)

    async def close(self) -> None:
        """Kill the process if it still runs, and close the HTTP session."""
        await self.slack.close()
        await self.bot.reap()


def channel_kinds(mock: MockSlack, channel: str) -> list[str]:
    """The kinds of a channel's messages, in posting order."""
    return [kind_of(m) for m in mock.channel_messages(channel)]


def questions(mock: MockSlack, channel: str) -> list[Message]:
    """The question messages of a channel, in posting order."""
    return [m for m in mock.channel_messages(channel) if kind_of(m).startswith("Q")]


def buttons_came_back(message: Message) -> bool:
    """Whether an edit put answer controls back after one had taken them off."""
    closed = False
    for blocks in message.history:
        has = any(block.get("type") == "actions" for block in blocks)
        if closed and has:
            return True
        closed = closed or not has
    return False
