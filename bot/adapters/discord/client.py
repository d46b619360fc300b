"""Discord: the /quiz slash commands, answer buttons, and the ChatPort that shows cards.

Built on discord.py 2.x application commands and UI components, like its examples;
every rule of the game is the engine's (and the weekly rhythm's: /quiz config,
schedule and stats, and the board posted when a week ends). `run_discord`,
`sync_commands` and `invite_url` are what `quizbot serve discord` and
`quizbot discord ...` call.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import discord
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket
from discord.utils import MISSING

from bot.adapters.discord.views import (
    LEADERBOARD_IMAGE,
    AnswerButton,
    AnswerSelect,
    closed_question_embed,
    closed_question_view,
    config_embed,
    decks_embed,
    help_embed,
    leaderboard_embed,
    question_embed,
    question_image_name,
    question_view,
    reveal_embed,
    schedule_embed,
    stats_embed,
    summary_embed,
    teams_embed,
    weekly_board_embed,
)
from bot.config import Settings
from bot.core.bank import QuestionBank
from bot.core.cards import LeaderboardCard, QuestionCard, RevealCard, SummaryCard
from bot.core.engine import QuizEngine
from bot.core.errors import QuizError, SettingsError
from bot.core.model import CommunityRef, Mode, PlayerRef, Scoring, StartRequest
from bot.core.periods import WEEKDAYS
from bot.core.rhythm.cards import WeeklyBoardCard
from bot.core.rhythm.service import Rhythm
from bot.core.rhythm.settings import KEYS
from bot.render import needs_image, render_math_png
from bot.render.chart import leaderboard_card_png

log = logging.getLogger(__name__)

PLATFORM = "discord"
THEME = "dark"  # Discord's usual client theme: the colours of the charts
# Discord drops an interaction that is not acknowledged within 3 s: past this, defer
# first and send the answer as a followup.
DEFER_AFTER_SECONDS = 1.5
# View Channel, Send Messages, Embed Links, Attach Files, Read Message History
BOT_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    embed_links=True,
    attach_files=True,
    read_message_history=True,
)
SCOPES = ("bot", "applications.commands")
NO_ACCESS = (
    "I cannot post in this channel: give me View Channel, Send Messages, Embed Links "
    "and Attach Files here"
)
TOKEN_REJECTED = (
    "DISCORD_TOKEN was rejected by Discord: copy the bot token again from the "
    "Developer Portal (Bot > Reset Token)"
)


def point_at(settings: Settings) -> None:
    """Send REST calls and the gateway where the settings say (a proxy, or a test fake).

    These are discord.py internals, hence the pinned version range and a smoke test.
    """
    discord.http.Route.BASE = settings.discord_api_url.rstrip("/")
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)


def invite_url(application_id: int) -> str:
    """The OAuth2 URL that adds the bot with its commands and minimal permissions."""
    return discord.utils.oauth_url(application_id, permissions=BOT_PERMISSIONS, scopes=SCOPES)


# ---- replies within Discord's 3 seconds -------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """What to answer an interaction with; `image` is a PNG attached as `image_name`
    (the embed shows it as `attachment://{image_name}`)."""

    text: str = ""
    embed: discord.Embed | None = None
    ephemeral: bool = True
    image: bytes | None = None
    image_name: str = LEADERBOARD_IMAGE

    def file(self) -> discord.File | None:
        """A fresh upload of the image (a discord.File can be sent only once)."""
        if self.image is None:
            return None
        return discord.File(io.BytesIO(self.image), filename=self.image_name)

    def text_only(self) -> Reply:
        """The same reply without the picture: the fallback when the upload fails."""
        embed = self.embed.copy().set_image(url=None) if self.embed is not None else None
        return replace(self, embed=embed, image=None)


async def respond(
    interaction: discord.Interaction[Any],
    work: Awaitable[Reply],
    *,
    defer_after: float,
    public: bool = False,
) -> None:
    """Answer with `work`'s reply: directly when it is quick, else defer first and follow up.

    A QuizError becomes an ephemeral line; `public` says how to defer, i.e. what the
    reply usually is. A reply whose picture cannot be uploaded is sent as text.
    """
    task = asyncio.ensure_future(_guarded(work))
    done, _ = await asyncio.wait({task}, timeout=defer_after)
    if not done:
        await interaction.response.defer(ephemeral=not public, thinking=True)
    reply = await task
    try:
        await _send(interaction, reply, public=public)
    except discord.HTTPException:
        if reply.image is None:
            raise
        log.warning("sending a reply with its picture failed; sending the text", exc_info=True)
        await _send(interaction, reply.text_only(), public=public, retry=True)


async def _send(
    interaction: discord.Interaction[Any], reply: Reply, *, public: bool, retry: bool = False
) -> None:
    embed = reply.embed or MISSING
    file = reply.file()
    if not interaction.response.is_done():
        await interaction.response.send_message(
            reply.text, embed=embed, file=file or MISSING, ephemeral=reply.ephemeral
        )
    elif reply.ephemeral and public:
        # a public "thinking…" cannot turn private: drop it and answer privately
        if not retry:
            await interaction.delete_original_response()
        await interaction.followup.send(
            reply.text, embed=embed, file=file or MISSING, ephemeral=True
        )
    else:
        await interaction.edit_original_response(
            content=reply.text or None,
            embed=reply.embed,
            attachments=[file] if file is not None else MISSING,
        )


async def _guarded(work: Awaitable[Reply]) -> Reply:
    try:
        return await work
    except QuizError as exc:
        return Reply(str(exc))
    except discord.Forbidden:
        return Reply(NO_ACCESS)
    except Exception:
        log.exception("handling an interaction failed")
        return Reply("Something went wrong on our side; please try again.")


def community_of(interaction: discord.Interaction[Any]) -> CommunityRef:
    """The guild as the core names it."""
    guild = interaction.guild
    if guild is None:
        guild_id = interaction.guild_id
        if guild_id is None:
            raise QuizError("Quizzes run in servers: use /quiz in a server channel")
        return CommunityRef(str(guild_id), str(guild_id))
    return CommunityRef(str(guild.id), guild.name)


def player_of(interaction: discord.Interaction[Any]) -> PlayerRef:
    """The user as the core names them."""
    return PlayerRef(str(interaction.user.id), interaction.user.display_name)


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


async def chart_png(card: LeaderboardCard, theme: str = THEME) -> bytes | None:
    """A leaderboard's bar chart, drawn off the event loop; None (text only) when the
    board is empty or drawing fails."""
    if not card.rows:
        return None
    try:
        return await asyncio.to_thread(leaderboard_card_png, card, theme)
    except Exception:
        log.exception("drawing the leaderboard chart failed; sending text only")
        return None


def deck_choices(bank: QuestionBank, current: str) -> list[app_commands.Choice[str]]:
    """Autocomplete choices of the decks whose name or title contains what was typed."""
    typed = current.lower()
    choices = [
        app_commands.Choice(name=f"{d.title} ({len(d.questions)})"[:100], value=d.name)
        for d in bank.decks()
        if typed in d.name.lower() or typed in d.title.lower()
    ]
    return choices[:25]


def channel_of(interaction: discord.Interaction[Any]) -> str:
    """The channel id as the core stores it."""
    if interaction.channel_id is None:
        raise QuizError("Use /quiz in a server channel")
    return str(interaction.channel_id)


# ---- the client --------------------------------------------------------------------------


class QuizBot(discord.Client):
    """The Discord client: the /quiz command tree and the persistent answer components."""

    def __init__(
        self,
        *,
        defer_after: float = DEFER_AFTER_SECONDS,
        guild_ready_timeout: float = 2.0,
    ) -> None:
        # the bot never joins voice: missing voice libraries are not worth a warning
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        # slash commands and components arrive whatever the intents: no privileged one
        super().__init__(
            intents=discord.Intents(guilds=True), guild_ready_timeout=guild_ready_timeout
        )
        self.defer_after = defer_after
        self.tree = QuizCommandTree(self)
        self.tree.add_command(QuizCommands(self))
        self._engine: QuizEngine | None = None
        self._rhythm: Rhythm | None = None

    @property
    def engine(self) -> QuizEngine:
        """The engine that plays the game; set with `attach`."""
        if self._engine is None:
            raise QuizError("The bot is still starting; try again in a moment")
        return self._engine

    @property
    def rhythm(self) -> Rhythm:
        """Settings, schedules and stats of the weekly rhythm; set with `attach`."""
        if self._rhythm is None:
            if self._engine is None:
                raise QuizError("The bot is still starting; try again in a moment")
            raise QuizError("Settings, schedules and stats are not available on this bot")
        return self._rhythm

    def attach(self, engine: QuizEngine, rhythm: Rhythm | None = None) -> None:
        """Give the client its engine (the engine needs the client's ChatPort first) and
        the weekly rhythm built on it."""
        self._engine = engine
        self._rhythm = rhythm

    async def setup_hook(self) -> None:
        """Listen for answer components of any message, including ones sent before a restart."""
        self.add_dynamic_items(AnswerButton, AnswerSelect)

    async def take_answer(
        self, interaction: discord.Interaction[Any], round_id: int, positions: Sequence[int]
    ) -> None:
        """Record a click and reply with the private receipt."""
        await respond(
            interaction,
            self._receipt(round_id, player_of(interaction), positions),
            defer_after=self.defer_after,
        )

    async def _receipt(self, round_id: int, player: PlayerRef, positions: Sequence[int]) -> Reply:
        receipt = await self.engine.record_answer(round_id, player, positions)
        return Reply(receipt.text)


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

    async def _respond(
        self, interaction: discord.Interaction[Any], work: Awaitable[Reply], *, public: bool = False
    ) -> None:
        await respond(interaction, work, defer_after=self.bot.defer_after, public=public)

    @app_commands.command(description="Start a quiz in this channel")
    @app_commands.describe(
        deck="Question deck (default: every deck)",
        questions="How many questions",
        seconds="Seconds per question",
        mode="Play alone or as teams",
        scoring="Points for speed, or for correct answers only",
        changes="Let players change their answer until the reveal",
        partial="Partial credit on check-all-that-apply questions",
    )
    async def start(
        self,
        interaction: discord.Interaction[Any],
        deck: str | None = None,
        questions: app_commands.Range[int, 1, 50] | None = None,
        seconds: app_commands.Range[int, 5, 600] | None = None,
        mode: Literal["solo", "teams"] | None = None,
        scoring: Literal["speed", "accuracy"] | None = None,
        changes: bool = False,
        partial: bool = False,
    ) -> None:
        """/quiz start."""
        request = StartRequest(
            decks=(deck,) if deck else (),
            questions=questions,
            seconds=seconds,
            mode=Mode(mode) if mode else None,
            scoring=Scoring(scoring) if scoring else None,
            allow_change=changes,
            partial=partial,
        )
        await self._respond(interaction, self._start(interaction, request))

    async def _start(self, interaction: discord.Interaction[Any], request: StartRequest) -> Reply:
        quiz = await self.bot.engine.start(
            community_of(interaction), channel_of(interaction), player_of(interaction), request
        )
        teams = " in teams mode (/quiz team join)" if quiz.options.mode is Mode.TEAMS else ""
        return Reply(
            f"Quiz started{teams}: {quiz.total} questions, {quiz.options.seconds} s each. "
            "/quiz stop ends it."
        )

    @start.autocomplete("deck")
    async def _deck_names(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        return deck_choices(self.bot.engine.bank, current)

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
        png = await chart_png(card)
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
    @app_commands.describe(player="Whose stats (default: yours)")
    async def stats(
        self, interaction: discord.Interaction[Any], player: discord.Member | None = None
    ) -> None:
        """/quiz stats."""
        await self._respond(interaction, self._stats(interaction, player))

    async def _stats(
        self, interaction: discord.Interaction[Any], player: discord.Member | None
    ) -> Reply:
        card = await self.bot.rhythm.stats(
            community_of(interaction),
            player_of(interaction),
            member_of(player) if player is not None else None,
        )
        return Reply(embed=stats_embed(card))

    @app_commands.command(description="The question decks")
    async def decks(self, interaction: discord.Interaction[Any]) -> None:
        """/quiz decks."""
        await interaction.response.send_message(
            embed=decks_embed(self.bot.engine.bank.decks()), ephemeral=True
        )

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
        questions: app_commands.Range[int, 1, 50] | None = None,
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
        questions: app_commands.Range[int, 1, 50] | None = None,
    ) -> None:
        """/quiz schedule weekly."""
        await self._respond(interaction, _schedule_words(["weekly", day, time], deck, questions))

    @daily.autocomplete("deck")
    @weekly.autocomplete("deck")
    async def _deck_names(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        return deck_choices(self.bot.engine.bank, current)

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


# ---- the ChatPort ------------------------------------------------------------------------


class DiscordChat:
    """Shows the engine's cards in Discord channels (the core's ChatPort and BoardPort)."""

    def __init__(self, client: discord.Client, *, theme: str = "dark") -> None:
        self.client = client
        self.theme = theme
        self._images: dict[int, str] = {}  # round id -> attached picture, for the reveal edit

    def _channel(self, channel_id: str) -> discord.PartialMessageable:
        # no fetch and no cache needed: a channel id is enough to post and edit
        return self.client.get_partial_messageable(int(channel_id))

    async def _picture(self, card: QuestionCard) -> discord.File | None:
        if not needs_image(card.prompt):
            return None
        try:
            # matplotlib is slow to draw: keep the event loop (and other clicks) moving
            png = await asyncio.to_thread(render_math_png, card.prompt, self.theme)
        except Exception:
            log.exception("drawing the math of round %s failed; posting text only", card.round_id)
            return None
        return discord.File(io.BytesIO(png), filename=question_image_name(card))

    async def post_question(self, channel_id: str, card: QuestionCard) -> str:
        """Post a question with its answer components; returns the message id."""
        picture = await self._picture(card)
        if picture is not None:
            self._images[card.round_id] = question_image_name(card)
        message = await self._channel(channel_id).send(
            embed=question_embed(card, image=picture is not None),
            view=question_view(card),
            file=picture or MISSING,
        )
        return str(message.id)

    async def update_question(self, channel_id: str, message_ref: str, card: QuestionCard) -> None:
        """Refresh the answers-so-far line (the engine limits how often)."""
        image = card.round_id in self._images or needs_image(card.prompt)
        message = self._channel(channel_id).get_partial_message(int(message_ref))
        await message.edit(embed=question_embed(card, image=image))

    async def post_reveal(self, channel_id: str, message_ref: str | None, card: RevealCard) -> None:
        """Close the question message (buttons off, answer marked) and post the reveal."""
        channel = self._channel(channel_id)
        if message_ref is not None:
            image = self._images.pop(card.round_id, None)
            if image is None and needs_image(card.prompt):
                image = f"question-{card.round_id}.png"
            try:
                await channel.get_partial_message(int(message_ref)).edit(
                    embed=closed_question_embed(card, image_name=image),
                    view=closed_question_view(card),
                )
            except discord.HTTPException:
                # the reveal matters more than the old message: post it anyway
                log.exception("closing the question message of round %s failed", card.round_id)
        await channel.send(embed=reveal_embed(card))

    async def post_summary(self, channel_id: str, card: SummaryCard) -> None:
        """Post the end-of-quiz summary."""
        await self._channel(channel_id).send(embed=summary_embed(card))

    async def post_board(self, channel_id: str, card: WeeklyBoardCard, image: bytes | None) -> None:
        """Post a week's board: an embed with the chart attached and shown under it.

        When the upload fails (no Attach Files here, too large, ...) the text alone is
        posted; this raises only when nothing could be posted.
        """
        channel = self._channel(channel_id)
        if image is not None:
            try:
                await channel.send(
                    embed=weekly_board_embed(card, image=True),
                    file=discord.File(io.BytesIO(image), filename=LEADERBOARD_IMAGE),
                )
                return
            except discord.HTTPException:
                log.warning(
                    "posting the board of %s with its chart failed", card.week, exc_info=True
                )
        await channel.send(embed=weekly_board_embed(card))


# ---- entry points -----------------------------------------------------------------------


def run_discord(settings: Settings) -> int:
    """`quizbot serve discord`: play on Discord until stopped."""
    token = settings.require("DISCORD_TOKEN")
    asyncio.run(serve(settings, token))
    return 0


async def serve(settings: Settings, token: str) -> None:
    """Log in, connect to the gateway and close due rounds until the client closes."""
    from bot.ops.shutdown import Shutdown
    from bot.runtime import run_ticker, running

    point_at(settings)
    bot = QuizBot()
    # SIGTERM/SIGINT: no new quizzes, the gateway closes, work in flight finishes, and
    # open rounds stay in the database for the next process
    shutdown = Shutdown()
    shutdown.install()
    try:
        async with bot:
            # a bad token should stop the bot before it touches the database
            await login(bot, token)
            async with running(settings, DiscordChat(bot), platform=PLATFORM) as runtime:
                bot.attach(runtime.engine, runtime.rhythm)
                shutdown.attach(runtime.engine)
                stop = shutdown.requested
                ticker = asyncio.create_task(
                    run_ticker(runtime.engine, stop, rhythm=runtime.rhythm)
                )
                closer = asyncio.create_task(_close_when(stop, bot))
                try:
                    await bot.connect()
                finally:
                    stop.set()
                    await ticker
                    await closer
                    await shutdown.finish_in_flight()
    finally:
        shutdown.uninstall()


async def _close_when(stop: asyncio.Event, bot: discord.Client) -> None:
    await stop.wait()
    await bot.close()


async def login(bot: discord.Client, token: str) -> None:
    """Log in over REST; a rejected token is a SettingsError naming DISCORD_TOKEN."""
    try:
        await bot.login(token)
    except discord.LoginFailure:
        raise SettingsError(TOKEN_REJECTED) from None


def sync_commands(settings: Settings, guild_id: int | None) -> int:
    """`quizbot discord sync [--guild ID]`: register /quiz with Discord."""
    token = settings.require("DISCORD_TOKEN")
    count = asyncio.run(register_commands(settings, token, guild_id))
    if guild_id is None:
        print(f"Synced {count} command(s) globally; Discord may take up to an hour to show them.")
    else:
        print(f"Synced {count} command(s) to guild {guild_id}.")
    return 0


async def register_commands(settings: Settings, token: str, guild_id: int | None) -> int:
    """Upload the command tree globally or to one guild; returns the number of commands."""
    point_at(settings)
    bot = QuizBot()
    async with bot:
        await login(bot, token)
        guild = discord.Object(guild_id) if guild_id is not None else None
        if guild is not None:
            bot.tree.copy_global_to(guild=guild)
        synced = await bot.tree.sync(guild=guild)
    return len(synced)


def invite_url_command(settings: Settings, application_id: int | None) -> int:
    """`quizbot discord invite-url`: print the invite URL (the id is asked of Discord if
    not given)."""
    if application_id is None:
        token = settings.require("DISCORD_TOKEN")
        application_id = asyncio.run(fetch_application_id(settings, token))
    print(invite_url(application_id))
    return 0


async def fetch_application_id(settings: Settings, token: str) -> int:
    """The application id of the bot that owns `token`."""
    point_at(settings)
    bot = QuizBot()
    async with bot:
        await login(bot, token)
        if bot.application_id is None:
            raise SettingsError("Discord did not say the application id: pass --application-id")
        return bot.application_id
