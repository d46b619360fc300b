"""A workspace's own decks on the Bolt app against the Slack mock: the add modal with a
file_input, files.info and the private URL, refusals, and a replace mid-quiz."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.adapters.slack.decks import FILE_ACTION, FILE_BLOCK, NAME_ACTION, NAME_BLOCK
from tests.mock_slack.harness import ADA, BOSS, SlackHarness, choices_of, letter_of
from tests.mock_slack.requests import User

CAPITALS = b"""::fr:: What is the capital of France? {=Paris ~Lyon ~Nice}

::it:: What is the capital of Italy? {=Rome ~Milan ~Turin}
"""
FRANCE = b"::fr:: What is the capital of France? {=Paris ~Lyon ~Nice}\n"
FRANCE_V2 = b"::fr:: What is the capital of France? {~Paris =Lyon ~Nice}\n"
BROKEN = b"::a:: First? {=yes ~no\n\n::b:: Second? {}\n"


@pytest.fixture
async def harness(database_url: str) -> AsyncIterator[SlackHarness]:
    opened = await SlackHarness.open(database_url)
    try:
        yield opened
    finally:
        await opened.close()


async def reply_to(h: SlackHarness, user: User, text: str) -> str:
    """Type a /quiz command; the ephemeral reply the user gets."""
    seen = len(h.mock.ephemerals_for(user.id))
    assert (await h.slack.command(user, text)).status == 200
    return (await h.mock.wait_for_ephemerals(user.id, seen + 1))[-1]


def file_values(file_id: str | None, name: str | None = None) -> dict[str, Any]:
    files = [{"id": file_id, "name": "ignored"}] if file_id else []
    return {
        FILE_BLOCK: {FILE_ACTION: {"type": "file_input", "files": files}},
        NAME_BLOCK: {NAME_ACTION: {"type": "plain_text_input", "value": name}},
    }


async def add_deck(h: SlackHarness, user: User, filename: str, data: bytes, **kw: Any) -> str:
    """/quiz deck add, pick a file in the modal, submit; the reply the user gets."""
    views = len(h.mock.views)
    assert (await h.slack.command(user, "deck add")).status == 200
    await h.mock.wait_for(lambda: len(h.mock.views) > views)
    view = h.mock.views[-1]
    assert view["callback_id"] == "quiz_deck_add"
    assert view["blocks"][1]["element"]["type"] == "file_input"
    seen = len(h.mock.ephemerals_for(user.id))
    file_id = h.mock.host_file(filename, data, size=kw.get("size"))
    reply = await h.slack.submit_view(user, view, file_values(file_id, kw.get("name")))
    assert reply.status == 200, reply.body
    return (await h.mock.wait_for_ephemerals(user.id, seen + 1))[-1]


def reveals(h: SlackHarness) -> list[str]:
    return [m for m in h.messages() if m.startswith("*Answer")]


async def test_an_admin_adds_a_deck_in_the_modal_and_plays_it(harness: SlackHarness) -> None:
    h = harness
    text = await add_deck(h, BOSS, "capitals.gift", CAPITALS)
    assert text.startswith("Deck capitals added: 2 imported, 0 skipped"), text
    [info] = h.mock.calls_to("files.info")
    [download] = h.mock.calls_to("url_private")
    assert download.token == "xoxb-test" and download.path.endswith("/capitals.gift")
    assert info.params["file"] in download.path

    listed = await reply_to(h, ADA, "decks")
    assert "*capitals*: Capitals (2 questions) · this workspace's own" in listed
    assert "*science*: Science basics (3 questions) —" in listed
    assert "capitals: Capitals (2 questions, this community's)" in await reply_to(
        h, ADA, "deck list"
    )
    shown = await reply_to(h, ADA, "deck show capitals")
    assert "Kinds: 2 single" in shown and "What is the capital of Italy?" in shown

    assert (await h.slack.command(ADA, "start capitals 2")).status == 200
    await h.mock.wait_for(lambda: any(m.startswith("*Question") for m in h.messages()))
    question = h.question()
    right = "Paris" if "Paris" in choices_of(question).values() else "Rome"
    letter = letter_of(question, right)
    await h.tick(31)
    await h.mock.wait_for(lambda: len(reveals(h)) == 1)
    assert f"*Answer 1/2* ✅ *{letter}*" in reveals(h)[0]

    seen = len(h.mock.messages)
    assert (await h.slack.command(BOSS, "deck export capitals csv")).status == 200
    await h.mock.wait_for(lambda: len(h.mock.messages) > seen)
    [upload] = [u for u in h.mock.uploads.values() if u.title == "capitals.csv"]
    assert b"What is the capital of Italy?" in upload.data


async def test_a_member_who_is_not_an_admin_is_refused(harness: SlackHarness) -> None:
    h = harness
    refused = await reply_to(h, ADA, "deck add")
    assert refused.startswith("Only admins can change this community's decks")
    assert h.mock.views == []  # no modal opened
    # a modal opened by an admin and submitted by someone else is refused too
    assert (await h.slack.command(BOSS, "deck add")).status == 200
    await h.mock.wait_for(lambda: len(h.mock.views) == 1)
    file_id = h.mock.host_file("capitals.gift", CAPITALS)
    seen = len(h.mock.ephemerals_for(BOSS.id))
    await h.slack.submit_view(ADA, h.mock.views[0], file_values(file_id))
    texts = await h.mock.wait_for_ephemerals(BOSS.id, seen + 1)
    assert texts[-1].startswith("Only admins can change")
    assert h.mock.calls_to("url_private") == []
    assert "capitals" not in await reply_to(h, ADA, "decks")


async def test_a_file_with_errors_is_refused_with_its_lines(harness: SlackHarness) -> None:
    h = harness
    assert (await add_deck(h, BOSS, "quiz.gift", FRANCE)).startswith("Deck quiz added")
    text = await add_deck(h, BOSS, "quiz.gift", BROKEN)
    lines = text.splitlines()
    assert lines[0].startswith("quiz.gift: ") and lines[0].endswith("nothing was stored")
    assert lines[1].startswith("quiz.gift:1:"), lines
    assert "What is the capital of France?" in await reply_to(h, ADA, "deck show quiz")

    too_big = await add_deck(h, BOSS, "big.gift", FRANCE, size=5 * 1024 * 1024)
    assert too_big == "big.gift is 5,242,880 bytes: a deck file may be at most 1,048,576"
    assert len(h.mock.calls_to("url_private")) == 2  # the big one was never downloaded


async def test_replacing_a_deck_leaves_the_asked_round_as_it_was(harness: SlackHarness) -> None:
    h = harness
    await add_deck(h, BOSS, "capitals.gift", FRANCE)
    assert (await h.slack.command(ADA, "start capitals 1")).status == 200
    await h.mock.wait_for(lambda: any(m.startswith("*Question") for m in h.messages()))
    paris = letter_of(h.question(), "Paris")
    assert (await add_deck(h, BOSS, "capitals.gift", FRANCE_V2)).startswith(
        "Deck capitals replaced"
    )
    await h.tick(31)
    await h.mock.wait_for(lambda: len(reveals(h)) == 1)
    assert f"*Answer 1/1* ✅ *{paris}*" in reveals(h)[0]

    assert (await h.slack.command(ADA, "start capitals 1")).status == 200
    await h.mock.wait_for(lambda: len([m for m in h.messages() if m.startswith("*Question")]) == 2)
    lyon = letter_of(h.question(), "Lyon")
    await h.tick(31)
    await h.mock.wait_for(lambda: len(reveals(h)) == 2)
    assert f"*Answer 1/1* ✅ *{lyon}*" in reveals(h)[1]
    assert f"*Answer 1/1* ✅ *{paris}*" in reveals(h)[0]  # the first reveal as it was
