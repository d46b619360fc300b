"""Slack: `/quiz` and Block Kit answer buttons on a slack-bolt AsyncApp.

Every listener acknowledges at once and then asks the engine; the engine posts
questions, reveals and summaries back through SlackChat. Socket Mode needs only
outbound connections; HTTP mode serves POST /slack/events with signed requests and
scales to several workers on one database.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.blocks import (
    ANSWER_ACTION_PATTERN,
    CHOICES_ACTION,
    SUBMIT_ACTION,
    card_text,
    decks_text,
    escape,
    leaderboard_blocks,
    leaderboard_text,
    parse_answer_value,
)
from bot.adapters.slack.chat import SlackChat, http_session, web_client
from bot.adapters.slack.parse import (
    HELP,
    Command,
    Leaderboard,
    Rhythm,
    Simple,
    Start,
    TeamCommand,
    UsageError,
    parse,
)
from bot.config import Settings
from bot.core.cards import LeaderboardCard, Receipt, ReceiptKind
from bot.core.engine import QuizEngine
from bot.core.errors import NotAllowedError, QuizError, SettingsError
from bot.core.model import CommunityRef, PlayerRef
from bot.core.rhythm.service import Rhythm as WeeklyRhythm
from bot.ops.health import DatabaseHealth
from bot.ops.metrics import Metrics, add_ops_routes
from bot.ops.shutdown import HTTP_GRACE_SECONDS, Shutdown
from bot.render.chart import leaderboard_card_png
from bot.runtime import run_ticker, running

log = logging.getLogger(__name__)

PLATFORM = "slack"
THEME = "light"  # Slack's usual client theme: the colours of the charts
LEADERBOARD_IMAGE = "leaderboard.png"
EVENTS_PATH = "/slack/events"
# Slack's errors when the bot may not post where /quiz was typed
_CANNOT_POST = ("not_in_channel", "channel_not_found", "is_archived", "restricted_action")

Body = Mapping[str, Any]


# ---- who and where ------------------------------------------------------------------------


def community_of(body: Body) -> CommunityRef:
    """The workspace a slash command or an interaction comes from."""
    team = body.get("team")
    if isinstance(team, Mapping):
        return CommunityRef(str(team.get("id", "")), str(team.get("domain", "")))
    return CommunityRef(str(body.get("team_id", "")), str(body.get("team_domain", "")))


def player_of(body: Body) -> PlayerRef:
    """The member who typed the command or clicked."""
    user = body.get("user")
    if isinstance(user, Mapping):
        name = user.get("username") or user.get("name") or user.get("id")
        return PlayerRef(str(user.get("id", "")), str(name))
    return PlayerRef(str(body.get("user_id", "")), str(body.get("user_name", "")))


def channel_of(body: Body) -> str:
    """The channel of a command or of the clicked message."""
    channel = body.get("channel")
    if isinstance(channel, Mapping):
        return str(channel.get("id", ""))
    container = body.get("container")
    if isinstance(container, Mapping) and container.get("channel_id"):
        return str(container["channel_id"])
    return str(body.get("channel_id", ""))


def retry_number(request: AsyncBoltRequest) -> int:
    """Slack's X-Slack-Retry-Num of a redelivered request, 0 for a first delivery."""
    values = request.headers.get("x-slack-retry-num") or ["0"]
    return int(values[0]) if values[0].isdigit() else 0


async def is_workspace_admin(client: AsyncWebClient, user_id: str) -> bool:
    """Whether users.info says the member is a workspace admin or owner."""
    try:
        response = await client.users_info(user=user_id)
    except SlackApiError as exc:
        log.warning("users.info failed: %s", exc.response.get("error"))
        return False
    user = response.get("user") or {}
    return any(bool(user.get(flag)) for flag in ("is_admin", "is_owner", "is_primary_owner"))


# Replies (receipts) sent at once; more wait for a slot.
REPLIES_IN_FLIGHT = 8


