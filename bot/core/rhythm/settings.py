"""Group settings (`/quiz config`): which keys exist, how a value is checked, where it lives.

Timezone and week start are columns of the community (they define its weeks); the
weekly channel and the quiz defaults live in `Community.settings`, where the engine's
`resolve_options` reads "deck", "questions", "seconds" and "scoring".
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime

from bot.core.bank import QuestionBank
from bot.core.errors import QuizError
from bot.core.model import Community, Scoring
from bot.core.periods import WEEKDAYS, week_bounds, week_label, zone
from bot.core.rhythm.cards import ConfigCard, ConfigEntry, channel_mention
from bot.core.start_options import (
    DEFAULT_QUESTIONS,
    DEFAULT_SECONDS,
    MAX_QUESTIONS,
    MAX_SECONDS,
    MIN_SECONDS,
)
from bot.core.study.memory import (
    DESIRED_RETENTION,
    MAX_RETENTION,
    MIN_RETENTION,
    retention_of,
)
from bot.core.syntax import command, command_syntax

KEYS = (
    "channel",
    "timezone",
    "week-start",
    "deck",
    "questions",
    "seconds",
    "scoring",
    "pick",
    "desired-retention",
    "morning",
    "deck-editors",
)
"""The settable keys, in the order `/quiz config` shows them."""

CHANNEL = "channel"  # settings key: the channel of the weekly board
WEEKLY_SINCE = "weekly_since"  # settings key: first week whose board is posted
TIMEZONE_SET = "timezone"  # settings key the engine reads as "timezone configured"
DECK_EDITORS = "deck-editors"  # settings key: who may add, replace or remove decks
DECK_EDITOR_VALUES = ("admins", "everyone")
RESET_WORDS = frozenset({"default", "reset", "none", "off"})

_MENTION = re.compile(r"^<#([A-Za-z0-9]+)(?:\|[^>]*)?>$")
_ALIASES = {"week_start": "week-start", "weekstart": "week-start", "tz": "timezone"}


def normalise_key(key: str) -> str:
    """The canonical key for a typed one; QuizError lists the keys for an unknown one."""
    word = key.strip().lower()
    word = _ALIASES.get(word, word)
    if word not in KEYS:
        raise QuizError(f"Unknown setting {key!r}: use one of {', '.join(KEYS)}")
    return word


def apply_setting(
    community: Community,
    key: str,
    value: str,
    *,
    channel_id: str,
    bank: QuestionBank,
    now: datetime,
) -> Community:
    """The community with one setting changed; QuizError names a bad key or value.

    `channel_id` is where the command was typed ("here"); `now` dates the first
    weekly board of a newly set channel (the current week's).
    """
    key = normalise_key(key)
    raw = value.strip()
    if not raw:
        raise QuizError(f"Missing value for {key}: {command(f'config {key} VALUE')}")
    word = raw.lower()
    settings = dict(community.settings)
    if key == "channel":
        if word in RESET_WORDS:
            settings.pop(CHANNEL, None)
            settings.pop(WEEKLY_SINCE, None)
            return replace(community, settings=settings)
        target = channel_id if word == "here" else _mentioned_channel(raw)
        if settings.get(CHANNEL) != target:
            # the first board is the current week's, not a past week's
            settings[WEEKLY_SINCE] = week_label(now, community.timezone, community.week_start)
        settings[CHANNEL] = target
        return replace(community, settings=settings)
    if key == "timezone":
        try:
            zone(raw)
        except QuizError:
            raise QuizError(
                f"Bad timezone {raw!r}: use an IANA name like Europe/Berlin or America/New_York"
            ) from None
        settings[TIMEZONE_SET] = raw
        return replace(community, timezone=raw, settings=settings)
    if key == "week-start":
        day = word[:3]
        if len(word) < 3 or day not in WEEKDAYS:
            raise QuizError(f"Bad week-start {raw!r}: use one of {', '.join(WEEKDAYS)}")
        return replace(community, week_start=WEEKDAYS.index(day))
    if word in RESET_WORDS:
        settings.pop(key, None)
        return replace(community, settings=settings)
    if key == DECK_EDITORS:
        if word not in DECK_EDITOR_VALUES:
            raise QuizError(f"Bad deck-editors {raw!r}: use admins or everyone")
        settings[key] = word
        return replace(community, settings=settings)
    settings[key] = _study_setting(key, raw) if key in STUDY_KEYS else _quiz_default(key, raw, bank)
    return replace(community, settings=settings)


# ---- study mode's settings -------------------------------------------------------------

PICK = "pick"  # settings key: how a quiz draws its questions, random or weakest
PICK_RANDOM, PICK_WEAKEST = "random", "weakest"
MORNING = "morning"  # settings key: local time of the daily study reminder
DEFAULT_MORNING = "09:00"
STUDY_KEYS = frozenset({PICK, DESIRED_RETENTION, MORNING})
_HH_MM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def _study_setting(key: str, raw: str) -> str | float:
    """The checked value of pick, desired-retention or morning."""
    word = raw.lower()
    if key == PICK:
        if word not in (PICK_RANDOM, PICK_WEAKEST):
            raise QuizError(f"Bad pick {raw!r}: use random or weakest")
        return word
    if key == DESIRED_RETENTION:
        try:
            value = float(word.rstrip("%")) / (100 if word.endswith("%") else 1)
        except ValueError:
            value = -1.0
        if not MIN_RETENTION <= value <= MAX_RETENTION:
            raise QuizError(
                f"Bad desired-retention {raw!r}: use a number from {MIN_RETENTION:.2f}"
                f" to {MAX_RETENTION:.2f}, e.g. 0.9"
            )
        return round(value, 4)
    match = _HH_MM.match(word)
    if not match:
        raise QuizError(f"Bad morning {raw!r}: use a local time as HH:MM, e.g. 09:00")
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def pick_mode(community: Community) -> str:
    """How the community's quizzes draw questions: random (the default) or weakest."""
    return PICK_WEAKEST if community.settings.get(PICK) == PICK_WEAKEST else PICK_RANDOM


def morning_text(community: Community) -> str:
    """The local "HH:MM" of the community's daily study reminder."""
    value = community.settings.get(MORNING)
    return value if isinstance(value, str) and _HH_MM.match(value) else DEFAULT_MORNING


def morning_time(community: Community) -> tuple[int, int]:
    """The local (hour, minute) of the community's daily study reminder."""
    hour, minute = morning_text(community).split(":")
    return int(hour), int(minute)


def _quiz_default(key: str, raw: str, bank: QuestionBank) -> str | int:
    """The checked value of a quiz default (deck, questions, seconds or scoring)."""
    if key == "deck":
        names = [n.strip() for n in raw.replace(" ", ",").split(",") if n.strip()]
        for name in names:
            if name != "all":
                try:
                    bank.deck(name)
                except QuizError as exc:
                    raise QuizError(f"Bad deck: {exc}") from None
        return ",".join(names)
    if key in ("questions", "seconds"):
        low, high = (1, MAX_QUESTIONS) if key == "questions" else (MIN_SECONDS, MAX_SECONDS)
        if not raw.isdigit() or not low <= int(raw) <= high:
            raise QuizError(f"Bad {key} {raw!r}: use a whole number from {low} to {high}")
        return int(raw)
    word = raw.lower()  # scoring
    if word not in {s.value for s in Scoring}:
        raise QuizError(f"Bad scoring {raw!r}: use speed or accuracy")
    return word


def _mentioned_channel(raw: str) -> str:
    """The id in a channel mention (`<#C123>`, `<#C123|name>`); QuizError otherwise."""
    match = _MENTION.match(raw)
    if not match:
        raise QuizError(f"Bad channel {raw!r}: use {command_syntax().channel_forms}")
    return match.group(1)


def weekly_channel(community: Community) -> str | None:
    """The channel the weekly board goes to, if one is set."""
    value = community.settings.get(CHANNEL)
    return value if isinstance(value, str) and value else None


def config_card(community: Community, now: datetime, changed: str | None = None) -> ConfigCard:
    """Every setting of a community as a card; `changed` marks the key just set."""
    s = community.settings
    channel = weekly_channel(community)
    entries = (
        ConfigEntry("channel", channel_mention(channel) if channel else "off", channel is None),
        ConfigEntry("timezone", community.timezone, TIMEZONE_SET not in s),
        ConfigEntry("week-start", WEEKDAYS[community.week_start], community.week_start == 0),
        ConfigEntry("deck", str(s.get("deck") or "all"), "deck" not in s),
        ConfigEntry("questions", str(s.get("questions", DEFAULT_QUESTIONS)), "questions" not in s),
        ConfigEntry("seconds", str(s.get("seconds", DEFAULT_SECONDS)), "seconds" not in s),
        ConfigEntry("scoring", str(s.get("scoring", Scoring.SPEED.value)), "scoring" not in s),
        ConfigEntry("pick", pick_mode(community), PICK not in s),
        ConfigEntry(
            "desired-retention", f"{retention_of(community):.2f}", DESIRED_RETENTION not in s
        ),
        ConfigEntry("morning", morning_text(community), MORNING not in s),
        ConfigEntry(DECK_EDITORS, str(s.get(DECK_EDITORS, "admins")), DECK_EDITORS not in s),
    )
    next_post = None
    if channel:
        this_week = week_label(now, community.timezone, community.week_start)
        _, end = week_bounds(this_week, community.timezone, community.week_start)
        next_post = f"{end:%a %d %b %H:%M} {community.timezone}"
    return ConfigCard(community.name, entries, changed, next_post)
