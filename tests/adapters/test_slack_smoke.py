"""Smoke test: the Bolt app served over HTTP takes a signed slash command and a click."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.mock_slack.harness import ADA, SlackHarness, right_letters


@pytest.fixture
async def harness(database_url: str) -> AsyncIterator[SlackHarness]:
    opened = await SlackHarness.open(database_url)
    try:
        yield opened
    finally:
        await opened.close()


async def test_help_is_answered_privately(harness: SlackHarness) -> None:
    reply = await harness.slack.command(ADA, "help")

    assert reply.status == 200
    texts = await harness.mock.wait_for_ephemerals(ADA.id, 1)
    assert "/quiz start [deck]" in texts[0]
    assert harness.mock.calls_to("auth.test"), "Bolt checks its token on the first request"


async def test_start_posts_a_question_and_a_click_is_locked_in(harness: SlackHarness) -> None:
    reply = await harness.slack.command(ADA, "start science 3")
    assert reply.status == 200
    await harness.mock.wait_for(lambda: bool(harness.mock.calls_to("chat.postMessage")))

    question = harness.question()
    assert question.plain.startswith("*Question 1/3*")
    [b] = right_letters(question)
    reply = await harness.slack.click(ADA, question, b)

    assert reply.status == 200
    assert await harness.mock.wait_for_ephemerals(ADA.id, 1) == [f"Locked in: {b}"]
