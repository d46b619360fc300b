"""Teams: one team per player per community, names unique regardless of case."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.core.errors import TeamError
from bot.core.model import Mode, SubjectKind
from bot.core.ports import AnswerOutcome, StandingsQuery
from bot.store import SqlStore
from tests.store.helpers import POINTS, T0, decide, start_quiz


async def test_team_rules(store: SqlStore) -> None:
    guild = await store.community("test", "guild", "Guild")
    other = await store.community("test", "other", "Other")
    ada = await store.player("test", "p1", "Ada")
    bob = await store.player("test", "p2", "Bob")
    cy = await store.player("test", "p3", "Cy")

    owls = await store.create_team(guild.id, "  Night   Owls ", ada.id)
    assert owls.name == "Night Owls"
    with pytest.raises(TeamError, match="Team 'Night Owls' already exists"):
        await store.create_team(guild.id, "night owls", bob.id)
    with pytest.raises(TeamError, match=r"already in team 'Night Owls'; /quiz team leave first"):
        await store.create_team(guild.id, "Larks", ada.id)
    with pytest.raises(TeamError, match="No team named 'Larks'"):
        await store.join_team(guild.id, "Larks", bob.id)

    assert await store.join_team(guild.id, "NIGHT OWLS", bob.id) == owls
    with pytest.raises(TeamError, match="already in team 'Night Owls'"):
        await store.join_team(guild.id, "night owls", bob.id)
    larks = await store.create_team(guild.id, "Larks", cy.id)
    # Another community is separate: same name, same player, no conflict.
    assert (await store.create_team(other.id, "Night Owls", ada.id)).id != owls.id

    assert await store.team_of(guild.id, bob.id) == owls
    rosters = await store.teams(guild.id)
    assert [(r.team.name, [m.display_name for m in r.members]) for r in rosters] == [
        ("Larks", ["Cy"]),
        ("Night Owls", ["Ada", "Bob"]),
    ]

    with pytest.raises(TeamError, match="You are not in a team"):
        await store.leave_team(other.id, bob.id)
    assert await store.leave_team(guild.id, cy.id) == larks
    assert await store.team_of(guild.id, cy.id) is None
    # The emptied team is gone from listings and its name is free again.
    assert [r.team.name for r in await store.teams(guild.id)] == ["Night Owls"]
    reborn = await store.create_team(guild.id, "larks", cy.id)
    assert reborn.id != larks.id


async def test_teams_mode_answers_carry_the_team(store: SqlStore) -> None:
    community_id, _, first = await start_quiz(store, mode=Mode.TEAMS, questions=1)
    ada = await store.player("test", "p1", "Ada")
    bob = await store.player("test", "p2", "Bob")
    loner = await store.player("test", "p3", "Loner")
    owls = await store.create_team(community_id, "Owls", ada.id)
    await store.join_team(community_id, "Owls", bob.id)
    at = T0 + timedelta(seconds=1)

    no_team = await store.add_answer(first.id, loner.id, (0,), at, community_id)
    assert no_team.outcome is AnswerOutcome.NO_TEAM
    voted = await store.add_answer(first.id, ada.id, (0,), at, community_id)
    assert voted.answer is not None and voted.answer.team_id == owls.id
    await store.add_answer(first.id, bob.id, (0,), at, community_id)
    dup = await store.add_answer(first.id, bob.id, (1,), at, community_id)
    assert dup.outcome is AnswerOutcome.DUPLICATE

    closed = await store.close_round(first.id, T0 + timedelta(seconds=2), decide)
    assert closed is not None
    assert closed.context.team_names == {owls.id: "Owls"}
    assert [(v.team_id, v.votes, v.correct) for v in closed.decision.team_votes] == [
        (owls.id, 2, True)
    ]
    totals = await store.quiz_totals(first.quiz_id, SubjectKind.TEAM)
    assert [(r.name, r.points, r.answered) for r in totals] == [("Owls", POINTS, 1)]
    board = await store.standings(StandingsQuery(community_id, "all", SubjectKind.TEAM, 5, owls.id))
    assert [(r.name, r.points) for r in board.rows] == [("Owls", POINTS)]
    # A team that played keeps its name on the boards after it empties.
    await store.leave_team(community_id, ada.id)
    await store.leave_team(community_id, bob.id)
    board = await store.standings(StandingsQuery(community_id, "all", SubjectKind.TEAM, 5))
    assert [r.name for r in board.rows] == ["Owls"]
