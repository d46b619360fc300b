"""A community's own decks, added from chat or by an operator: add, list, show, remove,
export. The adapters hand over a file's bytes; this parses it with the importers, checks
who may change decks (`/quiz config deck-editors`) and stores it.

Nothing is stored while any problem remains, so a bad file never replaces a good deck.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import PurePath

from bot.core.cards import counted
from bot.core.catalogue import (
    MAX_COMMUNITY_DECKS,
    CommunityDeck,
    CommunityDeckStore,
    community_question_id,
    namespaced,
)
from bot.core.engine import QuizEngine
from bot.core.errors import NotAllowedError, QuizError
from bot.core.model import Community, CommunityRef, PlayerRef, Question
from bot.core.rhythm.settings import DECK_EDITORS
from bot.questions.importers import EXPORT_FORMATS, export_deck, parse_deck
from bot.questions.importers.text import slug
from bot.questions.limits import MAX_FILE_BYTES
from bot.questions.loader import decode_deck_bytes
from bot.questions.problems import Problem
from bot.render import to_chat_text

PROBLEMS_SHOWN = 10  # a chat reply lists this many problems, then a count of the rest
PROBLEM_LINE = 170  # characters of one problem line in a chat reply
DOWNLOAD_SECONDS = 20.0  # the most a chat upload's download may take
MAX_DECK_NAME = 40
SHOWN_QUESTIONS = 5  # `/quiz deck show` lists this many first questions


class DeckFileError(QuizError):
    """A deck file with problems: the message lists the first of them, with their lines."""


def problem_lines(problems: list[Problem], shown: int = PROBLEMS_SHOWN) -> list[str]:
    """The first `shown` problems, one line each, and a line counting the rest."""
    lines = [_clipped(str(p)) for p in problems[:shown]]
    rest = len(problems) - shown
    if rest > 0:
        lines.append(f"… and {rest} more problem{'' if rest == 1 else 's'}")
    return lines


def _clipped(line: str) -> str:
    # ten lines and a heading fit in one Discord message (2,000 characters)
    return line if len(line) <= PROBLEM_LINE else line[: PROBLEM_LINE - 1] + "…"


def check_upload_size(size: int, filename: str) -> None:
    """Refuse a file too big to import, from its size alone (before downloading it)."""
    if size > MAX_FILE_BYTES:
        raise DeckFileError(
            f"{filename} is {size:,} bytes: a deck file may be at most {MAX_FILE_BYTES:,}"
        )


def deck_name_of(name: str | None, filename: str) -> str:
    """The deck's name: the one given, or the file's name; QuizError for a bad one."""
    typed = (name or "").strip()
    chosen = slug(typed or PurePath(filename).stem, MAX_DECK_NAME)
    if not chosen or (typed and chosen != typed.lower()):
        raise QuizError(
            f"Bad deck name {typed or filename!r}: use lowercase letters, digits and dashes "
            f"(at most {MAX_DECK_NAME})"
        )
    if chosen == "all":
        raise QuizError("A deck may not be named 'all': that word means every deck")
    return chosen


@dataclass(frozen=True)
class DeckAdded:
    """What an add did: the stored deck, whether it replaced one, the import's summary."""

    deck: CommunityDeck
    replaced: bool
    summary: str
    skipped: tuple[str, ...]

    def text(self) -> str:
        """The reply to the one who added it."""
        verb = "replaced" if self.replaced else "added"
        lines = [
            f"Deck {self.deck.name} {verb}: {self.summary}. "
            f"Pick {self.deck.name} as the deck of /quiz start to play it"
        ]
        lines += [_clipped(s) for s in self.skipped[:PROBLEMS_SHOWN]]
        if len(self.skipped) > PROBLEMS_SHOWN:
            lines.append(f"… and {len(self.skipped) - PROBLEMS_SHOWN} more skipped")
        return "\n".join(lines)


@dataclass(frozen=True)
class DeckEntry:
    """A line of `/quiz deck list` and `/quiz decks`."""

    name: str
    title: str
    questions: int
    own: bool  # the community's own deck, else one of the bot's (its QUESTIONS_DIR)

    def line(self) -> str:
        """`name` — title (N questions), marked as the bot's or the community's. Not
        "server" for the bot's: Discord calls the community itself a server."""
        whose = "this community's" if self.own else "bot deck"
        return f"{self.name}: {self.title} ({counted(self.questions, 'question')}, {whose})"


@dataclass(frozen=True)
class DeckSummary:
    """`/quiz deck show`: counts by kind and the first questions."""

    entry: DeckEntry
    kinds: dict[str, int]
    first: tuple[str, ...]
    added: str

    def lines(self) -> list[str]:
        """The summary as lines of text."""
        kinds = ", ".join(f"{count} {kind.replace('_', '/')}" for kind, count in self.kinds.items())
        return [
            self.entry.line(),
            f"Kinds: {kinds}",
            *([self.added] if self.added else []),
            "First questions:",
            *(f"{n}. {prompt}" for n, prompt in enumerate(self.first, 1)),
        ]