class Replies:
    """Answers to the member who asked, through the request's response_url.

    The Web API client's HTTP session is reused, so a burst of clicks does not open a
    connection (and a TLS handshake) per receipt; response_url is not rate-limited per
    app the way chat.postEphemeral is.
    """

    def __init__(self, client: AsyncWebClient, *, concurrent: int = REPLIES_IN_FLIGHT) -> None:
        self.client = client
        # Under a burst of clicks the acks, which Slack needs within 3 s, come first:
        # a few replies are sent at a time and the rest wait their turn, parked.
        self._slots = asyncio.Semaphore(concurrent)

    async def send(
        self,
        body: Body,
        text: str,
        *,
        blocks: list[dict[str, Any]] | None = None,
        in_channel: bool = False,
    ) -> None:
        """Reply to a command or click: only the asker sees it unless `in_channel`."""
        url = body.get("response_url")
        if not url:
            log.warning("no response_url to reply to")
            return
        payload: dict[str, Any] = {
            "text": text,
            "response_type": "in_channel" if in_channel else "ephemeral",
            "replace_original": False,
        }
        if blocks:
            payload["blocks"] = blocks
        async with self._slots:
            session = self.client.session
            if session is None:
                async with http_session() as own:
                    await _post_reply(own, str(url), payload)
            else:
                await _post_reply(session, str(url), payload)

    async def ephemeral(self, body: Body, text: str) -> None:
        """A line only the asker sees."""
        await self.send(body, text)


async def _post_reply(session: aiohttp.ClientSession, url: str, payload: dict[str, Any]) -> None:
    """POST a reply to a response_url on the bot's session, once more if the connection
    drops (a kept-alive connection the other end just closed).

    Straight on aiohttp rather than through slack_sdk's webhook client, which costs a
    client object and its headers per receipt: about 0.1 ms of the bot's CPU per click.
    """
    for attempt in (1, 2):
        try:
            async with session.post(url, json=payload) as response:
                if response.status != 200:
                    body = await response.text()
                    log.warning("reply by response_url failed: %s %s", response.status, body)
                return
        except aiohttp.ClientConnectionError:
            if attempt == 2:
                raise


# ---- /quiz ---------------------------------------------------------------------------------


