"""`quizbot serve slack --http` end to end: settings in, a quiz played by signed requests."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.adapters.slack.app import serve_slack
from bot.config import Settings
from tests.mock_slack.harness import ADA, BEN, SECRET
from tests.mock_slack.requests import SlackRequests
from tests.mock_slack.server import MockSlack

# single-answer questions only, so that the first question always has letter buttons
DECK = """\
name: pairs
title: Pairs
description: Two single-answer questions
questions:
  - id: pairs-1
    prompt: Which is even?
    choices:
      - correct: "2"
      - wrong: "3"
    explanation: 2 divides by 2.
  - id: pairs-2
    prompt: Which is odd?
    choices:
      - correct: "3"
      - wrong: "4"
    explanation: 3 does not divide by 2.
"""


async def test_serve_http_runs_a_quiz_from_signed_requests(tmp_path: Path) -> None:
    (tmp_path / "decks").mkdir()
    (tmp_path / "decks" / "pairs.yaml").write_text(DECK)
    mock = MockSlack()
    await mock.start()
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'quiz.db'}",
        questions_dir=tmp_path / "decks",
        slack_bot_token="xoxb-test",
        slack_signing_secret=SECRET,
        slack_api_url=mock.base_url,
    )
    stop = asyncio.Event()
    ready: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    server = asyncio.create_task(
        serve_slack(
            settings, http=True, host="127.0.0.1", port=0, stop=stop, on_ready=ready.set_result
        )
    )
    port = await asyncio.wait_for(ready, 30)
    slack = SlackRequests(f"http://127.0.0.1:{port}/slack/events", mock, SECRET)
    try:
        assert (await slack.command(ADA, "start pairs 2")).status == 200
        await mock.wait_for(lambda: bool(mock.channel_messages(slack.channel)))
        question = mock.last_message(slack.channel)
        assert question.plain.startswith("*Question 1/2")

        assert (await slack.click(BEN, question, "A")).status == 200
        assert await mock.wait_for_ephemerals(BEN.id, 1) == ["Locked in: A"]

        assert (await slack.command(ADA, "stop")).status == 200
        await mock.wait_for(lambda: len(mock.channel_messages(slack.channel)) == 3)
        reveal, summary = (m.plain for m in mock.channel_messages(slack.channel)[1:])
        assert reveal.startswith("*Answer 1/2*")
        assert summary.startswith("*Quiz stopped*") and "ben" in summary

        bad = await slack.send(slack.command_body(ADA, "start"), secret="wrong")
        assert bad.status == 401

        assert slack._session is not None
        async with slack._session.get(f"http://127.0.0.1:{port}/metrics") as response:
            assert response.status == 200
        async with slack._session.get(f"http://127.0.0.1:{port}/healthz") as response:
            assert response.status == 200
    finally:
        stop.set()
        assert await asyncio.wait_for(server, 30) == 0
        await slack.close()
        await mock.close()
