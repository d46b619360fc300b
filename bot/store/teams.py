"""`TeamRepository`: creating, joining, leaving and listing teams.

A player is in at most one team per community (the team members' primary key), and a
live team's name is unique per community, case-insensitively (a partial unique index):
a lost race surfaces as an IntegrityError, turned here into the rule it broke.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.errors import TeamError
from bot.core.model import Player, Team, TeamRoster
from bot.store.codec import team_from_row
from bot.store.db import Database
from bot.store.tables import PlayerRow, TeamMemberRow, TeamRow


class TeamRepository:
    """The `teams` and `team_members` tables."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def create_team(self, community_id: int, name: str, creator_id: int) -> Team:
        """Create a team and put its creator in it; TeamError if the name is taken or the
        creator is already in a team."""
        name = " ".join(name.split())
        if not name:
            raise TeamError("A team needs a name")
        try:
            async with self._db.write() as conn:
                await self._refuse_if_in_team(conn, community_id, creator_id)
                taken = await self._live_team(conn, community_id, name)
                if taken is not None:
                    raise TeamError(f"Team '{taken.name}' already exists")
                row = (
                    (
                        await conn.execute(
                            self._db.insert(TeamRow)
                            .values(community_id=community_id, name=name, disbanded=False)
                            .returning(*TeamRow.__table__.c)
                        )
                    )
                    .mappings()
                    .one()
                )
                team = team_from_row(row)
                await conn.execute(
                    self._db.insert(TeamMemberRow).values(
                        community_id=community_id, player_id=creator_id, team_id=team.id
                    )
                )
                return team
        except IntegrityError:
            # A concurrent request won the race; say which rule it broke.
            async with self._db.reader.connect() as conn:
                await self._refuse_if_in_team(conn, community_id, creator_id)
                taken = await self._live_team(conn, community_id, name)
            if taken is not None:
                raise TeamError(f"Team '{taken.name}' already exists") from None
            raise

    async def join_team(self, community_id: int, name: str, player_id: int) -> Team:
        """Join a team by name (case-insensitive); TeamError if none or already in one."""
        name = " ".join(name.split())
        try:
            async with self._db.write() as conn:
                await self._refuse_if_in_team(conn, community_id, player_id)
                team = await self._live_team(conn, community_id, name, lock=True)
                if team is None:
                    raise TeamError(f"No team named '{name}'")
                await conn.execute(
                    self._db.insert(TeamMemberRow).values(
                        community_id=community_id, player_id=player_id, team_id=team.id
                    )
                )
                return team
        except IntegrityError:
            async with self._db.reader.connect() as conn:
                await self._refuse_if_in_team(conn, community_id, player_id)
            raise

    async def leave_team(self, community_id: int, player_id: int) -> Team:
        """Leave the player's team; TeamError if in none.

        An emptied team is disbanded: its name is free again, and the row stays for the
        history (answers, scores) that names it.
        """
        async with self._db.write() as conn:
            team = await self._team_of(conn, community_id, player_id)
            if team is None:
                raise TeamError("You are not in a team")
            lock = select(TeamRow.id).where(TeamRow.id == team.id)
            if self._db.postgres:
                # Serialise leavers (and joiners) of one team, so the last one disbands it.
                await conn.execute(lock.with_for_update())
            await conn.execute(
                delete(TeamMemberRow).where(
                    TeamMemberRow.community_id == community_id,
                    TeamMemberRow.player_id == player_id,
                )
            )
            left = (
                await conn.execute(
                    select(func.count())
                    .select_from(TeamMemberRow)
                    .where(TeamMemberRow.team_id == team.id)
                )
            ).scalar_one()
            if not left:
                await conn.execute(
                    update(TeamRow).where(TeamRow.id == team.id).values(disbanded=True)
                )
            return team

    async def team_of(self, community_id: int, player_id: int) -> Team | None:
        """The player's team in a community."""
        async with self._db.reader.connect() as conn:
            return await self._team_of(conn, community_id, player_id)

    async def teams(self, community_id: int) -> list[TeamRoster]:
        """Every team of a community with its members, by name."""
        stmt = (
            select(TeamRow.__table__, PlayerRow.__table__.c.id.label("player_id"))
            .add_columns(PlayerRow.platform, PlayerRow.external_id, PlayerRow.display_name)
            .join(TeamMemberRow, TeamMemberRow.team_id == TeamRow.id)
            .join(PlayerRow, PlayerRow.id == TeamMemberRow.player_id)
            .where(TeamRow.community_id == community_id, TeamRow.disbanded.is_(False))
            .order_by(func.lower(TeamRow.name), TeamRow.id, TeamMemberRow.joined_at, PlayerRow.id)
        )
        rosters: dict[int, tuple[Team, list[Player]]] = {}
        async with self._db.reader.connect() as conn:
            for r in (await conn.execute(stmt)).mappings():
                entry = rosters.setdefault(r["id"], (team_from_row(r), []))
                entry[1].append(
                    Player(
                        id=r["player_id"],
                        platform=r["platform"],
                        external_id=r["external_id"],
                        display_name=r["display_name"],
                    )
                )
        return [TeamRoster(team=t, members=tuple(m)) for t, m in rosters.values()]

    async def _team_of(
        self, conn: AsyncConnection, community_id: int, player_id: int
    ) -> Team | None:
        row = (
            (
                await conn.execute(
                    select(TeamRow.__table__)
                    .join(TeamMemberRow, TeamMemberRow.team_id == TeamRow.id)
                    .where(
                        TeamMemberRow.community_id == community_id,
                        TeamMemberRow.player_id == player_id,
                    )
                )
            )
            .mappings()
            .first()
        )
        return None if row is None else team_from_row(row)

    async def _refuse_if_in_team(
        self, conn: AsyncConnection, community_id: int, player_id: int
    ) -> None:
        current = await self._team_of(conn, community_id, player_id)
        if current is not None:
            raise TeamError(f"You are already in team '{current.name}'; /quiz team leave first")

    async def _live_team(
        self, conn: AsyncConnection, community_id: int, name: str, lock: bool = False
    ) -> Team | None:
        stmt = select(TeamRow.__table__).where(
            TeamRow.community_id == community_id,
            func.lower(TeamRow.name) == name.lower(),
            TeamRow.disbanded.is_(False),
        )
        if lock and self._db.postgres:
            stmt = stmt.with_for_update(read=True)
        row = (await conn.execute(stmt)).mappings().first()
        return None if row is None else team_from_row(row)
