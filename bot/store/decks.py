"""`CommunityDecks`: each community's own decks (the `community_decks` table).

A deck is stored as its source file, its parsed questions (JSON, ids already in the
community's namespace), a content hash, who added it and when. The hash is what the
core's catalogue compares to know whether its copy is current.
"""

from __future__ import annotations

from sqlalchemy import RowMapping, delete, select

from bot.core.catalogue import CommunityDeck
from bot.core.errors import QuizError
from bot.store.codec import deck_question_from_json, deck_question_to_json
from bot.store.db import Database
from bot.store.tables import CommunityDeckRow, CommunityRow

_COLUMNS = CommunityDeckRow.__table__.c


def _deck_from_row(row: RowMapping) -> CommunityDeck:
    return CommunityDeck(
        community_id=row["community_id"],
        name=row["name"],
        title=row["title"],
        filename=row["filename"],
        format=row["format"],
        source=row["source"],
        content_hash=row["content_hash"],
        questions=tuple(deck_question_from_json(q) for q in row["questions"]),
        added_by=row["added_by"],
        added_at=row["added_at"],
    )


class CommunityDecks:
    """The `community_decks` table: the core's `CommunityDeckStore`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def deck_hashes(self, community_id: int) -> dict[str, str]:
        """Deck name -> content hash of a community's decks (no sources, no questions)."""
        stmt = select(CommunityDeckRow.name, CommunityDeckRow.content_hash).where(
            CommunityDeckRow.community_id == community_id
        )
        async with self._db.reader.connect() as conn:
            return {r.name: r.content_hash for r in await conn.execute(stmt)}

    async def community_deck(self, community_id: int, name: str) -> CommunityDeck | None:
        """One of a community's decks with its questions, or None."""
        stmt = select(CommunityDeckRow.__table__).where(
            CommunityDeckRow.community_id == community_id, CommunityDeckRow.name == name
        )
        async with self._db.reader.connect() as conn:
            row = (await conn.execute(stmt)).mappings().first()
        return _deck_from_row(row) if row is not None else None

    async def community_decks(self, community_id: int) -> list[CommunityDeck]:
        """A community's decks, by name."""
        stmt = (
            select(CommunityDeckRow.__table__)
            .where(CommunityDeckRow.community_id == community_id)
            .order_by(CommunityDeckRow.name)
        )
        async with self._db.reader.connect() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [_deck_from_row(r) for r in rows]

    async def save_community_deck(self, deck: CommunityDeck, limit: int) -> bool:
        """Add or replace a deck by name; True when it replaced one.

        QuizError when a new deck would make more than `limit`. The community's row is
        locked first (PostgreSQL; SQLite writers take turns anyway), so two adds at
        once cannot both pass the count.
        """
        values = {
            "community_id": deck.community_id,
            "name": deck.name,
            "title": deck.title,
            "filename": deck.filename,
            "format": deck.format,
            "source": deck.source,
            "content_hash": deck.content_hash,
            "questions": [deck_question_to_json(q) for q in deck.questions],
            "added_by": deck.added_by,
            "added_at": deck.added_at,
        }
        async with self._db.write() as conn:
            await conn.execute(
                select(CommunityRow.id)
                .where(CommunityRow.id == deck.community_id)
                .with_for_update()
            )
            names = set(
                (
                    await conn.execute(
                        select(CommunityDeckRow.name).where(
                            CommunityDeckRow.community_id == deck.community_id
                        )
                    )
                ).scalars()
            )
            replacing = deck.name in names
            if not replacing and len(names) >= limit:
                raise QuizError(
                    f"This community has {len(names)} decks, the most it may have: remove one first"
                )
            ins = self._db.insert(CommunityDeckRow).values(**values)
            await conn.execute(
                ins.on_conflict_do_update(
                    index_elements=["community_id", "name"],
                    set_={k: ins.excluded[k] for k in values if k not in ("community_id", "name")},
                )
            )
        return replacing

    async def remove_community_deck(self, community_id: int, name: str) -> bool:
        """Remove a deck; False if there was none of that name."""
        stmt = delete(CommunityDeckRow).where(
            CommunityDeckRow.community_id == community_id, CommunityDeckRow.name == name
        )
        async with self._db.write() as conn:
            return bool((await conn.execute(stmt)).rowcount)
