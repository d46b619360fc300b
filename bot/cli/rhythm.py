"""`quizbot stats`, `quizbot config`, `quizbot schedule`: the weekly rhythm from a terminal.

The terminal's operator has the database in hand, so config and schedule changes are
allowed as an admin's. Communities are named as the platform names them (`console`
for terminal games, a guild or workspace id otherwise).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TextIO

from bot.cli.help import example, player_name
from bot.core.model import CommunityRef, PlayerRef
from bot.core.rhythm.service import Rhythm

PLATFORMS = ("console", "discord", "slack")


def card_text(heading: str, lines: list[str]) -> str:
    """A rhythm card as terminal text: a heading rule and its lines."""
    return "\n".join([f"━━ {heading} ━━", *lines])


async def _with_rhythm(
    args: argparse.Namespace,
    work: Callable[[Rhythm, CommunityRef], Awaitable[str]],
    out: TextIO,
) -> int:
    from bot.adapters.console import ConsoleChat
    from bot.adapters.console.syntax import TERMINAL_SYNTAX
    from bot.cli.communities import existing_community
    from bot.core.syntax import use_command_syntax
    from bot.runtime import running

    use_command_syntax(TERMINAL_SYNTAX)

    async with running(args.settings, ConsoleChat(out), platform=args.platform) as runtime:
        if runtime.rhythm is None:
            raise RuntimeError("the weekly rhythm needs the SQL store")
        community = await existing_community(runtime.store, args.platform, args.community)
        text = await work(runtime.rhythm, community)
    print(text, file=out)
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    """Print a player's stats."""
    from bot.adapters.console import default_player_name

    name = args.player or default_player_name()
    player = PlayerRef(external_id=name, display_name=name)

    async def work(rhythm: Rhythm, community: CommunityRef) -> str:
        card = await rhythm.stats(community, player, player)
        return card_text(card.heading, card.lines())

    return asyncio.run(_with_rhythm(args, work, sys.stdout))


def cmd_config(args: argparse.Namespace) -> int:
    """Show or change a community's settings."""

    async def work(rhythm: Rhythm, community: CommunityRef) -> str:
        card = await rhythm.config(community, args.channel, args.words, is_admin=True)
        return card_text(card.heading, card.lines())

    return asyncio.run(_with_rhythm(args, work, sys.stdout))


def cmd_schedule(args: argparse.Namespace) -> int:
    """List, add or cancel scheduled quizzes."""
    from bot.adapters.console import default_player_name

    name = default_player_name()
    operator = PlayerRef(external_id=name, display_name=name)

    async def work(rhythm: Rhythm, community: CommunityRef) -> str:
        card = await rhythm.schedule(community, args.channel, operator, args.words, is_admin=True)
        return card_text(card.title, card.lines())

    return asyncio.run(_with_rhythm(args, work, sys.stdout))


def community_options(parser: argparse.ArgumentParser) -> None:
    """--community and --platform: a guild or workspace id, or the terminal's (console)."""
    parser.add_argument("--community", default="console", help="community id (default console)")
    parser.add_argument("--platform", default="console", choices=PLATFORMS)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add stats, config and schedule to the `quizbot` parser."""
    stats = sub.add_parser(
        "stats",
        help="a player's stats: accuracy, streak, ranks",
        description="A player's figures in a community: accuracy, streak, weekly ranks.",
        epilog=example("quizbot stats", "quizbot stats --player ann"),
    )
    stats.add_argument("--player", type=player_name, help="player name (default: login name)")
    community_options(stats)
    stats.set_defaults(func=cmd_stats)

    config = sub.add_parser(
        "config",
        help="show or change a community's settings",
        description="Show a community's settings, or change one with KEY VALUE (as an admin).",
        epilog=example(
            "quizbot config",
            "quizbot config timezone Europe/Paris",
            "quizbot config channel here --channel terminal",
        ),
    )
    config.add_argument("words", nargs="*", metavar="KEY VALUE", help="e.g. timezone Europe/Paris")
    config.add_argument("--channel", default="terminal", help="the channel 'here' means")
    community_options(config)
    config.set_defaults(func=cmd_config)

    schedule = sub.add_parser(
        "schedule",
        help="list, add or cancel scheduled quizzes",
        description="List, add or cancel the quizzes that start by themselves.",
        epilog=example(
            "quizbot schedule list",
            "quizbot schedule daily 09:00 deep-learning 5",
            "quizbot schedule cancel 1",
        ),
    )
    schedule.add_argument(
        "words",
        nargs="*",
        metavar="FORM",
        help="list | daily HH:MM [deck] [questions] | weekly DAY HH:MM ... | cancel ID",
    )
    schedule.add_argument("--channel", default="terminal", help="channel of a new schedule")
    community_options(schedule)
    schedule.set_defaults(func=cmd_schedule)
