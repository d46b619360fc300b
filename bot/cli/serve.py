"""`quizbot serve`, `quizbot discord ...`: the commands that run or set up the chat bots."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from bot.cli.help import example
from bot.config import Settings


def cmd_serve_discord(args: argparse.Namespace) -> int:
    """Run the Discord bot."""
    from bot.adapters.discord.client import run_discord

    settings: Settings = args.settings
    return run_discord(settings)


def cmd_serve_slack(args: argparse.Namespace) -> int:
    """Run the Slack bot in Socket Mode, or HTTP mode with --http."""
    from bot.adapters.slack.app import run_slack

    settings: Settings = args.settings
    return run_slack(settings, http=args.http, host=args.host, port=args.port)


def cmd_discord_sync(args: argparse.Namespace) -> int:
    """Register the slash commands with Discord."""
    from bot.adapters.discord.client import sync_commands

    settings: Settings = args.settings
    return sync_commands(settings, args.guild)


def cmd_discord_invite(args: argparse.Namespace) -> int:
    """Print the URL that adds the bot to a server."""
    from bot.adapters.discord.client import invite_url_command

    settings: Settings = args.settings
    return invite_url_command(settings, args.application_id)


def _port(text: str) -> int:
    if not (text.isdigit() and 0 < int(text) < 65536):
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number")
    return int(text)


def _with_metrics_port(
    command: Callable[[argparse.Namespace], int],
) -> Callable[[argparse.Namespace], int]:
    """`command` with --metrics-port, when given, in place of METRICS_PORT."""

    def run(args: argparse.Namespace) -> int:
        if args.metrics_port is not None:
            args.settings = args.settings.replace(metrics_port=args.metrics_port)
        return command(args)

    return run


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add serve, discord and doctor commands to the `quizbot` parser."""
    from bot.ops import doctor

    serve = sub.add_parser(
        "serve",
        help="run the bot on a chat platform",
        description="Run the bot on Discord or Slack until stopped (SIGTERM or Ctrl-C).",
        epilog=example("quizbot serve discord", "quizbot serve slack --http"),
    )
    serve_sub = serve.add_subparsers(dest="platform", required=True, metavar="PLATFORM")
    discord = serve_sub.add_parser(
        "discord",
        help="run on Discord (DISCORD_TOKEN)",
        description="Run the bot on Discord with DISCORD_TOKEN.",
        epilog=example("quizbot serve discord", "quizbot serve discord --metrics-port 9100"),
    )
    discord.set_defaults(func=_with_metrics_port(cmd_serve_discord))
    slack = serve_sub.add_parser(
        "slack",
        help="run on Slack (Socket Mode, or --http)",
        description="Run the bot on Slack: Socket Mode with SLACK_APP_TOKEN, or HTTP mode "
        "(--http) on /slack/events with SLACK_SIGNING_SECRET. HTTP mode listens on "
        "127.0.0.1 only, for a reverse proxy in front; --host 0.0.0.0 listens on every "
        "interface.",
        epilog=example(
            "quizbot serve slack",
            "quizbot serve slack --http --port 3000",
            "quizbot serve slack --http --host 0.0.0.0",
        ),
    )
    slack.add_argument("--http", action="store_true", help="serve HTTP mode on /slack/events")
    slack.add_argument(
        "--host",
        default="127.0.0.1",
        help="HTTP mode: address to bind (default 127.0.0.1, this machine only)",
    )
    slack.add_argument("--port", type=int, default=3000, help="HTTP mode: port (default 3000)")
    slack.set_defaults(func=_with_metrics_port(cmd_serve_slack))
    for platform in (discord, slack):
        platform.add_argument(
            "--metrics-port",
            type=_port,
            help="serve /metrics and /healthz on this port (METRICS_PORT)",
        )

    _add_discord_setup(sub)
    doctor.register(sub)


def _add_discord_setup(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """`quizbot discord sync|invite-url`."""
    dc = sub.add_parser(
        "discord",
        help="set up the Discord application",
        description="Set up the Discord application: register /quiz, or print the invite URL.",
        epilog=example("quizbot discord sync --guild 123456789012345678"),
    )
    dc_sub = dc.add_subparsers(dest="discord_command", required=True, metavar="ACTION")
    sync = dc_sub.add_parser(
        "sync",
        help="register /quiz with Discord (globally or one guild)",
        description="Register the /quiz commands with Discord: globally (may take an hour "
        "to show) or in one guild (at once).",
        epilog=example("quizbot discord sync", "quizbot discord sync --guild 123456789012345678"),
    )
    sync.add_argument("--guild", type=int, help="sync to one guild only (instant)")
    sync.set_defaults(func=cmd_discord_sync)
    invite = dc_sub.add_parser(
        "invite-url",
        help="print the URL that adds the bot to a server",
        description="Print the URL that adds the bot to a server, with the permissions it needs.",
        epilog=example("quizbot discord invite-url"),
    )
    invite.add_argument(
        "--application-id", type=int, help="application id (default: asked of Discord)"
    )
    invite.set_defaults(func=cmd_discord_invite)