class QuizCommands:
    """The subcommands of `/quiz`, each a small method; the game rules stay in the engine."""

    def __init__(
        self,
        engine: QuizEngine,
        client: AsyncWebClient,
        replies: Replies,
        rhythm: WeeklyRhythm | None = None,
    ) -> None:
        self.engine = engine
        self.client = client
        self.replies = replies
        self.rhythm = rhythm

    async def run(self, command: Command, body: Body) -> None:
        """Carry out one parsed command; a QuizError becomes an ephemeral line."""
        try:
            if isinstance(command, Start):
                await self.start(command, body)
            elif isinstance(command, Leaderboard):
                await self.leaderboard(command, body)
            elif isinstance(command, TeamCommand):
                await self.team(command, body)
            elif isinstance(command, Rhythm):
                await self.weekly(command, body)
            elif command.name in ("stop", "skip"):
                await self.control(command, body)
            elif command.name == "decks":
                await self.replies.ephemeral(body, decks_text(self.engine.bank.decks()))
            else:
                await self.replies.ephemeral(body, HELP)
        except QuizError as exc:
            await self.replies.ephemeral(body, escape(str(exc)))

    async def start(self, command: Start, body: Body) -> None:
        """Start a quiz; the engine posts the first question."""
        try:
            await self.engine.start(
                community_of(body), channel_of(body), player_of(body), command.request
            )
        except SlackApiError as exc:
            if exc.response.get("error") not in _CANNOT_POST:
                raise
            await self.replies.ephemeral(
                body, "I can't post in this channel. Invite me first: `/invite @Quiz`"
            )

    async def control(self, command: Simple, body: Body) -> None:
        """Stop or skip: the host may; anyone else only if users.info says admin or owner."""
        act = self.engine.stop if command.name == "stop" else self.engine.skip
        community, channel, player = community_of(body), channel_of(body), player_of(body)
        try:
            await act(community, channel, player, is_admin=False)
        except NotAllowedError:
            # users.info is asked only when the host check fails: most stops are the host's
            if not await is_workspace_admin(self.client, player.external_id):
                raise
            await act(community, channel, player, is_admin=True)

    async def leaderboard(self, command: Leaderboard, body: Body) -> None:
        """Show a board to the channel: its chart uploaded with the text as the comment,
        or the text alone when there is no chart or the upload is refused (no files:write
        scope, bot not in the channel, ...)."""
        card = await self.engine.leaderboard(
            community_of(body), period=command.period, teams=command.teams, me=player_of(body)
        )
        png = await chart_png(card)
        if png is not None:
            try:
                await self.client.files_upload_v2(
                    channel=channel_of(body),
                    file=png,
                    filename=LEADERBOARD_IMAGE,
                    title=card.title,
                    alt_txt=card.title,
                    initial_comment=leaderboard_text(card),
                )
                return
            except SlackApiError as exc:
                log.warning("uploading the leaderboard chart failed: %s", exc.response.get("error"))
        await self.replies.send(body, card.title, blocks=leaderboard_blocks(card), in_channel=True)

    async def weekly(self, command: Rhythm, body: Body) -> None:
        """config, schedule and stats, answered to the asker only."""
        if self.rhythm is None:
            await self.replies.ephemeral(body, f"`/quiz {command.name}` is not available here")
            return
        community, channel, player = community_of(body), channel_of(body), player_of(body)
        words = command.words
        if command.name == "stats":
            target = mentioned_member(words[0]) if words else None
            if words and target is None:
                raise QuizError(f"Name a member as @name, not {words[0]!r}: /quiz stats @name")
            card = await self.rhythm.stats(community, player, target)
            await self.replies.ephemeral(body, card_text(card.heading, card.lines()))
            return
        # users.info only when the command changes something: looking is for everyone
        changes = bool(words) and words[0].lower() != "list"
        admin = changes and await is_workspace_admin(self.client, player.external_id)
        if command.name == "config":
            config = await self.rhythm.config(community, channel, words, is_admin=admin)
            await self.replies.ephemeral(body, card_text(config.heading, config.lines()))
        else:
            schedule = await self.rhythm.schedule(community, channel, player, words, is_admin=admin)
            await self.replies.ephemeral(body, card_text(schedule.title, schedule.lines()))

    async def team(self, command: TeamCommand, body: Body) -> None:
        """Create, join, leave or list teams."""
        community, player = community_of(body), player_of(body)
        if command.action == "create":
            team = await self.engine.create_team(community, player, command.name)
            name = escape(team.name)
            await self.replies.send(
                body,
                f"{escape(player.display_name)} created team *{name}*. "
                f"Join it with `/quiz team join {name}`",
                in_channel=True,
            )
        elif command.action == "join":
            team = await self.engine.join_team(community, player, command.name)
            await self.replies.ephemeral(body, f"You joined team *{escape(team.name)}*")
        elif command.action == "leave":
            team = await self.engine.leave_team(community, player)
            await self.replies.ephemeral(body, f"You left team *{escape(team.name)}*")
        else:
            rosters = await self.engine.teams(community)
            lines = [
                f"*{escape(r.team.name)}*: "
                + (", ".join(escape(m.display_name) for m in r.members) or "nobody")
                for r in rosters
            ]
            await self.replies.ephemeral(
                body, "\n".join(lines) or "No teams yet: `/quiz team create NAME`"
            )


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


def mentioned_member(word: str) -> PlayerRef | None:
    """The member in an escaped mention, `<@U123|ben>` (or `<@U123>`), else None."""
    if not (word.startswith("<@") and word.endswith(">")):
        return None
    user_id, _, name = word[2:-1].partition("|")
    return PlayerRef(user_id, name or user_id) if user_id else None


# ---- clicks ---------------------------------------------------------------------------------


def submitted_positions(body: Body, round_id: int) -> list[int]:
    """The ticked checkboxes of a round's question, from the Submit click's state."""
    values = (body.get("state") or {}).get("values") or {}
    positions: list[int] = []
    for block in values.values():
        element = block.get(CHOICES_ACTION) if isinstance(block, Mapping) else None
        for option in (element or {}).get("selected_options") or []:
            parsed = parse_answer_value(str(option.get("value", "")))
            if parsed is not None and parsed[0] == round_id:
                positions.append(parsed[1])
    return positions


async def send_receipt(
    replies: Replies, body: Body, receipt: Receipt, positions: list[int], *, retried: bool
) -> None:
    """Tell the clicker what became of the click.

    A redelivery by Slack of a click that was recorded gets no second receipt: the
    first delivery already answered the member.
    """
    repeat = receipt.kind is ReceiptKind.ALREADY_ANSWERED and receipt.selected == tuple(
        sorted(set(positions))
    )
    if retried and repeat:
        return
    await replies.ephemeral(body, escape(receipt.text))


