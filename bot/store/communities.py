"""`Communities`: get-or-create, list and save the communities (a guild, a workspace)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update

from bot.core.model import Community
from bot.store.codec import community_from_row
from bot.store.db import Database
from bot.store.tables import CommunityRow

BOARD_DUE_NOW = datetime(1970, 1, 1, tzinfo=UTC)
"""`next_board_at` of a community whose weekly board check is due at the next tick."""


def next_board_at(settings: Mapping[str, Any]) -> datetime | None:
    """A saved community's board check: due at once with a board channel, else never."""
    return BOARD_DUE_NOW if settings.get("channel") else None


class Communities:
    """The `communities` table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def community(self, platform: str, external_id: str, name: str) -> Community:
        """Get or create a community; `name` updates the stored one when it differs."""
        async with self._db.reader.connect() as conn:
            row = (
                (
                    await conn.execute(
                        select(CommunityRow.__table__).where(
                            CommunityRow.platform == platform,
                            CommunityRow.external_id == external_id,
                        )
                    )
                )
                .mappings()
                .first()
            )
        if row is not None and row["name"] == name:
            return community_from_row(row)
        ins = self._db.insert(CommunityRow).values(
            platform=platform, external_id=external_id, name=name, settings={}
        )
        stmt = ins.on_conflict_do_update(
            index_elements=["platform", "external_id"], set_={"name": ins.excluded.name}
        ).returning(*CommunityRow.__table__.c)
        async with self._db.write() as conn:
            return community_from_row((await conn.execute(stmt)).mappings().one())

    async def known_communities(self, platform: str) -> list[Community]:
        """The communities of `platform`, by external id; reads only."""
        async with self._db.reader.connect() as conn:
            rows = (
                (
                    await conn.execute(
                        select(CommunityRow.__table__)
                        .where(CommunityRow.platform == platform)
                        .order_by(CommunityRow.external_id)
                    )
                )
                .mappings()
                .all()
            )
        return [community_from_row(row) for row in rows]

    async def save_community(self, community: Community) -> Community:
        """Store a community's name, timezone, week start and settings."""
        stmt = (
            update(CommunityRow)
            .where(CommunityRow.id == community.id)
            .values(
                name=community.name,
                timezone=community.timezone,
                week_start=community.week_start,
                settings=dict(community.settings),
                # settings changed: the ticker looks at this community's weeks afresh
                next_board_at=next_board_at(community.settings),
            )
            .returning(*CommunityRow.__table__.c)
        )
        async with self._db.write() as conn:
            return community_from_row((await conn.execute(stmt)).mappings().one())
