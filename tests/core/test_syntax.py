"""The core words its command hints in the syntax of the platform in use."""

from __future__ import annotations

import contextvars

import pytest

from bot.core.bank import QuestionBank
from bot.core.errors import QuizError
from bot.core.rhythm.schedules import parse_schedule_command
from bot.core.syntax import CommandSyntax, command, use_command_syntax

TERMINAL_SYNTAX = CommandSyntax(prefix="quizbot", channel_forms="here or off")


def _hint_in_the_terminal() -> str:
    use_command_syntax(TERMINAL_SYNTAX)
    return command("stop")


def test_chat_platforms_keep_slash_quiz() -> None:
    assert command("config KEY VALUE") == "/quiz config KEY VALUE"


def test_the_terminal_syntax_holds_for_its_own_context_only() -> None:
    assert contextvars.copy_context().run(_hint_in_the_terminal) == "quizbot stop"
    assert command("stop") == "/quiz stop"


def test_a_schedule_usage_error_names_the_platforms_command() -> None:
    def refused() -> str:
        use_command_syntax(TERMINAL_SYNTAX)
        with pytest.raises(QuizError) as caught:
            parse_schedule_command(["fortnightly"], QuestionBank([]))
        return str(caught.value)

    assert "quizbot schedule daily HH:MM" in contextvars.copy_context().run(refused)