class CommunityDeckLibrary:
    """A community's own decks, as the chat commands and the operator CLI use them."""

    def __init__(self, engine: QuizEngine) -> None:
        self.engine = engine
        self._store = engine.catalogue.store

    @property
    def store(self) -> CommunityDeckStore:
        """Where the decks are kept; QuizError when this bot keeps none (no SQL store)."""
        if self._store is None:
            raise QuizError("This bot has no database for community decks")
        return self._store

    async def editable(self, community: CommunityRef, *, is_admin: bool) -> Community:
        """The community if the user may add, replace or remove its decks."""
        stored = await self.engine.community(community)
        if not is_admin and stored.settings.get(DECK_EDITORS, "admins") != "everyone":
            raise NotAllowedError(
                "Only admins can change this community's decks "
                "(an admin can allow everyone: /quiz config deck-editors everyone)"
            )
        return stored

    async def add(
        self,
        community: CommunityRef,
        by: PlayerRef,
        data: bytes,
        filename: str,
        name: str | None = None,
        *,
        is_admin: bool,
        fmt: str = "auto",
    ) -> DeckAdded:
        """Parse a file and store it as one of the community's decks (replacing one of
        the same name); DeckFileError lists the file's problems and nothing is stored."""
        stored = await self.editable(community, is_admin=is_admin)
        deck_name = deck_name_of(name, filename)
        if deck_name in {d.name for d in self.engine.bank.decks()}:
            raise QuizError(f"{deck_name!r} is a bot deck: give yours another name")
        result = parse_deck(data, filename, fmt, deck_name)
        if result.problems or result.deck is None:
            problems = result.problems or [Problem(filename, 1, 1, "no questions in it")]
            count = len(problems)
            head = f"{filename}: {count} problem{'' if count == 1 else 's'}, nothing was stored"
            raise DeckFileError("\n".join([head, *problem_lines(problems)]))
        source = decode_deck_bytes(data, filename)[0] or ""
        deck = namespaced(result.deck, stored.id)
        record = CommunityDeck(
            community_id=stored.id,
            name=deck_name,
            title=result.deck.title or deck_name,
            filename=PurePath(filename).name[:200],
            format=result.format,
            source=source,
            content_hash=hashlib.sha256(f"{result.format}\n{source}".encode()).hexdigest(),
            questions=deck.questions,
            added_by=by.display_name[:200],
            added_at=self.engine.clock.now(),
        )
        replaced = await self.store.save_community_deck(record, MAX_COMMUNITY_DECKS)
        skipped = tuple(str(s) for s in result.skipped)
        return DeckAdded(record, replaced, result.summary(), skipped)

    async def entries(self, community: CommunityRef) -> list[DeckEntry]:
        """The bot's decks and the community's own, by name."""
        catalogue = await self.engine.decks_of(community)
        return [
            DeckEntry(d.name, d.title, len(d.questions), catalogue.is_own(d.name))
            for d in catalogue.bank.decks()
        ]

    async def show(self, community: CommunityRef, name: str) -> DeckSummary:
        """Counts by kind and the first questions of a deck (the bot's or own)."""
        catalogue = await self.engine.decks_of(community)
        deck = catalogue.bank.deck(name.strip())
        kinds = Counter(q.kind.value for q in deck.questions)
        added = ""
        if catalogue.is_own(deck.name):
            stored = await self._own(community, deck.name)
            added = f"Added by {stored.added_by} on {_day(stored.added_at)} from {stored.filename}"
        entry = DeckEntry(deck.name, deck.title, len(deck.questions), catalogue.is_own(deck.name))
        first = tuple(to_chat_text(q.prompt) for q in deck.questions[:SHOWN_QUESTIONS])
        return DeckSummary(entry, dict(sorted(kinds.items())), first, added)

    async def remove(self, community: CommunityRef, name: str, *, is_admin: bool) -> str:
        """Remove one of the community's decks; rounds already played keep their questions."""
        stored = await self.editable(community, is_admin=is_admin)
        if not await self.store.remove_community_deck(stored.id, name.strip()):
            raise QuizError(f"This community has no deck named {name.strip()!r}")
        return f"Deck {name.strip()} removed"

    async def export(
        self, community: CommunityRef, name: str, fmt: str = "yaml"
    ) -> tuple[str, str]:
        """A deck as a file: (file name, text) in YAML, GIFT or CSV."""
        if fmt not in EXPORT_FORMATS:
            raise QuizError(f"Export format {fmt!r}: one of {', '.join(EXPORT_FORMATS)}")
        stored = await self.engine.community(community)
        catalogue = await self.engine.catalogue.catalogue(stored.id)
        deck = catalogue.bank.deck(name.strip())
        own = catalogue.is_own(deck.name)
        prefix = community_question_id(stored.id, deck.name, "") if own else ""
        questions = [_plain_id(q, prefix) for q in deck.questions]
        return f"{deck.name}.{fmt}", export_deck(questions, fmt, deck)

    async def _own(self, community: CommunityRef, name: str) -> CommunityDeck:
        stored = await self.engine.community(community)
        deck = await self.store.community_deck(stored.id, name)
        if deck is None:
            raise QuizError(f"This community has no deck named {name!r}")
        return deck


def _plain_id(question: Question, prefix: str) -> Question:
    """The question with its id as its file gave it (the community's namespace taken off)."""
    if prefix and question.id.startswith(prefix):
        return replace(question, id=question.id[len(prefix) :])
    return question


def _day(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d}"
