"""Discord's /quiz slash commands: each hands its work to the engine or the weekly rhythm.

Built on discord.py 2.x application commands, like its examples/app_commands/basic.py.
The options of `/quiz start` (names, limits, choices, descriptions) come from the
core's spec, bot.core.start_options, which Slack's parser reads too.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Sequence
from typing import TYPE_CHECKING, Any, Literal

import discord
from discord import app_commands

from bot.adapters.discord.decks import DeckCommands, deck_choices, decks_list_embed
from bot.adapters.discord.review_views import mastery_embed
from bot.adapters.discord.views import (
    Reply,
    config_embed,
    help_embed,
    leaderboard_embed,
    player_of,
    respond,
    schedule_embed,
    stats_embed,
    teams_embed,
)
from bot.core.cards import counted
from bot.core.errors import QuizError
from bot.core.model import CommunityRef, Mode, PlayerRef, StartRequest
from bot.core.periods import WEEKDAYS
from bot.core.rhythm.settings import KEYS
from bot.core.start_options import (
    DESCRIPTIONS,
    QUESTIONS,
    SECONDS,
    START_OPTIONS,
    OptionKind,
    start_request,
)
from bot.questions.community_decks import CommunityDeckLibrary
from bot.render.chart import LEADERBOARD_IMAGE, leaderboard_chart

if TYPE_CHECKING:
    from bot.adapters.discord.client import QuizBot

log = logging.getLogger(__name__)

THEME = "dark"  # Discord's usual client theme: the colours of the charts
START_CHOICES = {
    o.name: [app_commands.Choice(name=c, value=c) for c in o.choices]
    for o in START_OPTIONS
    if o.kind is OptionKind.CHOICE
}


# ---- who and where -----------------------------------------------------------------------


def community_of(interaction: discord.Interaction[Any]) -> CommunityRef:
    """The guild as the core names it."""
    guild = interaction.guild
    if guild is None:
        guild_id = interaction.guild_id
        if guild_id is None:
            raise QuizError("Quizzes run in servers: use /quiz in a server channel")
        return CommunityRef(str(guild_id), str(guild_id))
    return CommunityRef(str(guild.id), guild.name)


def is_admin(interaction: discord.Interaction[Any]) -> bool:
    """Whether the user may stop or skip someone else's quiz."""
    permissions = interaction.permissions
    return permissions.manage_guild or permissions.manage_messages


def is_server_admin(interaction: discord.Interaction[Any]) -> bool:
    """Whether the user may change the server's settings and schedules (Manage Server)."""
    return interaction.permissions.manage_guild


def member_of(member: discord.Member | discord.User) -> PlayerRef:
    """A member picked in a command option, as the core names players."""
    return PlayerRef(str(member.id), member.display_name)


def channel_of(interaction: discord.Interaction[Any]) -> str:
    """The channel id as the core stores it."""
    if interaction.channel_id is None:
        raise QuizError("Use /quiz in a server channel")
    return str(interaction.channel_id)


# ---- the commands ------------------------------------------------------------------------


class QuizCommandTree(app_commands.CommandTree[discord.Client]):
    """The command tree; a failure that escapes a command still gets a private reply."""

    async def on_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        """Log the failure and tell the user, if they have had no answer yet."""
        log.error("slash command failed", exc_info=error)
        if not interaction.response.is_done():
            await interaction.response.send_message(
                "Something went wrong on our side; please try again.", ephemeral=True
            )


