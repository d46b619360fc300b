"""Starting and stopping real `quizbot serve` processes: a stop ends them within 10 s
with status 0 in every state, even while no connection can be made; a token the
platform refuses ends them at once with one line naming the setting.

A cold process takes seconds to start on a busy machine, so each test runs its cases
side by side, one process each.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path

from tests.e2e.processes import BotProcess, free_port, write_decks
from tests.fake_discord import FakeDiscord
from tests.mock_slack.server import MockSlack

BOT_TOKEN = "xoxb-1111-2222-connecttest"
APP_TOKEN = "xapp-1-A111-2222-connecttest"
REFUSED_BOT_TOKEN = "xoxb-1111-2222-revoked"
REFUSED_APP_TOKEN = "xapp-1-A111-2222-revoked"
SIGNING_SECRET = "5ec2e75ec2e75ec2e75ec2e75ec2e7aa"
STOP_LIMIT = 10.0


def slack_settings(tmp_path: Path, api_url: str) -> dict[str, str]:
    return {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'quiz.db'}",
        "QUESTIONS_DIR": str(write_decks(tmp_path)),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_APP_TOKEN": APP_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": api_url,
        "LOG_LEVEL": "INFO",
    }


def discord_settings(tmp_path: Path, api_url: str, gateway_url: str, token: str) -> dict[str, str]:
    return {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'quiz.db'}",
        "QUESTIONS_DIR": str(write_decks(tmp_path)),
        "DISCORD_TOKEN": token,
        "DISCORD_API_URL": api_url,
        "DISCORD_GATEWAY_URL": gateway_url,
        "LOG_LEVEL": "INFO",
    }


async def run(root: Path, args: list[str], settings: dict[str, str], check: Check) -> None:
    """One process: start it, let `check` drive and judge it, never leave it running."""
    bot = await BotProcess.start(root, args, settings)
    try:
        await check(bot)
    finally:
        await bot.reap()


Check = Callable[[BotProcess], Awaitable[None]]


def stops_within_limit(signum: signal.Signals, wait_for: str) -> Check:
    """Once the log shows `wait_for`, `signum` ends the process with 0 within 10 s."""

    async def check(bot: BotProcess) -> None:
        await bot.wait_for_log(wait_for)
        code, took = await bot.stop(signum)
        assert code == 0, bot.log[-3000:]
        assert took < STOP_LIMIT, f"{signum.name} took {took:.1f} s"

    return check


def exits_with_one_line(setting: str, *also: str) -> Check:
    """The process ends by itself with status 1 and one line naming `setting`."""

    async def check(bot: BotProcess) -> None:
        assert await bot.exit_code() == 1, bot.log[-3000:]
        assert "Traceback" not in bot.log, bot.log[-3000:]
        [line] = bot.error_lines()
        for text in (setting, *also):
            assert text in line

    return check


async def test_a_stop_ends_serve_slack_while_socket_mode_cannot_connect(
    tmp_path: Path, mock: MockSlack
) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}/api/"
    refusing = slack_settings(tmp_path / "a", mock.base_url)  # no websocket behind the URL
    await asyncio.gather(
        run(
            tmp_path / "a",
            ["serve", "slack"],
            refusing,
            stops_within_limit(signal.SIGTERM, "Failed to connect"),
        ),
        run(
            tmp_path / "b",
            ["serve", "slack"],
            slack_settings(tmp_path / "b", mock.base_url),
            stops_within_limit(signal.SIGINT, "Failed to connect"),
        ),
        run(
            tmp_path / "c",
            ["serve", "slack"],
            slack_settings(tmp_path / "c", nowhere),
            stops_within_limit(signal.SIGTERM, "could not check SLACK_APP_TOKEN"),
        ),
    )
    # the app token was checked once by each process that reached the mock
    opened = [c for c in mock.calls_to("apps.connections.open") if c.token == APP_TOKEN]
    assert len(opened) >= 4


async def test_refused_tokens_end_the_command_with_one_line(
    tmp_path: Path, mock: MockSlack, fake: FakeDiscord
) -> None:
    mock.refused_tokens |= {REFUSED_APP_TOKEN, REFUSED_BOT_TOKEN}
    app_refused = {
        **slack_settings(tmp_path / "a", mock.base_url),
        "SLACK_APP_TOKEN": REFUSED_APP_TOKEN,
    }
    bot_refused = {
        **slack_settings(tmp_path / "b", mock.base_url),
        "SLACK_BOT_TOKEN": REFUSED_BOT_TOKEN,
    }
    discord_refused = discord_settings(
        tmp_path / "c", fake.api_url, fake.gateway_url, "bm90.dGhl.cmlnaHQ"
    )
    await asyncio.gather(
        run(
            tmp_path / "a",
            ["serve", "slack"],
            app_refused,
            exits_with_one_line("SLACK_APP_TOKEN", "invalid_auth"),
        ),
        run(
            tmp_path / "b",
            ["serve", "slack", "--http", "--port", "0"],
            bot_refused,
            exits_with_one_line("SLACK_BOT_TOKEN", "invalid_auth"),
        ),
        run(
            tmp_path / "c",
            ["serve", "discord"],
            discord_refused,
            exits_with_one_line("DISCORD_TOKEN"),
        ),
    )
    # asked once each, never retried
    assert (
        len([c for c in mock.calls_to("apps.connections.open") if c.token == REFUSED_APP_TOKEN])
        == 1
    )
    assert [c.method for c in mock.calls if c.token == REFUSED_BOT_TOKEN] == ["auth.test"]


async def test_discord_unreachable_or_not_connecting(tmp_path: Path, fake: FakeDiscord) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}/api/v10"
    no_gateway = f"ws://127.0.0.1:{free_port()}/gateway"
    unreachable = discord_settings(tmp_path / "a", nowhere, fake.gateway_url, fake.token)
    await asyncio.gather(
        run(
            tmp_path / "a",
            ["serve", "discord"],
            unreachable,
            exits_with_one_line("DISCORD_API_URL"),
        ),
        run(
            tmp_path / "b",
            ["discord", "sync"],
            {**unreachable, "DATABASE_URL": ""},
            exits_with_one_line("DISCORD_API_URL"),
        ),
        run(
            tmp_path / "c",
            ["serve", "discord"],
            discord_settings(tmp_path / "c", fake.api_url, no_gateway, fake.token),
            stops_within_limit(signal.SIGTERM, "Failed to connect for shard_id"),
        ),
    )
