"""Each community's catalogue: the bot's decks (QUESTIONS_DIR) plus its own decks.

A community's own decks live in the store (added from chat or by an operator), so that
every process sees the same ones. A catalogue is cached per community with the content
hash of each of its decks: a quiz start asks the store for the hashes only (one small
read) and loads a deck again only when its hash changed, so another process sees an
added, replaced or removed deck on its next quiz start.

The question ids of a community's decks are namespaced, `c<community id>/<deck>/<id>`,
so they collide neither with the bot's ids nor with another community's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol, runtime_checkable

from bot.core.bank import QuestionBank
from bot.core.lru import LRU
from bot.core.model import Deck, Question

MAX_COMMUNITY_DECKS = 50
CATALOGUE_CACHE_SIZE = 1024  # communities whose catalogue a process keeps in memory


def community_prefix(community_id: int) -> str:
    """The start of every question id of a community's own decks."""
    return f"c{community_id}/"


def community_question_id(community_id: int, deck: str, question_id: str) -> str:
    """A question id of a community's deck, unique across communities and the bot's decks."""
    return f"{community_prefix(community_id)}{deck}/{question_id}"


def namespaced(deck: Deck, community_id: int) -> Deck:
    """The deck with every question id in the community's namespace."""
    own_prefix = f"{deck.name}/"  # importers already put some ids under the deck's name
    questions = tuple(
        replace(
            q,
            id=community_question_id(community_id, deck.name, q.id.removeprefix(own_prefix)),
            deck=deck.name,
        )
        for q in deck.questions
    )
    return replace(deck, questions=questions)


@dataclass(frozen=True)
class CommunityDeck:
    """A community's own deck as stored: its source file, parsed questions and origin."""

    community_id: int
    name: str
    title: str
    filename: str
    format: str
    source: str
    content_hash: str
    questions: tuple[Question, ...]  # ids already namespaced
    added_by: str
    added_at: datetime

    def as_deck(self) -> Deck:
        """The deck the engine draws from."""
        return Deck(self.name, self.title, "", self.questions, path=self.filename)


@runtime_checkable
class CommunityDeckStore(Protocol):
    """Where the communities' own decks are kept (bot.store.decks implements it)."""

    async def deck_hashes(self, community_id: int) -> dict[str, str]:
        """Deck name -> content hash of a community's decks."""
        ...

    async def community_deck(self, community_id: int, name: str) -> CommunityDeck | None:
        """One of a community's decks with its questions, or None."""
        ...

    async def community_decks(self, community_id: int) -> list[CommunityDeck]:
        """A community's decks, by name."""
        ...

    async def save_community_deck(self, deck: CommunityDeck, limit: int) -> bool:
        """Add or replace a deck by name; True when it replaced one. QuizError when a new
        deck would make more than `limit`."""
        ...

    async def remove_community_deck(self, community_id: int, name: str) -> bool:
        """Remove a deck; False if there was none of that name."""
        ...


class DecksNotLoadedError(Exception):
    """A round's close needs a community's decks this process has not read yet."""

    def __init__(self, community_id: int) -> None:
        super().__init__(f"the decks of community {community_id} are not loaded yet")
        self.community_id = community_id


@dataclass(frozen=True)
class Catalogue:
    """One community's decks: the bank to draw from, and which decks are its own."""

    bank: QuestionBank
    own: frozenset[str]
    hashes: Mapping[str, str]

    def is_own(self, name: str) -> bool:
        """Whether a deck is the community's own rather than the bot's."""
        return name in self.own


class DeckCatalogue:
    """The bot's bank and every community's own decks over it, cached by content hash."""

    def __init__(self, server: QuestionBank, store: CommunityDeckStore | None) -> None:
        self.server = server
        self.store = store
        self._server_only = Catalogue(server, frozenset(), {})
        self._catalogues: LRU[int, Catalogue] = LRU(CATALOGUE_CACHE_SIZE)
        self._decks: LRU[tuple[int, str, str], Deck] = LRU(CATALOGUE_CACHE_SIZE * 4)
        self._wanted: set[int] = set()

    async def catalogue(self, community_id: int) -> Catalogue:
        """The community's current catalogue: one read of its deck hashes, and a read of
        a deck only when it is new or changed."""
        if self.store is None:
            return self._server_only
        hashes = await self.store.deck_hashes(community_id)
        cached = self._catalogues.get(community_id)
        if cached is not None and cached.hashes == hashes:
            return cached
        decks: list[Deck] = []
        for name, digest in sorted(hashes.items()):
            deck = self._decks.get((community_id, name, digest))
            if deck is None:
                stored = await self.store.community_deck(community_id, name)
                if stored is None:
                    continue  # removed between the two reads
                deck = stored.as_deck()
                self._decks.put((community_id, name, stored.content_hash), deck)
            decks.append(deck)
        own = {d.name for d in decks}
        bank = QuestionBank([*(d for d in self.server.decks() if d.name not in own), *decks])
        catalogue = Catalogue(bank, frozenset(own), dict(hashes))
        self._catalogues.put(community_id, catalogue)
        return catalogue

    async def bank(self, community_id: int) -> QuestionBank:
        """The bank a community's quiz draws from."""
        return (await self.catalogue(community_id)).bank

    async def ensure_loaded(self, community_id: int) -> None:
        """Read the community's catalogue unless this process has it (no hash check)."""
        if self.store is not None and self._catalogues.get(community_id) is None:
            await self.catalogue(community_id)

    def question(self, community_id: int, question_id: str) -> Question | None:
        """A question by id for a round's close, from memory only (it runs inside the
        store's transaction); DecksNotLoadedError when the community's decks are needed
        but not read yet."""
        cached = self._catalogues.get(community_id)
        if cached is not None:
            return cached.bank.question(question_id)
        if self.store is not None and question_id.startswith(community_prefix(community_id)):
            self._wanted.add(community_id)
            raise DecksNotLoadedError(community_id)
        return self.server.question(question_id)

    async def load_wanted(self) -> bool:
        """Read the catalogues that closes found missing; True if there were any."""
        wanted, self._wanted = self._wanted, set()
        for community_id in wanted:
            await self.catalogue(community_id)
        return bool(wanted)


@dataclass(frozen=True)
class CommunityQuestions:
    """The question lookup of one community's closes (see `DeckCatalogue.question`)."""

    catalogue: DeckCatalogue
    community_id: int

    def question(self, question_id: str) -> Question | None:
        """A question by its id."""
        return self.catalogue.question(self.community_id, question_id)
