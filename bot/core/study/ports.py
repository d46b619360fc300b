"""What study mode needs from outside: a StudyStore for cards, sessions and reminders, a
DirectMessagePort to remind players; and `Reviews`, what adapters call.

The chat adapters implement `DirectMessagePort` beside their ChatPort; a platform that
refuses a DM (the user blocked DMs from the bot) raises `DirectMessageRefused`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from bot.core.model import Community, CommunityRef, Player, PlayerRef
from bot.core.study.model import (
    CardUpdate,
    MasteryCard,
    NewReviewSession,
    ReviewSession,
    ReviewStep,
    StudyCard,
)


class DirectMessageRefused(Exception):
    """The platform will not deliver a DM to this user (DMs blocked, user gone)."""


@runtime_checkable
class DirectMessagePort(Protocol):
    """How a reminder reaches one player privately."""

    async def send_direct(self, player_external_id: str, text: str) -> None:
        """Send `text` as a DM; DirectMessageRefused if the platform refuses it."""
        ...


@dataclass(frozen=True)
class ReviewAnswer:
    """What answering a review item writes, decided by the core in the store's
    transaction: the session after the answer and the card update (None: nothing to
    write, the click was stale)."""

    session: ReviewSession
    update: CardUpdate


DecideReview = Callable[[ReviewSession, StudyCard | None], ReviewAnswer | None]


@dataclass(frozen=True)
class ReminderTarget:
    """A player who asked for reminders, with their due cards now."""

    player: Player
    due: int


@dataclass(frozen=True)
class ReminderChange:
    """A player's daily reminder in a community turned on or off; `detail` says why when
    it was not the player's choice (a refused DM)."""

    community_id: int
    player_id: int
    on: bool
    detail: str | None = None


class StudyStore(Protocol):
    """Storage of study mode; each method is one transaction."""

    async def cards(self, player_ids: Collection[int]) -> list[StudyCard]:
        """Every card of these players."""
        ...

    async def due_cards(self, player_id: int, now: datetime) -> list[StudyCard]:
        """A player's cards due at `now` (a range scan of (player, due))."""
        ...

    async def card_outlook(self, player_id: int, until: datetime) -> tuple[int, datetime | None]:
        """How many of the player's cards are due by `until`, and the earliest due time."""
        ...

    async def active_players(self, community_id: int, since: datetime) -> list[int]:
        """Players who answered in the community (quiz or review) since `since`."""
        ...

    async def open_review(self, community_id: int, player_id: int) -> ReviewSession | None:
        """The player's open review session in the community, if any."""
        ...

    async def review(self, session_id: int) -> ReviewSession | None:
        """A review session by id."""
        ...

    async def create_review(self, new: NewReviewSession) -> tuple[ReviewSession, bool]:
        """Open a session, or get the one already open (a unique index decides, across
        processes); True when this call created it."""
        ...

    async def answer_review(
        self, session_id: int, now: datetime, decide: DecideReview
    ) -> ReviewAnswer | None:
        """Lock the session, read its current question's card, apply `decide` and write
        the session, the card and its log line in one transaction; None if `decide`
        returned None (nothing written)."""
        ...

    async def set_reminders(self, change: ReminderChange, now: datetime) -> None:
        """Turn a player's daily reminder in a community on or off."""
        ...

    async def reminders_on(self, community_id: int, player_id: int) -> bool:
        """Whether the player asked for reminders in the community."""
        ...

    async def reminder_communities(self, platform: str) -> list[Community]:
        """A platform's communities where someone asked for reminders."""
        ...

    async def reminder_targets(self, community_id: int, now: datetime) -> list[ReminderTarget]:
        """Players of a community with reminders on and at least one card due at `now`."""
        ...


class Reviews(Protocol):
    """Study mode as the adapters call it (implemented by `bot.core.study.review.ReviewEngine`)."""

    async def start_review(
        self,
        community: CommunityRef,
        player: PlayerRef,
        questions: int = 10,
        deck: str | None = None,
    ) -> ReviewStep:
        """Start a private review, or resume the player's open one (`resumed`): due
        cards first, lowest predicted recall first, then new questions up to the size."""
        ...

    async def answer(
        self,
        community: CommunityRef,
        player: PlayerRef,
        session_id: int,
        item: int,
        positions: Sequence[int],
    ) -> ReviewStep:
        """Answer item `item` of a session: the feedback and the next question (or the
        summary). NotAllowedError if the session is someone else's; a click for an item
        already answered changes nothing and returns the current step (`stale`)."""
        ...

    async def set_reminders(self, community: CommunityRef, player: PlayerRef, on: bool) -> bool:
        """Turn the player's daily reminder on or off; returns the new value."""
        ...

    async def mastery(
        self, community: CommunityRef, player: PlayerRef, *, group: bool = False
    ) -> MasteryCard:
        """Recall per tag for a player, or over the community's active members."""
        ...


__all__ = [
    "DecideReview",
    "DirectMessagePort",
    "DirectMessageRefused",
    "ReminderTarget",
    "ReviewAnswer",
    "Reviews",
    "StudyStore",
]
