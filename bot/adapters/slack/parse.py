"""The text after `/quiz`, parsed forgivingly into one command, or a usage message.

`/quiz start calculus 10 30s teams` and `/quiz start teams 30 seconds calculus` mean
the same; a word that fits nowhere is named back to the user with the usage line.
The words of `/quiz start` come from the core's spec, bot.core.start_options: a
choice is typed as its value (`teams`, `accuracy`), a flag as its name (`changes`).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from bot.core.model import Mode, StartRequest
from bot.core.start_options import (
    CHANGES,
    MODE,
    PARTIAL,
    SCORING,
    START_OPTIONS,
    OptionKind,
    StartOption,
    start_request,
)


def _usage_word(option: StartOption) -> str:
    return "|".join(option.choices) if option.kind is OptionKind.CHOICE else option.name


START_USAGE = " ".join(f"[{_usage_word(o)}]" for o in START_OPTIONS)
USAGE = {
    "start": f"/quiz start {START_USAGE}  e.g. /quiz start calculus 10 30s teams changes",
    "stop": "/quiz stop  (the host or a workspace admin)",
    "skip": "/quiz skip  (the host or a workspace admin)",
    "leaderboard": "/quiz leaderboard [week|last-week|all] [teams]",
    "team": "/quiz team create|join NAME, /quiz team leave, /quiz team list",
    "decks": "/quiz decks",
    "deck": "/quiz deck add | list | show NAME | remove NAME | export NAME [yaml|gift|csv]",
    "config": "/quiz config [KEY VALUE]  (changing: workspace admins)",
    "schedule": "/quiz schedule daily HH:MM [deck] [questions] | weekly DAY HH:MM ... | list"
    " | cancel ID",
    "stats": "/quiz stats [@member] | group",
    "review": "/quiz review [questions] [deck] | remind on|off  (a private review)",
    "help": "/quiz help",
}

HELP = "\n".join(["*Quiz commands*", *(f"`{line}`" for line in USAGE.values())])

_SECONDS_UNITS = ("s", "sec", "secs", "second", "seconds")
_QUESTION_UNITS = ("q", "question", "questions")
_NUMBER_WITH_UNIT = re.compile(r"^(\d+)([a-z]+)$")
_WEEK_LABEL = re.compile(r"^\d{4}-w\d{2}$")
# a word of /quiz start -> (option, value): the choices' values and the flags' names
_START_WORDS: dict[str, tuple[str, str]] = {
    **{c: (o.name, c) for o in START_OPTIONS if o.kind is OptionKind.CHOICE for c in o.choices},
    **{o.name: (o.name, o.name) for o in START_OPTIONS if o.kind is OptionKind.FLAG},
    "team": (MODE.name, Mode.TEAMS.value),
}
_PERIODS = {
    "week": "week",
    "this-week": "week",
    "thisweek": "week",
    "last-week": "last-week",
    "lastweek": "last-week",
    "all": "all",
    "all-time": "all",
    "alltime": "all",
    "ever": "all",
}


class UsageError(ValueError):
    """A /quiz text that does not parse; the message names the bad word and the usage."""


@dataclass(frozen=True)
class Start:
    """`/quiz start ...`."""

    request: StartRequest


@dataclass(frozen=True)
class Leaderboard:
    """`/quiz leaderboard [period] [teams]`."""

    period: str = "week"
    teams: bool = False


@dataclass(frozen=True)
class TeamCommand:
    """`/quiz team create|join|leave|list [NAME]`."""

    action: str
    name: str = ""


@dataclass(frozen=True)
class Simple:
    """A subcommand without arguments: stop, skip, decks, help."""

    name: str


@dataclass(frozen=True)
class Rhythm:
    """`/quiz config|schedule|stats ...`: the words go to the weekly rhythm as typed."""

    name: str
    words: tuple[str, ...] = ()


@dataclass(frozen=True)
class Review:
    """`/quiz review ...`: the words go to study mode (bot.adapters.slack.review)."""

    words: tuple[str, ...] = ()


Command = Start | Leaderboard | TeamCommand | Simple | Rhythm | Review


def bad_word(word: str, subcommand: str, hint: str = "") -> UsageError:
    """The usage error for a word that `/quiz {subcommand}` does not understand."""
    extra = f" {hint}" if hint else ""
    return UsageError(
        f"I don't understand `{word}` in `/quiz {subcommand}`.{extra}\nUsage: `{USAGE[subcommand]}`"
    )


def parse(text: str, deck_names: Collection[str]) -> Command:
    """The command in the text after `/quiz`; UsageError names what does not fit."""
    words = text.split()
    if not words:
        return Simple("help")
    head, rest = words[0].lower(), words[1:]
    if head in ("start", "play", "new"):
        return Start(parse_start(rest, deck_names))
    if head in ("stop", "skip", "decks", "help"):
        if rest:
            raise bad_word(rest[0], head)
        return Simple(head)
    if head in ("leaderboard", "board", "scores", "top"):
        return parse_leaderboard(rest)
    if head in ("config", "schedule", "stats"):
        return Rhythm(head, tuple(rest))
    if head in ("review", "study"):
        return Review(tuple(rest))
    if head in ("team", "teams"):
        return parse_team(rest if head == "team" else ["list", *rest])
    raise UsageError(f"I don't know `/quiz {words[0]}`.\n{HELP}")


def _join_units(words: list[str]) -> list[str]:
    """One token per option: "10 questions" -> "10questions", "seconds=30" -> "30seconds",
    "mode=teams" -> "teams"."""
    joined: list[str] = []
    for word in words:
        lowered = word.lower()
        key, eq, value = lowered.partition("=")
        if eq and value.isdigit() and key in _SECONDS_UNITS + _QUESTION_UNITS:
            joined.append(value + key)
        elif eq and key in ("deck", "decks") and value:
            joined.extend(v for v in value.split(",") if v)
        elif eq and value in _START_WORDS and _START_WORDS[value][0] == key:
            joined.append(value)
        elif lowered in _SECONDS_UNITS + _QUESTION_UNITS and joined and joined[-1].isdigit():
            joined[-1] += lowered
        else:
            joined.append(lowered)
    return joined


def parse_start(words: list[str], deck_names: Collection[str]) -> StartRequest:
    """Options of `/quiz start`, in any order; UsageError names a word that fits nowhere."""
    decks_by_key = {name.lower(): name for name in deck_names}
    decks: list[str] = []
    questions: int | None = None
    seconds: int | None = None
    chosen: dict[str, str] = {}  # option name -> value, for choices and flags
    for word in _join_units(words):
        number_unit = _NUMBER_WITH_UNIT.match(word)
        if word in decks_by_key or word == "all":
            decks.append(decks_by_key.get(word, word))
        elif word in _START_WORDS:
            option, value = _START_WORDS[word]
            chosen[option] = value
        elif word.isdigit() and questions is None:
            questions = int(word)  # a bare number: questions first, then seconds
        elif word.isdigit() and seconds is None:
            seconds = int(word)
        elif number_unit and number_unit.group(2) in _SECONDS_UNITS:
            seconds = int(number_unit.group(1))
        elif number_unit and number_unit.group(2) in _QUESTION_UNITS:
            questions = int(number_unit.group(1))
        else:
            known = ", ".join(sorted(deck_names)) or "none loaded"
            raise bad_word(word, "start", f"It is not a deck (decks: {known}) or an option.")
    return start_request(
        decks=tuple(dict.fromkeys(decks)),
        questions=questions,
        seconds=seconds,
        mode=chosen.get(MODE.name),
        scoring=chosen.get(SCORING.name),
        changes=CHANGES.name in chosen,
        partial=PARTIAL.name in chosen,
    )


def parse_leaderboard(words: list[str]) -> Leaderboard:
    """`/quiz leaderboard` options: a period and/or `teams`, in any order."""
    period, teams = "week", False
    for word in (w.lower() for w in words):
        if word in _PERIODS:
            period = _PERIODS[word]
        elif _WEEK_LABEL.match(word):
            period = word.upper()
        elif word in ("teams", "team"):
            teams = True
        elif word in ("players", "solo"):
            teams = False
        else:
            raise bad_word(word, "leaderboard")
    return Leaderboard(period, teams)


def parse_team(words: list[str]) -> TeamCommand:
    """`/quiz team` actions; create and join take the rest of the text as the name."""
    if not words:
        raise UsageError(f"Which team action? Usage: `{USAGE['team']}`")
    action, name = words[0].lower(), " ".join(words[1:])
    if action in ("create", "join"):
        if not name:
            raise UsageError(f"`/quiz team {action}` needs a team NAME.\nUsage: `{USAGE['team']}`")
        return TeamCommand(action, name)
    if action in ("leave", "list"):
        if name:
            raise bad_word(words[1], "team")
        return TeamCommand(action)
    raise bad_word(words[0], "team")
