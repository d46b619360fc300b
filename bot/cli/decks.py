"""`quizbot deck add|list|remove`: a community's own decks, for an operator.

The operator has the database in hand, so changes are allowed as an admin's. A
community is named as its platform names it (a guild or workspace id, or `console`).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from bot.cli.help import example
from bot.cli.rhythm import community_options
from bot.config import Settings
from bot.core.model import CommunityRef, PlayerRef
from bot.questions.community_decks import CommunityDeckLibrary, check_upload_size
from bot.questions.importers import IMPORT_FORMATS
from bot.questions.problems import QuestionFileError


async def _with_library(
    settings: Settings, platform: str, work: Callable[[CommunityDeckLibrary], Awaitable[str]]
) -> int:
    from bot.adapters.console import ConsoleChat
    from bot.runtime import running

    async with running(settings, ConsoleChat(sys.stdout), platform=platform) as runtime:
        text = await work(CommunityDeckLibrary(runtime.engine))
    print(text)
    return 0


def _community(args: argparse.Namespace) -> CommunityRef:
    return CommunityRef(external_id=args.community, name=args.community)


def read_deck_file(path: Path) -> bytes:
    """A deck file's bytes, its size checked first; QuestionFileError for a missing one."""
    try:
        check_upload_size(path.stat().st_size, path.name)
        return path.read_bytes()
    except OSError as exc:
        raise QuestionFileError(f"{path}: cannot read it ({exc.strerror})") from None


def cmd_deck_add(args: argparse.Namespace) -> int:
    """Add or replace one of a community's decks from a file."""
    from bot.adapters.console import default_player_name

    path = Path(args.file)
    data = read_deck_file(path)
    operator = default_player_name()

    async def work(library: CommunityDeckLibrary) -> str:
        added = await library.add(
            _community(args),
            PlayerRef(operator, operator),
            data,
            path.name,
            args.name,
            is_admin=True,
            fmt=args.format,
        )
        return added.text()

    return asyncio.run(_with_library(args.settings, args.platform, work))


def cmd_deck_list(args: argparse.Namespace) -> int:
    """List the decks a community may play: the bot's and its own."""

    async def work(library: CommunityDeckLibrary) -> str:
        entries = await library.entries(_community(args))
        return "\n".join(e.line() for e in entries) or "No decks."

    return asyncio.run(_with_library(args.settings, args.platform, work))


def cmd_deck_remove(args: argparse.Namespace) -> int:
    """Remove one of a community's decks."""

    async def work(library: CommunityDeckLibrary) -> str:
        return await library.remove(_community(args), args.name, is_admin=True)

    return asyncio.run(_with_library(args.settings, args.platform, work))


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `deck add|list|remove` to the `quizbot` parser."""
    deck = sub.add_parser(
        "deck",
        help="a community's own decks (as added from chat)",
        description="Add, list or remove a community's own decks, as /quiz deck does in chat: "
        "for an operator with the database in hand.",
        epilog=example(
            "quizbot deck list --community T0123 --platform slack",
            "quizbot deck add calculus.gift --community 4711 --platform discord",
            "quizbot deck add calculus.gift  # for quizbot play",
        ),
    )
    actions = deck.add_subparsers(dest="deck_command", required=True, metavar="ACTION")

    add = actions.add_parser(
        "add",
        help="add or replace a deck from a file",
        description="Check a deck file (any import format) and store it as the community's "
        "own deck; a file with problems is refused with every problem and stores nothing.",
        epilog=example("quizbot deck add calculus.gift --community 4711 --platform discord"),
    )
    add.add_argument("file", metavar="FILE", help="YAML, GIFT, Moodle XML, Aiken, OpenTDB or CSV")
    add.add_argument("--name", help="the deck's name (default: the file's name)")
    add.add_argument("--format", default="auto", choices=IMPORT_FORMATS)
    community_options(add)
    add.set_defaults(func=cmd_deck_add)

    listing = actions.add_parser(
        "list",
        help="the decks of a community, the bot's and its own",
        description="The decks a community can play: the bot's and its own, marked.",
        epilog=example("quizbot deck list --community T0123 --platform slack"),
    )
    community_options(listing)
    listing.set_defaults(func=cmd_deck_list)

    remove = actions.add_parser(
        "remove",
        help="remove one of a community's decks",
        description="Remove one of a community's own decks; rounds already played keep "
        "their questions.",
        epilog=example("quizbot deck remove calculus --community 4711 --platform discord"),
    )
    remove.add_argument("name", metavar="NAME")
    community_options(remove)
    remove.set_defaults(func=cmd_deck_remove)