class QuizCommands(app_commands.Group, name="quiz", description="Quizzes for study groups"):
    """The /quiz command group; each command hands its work to the engine."""

    def __init__(self, bot: QuizBot) -> None:
        super().__init__(guild_only=True)
        self.bot = bot
        self.add_command(TeamCommands(bot))
        self.add_command(ScheduleCommands(bot))
        self.add_command(DeckCommands(bot))

    async def _respond(
        self, interaction: discord.Interaction[Any], work: Awaitable[Reply], *, public: bool = False
    ) -> None:
        await respond(interaction, work, defer_after=self.bot.defer_after, public=public)

    @app_commands.command(description="Start a quiz in this channel")
    @app_commands.describe(**DESCRIPTIONS)
    @app_commands.choices(**START_CHOICES)
    async def start(
        self,
        interaction: discord.Interaction[Any],
        deck: str | None = None,
        questions: app_commands.Range[int, QUESTIONS.minimum, QUESTIONS.maximum] | None = None,
        seconds: app_commands.Range[int, SECONDS.minimum, SECONDS.maximum] | None = None,
        mode: str | None = None,
        scoring: str | None = None,
        changes: bool = False,
        partial: bool = False,
    ) -> None:
        """/quiz start, with the options of START_OPTIONS (describe() refuses any other)."""
        request = start_request(
            decks=(deck,) if deck else (),
            questions=questions,
            seconds=seconds,
            mode=mode,
            scoring=scoring,
            changes=changes,
            partial=partial,
        )
        await self._respond(interaction, self._start(interaction, request))

    async def _start(self, interaction: discord.Interaction[Any], request: StartRequest) -> Reply:
        quiz = await self.bot.engine.start(
            community_of(interaction), channel_of(interaction), player_of(interaction), request
        )
        teams = " in teams mode (/quiz team join)" if quiz.options.mode is Mode.TEAMS else ""
        return Reply(
            f"Quiz started{teams}: {counted(quiz.total, 'question')}, "
            f"{quiz.options.seconds} s each. /quiz stop ends it."
        )

    @start.autocomplete("deck")
    async def _deck_names(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        return await deck_choices(self.bot, interaction, current)

    @app_commands.command(description="End the quiz in this channel")
    async def stop(self, interaction: discord.Interaction[Any]) -> None:
        """/quiz stop."""
        await self._respond(interaction, self._control(interaction, "stop"))

    @app_commands.command(description="Close the current question now and go on")
    async def skip(self, interaction: discord.Interaction[Any]) -> None:
        """/quiz skip."""
        await self._respond(interaction, self._control(interaction, "skip"))

    async def _control(
        self, interaction: discord.Interaction[Any], verb: Literal["stop", "skip"]
    ) -> Reply:
        engine = self.bot.engine
        action = engine.stop if verb == "stop" else engine.skip
        await action(
            community_of(interaction),
            channel_of(interaction),
            player_of(interaction),
            is_admin=is_admin(interaction),
        )
        return Reply("Quiz stopped." if verb == "stop" else "Question skipped.")

    @app_commands.command(description="Scores of this week, last week or all time")
    @app_commands.describe(period="Which scores", teams="Rank teams instead of players")
    async def leaderboard(
        self,
        interaction: discord.Interaction[Any],
        period: Literal["week", "last-week", "all"] = "week",
        teams: bool = False,
    ) -> None:
        """/quiz leaderboard."""
        await self._respond(interaction, self._board(interaction, period, teams), public=True)

    async def _board(
        self, interaction: discord.Interaction[Any], period: str, teams: bool
    ) -> Reply:
        card = await self.bot.engine.leaderboard(
            community_of(interaction), period=period, teams=teams, me=player_of(interaction)
        )
        png = await leaderboard_chart(card, THEME)
        embed = leaderboard_embed(card, image=png is not None)
        return Reply(embed=embed, ephemeral=False, image=png, image_name=LEADERBOARD_IMAGE)

    @app_commands.command(description="The server's settings; change one with a key and a value")
    @app_commands.describe(
        key="The setting to change (leave out to see them all)",
        value="The new value: here, off, a #channel, Europe/Berlin, mon, a deck, a number, "
        "speed or accuracy, or default",
    )
    @app_commands.choices(key=[app_commands.Choice(name=k, value=k) for k in KEYS])
    async def config(
        self,
        interaction: discord.Interaction[Any],
        key: str | None = None,
        value: str | None = None,
    ) -> None:
        """/quiz config."""
        await self._respond(interaction, self._config(interaction, key, value))

    async def _config(
        self, interaction: discord.Interaction[Any], key: str | None, value: str | None
    ) -> Reply:
        if key is None and value:
            raise QuizError(f"Pick the setting to set to {value!r}: /quiz config key value")
        words = [w for w in (key, value) if w]
        card = await self.bot.rhythm.config(
            community_of(interaction),
            channel_of(interaction),
            words,
            is_admin=is_server_admin(interaction),
        )
        return Reply(embed=config_embed(card))

    @app_commands.command(description="Your stats in this server, or another member's")
    @app_commands.describe(
        player="Whose stats (default: yours)",
        group="The group's recall per tag, over its active members",
    )
    async def stats(
        self,
        interaction: discord.Interaction[Any],
        player: discord.Member | None = None,
        group: bool = False,
    ) -> None:
        """/quiz stats [player] [group]."""
        await self._respond(interaction, self._stats(interaction, player, group))

    async def _stats(
        self, interaction: discord.Interaction[Any], player: discord.Member | None, group: bool
    ) -> Reply:
        community, me = community_of(interaction), player_of(interaction)
        if group:
            if self.bot.reviews is None:
                raise QuizError("Study stats are not available on this bot")
            card = await self.bot.reviews.mastery(community, me, group=True)
            return Reply(embed=mastery_embed(card))
        target = member_of(player) if player is not None else None
        return Reply(embed=stats_embed(await self.bot.rhythm.stats(community, me, target)))

    @app_commands.command(description="The question decks")
    async def decks(self, interaction: discord.Interaction[Any]) -> None:
        """/quiz decks."""
        await self._respond(interaction, self._decks(interaction))

    async def _decks(self, interaction: discord.Interaction[Any]) -> Reply:
        library = CommunityDeckLibrary(self.bot.engine)
        return Reply(embed=decks_list_embed(await library.entries(community_of(interaction))))

    @app_commands.command(description="How to play")
    async def help(self, interaction: discord.Interaction[Any]) -> None:
        """/quiz help."""
        await interaction.response.send_message(embed=help_embed(), ephemeral=True)


class TeamCommands(app_commands.Group, name="team", description="Teams for teams mode"):
    """/quiz team create|join|leave|list."""

    def __init__(self, bot: QuizBot) -> None:
        super().__init__()
        self.bot = bot

    async def _respond(
        self, interaction: discord.Interaction[Any], work: Awaitable[Reply], *, public: bool = False
    ) -> None:
        await respond(interaction, work, defer_after=self.bot.defer_after, public=public)

    @app_commands.command(description="Create a team and join it")
    @app_commands.describe(name="The team's name")
    async def create(self, interaction: discord.Interaction[Any], name: str) -> None:
        """/quiz team create."""
        await self._respond(interaction, self._create(interaction, name), public=True)

    async def _create(self, interaction: discord.Interaction[Any], name: str) -> Reply:
        team = await self.bot.engine.create_team(
            community_of(interaction), player_of(interaction), name
        )
        who = interaction.user.display_name
        return Reply(f"{who} created team **{team.name}**", ephemeral=False)

    @app_commands.command(description="Join a team")
    @app_commands.describe(name="The team's name")
    async def join(self, interaction: discord.Interaction[Any], name: str) -> None:
        """/quiz team join."""
        await self._respond(interaction, self._join(interaction, name), public=True)

    async def _join(self, interaction: discord.Interaction[Any], name: str) -> Reply:
        team = await self.bot.engine.join_team(
            community_of(interaction), player_of(interaction), name
        )
        return Reply(f"{interaction.user.display_name} joined **{team.name}**", ephemeral=False)

    @join.autocomplete("name")
    async def _team_names(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        rosters = await self.bot.engine.teams(community_of(interaction))
        typed = current.lower()
        return [
            app_commands.Choice(name=r.team.name, value=r.team.name)
            for r in rosters
            if typed in r.team.name.lower()
        ][:25]

    @app_commands.command(description="Leave your team")
    async def leave(self, interaction: discord.Interaction[Any]) -> None:
        """/quiz team leave."""
        await self._respond(interaction, self._leave(interaction), public=True)

    async def _leave(self, interaction: discord.Interaction[Any]) -> Reply:
        team = await self.bot.engine.leave_team(community_of(interaction), player_of(interaction))
        return Reply(f"{interaction.user.display_name} left **{team.name}**", ephemeral=False)

    @app_commands.command(name="list", description="The teams and their members")
    async def list_(self, interaction: discord.Interaction[Any]) -> None:
        """/quiz team list."""
        await self._respond(interaction, self._list(interaction))

    async def _list(self, interaction: discord.Interaction[Any]) -> Reply:
        rosters = await self.bot.engine.teams(community_of(interaction))
        return Reply(embed=teams_embed(rosters))


class ScheduleCommands(
    app_commands.Group, name="schedule", description="Quizzes that start by themselves"
):
    """/quiz schedule daily|weekly|list|cancel: the words go to the weekly rhythm."""

    def __init__(self, bot: QuizBot) -> None:
        super().__init__()
        self.bot = bot

    async def _respond(self, interaction: discord.Interaction[Any], words: Sequence[str]) -> None:
        await respond(
            interaction, self._schedule(interaction, words), defer_after=self.bot.defer_after
        )

    async def _schedule(self, interaction: discord.Interaction[Any], words: Sequence[str]) -> Reply:
        card = await self.bot.rhythm.schedule(
            community_of(interaction),
            channel_of(interaction),
            player_of(interaction),
            words,
            is_admin=is_server_admin(interaction),
        )
        return Reply(embed=schedule_embed(card))

    @app_commands.command(description="Start a quiz in this channel every day (Manage Server)")
    @app_commands.describe(
        time="Local time, HH:MM in 24-hour time (the server's timezone: /quiz config)",
        deck="Question deck (default: the server's)",
        questions="How many questions (default: the server's)",
    )
    async def daily(
        self,
        interaction: discord.Interaction[Any],
        time: str,
        deck: str | None = None,
        questions: app_commands.Range[int, QUESTIONS.minimum, QUESTIONS.maximum] | None = None,
    ) -> None:
        """/quiz schedule daily."""
        await self._respond(interaction, _schedule_words(["daily", time], deck, questions))

    @app_commands.command(description="Start a quiz in this channel every week (Manage Server)")
    @app_commands.describe(
        day="Day of the week",
        time="Local time, HH:MM in 24-hour time (the server's timezone: /quiz config)",
        deck="Question deck (default: the server's)",
        questions="How many questions (default: the server's)",
    )
    @app_commands.choices(day=[app_commands.Choice(name=d, value=d) for d in WEEKDAYS])
    async def weekly(
        self,
        interaction: discord.Interaction[Any],
        day: str,
        time: str,
        deck: str | None = None,
        questions: app_commands.Range[int, QUESTIONS.minimum, QUESTIONS.maximum] | None = None,
    ) -> None:
        """/quiz schedule weekly."""
        await self._respond(interaction, _schedule_words(["weekly", day, time], deck, questions))

    @daily.autocomplete("deck")
    @weekly.autocomplete("deck")
    async def _deck_names(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        return await deck_choices(self.bot, interaction, current)

    @app_commands.command(name="list", description="The scheduled quizzes of this server")
    async def list_(self, interaction: discord.Interaction[Any]) -> None:
        """/quiz schedule list."""
        await self._respond(interaction, ["list"])

    @app_commands.command(description="Cancel a scheduled quiz (Manage Server)")
    @app_commands.rename(number="id")
    @app_commands.describe(number="The scheduled quiz's number, as /quiz schedule list shows it")
    async def cancel(
        self, interaction: discord.Interaction[Any], number: app_commands.Range[int, 1]
    ) -> None:
        """/quiz schedule cancel."""
        await self._respond(interaction, ["cancel", str(number)])


def _schedule_words(head: list[str], deck: str | None, questions: int | None) -> list[str]:
    """The words of `/quiz schedule` as typed, from the subcommand's options."""
    return [*head, *([deck] if deck else []), *([str(questions)] if questions else [])]
