"""Durable chat output on Slack, through real `quizbot serve slack --http` processes.

kill -9 right after acks, or right after a close; 5xx on a pattern; two processes on
PostgreSQL; a permanent error. What the channel shows is read from the mock Slack
(chat.update applied, with each message's edit history), the rest from the database.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest

from tests.e2e.db import rows, scalar, wait_for_value
from tests.e2e.slack_bot import (
    HOST,
    PLAYERS,
    SlackBot,
    buttons_came_back,
    channel_kinds,
    expected_sequence,
    questions,
)
from tests.mock_slack.requests import Reply, SlackRequests, User
from tests.mock_slack.server import Message, MockSlack

WAIT = 60.0  # a poll ends as soon as it holds: this only bounds a failure


def right_label(message: Message) -> str:
    """The letter of the right choice: the pairs deck's right answers are the digits
    2, 3, 5, 9, each shown beside its letter."""
    for line in message.plain.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0].strip("*") in "AB" and parts[1] in ("2", "3", "5", "9"):
            return parts[0].strip("*")
    raise AssertionError(f"no right choice on:\n{message.plain}")


async def click(
    slack: SlackRequests, user: User, message: Message, seconds: float = 3.0
) -> Reply | None:
    """One click; None if the process did not answer it within `seconds` (Slack's 3 s by
    default; a killed process never answers)."""
    try:
        return await asyncio.wait_for(slack.click(user, message, right_label(message)), seconds)
    except (aiohttp.ClientError, OSError, TimeoutError):
        return None


async def wait_kinds(
    mock: MockSlack, channel: str, kinds: list[str], seconds: float = WAIT
) -> None:
    """Wait until the channel's messages begin with `kinds` (or fail showing them)."""
    try:
        await mock.wait_for(lambda: channel_kinds(mock, channel)[: len(kinds)] == kinds, seconds)
    except TimeoutError:
        raise AssertionError(f"channel shows {channel_kinds(mock, channel)}, not {kinds}") from None


async def start_quiz(bot: SlackBot, mock: MockSlack, text: str) -> Message:
    reply = await bot.slack.command(HOST, text)
    assert reply.status == 200, reply.body
    await wait_kinds(mock, bot.slack.channel, ["Q1"])
    return questions(mock, bot.slack.channel)[-1]


async def answer_all(bots: list[SlackBot], mock: MockSlack, users: list[User], n: int) -> None:
    """`users` answer question `n`, their clicks spread over `bots`."""
    channel = bots[0].slack.channel
    await wait_kinds(mock, channel, expected_sequence(n)[: 2 * n - 1])
    question = questions(mock, channel)[n - 1]
    replies = await asyncio.gather(
        *(click(bots[i % len(bots)].slack, u, question, 10.0) for i, u in enumerate(users))
    )
    assert all(r is not None and r.status == 200 for r in replies)


async def stored_answers(url: str) -> set[str]:
    found = await rows(
        url, "SELECT p.external_id FROM answers a JOIN players p ON p.id = a.player_id"
    )
    return {str(r[0]) for r in found}


async def test_kill_9_right_after_a_burst_of_acks_loses_no_acked_answer(
    tmp_path: Path, mock: MockSlack, bot_database_url: str
) -> None:
    bot = await SlackBot.start(tmp_path, mock, bot_database_url)
    try:
        question = await start_quiz(bot, mock, "start pairs 2 120s")
        burst = [asyncio.create_task(click(bot.slack, u, question)) for u in PLAYERS[:30]]
        acks = 0
        for done in asyncio.as_completed(burst):
            reply = await done
            acks += reply is not None and reply.status == 200
            if acks == 10:
                bot.bot.kill()  # at once: no shutdown, no flush, 20 clicks in flight
                break
        replies = await asyncio.gather(*burst)
    finally:
        await bot.close()
    acked_ids = {u.id for u, r in zip(PLAYERS, replies, strict=False) if r and r.status == 200}
    assert len(acked_ids) >= 10
    stored = await stored_answers(bot_database_url)
    assert acked_ids <= stored, f"lost: {sorted(acked_ids - stored)}"