# ---- the app ---------------------------------------------------------------------------------


async def drop_retried_commands(
    request: AsyncBoltRequest, body: Body, next: Callable[[], Awaitable[None]]
) -> BoltResponse | None:
    """Answer a redelivered slash command with 200 and do nothing: a second `/quiz skip`
    would skip two rounds. Redelivered clicks go on: the store keeps one answer each."""
    if retry_number(request) and "command" in body:
        return BoltResponse(status=200, body="")
    await next()
    return None


def build_app(
    engine: QuizEngine,
    client: AsyncWebClient,
    *,
    signing_secret: str = "",
    socket_mode: bool = False,
    rhythm: WeeklyRhythm | None = None,
) -> AsyncApp:
    """The Bolt app: `/quiz` and the answer controls, on `client` for the Web API.

    HTTP mode verifies every request with `signing_secret` (401 otherwise); Socket Mode
    connections are authenticated by the app token instead.
    """
    if not socket_mode and not signing_secret:
        raise SettingsError("SLACK_SIGNING_SECRET is not set: HTTP mode needs it")
    app = AsyncApp(
        client=client,
        signing_secret=signing_secret,
        request_verification_enabled=not socket_mode,
        name="quizbot",
    )
    replies = Replies(client)
    commands = QuizCommands(engine, client, replies, rhythm)

    async def quiz_command(ack: AsyncAck, body: Body) -> None:
        await ack()
        try:
            command = parse(str(body.get("text", "")), [d.name for d in engine.bank.decks()])
        except UsageError as exc:
            await replies.ephemeral(body, str(exc))
            return
        await commands.run(command, body)

    async def answer_button(
        ack: AsyncAck,
        body: Body,
        action: Body,
        request: AsyncBoltRequest,
    ) -> None:
        await ack()
        parsed = parse_answer_value(str(action.get("value", "")))
        if parsed is None:
            return
        round_id, position = parsed
        receipt = await engine.record_answer(round_id, player_of(body), [position])
        await send_receipt(replies, body, receipt, [position], retried=bool(retry_number(request)))

    async def submit_button(
        ack: AsyncAck,
        body: Body,
        action: Body,
        request: AsyncBoltRequest,
    ) -> None:
        await ack()
        value = str(action.get("value", ""))
        if not value.isdigit():
            return
        positions = submitted_positions(body, int(value))
        if not positions:
            await replies.ephemeral(body, "Tick one or more boxes first, then Submit")
            return
        receipt = await engine.record_answer(int(value), player_of(body), positions)
        await send_receipt(replies, body, receipt, positions, retried=bool(retry_number(request)))

    async def ticked(ack: AsyncAck) -> None:
        # ticking a box is not an answer yet: Submit is
        await ack()

    async def failed(error: Exception, body: Body) -> None:
        log.error("slack listener failed", exc_info=error)
        if body.get("response_url"):
            await replies.ephemeral(body, "Something went wrong on my side; please try again")

    app.use(drop_retried_commands)
    app.command("/quiz")(quiz_command)
    app.action(ANSWER_ACTION_PATTERN)(answer_button)
    app.action(SUBMIT_ACTION)(submit_button)
    app.action(CHOICES_ACTION)(ticked)
    app.error(failed)
    return app


