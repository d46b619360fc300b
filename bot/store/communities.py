"""`Communities`: get-or-create, list and save the communities (a guild, a workspace)."""

from __future__ import annotations

from sqlalchemy import select, update

from bot.core.model import Community
from bot.store.codec import community_from_row
from bot.store.db import Database
from bot.store.tables import CommunityRow


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
            )
            .returning(*CommunityRow.__table__.c)
        )
        async with self._db.write() as conn:
            return community_from_row((await conn.execute(stmt)).mappings().one())
