"""The `quizbot` command: play, questions, database, serve, leaderboards."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.cli import questions as questions_cli
from bot.cli.errors import database_failure_line, is_database_failure, safe_url
from bot.cli.help import PREFIX, QuizbotParser, example, player_name, positive_number
from bot.config import Settings, load_settings
from bot.core.errors import QuizError, SettingsError
from bot.core.model import Mode, Scoring
from bot.ops.logs import configure_logging
from bot.questions.loader import DECK_SUFFIXES, load_decks
from bot.questions.problems import QuestionFileError

# commands that run a bot for a long time and log what they do at LOG_LEVEL
SERVER_COMMANDS = frozenset({"serve"})


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    """Apply the database migrations up to the latest."""
    settings: Settings = args.settings
    from bot.store import upgrade

    upgrade(settings.database_url)
    print(f"database at {safe_url(settings.database_url)} is up to date")
    return 0


def cmd_play(args: argparse.Namespace) -> int:
    """Play a quiz in the terminal."""
    settings: Settings = args.settings
    from bot.adapters.console import PlayOptions, default_player_name, play_game

    decks = tuple(args.deck or ())
    deck_file = _deck_file(decks)
    if deck_file is not None:
        # a deck file plays on its own: it is the whole question bank of this game
        settings = settings.replace(questions_dir=deck_file)
        decks = ()
    options = PlayOptions(
        decks=decks,
        questions=args.questions,
        seconds=args.seconds,
        mode=Mode(args.mode),
        scoring=Scoring(args.scoring) if args.scoring else None,
        player=args.player or default_player_name(),
        seed=args.seed,
    )
    return asyncio.run(play_game(settings, options))


def _deck_file(decks: Sequence[str]) -> Path | None:
    """The deck file among --deck values (a path, not a deck name); QuestionFileError if
    it does not load, or comes with other decks."""
    paths = [d for d in decks if Path(d).suffix in DECK_SUFFIXES or os.sep in d]
    if not paths:
        return None
    if len(decks) > 1:
        raise QuizError("--deck PATH plays one deck file alone: give no other --deck")
    path = Path(paths[0])
    result = load_decks(path)
    if result.problems:
        raise QuestionFileError(
            f"{result.problems[0]} ({len(result.problems)} problem(s); "
            f"see quizbot questions validate {path})"
        )
    return path


def cmd_stop(args: argparse.Namespace) -> int:
    """Stop the terminal games' quizzes on this host."""
    from bot.adapters.console import stop_games

    return asyncio.run(stop_games(args.settings))


def cmd_leaderboard(args: argparse.Namespace) -> int:
    """Print a leaderboard."""
    settings: Settings = args.settings
    from bot.adapters.console import show_leaderboard

    return asyncio.run(
        show_leaderboard(
            settings,
            period=args.period,
            teams=args.teams,
            community=args.community,
            platform=args.platform,
        )
    )


