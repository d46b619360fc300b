"""Slack: `/quiz` and Block Kit answer buttons on a slack-bolt AsyncApp.

The listeners (listeners.py) acknowledge at once and then ask the engine; the engine
posts questions, reveals and summaries back through SlackChat. Socket Mode needs
only outbound connections; HTTP mode serves POST /slack/events with signed requests
and scales to several workers on one database.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.ack_first import Listen
from bot.adapters.slack.acks import AckAfterCommit, ClicksInFlight
from bot.adapters.slack.blocks import ANSWER_ACTION_PATTERN, CHOICES_ACTION, SUBMIT_ACTION
from bot.adapters.slack.chat import Replies, SlackChat, http_session, web_client
from bot.adapters.slack.connect import check_token, serve_socket_mode
from bot.adapters.slack.decks import register_deck_listeners
from bot.adapters.slack.listeners import QuizCommands, QuizListeners, drop_retried_commands
from bot.adapters.slack.review import SlackReviews
from bot.config import Settings
from bot.core.engine import QuizEngine
from bot.core.errors import SettingsError
from bot.core.rhythm.service import Rhythm as WeeklyRhythm
from bot.core.study.ports import Reviews
from bot.ops.health import DatabaseHealth
from bot.ops.metrics import Metrics, add_ops_routes
from bot.ops.shutdown import HTTP_GRACE_SECONDS
from bot.runtime import Runtime, serve

log = logging.getLogger(__name__)

PLATFORM = "slack"
EVENTS_PATH = "/slack/events"
# chat.update is a Tier 3 method: about 50 calls a minute per app per workspace
CHAT_UPDATES_PER_MINUTE = 50


class _TokenGivenTwice(logging.Filter):
    """Drops Bolt's "`token` will be unused" warning: Bolt reads SLACK_BOT_TOKEN from the
    environment by itself, and the client it is given holds that same token."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


_BOLT_LOG = logging.getLogger("slack_bolt.AsyncApp")
if not any(isinstance(f, _TokenGivenTwice) for f in _BOLT_LOG.filters):
    _BOLT_LOG.addFilter(_TokenGivenTwice())


def build_app(
    engine: QuizEngine,
    client: AsyncWebClient,
    *,
    signing_secret: str = "",
    socket_mode: bool = False,
    rhythm: WeeklyRhythm | None = None,
    reviews: Reviews | None = None,
    acks: AckAfterCommit | None = None,
) -> AsyncApp:
    """The Bolt app: `/quiz` and the answer controls, on `client` for the Web API.

    HTTP mode verifies every request with `signing_secret` (401 otherwise); Socket Mode
    connections are authenticated by the app token instead. `acks` says when a click is
    acknowledged (after its answer is committed, or late).
    """
    if not socket_mode and not signing_secret:
        raise SettingsError("SLACK_SIGNING_SECRET is not set: HTTP mode needs it")
    app = AsyncApp(
        client=client,
        signing_secret=signing_secret,
        request_verification_enabled=not socket_mode,
        name="quizbot",
        process_before_response=True,  # answered at each listener's ack(): see ack_first
    )
    acks = acks or AckAfterCommit()
    replies = Replies(client, yield_to=acks.in_flight)
    study = SlackReviews(reviews, replies, [d.name for d in engine.bank.decks()])
    commands = QuizCommands(engine, client, replies, rhythm, study)
    listeners = QuizListeners(engine, commands, replies, acks)
    listen = Listen(app, listeners.failed, command_middleware=[drop_retried_commands])
    # Bolt tries the listeners in the order they were registered, running each one's
    # matchers until one matches: the answer controls, which a burst of clicks hits,
    # come first, so that a click is matched at the first try.
    listen.action(ANSWER_ACTION_PATTERN, listeners.answer_button)
    listen.action(SUBMIT_ACTION, listeners.submit_button)
    listen.action(CHOICES_ACTION, listeners.ticked)
    study.register(listen)
    register_deck_listeners(listen, engine, client, replies)  # before /quiz: it takes `deck ...`
    listen.command("/quiz", listeners.quiz_command)
    app.error(listeners.failed)
    return app


def http_app(
    app: AsyncApp,
    path: str = EVENTS_PATH,
    *,
    metrics: Metrics | None = None,
    health: DatabaseHealth | None = None,
    in_flight: ClicksInFlight | None = None,
) -> web.Application:
    """An aiohttp application serving the Bolt app on POST `path`, and GET /healthz.

    With `metrics`, GET /metrics is served too and every POST is timed as an ack. With
    `in_flight` (the acks' count, which replies wait on), a request counts from its
    arrival, so that replies also yield to the requests still being read and matched.
    """

    async def events(request: web.Request) -> web.Response:
        if in_flight is None:
            return await answer(request)
        in_flight.enter()
        try:
            return await answer(request)
        finally:
            in_flight.leave()

    async def answer(request: web.Request) -> web.Response:
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
        if not settings.slack_app_token.get_secret_value().startswith("xapp-"):
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
    host: str = "127.0.0.1",
    port: int = 3000,
    stop: asyncio.Event | None = None,
    on_ready: Callable[[int], None] | None = None,
) -> int:
    """Run the Slack bot until `stop` is set (or SIGINT/SIGTERM); 0 on a clean exit.

    `on_ready` gets the bound port in HTTP mode (0 in Socket Mode).
    """
    mode = slack_mode(settings, http=http)

    async def connect(chat: SlackChat, runtime: Runtime, stop: asyncio.Event) -> None:
        acks = AckAfterCommit(on_late=runtime.metrics.late_ack(PLATFORM))
        app = build_app(
            runtime.engine,
            chat.client,
            signing_secret=settings.slack_signing_secret.get_secret_value(),
            socket_mode=mode == "socket",
            rhythm=runtime.rhythm,
            reviews=runtime.study,
            acks=acks,
        )
        if mode == "socket":
            await serve_socket_mode(
                app, settings.slack_app_token.get_secret_value(), stop, on_ready
            )
        else:
            health = DatabaseHealth.of_store(runtime.store)
            server = http_app(app, metrics=runtime.metrics, health=health, in_flight=acks.in_flight)
            await _serve_http(server, host, port, stop, on_ready)

    stop = stop or asyncio.Event()
    await serve(
        settings,
        platform=PLATFORM,
        chat=slack_chat(settings),
        connect=connect,
        stop=stop,
        count_edits_per_minute=CHAT_UPDATES_PER_MINUTE,
    )
    return 0


@asynccontextmanager
async def slack_chat(settings: Settings) -> AsyncIterator[SlackChat]:
    """The bot's ChatPort on one HTTP session for all of its calls to Slack; the bot
    token is checked first (auth.test), in either mode: a refused one ends the command."""
    async with http_session() as session:
        client = web_client(
            settings.slack_bot_token.get_secret_value(), settings.slack_api_url, session=session
        )
        await check_token("SLACK_BOT_TOKEN", client.auth_test)
        yield SlackChat(client)


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
    settings: Settings, *, http: bool = False, host: str = "127.0.0.1", port: int = 3000
) -> int:
    """`quizbot serve slack`: Socket Mode with SLACK_APP_TOKEN, else (or with --http) HTTP."""
    slack_mode(settings, http=http)  # a missing setting stops here, before any I/O
    return asyncio.run(serve_slack(settings, http=http, host=host, port=port))
