"""Review sessions, and `SqlStudyStore`: the core's `StudyStore` on the SQL store.

A session is one row holding its whole state (queue, current question as shown,
counts), so any process can take the next answer. One open session per player and
community is a unique partial index: two processes starting a review for the same
player at once get the same session. An answer locks the row (FOR UPDATE on
PostgreSQL; SQLite's writers take turns), so a double click is decided once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from bot.core.model import Community
from bot.core.study.model import NewReviewSession, ReviewSession, SessionStatus
from bot.core.study.ports import DecideReview, ReviewAnswer
from bot.store.codec import (
    Row,
    community_from_row,
    round_question_from_json,
    round_question_to_json,
)
from bot.store.db import Database
from bot.store.repository import SqlStore
from bot.store.study import StudyCards
from bot.store.tables import CommunityRow, ReviewSessionRow

OPEN = SessionStatus.OPEN.value


def session_from_row(row: Row) -> ReviewSession:
    """A ReviewSession from a `review_sessions` row."""
    current = row["current"]
    return ReviewSession(
        id=row["id"],
        community_id=row["community_id"],
        player_id=row["player_id"],
        status=SessionStatus(row["status"]),
        queue=tuple(row["queue"]),
        current=round_question_from_json(current) if current else None,
        due_ids=tuple(row["due_ids"]),
        size=row["size"],
        item=row["item"],
        right=row["right"],
        missed=tuple(row["missed"]),
        deck=row["deck"],
        started_at=row["started_at"],
        updated_at=row["updated_at"],
    )


def _session_values(session: ReviewSession) -> dict[str, Any]:
    """The columns an answer changes."""
    return {
        "status": session.status.value,
        "queue": list(session.queue),
        "current": round_question_to_json(session.current) if session.current else None,
        "item": session.item,
        "right": session.right,
        "missed": list(session.missed),
        "updated_at": session.updated_at,
    }


class ReviewSessions:
    """Opening, reading and answering review sessions."""

    def __init__(self, db: Database, cards: StudyCards) -> None:
        self._db = db
        self._cards = cards

    async def open_review(self, community_id: int, player_id: int) -> ReviewSession | None:
        """The player's open session in the community, if any."""
        async with self._db.reader.connect() as conn:
            row = (
                (
                    await conn.execute(
                        select(ReviewSessionRow.__table__).where(
                            ReviewSessionRow.community_id == community_id,
                            ReviewSessionRow.player_id == player_id,
                            ReviewSessionRow.status == OPEN,
                        )
                    )
                )
                .mappings()
                .first()
            )
        return None if row is None else session_from_row(row)

    async def review(self, session_id: int) -> ReviewSession | None:
        """A session by id."""
        async with self._db.reader.connect() as conn:
            row = (
                (
                    await conn.execute(
                        select(ReviewSessionRow.__table__).where(ReviewSessionRow.id == session_id)
                    )
                )
                .mappings()
                .first()
            )
        return None if row is None else session_from_row(row)

    async def create_review(self, new: NewReviewSession) -> tuple[ReviewSession, bool]:
        """Open a session, or get the open one the unique index found first."""
        values = {
            "community_id": new.community_id,
            "player_id": new.player_id,
            "status": OPEN,
            "queue": list(new.queue),
            "current": round_question_to_json(new.current),
            "due_ids": list(new.due_ids),
            "size": len(new.queue),
            "item": 0,
            "right": 0,
            "missed": [],
            "deck": new.deck,
            "started_at": new.started_at,
            "updated_at": new.started_at,
        }
        try:
            async with self._db.write() as conn:
                row = (
                    (
                        await conn.execute(
                            self._db.insert(ReviewSessionRow)
                            .values(values)
                            .returning(*ReviewSessionRow.__table__.c)
                        )
                    )
                    .mappings()
                    .one()
                )
            return session_from_row(row), True
        except IntegrityError:
            existing = await self.open_review(new.community_id, new.player_id)
            if existing is None:
                raise  # not the open-session index: a real error
            return existing, False

    async def answer_review(
        self, session_id: int, now: datetime, decide: DecideReview
    ) -> ReviewAnswer | None:
        """Lock the session, read the card of its current question, apply `decide`, and
        write the session, the card and the log line, all in one transaction."""
        async with self._db.write(urgent=True) as conn:
            query = select(ReviewSessionRow.__table__).where(ReviewSessionRow.id == session_id)
            if self._db.postgres:
                query = query.with_for_update()
            row = (await conn.execute(query)).mappings().first()
            if row is None:
                return None
            session = session_from_row(row)
            if session.current is None:
                return None
            card = await self._cards.card_in(conn, session.player_id, session.current.question_id)
            answer = decide(session, card)
            if answer is None:
                return None
            await conn.execute(
                update(ReviewSessionRow)
                .where(ReviewSessionRow.id == session_id)
                .values(_session_values(answer.session))
            )
            await self._cards.write_updates(conn, [answer.update])
            return answer


class SqlStudyStore:
    """The core's `StudyStore` on a `SqlStore`'s database."""

    def __init__(self, store: SqlStore) -> None:
        self._db = store.db
        cards = StudyCards(self._db)
        self.cards = cards.cards
        self.due_cards = cards.due_cards
        self.card_outlook = cards.card_outlook
        self.active_players = cards.active_players
        self.set_reminders = cards.set_reminders
        self.reminders_on = cards.reminders_on
        self.reminder_targets = cards.reminder_targets
        self._cards = cards
        sessions = ReviewSessions(self._db, cards)
        self.open_review = sessions.open_review
        self.review = sessions.review
        self.create_review = sessions.create_review
        self.answer_review = sessions.answer_review

    async def reminder_communities(self, platform: str) -> list[Community]:
        """A platform's communities where someone has reminders on."""
        ids = await self._cards.reminder_communities(platform)
        if not ids:
            return []
        async with self._db.reader.connect() as conn:
            rows = await conn.execute(
                select(CommunityRow.__table__)
                .where(CommunityRow.id.in_(ids))
                .order_by(CommunityRow.id)
            )
            return [community_from_row(r) for r in rows.mappings()]
