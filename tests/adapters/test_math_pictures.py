"""Math pictures on Slack and Discord: for prompts, choices and explanations, each with
its text alternative."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import discord
import pytest

from bot.adapters.discord.chat import attachment
from bot.adapters.slack.chat import SlackChat, http_session, web_client
from bot.core.cards import QuestionCard, RevealCard
from bot.core.model import Mode, QuestionKind
from bot.render.pictures import (
    explanation_picture,
    question_picture,
    question_source,
)
from tests.mock_slack.server import MockSlack

NESTED = r"$\frac{\frac{1}{2}}{\frac{3}{4}}$"
SUM = r"$\sum_{i=1}^{n} i = \frac{n(n+1)}{2}$"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def question(prompt: str, choices: tuple[str, ...]) -> QuestionCard:
    return QuestionCard(
        quiz_id=1,
        round_id=7,
        position=1,
        total=1,
        deck="math",
        kind=QuestionKind.SINGLE,
        prompt=prompt,
        choices=choices,
        closes_at=datetime(2026, 11, 23, 12, tzinfo=UTC),
        seconds=30,
        answered=0,
        mode=Mode.SOLO,
    )


def reveal(explanation: str) -> RevealCard:
    return RevealCard(
        quiz_id=1,
        round_id=7,
        position=1,
        total=1,
        kind=QuestionKind.SINGLE,
        prompt="Which sum?",
        choices=("one", "two"),
        correct=(0,),
        explanation=explanation,
        votes=(0, 0),
        answered=0,
        fastest=(),
        teams=(),
        mode=Mode.SOLO,
    )


@pytest.fixture
async def slack() -> AsyncIterator[tuple[MockSlack, SlackChat]]:
    mock = MockSlack()
    await mock.start()
    session = http_session()
    try:
        yield mock, SlackChat(web_client("xoxb-test", mock.base_url, session=session, jitter=0))
    finally:
        await session.close()
        await mock.close()


def test_a_choice_alone_can_need_the_picture() -> None:
    assert question_source(question("Which is it?", ("2/3", "3/8"))) is None
    source = question_source(question("Which is it?", ("2/3", NESTED)))
    assert source is not None and f"B) {NESTED}" in source


async def test_the_picture_has_the_questions_words_as_its_alternative() -> None:
    picture = await question_picture(question(f"What is {NESTED}?", ("2/3", "3/2")), "light")
    assert picture is not None
    assert picture.png.startswith(PNG_SIGNATURE)
    assert picture.filename == "question-7.png"
    assert picture.alt.startswith("What is ")
    assert "A) 2/3" in picture.alt and "$" not in picture.alt


async def test_slack_gets_the_question_picture_with_alt_text(
    slack: tuple[MockSlack, SlackChat],
) -> None:
    mock, chat = slack
    await chat.post_question("C1", question(f"What is {NESTED}?", ("2/3", "3/2")), key="k1")
    [upload] = mock.uploads.values()
    assert upload.channel == "C1"
    assert upload.data.startswith(PNG_SIGNATURE)
    assert upload.alt.startswith("What is ") and "B) 3/2" in upload.alt


async def test_slack_gets_the_explanation_picture(slack: tuple[MockSlack, SlackChat]) -> None:
    mock, chat = slack
    await chat.post_reveal("C1", None, reveal(f"Because {SUM}."), key="k2")
    [upload] = mock.uploads.values()
    assert upload.data.startswith(PNG_SIGNATURE)
    assert upload.alt.startswith("Because ∑")


async def test_plain_text_gets_no_picture(slack: tuple[MockSlack, SlackChat]) -> None:
    mock, chat = slack
    await chat.post_question("C1", question("What is $2^3$?", ("8", "6")), key="k3")
    await chat.post_reveal("C1", None, reveal("2·2·2 = 8"), key="k4")
    assert mock.uploads == {}


async def test_a_discord_attachment_carries_the_description() -> None:
    picture = await explanation_picture(reveal(f"Because {SUM}."), "dark")
    assert picture is not None
    file = attachment(picture)
    assert isinstance(file, discord.File)
    assert file.filename == "explanation-7.png"
    assert file.description == picture.alt
