"""Discord: the client that carries /quiz and the answer components, and its entry points.

Built on discord.py 2.x like its examples: the commands live in commands.py, the
embeds and answer components in views.py, the ChatPort in chat.py; every rule of the
game is the engine's (and the weekly rhythm's). `run_discord`, `sync_commands` and
`invite_url_command` are what `quizbot serve discord` and `quizbot discord ...` call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import aiohttp
import discord
import yarl
from discord.gateway import DiscordWebSocket

from bot.adapters.discord.chat import DiscordChat
from bot.adapters.discord.commands import QuizCommands, QuizCommandTree
from bot.adapters.discord.review import add_review
from bot.adapters.discord.shards import ShardPlan, recommended, resolve, tag_interactions
from bot.adapters.discord.views import AnswerButton, AnswerSelect
from bot.config import Settings
from bot.core.engine import QuizEngine
from bot.core.errors import QuizError, SettingsError
from bot.core.rhythm.service import Rhythm
from bot.core.study.ports import Reviews
from bot.ops.metrics import Metrics

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

PLATFORM = "discord"
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
CLOSE_SECONDS = 3.0  # closing the gateway; past this it is cut off
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


# ---- the client --------------------------------------------------------------------------


class QuizBot(discord.AutoShardedClient):
    """The Discord client: the /quiz command tree and the persistent answer components,
    on the shards of `shards` (all of them, by default)."""

    def __init__(
        self,
        *,
        defer_after: float = DEFER_AFTER_SECONDS,
        guild_ready_timeout: float = 2.0,
        shards: ShardPlan | None = None,
    ) -> None:
        # the bot never joins voice: missing voice libraries are not worth a warning
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        # slash commands and components arrive whatever the intents: no privileged one
        super().__init__(
            intents=discord.Intents(guilds=True), guild_ready_timeout=guild_ready_timeout
        )
        self.defer_after = defer_after
        # counts an answer click deferred because its write was slow (a late ack)
        self.on_late_ack: Callable[[], None] = lambda: None
        self.tree = QuizCommandTree(self)
        quiz = QuizCommands(self)
        add_review(quiz, self)
        self.tree.add_command(quiz)
        self._engine: QuizEngine | None = None
        self._rhythm: Rhythm | None = None
        self.shard_plan = shards or ShardPlan()
        self.metrics: Metrics | None = None
        self.reviews: Reviews | None = None  # study mode: /quiz review and recall stats

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

    def attach(
        self, engine: QuizEngine, rhythm: Rhythm | None = None, reviews: Reviews | None = None
    ) -> None:
        """Give the client its engine (the engine needs the client's ChatPort first),
        the weekly rhythm built on it, and study mode's reviews."""
        self._engine = engine
        self._rhythm = rhythm
        self.reviews = reviews

    async def play(self, chat: DiscordChat, runtime: Runtime, stop: asyncio.Event) -> None:
        """Take the gateway's events for `runtime` until `stop` is set (or the gateway ends)."""
        self.attach(runtime.engine, runtime.rhythm, runtime.study)
        self.metrics = runtime.metrics
        self.on_late_ack = runtime.metrics.late_ack(PLATFORM)
        gateway = asyncio.ensure_future(self.connect())
        stopping = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({gateway, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if gateway.done():
                gateway.result()  # the gateway ended by itself: its error is the command's
        finally:
            stop.set()
            stopping.cancel()
            if not gateway.done():
                await self._stop_gateway(gateway)

    async def _stop_gateway(self, gateway: asyncio.Future[None]) -> None:
        """Close the client; the gateway task ends with it, unless it sleeps between two
        reconnection attempts (discord.py's backoff grows to minutes): then it is
        cancelled."""
        if not self.is_closed():
            with contextlib.suppress(Exception):
                async with asyncio.timeout(CLOSE_SECONDS):
                    await self.close()
        try:
            async with asyncio.timeout(CLOSE_SECONDS):
                await asyncio.shield(gateway)
        except (TimeoutError, asyncio.CancelledError):
            gateway.cancel()
        except Exception:
            # discord.py can trip over its own half-made connection when closed mid-way
            log.debug("the gateway ended with an error after the stop", exc_info=True)
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await gateway

    async def launch_shards(self) -> None:
        """Settle the shard count and ids, then connect the shards.

        With no count set, Discord's recommendation is asked here rather than by
        discord.py, which would also take the gateway URL from it.
        """
        if self.is_closed():
            return
        count = None if self.shard_plan.count is not None else (await recommended(self.http)).shards
        self.shard_count, self.shard_ids = resolve(self.shard_plan, count)
        tag_interactions(self._connection.parsers, self.shard_count, self._interaction_seen)
        if self.metrics is not None:
            self.metrics.run_shards(self.shard_count, self.shard_ids)
        log.info("running shard(s) %s of %d", self.shard_ids, self.shard_count)
        await super().launch_shards()

    def _interaction_seen(self, shard: int) -> None:
        if self.metrics is not None:
            self.metrics.interaction_seen(shard)

    async def setup_hook(self) -> None:
        """Listen for answer components of any message, including ones sent before a restart."""
        self.add_dynamic_items(AnswerButton, AnswerSelect)


# ---- entry points -----------------------------------------------------------------------


def run_discord(settings: Settings) -> int:
    """`quizbot serve discord`: play on Discord until stopped."""
    token = settings.require("DISCORD_TOKEN")
    asyncio.run(serve(settings, token))
    return 0


async def serve(settings: Settings, token: str) -> None:
    """Log in, then play on the gateway until stopped (the lifecycle is bot.runtime's)."""
    from bot.runtime import serve as serve_platform

    point_at(settings)
    bot = QuizBot(shards=ShardPlan.of(settings))
    await serve_platform(settings, platform=PLATFORM, chat=logged_in(bot, token), connect=bot.play)


@asynccontextmanager
async def logged_in(bot: QuizBot, token: str) -> AsyncIterator[DiscordChat]:
    """The client logged in over REST, as the ChatPort; closed on the way out."""
    async with bot:
        # a bad token should stop the bot before it touches the database
        await login(bot, token)
        yield DiscordChat(bot)


async def login(bot: discord.Client, token: str) -> None:
    """Log in over REST; a rejected token is a SettingsError naming DISCORD_TOKEN."""
    try:
        await bot.login(token)
    except discord.LoginFailure:
        raise SettingsError(TOKEN_REJECTED) from None
    except (aiohttp.ClientError, OSError, TimeoutError, discord.DiscordServerError) as exc:
        raise SettingsError(
            f"Discord could not be reached at DISCORD_API_URL ({exc.__class__.__name__}): "
            "check the network, or the setting"
        ) from None


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
