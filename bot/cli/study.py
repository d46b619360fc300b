"""`quizbot review` and `quizbot mastery`: study mode from a terminal.

`review` runs a private review session (scriptable through a pipe like `quizbot play`);
`review --remind on|off` sets the player's daily reminder instead; `mastery` prints
recall per tag, of a player or (`--group`) of the community's active members.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from bot.cli.help import example, player_name, positive_number
from bot.cli.rhythm import PLATFORMS, card_text
from bot.config import Settings
from bot.core.model import CommunityRef, PlayerRef


def _player(args: argparse.Namespace) -> PlayerRef:
    from bot.adapters.console import default_player_name

    name = args.player or default_player_name()
    return PlayerRef(external_id=name, display_name=name)


def cmd_review(args: argparse.Namespace) -> int:
    """Review due and new questions in the terminal, or set the daily reminder."""
    from bot.adapters.console.review import ReviewOptions, review_game

    player = _player(args)
    if args.remind:
        return asyncio.run(_remind(args.settings, player, args.remind == "on"))
    options = ReviewOptions(
        player=player.external_id, questions=args.questions, deck=args.deck, seed=args.seed
    )
    return asyncio.run(review_game(args.settings, options))


async def _remind(settings: Settings, player: PlayerRef, on: bool) -> int:
    from bot.adapters.console import ConsoleChat
    from bot.adapters.console.owners import COMMUNITY
    from bot.runtime import running

    async with running(settings, ConsoleChat(sys.stdout, channel=""), platform="console") as rt:
        assert rt.study is not None
        await rt.study.set_reminders(COMMUNITY, player, on)
    print(f"daily reminders {'on' if on else 'off'} for {player.display_name}")
    return 0


def cmd_mastery(args: argparse.Namespace) -> int:
    """Print recall per tag."""
    from bot.adapters.console import ConsoleChat
    from bot.runtime import running

    player = _player(args)
    community = CommunityRef(external_id=args.community, name=args.community)

    async def work() -> int:
        async with running(args.settings, ConsoleChat(sys.stdout, channel=""),
                           platform=args.platform) as rt:  # fmt: skip
            assert rt.study is not None
            card = await rt.study.mastery(community, player, group=args.group)
        print(card_text(card.title, card.lines()))
        return 0

    return asyncio.run(work())


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add review and mastery to the `quizbot` parser."""
    review = sub.add_parser(
        "review",
        help="review your due and new questions in the terminal",
        description="A private review: your due cards first (lowest predicted recall "
        "first), then new questions. A wrong answer comes back at the end. One answer a "
        "line (a, b, a,c), so it can be piped.",
        epilog=example(
            "quizbot review --player ann --questions 5",
            "quizbot review --remind on",
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    review.add_argument("--player", type=player_name, help="your name (default: login name)")
    review.add_argument(
        "--questions", type=positive_number, default=10, help="how many (default 10)"
    )
    review.add_argument("--deck", help="only this deck")
    review.add_argument("--seed", type=int, help="random seed, for a repeatable review")
    review.add_argument("--remind", choices=("on", "off"), help="set the daily reminder instead")
    review.set_defaults(func=cmd_review)

    mastery = sub.add_parser(
        "mastery",
        help="predicted recall per tag, of a player or a group",
        description="How well a player (or, with --group, the community's members active in "
        "the last 14 days) is predicted to recall each tag now, the cards due today, and the "
        "weakest tag.",
        epilog=example("quizbot mastery --player ann", "quizbot mastery --group"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    mastery.add_argument("--player", type=player_name, help="player name (default: login name)")
    mastery.add_argument("--group", action="store_true", help="the community's active members")
    mastery.add_argument("--community", default="console", help="community id (default console)")
    mastery.add_argument("--platform", default="console", choices=PLATFORMS)
    mastery.set_defaults(func=cmd_mastery)