def http_app(
    app: AsyncApp,
    path: str = EVENTS_PATH,
    *,
    metrics: Metrics | None = None,
    health: DatabaseHealth | None = None,
) -> web.Application:
    """An aiohttp application serving the Bolt app on POST `path`, and GET /healthz.

    With `metrics`, GET /metrics is served too and every POST is timed as an ack.
    """

    async def events(request: web.Request) -> web.Response:
        response: BoltResponse = await app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    async def healthz(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    server = web.Application()
    server.router.add_post(path, events)
    if metrics is not None:
        add_ops_routes(server, metrics, health, platform=PLATFORM, ack_path=path)
    else:
        server.router.add_get("/healthz", healthz)
    return server


# ---- running ----------------------------------------------------------------------------------


def slack_mode(settings: Settings, *, http: bool) -> str:
    """The mode to serve, "http" or "socket", once its settings are checked (SettingsError)."""
    token = settings.require("SLACK_BOT_TOKEN")
    if not token.startswith("xox"):
        raise SettingsError("SLACK_BOT_TOKEN is not a bot token: it starts with xoxb-")
    if not http and settings.slack_app_token:
        if not settings.slack_app_token.startswith("xapp-"):
            raise SettingsError("SLACK_APP_TOKEN is not an app-level token: it starts with xapp-")
        return "socket"
    if not http and not settings.slack_signing_secret:
        raise SettingsError(
            "SLACK_APP_TOKEN is not set: Socket Mode needs it (or serve with --http "
            "and SLACK_SIGNING_SECRET)"
        )
    settings.require("SLACK_SIGNING_SECRET")
    return "http"


async def serve_slack(
    settings: Settings,
    *,
    http: bool = False,
    host: str = "0.0.0.0",
    port: int = 3000,
    stop: asyncio.Event | None = None,
    on_ready: Callable[[int], None] | None = None,
) -> int:
    """Run the Slack bot until `stop` is set (or SIGINT/SIGTERM); 0 on a clean exit.

    `on_ready` gets the bound port in HTTP mode (0 in Socket Mode).
    """
    mode = slack_mode(settings, http=http)
    stop = stop or asyncio.Event()
    # SIGTERM/SIGINT set `stop`; off the main thread there are no handlers and the
    # caller sets it
    shutdown = Shutdown(requested=stop)
    shutdown.install()
    try:
        async with http_session() as session:
            client = web_client(settings.slack_bot_token, settings.slack_api_url, session=session)
            async with running(settings, SlackChat(client), platform=PLATFORM) as runtime:
                shutdown.attach(runtime.engine)  # from the signal on, no new quizzes
                app = build_app(
                    runtime.engine,
                    client,
                    signing_secret=settings.slack_signing_secret,
                    socket_mode=mode == "socket",
                    rhythm=runtime.rhythm,
                )
                ticker = asyncio.create_task(
                    run_ticker(runtime.engine, stop, rhythm=runtime.rhythm)
                )
                try:
                    if mode == "socket":
                        await _serve_socket_mode(app, settings.slack_app_token, stop, on_ready)
                    else:
                        server = http_app(
                            app,
                            metrics=runtime.metrics,
                            health=DatabaseHealth.of_store(runtime.store),
                        )
                        await _serve_http(server, host, port, stop, on_ready)
                finally:
                    stop.set()
                    await ticker
                    # Bolt acks a click before its listener records the answer: let
                    # those answers reach the database before the store closes
                    await shutdown.finish_in_flight()
    finally:
        shutdown.uninstall()
    return 0


async def _serve_socket_mode(
    app: AsyncApp, app_token: str, stop: asyncio.Event, on_ready: Callable[[int], None] | None
) -> None:
    handler = AsyncSocketModeHandler(app, app_token)
    await handler.connect_async()  # type: ignore[no-untyped-call]
    log.info("slack: connected in Socket Mode")
    if on_ready is not None:
        on_ready(0)
    try:
        await stop.wait()
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]


async def _serve_http(
    server: web.Application,
    host: str,
    port: int,
    stop: asyncio.Event,
    on_ready: Callable[[int], None] | None,
) -> None:
    runner = web.AppRunner(server, access_log=None, shutdown_timeout=HTTP_GRACE_SECONDS)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound = _bound_port(site, port)
        log.info("slack: serving HTTP on %s:%d%s", host, bound, EVENTS_PATH)
        if on_ready is not None:
            on_ready(bound)
        await stop.wait()
    finally:
        await runner.cleanup()


def _bound_port(site: web.TCPSite, asked: int) -> int:
    server = site._server
    sockets = getattr(server, "sockets", None)
    return int(sockets[0].getsockname()[1]) if sockets else asked


def run_slack(
    settings: Settings, *, http: bool = False, host: str = "0.0.0.0", port: int = 3000
) -> int:
    """`quizbot serve slack`: Socket Mode with SLACK_APP_TOKEN, else (or with --http) HTTP."""
    slack_mode(settings, http=http)  # a missing setting stops here, before any I/O
    return asyncio.run(serve_slack(settings, http=http, host=host, port=port))
