"""`/quiz config`: showing, setting, validating, and what the engine makes of it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.core.clock import ManualClock
from bot.core.errors import NotAllowedError, QuizError
from bot.core.model import Scoring, StartRequest
from bot.store import SqlStore

from .helpers import CHANNEL, GUILD, make_process

MONDAY = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


async def test_config_alone_shows_the_defaults(store: SqlStore) -> None:
    process = make_process(store, ManualClock(MONDAY))
    card = await process.rhythm.config(GUILD, CHANNEL, [], is_admin=False)
    assert card.heading == "Settings of Study group"
    assert card.lines() == [
        "channel: off (default)",
        "timezone: UTC (default)",
        "week-start: mon (default)",
        "deck: all (default)",
        "questions: 5 (default)",
        "seconds: 30 (default)",
        "scoring: speed (default)",
        "pick: random (default)",
        "desired-retention: 0.90 (default)",
        "morning: 09:00 (default)",
        "deck-editors: admins (default)",
        "Change one with /quiz config KEY VALUE (admins).",
    ]


async def test_setting_every_key(store: SqlStore) -> None:
    process = make_process(store, ManualClock(MONDAY))
    rhythm = process.rhythm
    for words in (
        ["timezone", "Europe/Berlin"],
        ["week-start", "Sunday"],
        ["channel", "here"],
        ["deck", "algebra,history"],
        ["questions", "8"],
        ["seconds", "45"],
        ["scoring", "Accuracy"],
    ):
        card = await rhythm.config(GUILD, CHANNEL, words, is_admin=True)
        assert card.changed == words[0] and card.heading == f"{words[0]} set"
    assert [line.split(": ", 1)[1] for line in card.lines()[:7]] == [
        "<#chan-1>",
        "Europe/Berlin",
        "sun",
        "algebra,history",
        "8",
        "45",
        "accuracy ← changed",
    ]
    # the week starting Sunday 22 Nov ends Sunday 29 Nov 00:00 in Berlin
    assert card.next_post == "Sun 29 Nov 00:00 Europe/Berlin"

    community = await process.engine.community(GUILD)
    assert (community.timezone, community.week_start) == ("Europe/Berlin", 6)
    options = process.engine.resolve_options(StartRequest(), community)
    assert (options.decks, options.questions, options.seconds, options.scoring) == (
        ("algebra", "history"),
        8,
        45,
        Scoring.ACCURACY,
    )

    reset = await rhythm.config(GUILD, CHANNEL, ["questions", "default"], is_admin=True)
    assert reset.value("questions") == "5"
    moved = await rhythm.config(GUILD, CHANNEL, ["channel", "<#C42|general>"], is_admin=True)
    assert moved.value("channel") == "<#C42>"
    off = await rhythm.config(GUILD, CHANNEL, ["channel", "off"], is_admin=True)
    assert off.value("channel") == "off" and off.next_post is None


async def test_a_configured_timezone_survives_the_bot_default(store: SqlStore) -> None:
    process = make_process(store, ManualClock(MONDAY))
    process.engine.default_timezone = "Asia/Tokyo"
    await process.rhythm.config(GUILD, CHANNEL, ["tz", "America/Sao_Paulo"], is_admin=True)
    assert (await process.engine.community(GUILD)).timezone == "America/Sao_Paulo"


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (["colour", "blue"], "Unknown setting 'colour': use one of channel, timezone, week-start"),
        (["timezone"], "Missing value for timezone: /quiz config timezone VALUE"),
        (["timezone", "Mars/Olympus"], "Bad timezone 'Mars/Olympus': use an IANA name"),
        (["week-start", "someday"], "Bad week-start 'someday': use one of mon, tue"),
        (["deck", "geography"], "Bad deck: No deck named 'geography' (decks: algebra, history)"),
        (["questions", "0"], "Bad questions '0': use a whole number from 1 to 50"),
        (["questions", "ten"], "Bad questions 'ten': use a whole number from 1 to 50"),
        (["seconds", "3"], "Bad seconds '3': use a whole number from 5 to 600"),
        (["scoring", "loudest"], "Bad scoring 'loudest': use speed or accuracy"),
        (["deck-editors", "owners"], "Bad deck-editors 'owners': use admins or everyone"),
        (["channel", "#general"], "Bad channel '#general': use here (this channel)"),
    ],
)
async def test_a_bad_value_is_one_line_naming_it(
    store: SqlStore, words: list[str], message: str
) -> None:
    process = make_process(store, ManualClock(MONDAY))
    with pytest.raises(QuizError) as caught:
        await process.rhythm.config(GUILD, CHANNEL, words, is_admin=True)
    text = str(caught.value)
    assert text.startswith(message) and "\n" not in text


async def test_only_admins_change_settings(store: SqlStore) -> None:
    process = make_process(store, ManualClock(MONDAY))
    with pytest.raises(NotAllowedError, match="Only server or workspace admins"):
        await process.rhythm.config(GUILD, CHANNEL, ["questions", "3"], is_admin=False)
    card = await process.rhythm.show_config(GUILD)
    assert card.value("questions") == "5"
