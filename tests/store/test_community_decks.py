"""Community decks in the store: per community names, replace by name, the limit, removal."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.core.bank import QuestionBank
from bot.core.catalogue import CommunityDeck, DeckCatalogue, namespaced
from bot.core.errors import QuizError
from bot.core.model import Choice, Deck, Question, QuestionKind
from bot.store import SqlStore
from tests.store.helpers import T0


def _deck(
    community_id: int, name: str, prompt: str = "2 + 2?", digest: str = "h1"
) -> CommunityDeck:
    question = Question(
        "q1", name, QuestionKind.SINGLE, prompt, (Choice("4", True), Choice("5", False)), "why"
    )
    deck = namespaced(Deck(name, name.title(), "", (question,)), community_id)
    return CommunityDeck(
        community_id=community_id,
        name=name,
        title=name.title(),
        filename=f"{name}.gift",
        format="gift",
        source=f"::q1:: {prompt} {{=4 ~5}}",
        content_hash=digest,
        questions=deck.questions,
        added_by="Ada",
        added_at=T0,
    )


async def test_decks_are_per_community_and_replaced_by_name(store: SqlStore) -> None:
    guild = await store.community("discord", "g1", "Guild")
    other = await store.community("discord", "g2", "Other")
    assert await store.save_community_deck(_deck(guild.id, "bio"), 50) is False
    assert await store.save_community_deck(_deck(other.id, "bio", "3 + 3?"), 50) is False

    stored = await store.community_deck(guild.id, "bio")
    assert stored == _deck(guild.id, "bio")
    assert stored is not None and stored.questions[0].id == f"c{guild.id}/bio/q1"
    assert (await store.community_deck(other.id, "bio")).questions[0].prompt == "3 + 3?"  # type: ignore[union-attr]

    assert await store.save_community_deck(_deck(guild.id, "bio", "9 - 5?", "h2"), 50) is True
    assert await store.deck_hashes(guild.id) == {"bio": "h2"}
    assert [d.questions[0].prompt for d in await store.community_decks(guild.id)] == ["9 - 5?"]

    assert await store.remove_community_deck(guild.id, "bio") is True
    assert await store.remove_community_deck(guild.id, "bio") is False
    assert await store.deck_hashes(guild.id) == {}
    assert await store.deck_hashes(other.id) == {"bio": "h1"}


async def test_a_community_has_at_most_the_limit(store: SqlStore) -> None:
    guild = await store.community("slack", "T1", "Team")
    for name in ("a", "b", "c"):
        await store.save_community_deck(_deck(guild.id, name), 3)
    with pytest.raises(QuizError, match="has 3 decks, the most it may have: remove one first"):
        await store.save_community_deck(_deck(guild.id, "d"), 3)
    # replacing one at the limit is still fine
    assert await store.save_community_deck(_deck(guild.id, "a", digest="h9"), 3) is True
    assert sorted(await store.deck_hashes(guild.id)) == ["a", "b", "c"]


async def test_the_catalogue_reads_a_deck_again_only_when_its_hash_changes(
    store: SqlStore,
) -> None:
    guild = await store.community("discord", "g1", "Guild")
    server = QuestionBank([Deck("srv", "Server deck", "", ())])
    catalogue = DeckCatalogue(server, store)
    await store.save_community_deck(_deck(guild.id, "bio"), 50)

    first = await catalogue.catalogue(guild.id)
    assert [d.name for d in first.bank.decks()] == ["bio", "srv"]
    assert first.is_own("bio") and not first.is_own("srv")
    assert await catalogue.catalogue(guild.id) is first  # same hashes: nothing re-read

    await store.save_community_deck(
        replace(_deck(guild.id, "bio", "7 - 2?"), content_hash="h2"), 50
    )
    second = await catalogue.catalogue(guild.id)
    assert second is not first
    assert second.bank.deck("bio").questions[0].prompt == "7 - 2?"
    assert catalogue.question(guild.id, f"c{guild.id}/bio/q1") is not None

    fresh = DeckCatalogue(server, store)  # another process: it has not read the decks yet
    with pytest.raises(Exception, match="not loaded yet"):
        fresh.question(guild.id, f"c{guild.id}/bio/q1")
    assert await fresh.load_wanted() is True
    assert fresh.question(guild.id, f"c{guild.id}/bio/q1") == second.bank.question(
        f"c{guild.id}/bio/q1"
    )
