"""`quizbot serve discord`, `quizbot discord sync` and `invite-url` against the fake."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import discord
import pytest
from discord.gateway import DiscordWebSocket

from bot.adapters.discord.client import QuizBot, invite_url, serve
from bot.cli.main import main
from bot.config import Settings
from bot.core.start_options import START_OPTIONS, OptionKind
from tests.fake_discord import FakeDiscord, message_text

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def restore_endpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    """Put discord.py's endpoints back after a command pointed them at the fake."""
    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)
    monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", DiscordWebSocket.DEFAULT_GATEWAY)


@pytest.fixture
def threaded_fake(restore_endpoints: None) -> Iterator[FakeDiscord]:
    """A fake Discord on its own thread, for commands that run their own event loop."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    fake = FakeDiscord()
    asyncio.run_coroutine_threadsafe(fake.start(), loop).result(5)
    try:
        yield fake
    finally:
        asyncio.run_coroutine_threadsafe(fake.close(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A clean working directory and no Discord settings from the outside."""
    monkeypatch.chdir(tmp_path)
    for name in ("DISCORD_TOKEN", "DISCORD_API_URL", "DISCORD_GATEWAY_URL", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def point_env_at(monkeypatch: pytest.MonkeyPatch, fake: FakeDiscord, token: str) -> None:
    """Settings in the environment that send the bot to the fake."""
    monkeypatch.setenv("DISCORD_TOKEN", token)
    monkeypatch.setenv("DISCORD_API_URL", fake.api_url)
    monkeypatch.setenv("DISCORD_GATEWAY_URL", fake.gateway_url)


def test_serve_without_a_token_says_which_setting(
    environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "discord"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "DISCORD_TOKEN is not set" in err


def test_serve_with_a_rejected_token_stops_with_one_line(
    environment: Path,
    threaded_fake: FakeDiscord,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    point_env_at(monkeypatch, threaded_fake, "bm90.dGhl.dG9rZW4")  # well formed, not known
    assert main(["serve", "discord"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "DISCORD_TOKEN was rejected by Discord" in err
    assert not (environment / "quizbot.db").exists()  # stopped before touching the database


def test_sync_to_one_guild_registers_the_quiz_group(
    environment: Path,
    threaded_fake: FakeDiscord,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    point_env_at(monkeypatch, threaded_fake, threaded_fake.token)
    assert main(["discord", "sync", "--guild", "4242"]) == 0
    assert capsys.readouterr().out.strip() == "Synced 1 command(s) to guild 4242."
    assert threaded_fake.calls_to(
        "PUT", rf"/applications/{threaded_fake.app_id}/guilds/4242/commands"
    )
    (quiz,) = threaded_fake.commands["4242"]
    assert quiz["name"] == "quiz"
    sub = {o["name"]: o for o in quiz["options"]}
    assert set(sub) == {
        "start",
        "stop",
        "skip",
        "leaderboard",
        "team",
        "decks",
        "deck",
        "help",
        "config",
        "schedule",
        "stats",
        "review",
    }
    review = {o["name"]: o for o in sub["review"]["options"]}
    assert list(review) == ["questions", "deck", "remind"]
    assert review["deck"]["autocomplete"] is True
    assert [c["value"] for c in review["remind"]["choices"]] == ["on", "off"]
    assert {o["name"] for o in sub["team"]["options"]} == {"create", "join", "leave", "list"}
    deck = {o["name"]: o for o in sub["deck"]["options"]}
    assert list(deck) == ["add", "list", "show", "remove", "export"]
    add_options = {o["name"]: o for o in deck["add"]["options"]}
    assert add_options["file"]["type"] == 11 and add_options["file"]["required"] is True
    schedule = {o["name"]: o for o in sub["schedule"]["options"]}
    assert list(schedule) == ["daily", "weekly", "list", "cancel"]
    weekly = {o["name"]: o for o in schedule["weekly"]["options"]}
    assert list(weekly) == ["day", "time", "deck", "questions"]
    assert [c["value"] for c in weekly["day"]["choices"]][:2] == ["mon", "tue"]
    assert weekly["deck"]["autocomplete"] is True
    assert [o["name"] for o in schedule["cancel"]["options"]] == ["id"]
    config = {o["name"]: o for o in sub["config"]["options"]}
    assert list(config) == ["key", "value"]
    assert not config["key"].get("required") and not config["value"].get("required")
    assert "timezone" in [c["value"] for c in config["key"]["choices"]]
    player, group = sub["stats"]["options"]
    assert (group["name"], group["type"]) == ("group", 5)
    assert (player["name"], player["type"], player.get("required")) == ("player", 6, False)
    start = {o["name"]: o for o in sub["start"]["options"]}
    assert list(start) == ["deck", "questions", "seconds", "mode", "scoring", "changes", "partial"]
    assert start["deck"]["autocomplete"] is True
    assert [c["value"] for c in start["mode"]["choices"]] == ["solo", "teams"]
    assert (start["questions"]["min_value"], start["questions"]["max_value"]) == (1, 50)
    period = {o["name"]: o for o in sub["leaderboard"]["options"]}["period"]
    assert [c["value"] for c in period["choices"]] == ["week", "last-week", "all"]


def test_sync_globally(
    environment: Path,
    threaded_fake: FakeDiscord,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    point_env_at(monkeypatch, threaded_fake, threaded_fake.token)
    assert main(["discord", "sync"]) == 0
    assert "globally" in capsys.readouterr().out
    assert [c["name"] for c in threaded_fake.commands[None]] == ["quiz"]


def test_invite_url_has_both_scopes_and_minimal_permissions(
    environment: Path,
    threaded_fake: FakeDiscord,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = invite_url(42)
    assert url.startswith("https://discord.com/oauth2/authorize?client_id=42")
    assert "scope=bot+applications.commands" in url
    # View Channel, Send Messages, Embed Links, Attach Files, Read Message History
    assert "permissions=117760" in url

    point_env_at(monkeypatch, threaded_fake, threaded_fake.token)
    assert main(["discord", "invite-url"]) == 0
    assert f"client_id={threaded_fake.app_id}" in capsys.readouterr().out


@pytest.fixture
async def live_fake(restore_endpoints: None) -> AsyncIterator[FakeDiscord]:
    """A fake Discord on the test's own event loop."""
    fake = FakeDiscord()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()


async def test_serve_wires_the_runtime_and_plays(live_fake: FakeDiscord, tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'quiz.db'}",
        questions_dir=REPO / "questions",
        discord_token=live_fake.token,
        discord_api_url=live_fake.api_url,
        discord_gateway_url=live_fake.gateway_url,
    )
    running = asyncio.create_task(serve(settings, live_fake.token))
    try:
        await asyncio.wait_for(live_fake.identified.wait(), 30)
        host = live_fake.user("Host")
        decks = await live_fake.slash(host, "quiz decks")
        assert "questions)" in decks.text
        started = await live_fake.slash(host, "quiz start", questions=2, seconds=30)
        assert started.content.startswith("Quiz started: 2 questions"), started.content
        assert live_fake.find("Question 1/2")
        stopped = await live_fake.slash(host, "quiz stop")
        assert stopped.content == "Quiz stopped."
        summary = live_fake.find("Quiz stopped")
        assert summary and "Stopped by Host" in message_text(summary[-1])
        assert not live_fake.violations
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running


def test_quiz_start_takes_every_option_of_the_core_spec() -> None:
    bot = QuizBot()
    (quiz,) = [c.to_dict(bot.tree) for c in bot.tree.get_commands()]
    (start,) = [o for o in quiz["options"] if o["name"] == "start"]
    options = {o["name"]: o for o in start["options"]}
    assert list(options) == [o.name for o in START_OPTIONS]
    for spec in START_OPTIONS:
        option = options[spec.name]
        assert option["description"] == spec.description
        assert not option.get("required")
        if spec.kind is OptionKind.NUMBER:
            assert (option["min_value"], option["max_value"]) == (spec.minimum, spec.maximum)
        if spec.kind is OptionKind.CHOICE:
            assert [c["value"] for c in option["choices"]] == list(spec.choices)
        if spec.kind is OptionKind.FLAG:
            assert option["type"] == discord.AppCommandOptionType.boolean.value
