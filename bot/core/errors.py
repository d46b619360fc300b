"""Errors a user can cause in the game; adapters turn each into one clear line."""

from __future__ import annotations


class QuizError(Exception):
    """A request the game refuses, with a message fit to show the user."""


class ChannelBusyError(QuizError):
    """A quiz is already running in this channel."""


class UnknownDeckError(QuizError):
    """A deck name that no loaded deck has."""


class NoQuizError(QuizError):
    """There is no running quiz where one was needed."""


class NotAllowedError(QuizError):
    """The user may not do this (stop or skip someone else's quiz)."""


class TeamError(QuizError):
    """A team request that cannot be done (name taken, no such team, ...)."""


class CannotPostError(QuizError):
    """The bot cannot post in the channel (missing permission, not a member, ...)."""


class SettingsError(Exception):
    """A missing or malformed setting; the message names it."""
