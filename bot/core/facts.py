"""The engine's caches of facts that never change: a player's id, a round's facts, a
quiz as question cards need it. Bounded, so a long-running process stays small."""

from __future__ import annotations

import asyncio

from bot.core.lru import LRU
from bot.core.model import PlayerRef, Quiz, Round, RoundFacts
from bot.core.ports import PlayerKey, Store

CACHE_SIZE = 4096


class FactCache:
    """Reads a fact from the store once, then answers from memory."""

    def __init__(self, store: Store, platform: str, size: int = CACHE_SIZE) -> None:
        self.store = store
        self.platform = platform
        self._rounds: LRU[int, RoundFacts] = LRU(size)
        self._player_ids: LRU[tuple[str, str], int] = LRU(size)
        self._quizzes: LRU[int, Quiz] = LRU(size)
        self._loading: dict[int, asyncio.Future[RoundFacts | None]] = {}  # reads under way

    async def player_id(self, ref: PlayerRef) -> int:
        """The stored player id for an adapter's reference."""
        cached = self._player_ids.get((ref.external_id, ref.display_name))
        if cached is not None:
            return cached
        player = await self.store.player(self.platform, ref.external_id, ref.display_name)
        self.remember_player(ref, player.id)
        return player.id

    def player(self, ref: PlayerRef) -> int | PlayerKey:
        """The player's id if in memory, else the key a write creates the player by
        (a first click creates the player in the answer's transaction)."""
        cached = self._player_ids.get((ref.external_id, ref.display_name))
        if cached is not None:
            return cached
        return PlayerKey(self.platform, ref.external_id, ref.display_name)

    def remember_player(self, ref: PlayerRef, player_id: int) -> None:
        """Keep a player's id, as a write that created or found the player returned it."""
        self._player_ids.put((ref.external_id, ref.display_name), player_id)

    def known_round(self, round_id: int) -> RoundFacts | None:
        """A round's facts if they are in memory (no read)."""
        return self._rounds.get(round_id)

    async def round_facts(self, round_id: int) -> RoundFacts | None:
        """The unchanging facts of a round, or None if there is no such round.

        A new round's first clicks come together; they share one read instead of each
        making its own (and holding a pooled connection for it).
        """
        facts = self._rounds.get(round_id)
        if facts is not None:
            return facts
        loading = self._loading.get(round_id)
        if loading is None:
            loading = asyncio.ensure_future(self._read_round_facts(round_id))
            self._loading[round_id] = loading
            loading.add_done_callback(lambda _: self._loading.pop(round_id, None))
        # shielded: one click giving up must not cancel the read the others wait for
        return await asyncio.shield(loading)

    async def _read_round_facts(self, round_id: int) -> RoundFacts | None:
        rnd = await self.store.round(round_id)
        if rnd is None:
            return None
        quiz = await self.store.quiz(rnd.quiz_id)
        if quiz is None:
            return None
        return self.remember(quiz, rnd)

    def remember(self, quiz: Quiz, rnd: Round) -> RoundFacts:
        """Keep what clicks and question cards need of a round and its quiz."""
        facts = RoundFacts.of(quiz, rnd)
        self._rounds.put(rnd.id, facts)
        self._quizzes.put(quiz.id, quiz)
        return facts

    async def card_quiz(self, quiz_id: int) -> Quiz | None:
        """A quiz as question cards need it (channel, options, size: never changing)."""
        quiz = self._quizzes.get(quiz_id)
        if quiz is None:
            quiz = await self.store.quiz(quiz_id)
            if quiz is not None:
                self._quizzes.put(quiz_id, quiz)
        return quiz