async def test_kill_9_after_a_close_the_next_process_reveals_once_and_finishes(
    tmp_path: Path, mock: MockSlack, bot_database_url: str
) -> None:
    first = await SlackBot.start(tmp_path / "one", mock, bot_database_url)
    try:
        question = await start_quiz(first, mock, "start pairs 2 5s")
        assert (await click(first.slack, PLAYERS[0], question)) is not None
        mock.faults.add("chat.postMessage", kind=503)  # the reveal cannot get out
        await first.bot.wait_until(lambda: mock.faults.count(503) >= 3, WAIT, "a refused reveal")
        # the close is committed and the reveal waits in the outbox: now the crash
        reveal_status = "SELECT status FROM outbox WHERE kind = 'reveal'"
        await wait_for_value(bot_database_url, reveal_status, "pending")
        first.bot.kill()
        await first.bot.process.wait()
    finally:
        await first.close()
    mock.faults.clear()
    assert channel_kinds(mock, "C0QUIZ") == ["Q1"]

    second = await SlackBot.start(tmp_path / "two", mock, bot_database_url)
    try:
        await answer_all([second], mock, [PLAYERS[0]], 2)  # the one player: an early close
        await wait_kinds(mock, second.slack.channel, expected_sequence(2))
    finally:
        await second.close()
    assert channel_kinds(mock, "C0QUIZ") == expected_sequence(2)
    assert not any(q.has_buttons for q in questions(mock, "C0QUIZ"))
    assert await scalar(bot_database_url, "SELECT status FROM quizzes") == "finished"


async def test_server_errors_on_1_in_3_posts_and_updates_show_everything_once_in_order(
    tmp_path: Path, mock: MockSlack, bot_database_url: str
) -> None:
    mock.faults.add("chat.postMessage", kind=500, pattern="1/3")
    mock.faults.add("chat.update", kind=503, pattern="1/3")
    # and once, more than the Web API client retries by itself: the outbox retries
    mock.faults.add("chat.postMessage", kind=503, calls=[3, 4, 5])
    bot = await SlackBot.start(tmp_path, mock, bot_database_url)
    try:
        await start_quiz(bot, mock, "start pairs 3 5s")
        for n in (1, 2, 3):
            await answer_all([bot], mock, PLAYERS[:3], n)
        await wait_kinds(mock, bot.slack.channel, expected_sequence(3))
    finally:
        await bot.close()
    assert channel_kinds(mock, "C0QUIZ") == expected_sequence(3)
    assert mock.faults.count(500) and mock.faults.count(503) >= 3
    assert not any(buttons_came_back(q) or q.has_buttons for q in questions(mock, "C0QUIZ"))


async def test_two_processes_never_put_buttons_back_on_a_revealed_question(
    tmp_path: Path, mock: MockSlack, bot_database_url: str
) -> None:
    if bot_database_url.startswith("sqlite"):
        pytest.skip("several serving processes share a PostgreSQL database")
    bots = list(
        await asyncio.gather(
            SlackBot.start(tmp_path / "a", mock, bot_database_url),
            SlackBot.start(tmp_path / "b", mock, bot_database_url),
        )
    )
    try:
        await start_quiz(bots[0], mock, "start pairs 4 5s")
        for n in (1, 2, 3, 4):
            await answer_all(bots, mock, PLAYERS[:20], n)
        await wait_kinds(mock, "C0QUIZ", expected_sequence(4))
        await asyncio.sleep(0.5)  # any late count edit would land now
    finally:
        await asyncio.gather(*(b.close() for b in bots))
    assert channel_kinds(mock, "C0QUIZ") == expected_sequence(4)
    shown = questions(mock, "C0QUIZ")
    assert not [q.history_text for q in shown if buttons_came_back(q) or q.has_buttons]
    assert sum(q.edits for q in shown) >= 4  # counts and closes were edited in


async def test_a_permanent_error_stops_the_quiz_cleanly(
    tmp_path: Path, mock: MockSlack, bot_database_url: str
) -> None:
    bot = await SlackBot.start(tmp_path, mock, bot_database_url)
    try:
        question = await start_quiz(bot, mock, "start pairs 2 5s")
        assert (await click(bot.slack, PLAYERS[0], question)) is not None
        mock.fail("chat.postMessage", "not_in_channel")  # the bot was removed: the reveal
        await mock.wait_for(lambda: bool(mock.ephemerals_for(HOST.id)), WAIT)
        await bot.bot.wait_for_log("cannot be delivered")
        posts = len(mock.calls_to("chat.postMessage"))
        await asyncio.sleep(1.0)  # nothing retries it
        assert len(mock.calls_to("chat.postMessage")) == posts
        assert bot.bot.process.returncode is None  # still serving other channels
    finally:
        await bot.close()
    assert "not_in_channel" in mock.ephemerals_for(HOST.id)[0].text
    assert await scalar(bot_database_url, "SELECT status FROM quizzes") == "stopped"
    outcome = await rows(bot_database_url, "SELECT kind, status FROM outbox ORDER BY id")
    assert ("reveal", "failed") in outcome
    assert not [r for r in outcome if r[1] in ("pending", "sending")]
    lines = [line for line in bot.bot.log.splitlines() if "cannot be delivered" in line]
    assert len(lines) == 1 and "not_in_channel" in lines[0]
