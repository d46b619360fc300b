"""The fakes' fault injection, seen by the real clients: slack_sdk's AsyncWebClient with
the bot's retry handlers, and discord.py's HTTP client; and Discord's nonce."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import discord
import pytest
from slack_sdk.errors import SlackApiError

from bot.adapters.slack.chat import http_session, web_client
from tests.fake_discord import FakeDiscord
from tests.faults import FaultRule, Faults
from tests.mock_slack.server import MockSlack


def fired(rule: FaultRule, calls: int) -> list[int]:
    return [i for i in range(calls) if rule.fires(i)]


def test_patterns_select_the_calls_they_say() -> None:
    faults = Faults()
    assert fired(faults.add("m", kind=500, pattern="1/3"), 7) == [0, 3, 6]
    assert fired(faults.add("m", kind=500, pattern="2/3"), 7) == [1, 4]
    assert fired(faults.add("m", kind=500, every=2), 7) == [1, 3, 5]
    assert fired(faults.add("m", kind=500, first=2), 7) == [0, 1]
    assert fired(faults.add("m", kind=500, calls=[0, 5]), 7) == [0, 5]
    with pytest.raises(ValueError):
        faults.add("m", kind=418)
    with pytest.raises(ValueError):
        faults.add("m", kind=500, pattern="one in three")


def test_a_request_counts_for_every_matching_rule_and_fails_by_the_first() -> None:
    faults = Faults()
    faults.add("chat\\..*", kind=503, calls=[1])
    faults.add("chat.update", kind=429, first=1)
    assert faults.take("chat.update") is faults.rules[1]  # rule 0 saw its call 0
    assert faults.take("chat.update") is faults.rules[0]  # rule 0's call 1
    assert faults.take("chat.postMessage") is None
    assert faults.take("users.info") is None
    assert [i.kind for i in faults.injected] == [429, 503]


@pytest.fixture
async def mock() -> AsyncIterator[MockSlack]:
    server = MockSlack()
    await server.start()
    try:
        yield server
    finally:
        await server.close()


async def test_slack_client_retries_a_500_and_a_503_then_posts_once(mock: MockSlack) -> None:
    mock.faults.add("chat.postMessage", kind=500, calls=[0])
    mock.faults.add("chat.postMessage", kind=503, calls=[1])
    async with http_session() as session:
        client = web_client("xoxb-test", mock.base_url, session=session, jitter=0.0)
        response = await client.chat_postMessage(channel="C1", text="hello")
    assert response["ok"]
    assert [c.status for c in mock.calls_to("chat.postMessage")] == [500, 503, 200]
    assert [m.text for m in mock.channel_messages("C1")] == ["hello"]


async def test_slack_client_gives_up_on_server_errors_after_a_bounded_number(
    mock: MockSlack,
) -> None:
    mock.faults.add("chat.update", kind=503)  # every call
    async with http_session() as session:
        client = web_client("xoxb-test", mock.base_url, session=session, jitter=0.0)
        with pytest.raises(SlackApiError) as caught:
            await client.chat_update(channel="C1", ts="1.1", text="x")
    assert caught.value.response.status_code == 503
    assert len(mock.calls_to("chat.update")) == 3  # the call and two retries


async def test_slack_rate_limit_is_retried_after_retry_after(mock: MockSlack) -> None:
    mock.faults.add("chat.postMessage", kind=429, first=1, retry_after=0.2)
    async with http_session() as session:
        client = web_client("xoxb-test", mock.base_url, session=session, jitter=0.0)
        await client.chat_postMessage(channel="C1", text="late")
    first, second = mock.calls_to("chat.postMessage")
    assert second.at - first.at >= 0.2
    assert len(mock.channel_messages("C1")) == 1


async def test_slack_dropped_connection_is_retried_and_a_timeout_raises(mock: MockSlack) -> None:
    mock.faults.add("chat.postMessage", kind="drop", calls=[0])
    mock.faults.add("users.info", kind="timeout", hang=2.0)
    async with http_session(timeout=0.3) as session:
        client = web_client("xoxb-test", mock.base_url, session=session, jitter=0.0)
        await client.chat_postMessage(channel="C1", text="after a drop")
        with pytest.raises(asyncio.TimeoutError):
            await client.users_info(user="U1")
    assert [m.text for m in mock.channel_messages("C1")] == ["after a drop"]
    assert mock.faults.count("drop") == 1 and mock.faults.count("timeout") == 1


async def test_response_url_can_fail_too(mock: MockSlack) -> None:
    mock.faults.add("response_url", kind=500, first=1)
    async with aiohttp.ClientSession() as session:
        url = mock.response_url("C1", "U1", "k")
        async with session.post(url, json={"text": "a"}) as response:
            assert response.status == 500
        async with session.post(url, json={"text": "b"}) as response:
            assert response.status == 200
    assert [e.text for e in mock.ephemerals_for("U1")] == ["b"]


@pytest.fixture
async def discord_fake() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord(time_scale=0.1)
    await server.start()
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
async def rest(
    discord_fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[discord.http.HTTPClient]:
    monkeypatch.setattr(discord.http.Route, "BASE", discord_fake.api_url)
    http = discord.http.HTTPClient(asyncio.get_running_loop())
    await http.static_login(discord_fake.token)
    discord_fake.calls.clear()
    try:
        yield http
    finally:
        await http.close()


async def test_discord_nonce_makes_a_second_create_return_the_first_message(
    discord_fake: FakeDiscord, rest: discord.http.HTTPClient
) -> None:
    channel = int(discord_fake.channel_id)
    first = await rest.send_message(channel, params=_params("once", nonce="q-1"))
    again = await rest.send_message(channel, params=_params("once", nonce="q-1"))
    other = await rest.send_message(channel, params=_params("twice", nonce="q-2"))
    assert first["id"] == again["id"] != other["id"]
    assert [m["content"] for m in discord_fake.bot_posts()] == ["once", "twice"]
    assert discord_fake.calls[0].body is not None
    assert discord_fake.calls[0].body["enforce_nonce"] is True  # type: ignore[call-overload]


async def test_discord_503_and_429_reach_discord_py_as_discord_py_sees_them(
    discord_fake: FakeDiscord, rest: discord.http.HTTPClient
) -> None:
    route = r"POST /channels/\d+/messages"
    discord_fake.faults.add(route, kind=429, first=1, retry_after=0.05)
    discord_fake.faults.add(route, kind=503, calls=[1])
    channel = int(discord_fake.channel_id)
    with pytest.raises(discord.DiscordServerError):  # 429 retried, then the 503 raises
        await rest.send_message(channel, params=_params("x", nonce="n-1"))
    await rest.send_message(channel, params=_params("x", nonce="n-1"))
    assert [c.status for c in discord_fake.calls] == [429, 503, 200]
    assert len(discord_fake.bot_posts()) == 1


async def test_discord_dropped_connection_raises_a_client_error(
    discord_fake: FakeDiscord, rest: discord.http.HTTPClient
) -> None:
    discord_fake.faults.add(r"PATCH /channels/\d+/messages/\d+", kind="drop")
    channel = int(discord_fake.channel_id)
    posted = await rest.send_message(channel, params=_params("edit me"))
    with pytest.raises(aiohttp.ClientError):
        await rest.edit_message(channel, int(posted["id"]), params=_params("edited"))
    assert discord_fake.messages[posted["id"]]["content"] == "edit me"


def _params(content: str, *, nonce: str | None = None) -> discord.http.MultipartParameters:
    return discord.http.handle_message_parameters(content=content, nonce=nonce)
