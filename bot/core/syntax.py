"""How a platform's user types a command, for the hints in the core's messages.

The core says "/quiz stop ends it" or "Change one with /quiz config KEY VALUE"; in the
terminal those commands are `quizbot stop` and `quizbot config KEY VALUE`. Each adapter
provides its `CommandSyntax`, set for the work it runs with `use_command_syntax`; the core
words every hint through `command()`.

A context variable rather than a parameter: the hints are raised deep inside the core and
the store (a pure settings check, a refused insert), far from any object that knows the
platform, and asyncio copies the variable into every task the adapter starts.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class CommandSyntax:
    """A platform's way to type a command: its prefix, what a channel value can be, and
    how a message names a channel (`{}` is its id)."""

    prefix: str
    channel_forms: str
    channel_name: str = "<#{}>"  # a mention, which Discord and Slack render as a link

    def command(self, words: str) -> str:
        """`words` (e.g. "config KEY VALUE") as this platform's user types it."""
        return f"{self.prefix} {words}"

    def channel(self, channel_id: str) -> str:
        """A channel as this platform's messages name it."""
        return self.channel_name.format(channel_id)


CHAT_SYNTAX = CommandSyntax(prefix="/quiz", channel_forms="here (this channel), a #channel, or off")
"""Discord and Slack: the /quiz slash command, channels by mention."""

_SYNTAX: ContextVar[CommandSyntax] = ContextVar("command_syntax", default=CHAT_SYNTAX)


def use_command_syntax(syntax: CommandSyntax) -> None:
    """Word the hints of the work that follows (this task and those it starts) for `syntax`."""
    _SYNTAX.set(syntax)


def command_syntax() -> CommandSyntax:
    """The syntax in use: the adapter's, else the chat platforms'."""
    return _SYNTAX.get()


def command(words: str) -> str:
    """`words` as a command of the platform in use: "/quiz stop" or "quizbot stop"."""
    return _SYNTAX.get().command(words)