def _add_play(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """`quizbot play`."""
    play = sub.add_parser(
        "play",
        help="play a quiz in the terminal",
        description="Play a quiz in the terminal, on the same engine and database as the "
        "bots. Type a letter (or letters, a,c) to answer; Ctrl-D or Ctrl-C ends the game. "
        "Piped, it reads one answer a line.",
        epilog=example(
            "quizbot play",
            "quizbot play --deck deep-learning --questions 3",
            "quizbot play --deck my-deck.yaml",
            "printf 'a\\nb\\n' | quizbot play --questions 2",
        ),
    )
    play.add_argument(
        "--deck",
        action="append",
        metavar="DECK",
        help="deck name (repeat for several; 'all'), or a deck file PATH to play it alone",
    )
    play.add_argument(
        "--questions", type=positive_number, help="how many questions (default: the deck's, else 5)"
    )
    play.add_argument(
        "--seconds",
        type=positive_number,
        help="seconds per question (default: the deck's, else 30)",
    )
    play.add_argument("--mode", choices=[m.value for m in Mode], default=Mode.SOLO.value)
    play.add_argument("--scoring", choices=[s.value for s in Scoring])
    play.add_argument(
        "--player", type=player_name, help="your name on the leaderboard (default: login name)"
    )
    play.add_argument("--seed", type=int, help="random seed, for a repeatable game")
    play.set_defaults(func=cmd_play)


def _add_leaderboard(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """`quizbot leaderboard`."""
    board = sub.add_parser(
        "leaderboard",
        help="print a leaderboard",
        description="Print a community's leaderboard of one period: the terminal's own "
        "games by default, or a Discord guild's or Slack workspace's.",
        epilog=example(
            "quizbot leaderboard",
            "quizbot leaderboard --period all --teams",
            "quizbot leaderboard --platform slack --community T0123",
        ),
    )
    board.add_argument("--period", default="week", help="week, last-week, all or YYYY-Www")
    board.add_argument("--teams", action="store_true", help="teams instead of players")
    board.add_argument("--community", default="console", help="community id (default console)")
    board.add_argument("--platform", default="console", choices=("console", "discord", "slack"))
    board.set_defaults(func=cmd_leaderboard)


def _add_stop(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """`quizbot stop`."""
    stop = sub.add_parser(
        "stop",
        help="stop the quizzes of terminal games on this host",
        description="Stop the console quizzes of this host. A game still running is asked to "
        "stop (as by Ctrl-C: it reveals its question and prints the standings); a quiz left "
        "running by a game that ended is stopped here.",
        epilog=example("quizbot stop"),
    )
    stop.set_defaults(func=cmd_stop)


def _add_db(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """`quizbot db upgrade`."""
    db = sub.add_parser(
        "db",
        help="database maintenance",
        description="Database maintenance (DATABASE_URL).",
        epilog=example("quizbot db upgrade"),
    )
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_up = db_sub.add_parser(
        "upgrade",
        help="apply migrations up to the latest",
        description="Apply the database migrations up to the latest revision. A SQLite file "
        "is created if its folder exists.",
        epilog=example(
            "quizbot db upgrade",
            "DATABASE_URL=postgresql+asyncpg://quizbot@localhost/quizbot quizbot db upgrade",
        ),
    )
    db_up.set_defaults(func=cmd_db_upgrade)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = QuizbotParser(
        prog="quizbot",
        description="A quiz bot for study groups: play in the terminal, or serve Discord "
        "and Slack.",
        epilog=example("quizbot play", "quizbot leaderboard", "quizbot COMMAND --help"),
    )
    parser.add_argument(
        "--log-format", choices=("text", "json"), help="log lines as text or JSON (LOG_FORMAT)"
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    for add in (_add_play, _add_leaderboard, _add_stop, _add_db):
        add(sub)
    questions_cli.register(sub)
    _register_optional(sub)
    return parser


def _register_optional(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Commands of the chat adapters, operations and the weekly rhythm."""
    from bot.cli import decks as decks_cli
    from bot.cli import rhythm as rhythm_cli
    from bot.cli import serve as ops_cli
    from bot.cli import study as study_cli

    ops_cli.register(sub)
    rhythm_cli.register(sub)
    study_cli.register(sub)
    decks_cli.register(sub)


def main(argv: Sequence[str] | None = None) -> int:
    """Run `quizbot`; a user's mistake is one line on stderr and exit status 1."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    settings: Settings | None = None
    try:
        settings = load_settings(lenient=getattr(args, "lenient_settings", False))
        if args.log_format:
            settings = settings.replace(log_format=args.log_format)
        if args.command not in SERVER_COMMANDS and "LOG_LEVEL" not in os.environ:
            # a terminal command shows its own output; only warnings belong beside it
            settings = settings.replace(log_level="WARNING")
        configure_logging(settings)
        args.settings = settings
        code: int = args.func(args)
        return code
    except (SettingsError, QuizError, QuestionFileError) as exc:
        # several bad settings: one line each
        lines = str(exc).splitlines() if isinstance(exc, SettingsError) else [str(exc)]
        for line in lines:
            print(f"{PREFIX}{line}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        # the database is the one service every command needs: an unreachable or
        # unwritable one is the user's to fix, so it is one line, not a traceback
        if settings is None or not is_database_failure(exc):
            raise
        print(f"{PREFIX}{database_failure_line(settings.database_url, exc)}", file=sys.stderr)
        return 1


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("quizbot")
    except PackageNotFoundError:
        return "unknown"


if __name__ == "__main__":
    sys.exit(main())
