"""The terminal's command syntax: the core's hints name `quizbot` commands, not /quiz."""

from __future__ import annotations

from bot.core.syntax import CommandSyntax

TERMINAL_SYNTAX = CommandSyntax(
    prefix="quizbot",
    channel_forms="here (the --channel of this command, default terminal), "
    "a chat channel as <#CHANNEL_ID>, or off",
    channel_name="#{}",  # a terminal shows a mention as it is
)
