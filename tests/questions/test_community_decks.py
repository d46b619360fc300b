"""Community decks through the engine on the real store: namespaced ids, names, the
catalogue across processes, and closes in a process that has not read the decks."""

from __future__ import annotations

import pytest

from bot.core.clock import ManualClock
from bot.core.errors import QuizError
from bot.core.model import CommunityRef, StartRequest
from bot.questions.community_decks import CommunityDeckLibrary
from bot.store import SqlStore
from tests.core.helpers import RecordingChat, make_engine, user

GUILD = CommunityRef("g1", "Guild")
OTHER = CommunityRef("g2", "Other")
TWO = b"""::fr:: What is the capital of France? {=Paris ~Lyon ~Nice}

::it:: What is the capital of Italy? {=Rome ~Milan ~Turin}
"""


async def test_ids_are_namespaced_per_community_and_names_checked(store: SqlStore) -> None:
    engine = make_engine(store, RecordingChat(), ManualClock())
    library = CommunityDeckLibrary(engine)
    await library.add(GUILD, user(1), TWO, "capitals.gift", is_admin=True)
    await library.add(OTHER, user(2), TWO, "capitals.gift", is_admin=True)
    guild, other = await engine.community(GUILD), await engine.community(OTHER)
    mine = (await engine.catalogue.bank(guild.id)).deck("capitals")
    theirs = (await engine.catalogue.bank(other.id)).deck("capitals")
    assert [q.id for q in mine.questions] == [
        f"c{guild.id}/capitals/fr",
        f"c{guild.id}/capitals/it",
    ]
    assert {q.id for q in mine.questions}.isdisjoint(q.id for q in theirs.questions)
    # the bot's deck stays beside them, with its own ids
    assert {d.name for d in (await engine.catalogue.bank(guild.id)).decks()} == {
        "basics",
        "capitals",
    }

    with pytest.raises(QuizError, match="'basics' is a bot deck: give yours another name"):
        await library.add(GUILD, user(1), TWO, "basics.gift", is_admin=True)
    with pytest.raises(QuizError, match="Bad deck name 'My Deck!'"):
        await library.add(GUILD, user(1), TWO, "x.gift", "My Deck!", is_admin=True)
    with pytest.raises(QuizError, match="may not be named 'all'"):
        await library.add(GUILD, user(1), TWO, "all.gift", is_admin=True)

    filename, text = await library.export(GUILD, "capitals", "gift")
    assert filename == "capitals.gift"
    assert f"c{guild.id}/" not in text and "What is the capital of Italy?" in text


async def test_another_process_closes_rounds_of_a_community_deck(
    store: SqlStore, database_url: str
) -> None:
    clock = ManualClock()
    first = make_engine(store, RecordingChat(), clock)
    await CommunityDeckLibrary(first).add(GUILD, user(1), TWO, "capitals.gift", is_admin=True)
    quiz = await first.start(
        GUILD, "chan", user(1), StartRequest(decks=("capitals",), questions=2, seconds=20)
    )

    other_chat = RecordingChat()
    async with SqlStore.from_url(database_url) as other_store:
        second = make_engine(other_store, other_chat, clock)  # it never read the decks
        clock.advance(21)
        assert await second.close_due_rounds() == 1
        # round 2 came from the community's deck, not skipped as if it were removed
        [opened] = other_chat.questions
        assert opened.position == 2 and "capital of" in opened.prompt
        assert (await other_store.quiz(quiz.id)).status.value == "running"  # type: ignore[union-attr]

        # a replace in the first process is seen by the second at its next start
        await CommunityDeckLibrary(first).add(
            GUILD, user(1), TWO.replace(b"Italy", b"Spain"), "capitals.gift", is_admin=True
        )
        bank = await second.catalogue.bank((await second.community(GUILD)).id)
        assert "What is the capital of Spain?" in [
            q.prompt for q in bank.deck("capitals").questions
        ]


async def test_a_chat_reply_shows_the_first_ten_problems_and_counts_the_rest(
    store: SqlStore,
) -> None:
    engine = make_engine(store, RecordingChat(), ManualClock())
    library = CommunityDeckLibrary(engine)
    await library.add(GUILD, user(1), TWO, "many.gift", is_admin=True)
    choices = " ".join(f"~{c}" for c in "bcdefghijkl")
    data = "\n\n".join(f"::q{i}:: Question {i}? {{=a {choices}}}" for i in range(13))
    with pytest.raises(QuizError) as caught:
        await library.add(GUILD, user(1), data.encode(), "many.gift", is_admin=True)
    lines = str(caught.value).splitlines()
    assert lines[0] == "many.gift: 13 problems, nothing was stored"
    assert [line.split(": ")[0] for line in lines[1:11]] == [
        f"many.gift:{2 * i + 1}:1" for i in range(10)
    ]
    assert "12 choices: at most 10" in lines[1]
    assert lines[11] == "… and 3 more problems"
    assert len(str(caught.value)) < 2000  # one Discord message
    # the good deck of that name is still the one stored
    bank = await engine.catalogue.bank((await engine.community(GUILD)).id)
    assert len(bank.deck("many").questions) == 2
