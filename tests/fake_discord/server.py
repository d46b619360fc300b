"""A fake Discord: REST routes and a websocket gateway on 127.0.0.1, playing the users.

The real discord.Client logs in, handshakes and receives interactions from it; every
REST call the bot makes is recorded, and the first-response rule of interactions is
enforced on a scaled-down clock (`time_scale` real seconds per Discord second).
`faults` fails requests on a pattern (429, 5xx, timeouts, dropped connections:
tests/faults.py); the key of a request is "METHOD /path", e.g.
"POST /channels/123/messages". A create with a `nonce` and `enforce_nonce` that repeats
an earlier one returns the earlier message, as Discord does.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from tests.fake_discord import payloads
from tests.fake_discord.payloads import Json
from tests.faults import FaultRule, Faults, hang_or_drop

API_PREFIX = "/api/v10"
EPHEMERAL = 1 << 6
LOADING = 1 << 7
FIRST_RESPONSE_SECONDS = 3.0  # Discord's rule, before scaling

# interaction callback types
MESSAGE = 4
DEFERRED_MESSAGE = 5
DEFERRED_UPDATE = 6
UPDATE_MESSAGE = 7
AUTOCOMPLETE = 8


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request, as the bot uploaded it."""

    filename: str
    data: bytes
    content_type: str | None = None

    @property
    def is_png(self) -> bool:
        """Whether the bytes start with the PNG signature."""
        return self.data.startswith(PNG_SIGNATURE)


@dataclass
class RestCall:
    """One REST request the bot made."""

    method: str
    path: str  # without the /api/v10 prefix
    query: dict[str, str]
    body: Json | list[Any] | None
    files: list[str]
    status: int = 0
    uploads: list[Upload] = field(default_factory=list)  # the files' names and bytes


@dataclass
class FakeUser:
    """A member of the fake guild who can type commands and click."""

    id: str
    name: str
    permissions: int

    @property
    def payload(self) -> Json:
        """The User object."""
        return payloads.user(self.id, self.name)

    @property
    def member(self) -> Json:
        """The Member object sent with this user's interactions."""
        return payloads.member(self.payload, permissions=self.permissions)


@dataclass
class InteractionRecord:
    """An interaction the fake sent, and everything the bot answered to it."""

    id: str
    token: str
    kind: int
    user: FakeUser
    sent_at: float
    deadline: float
    callbacks: list[Json] = field(default_factory=list)
    original: Json | None = None  # the response message, once there is one
    followups: list[Json] = field(default_factory=list)
    choices: list[Json] = field(default_factory=list)  # autocomplete results
    message_id: str | None = None  # the message whose component was used
    guild: FakeGuild | None = None  # where it happened
    delivered_to: list[tuple[int, int]] = field(default_factory=list)  # (shard, count) sent on
    first_response_at: float | None = None
    answered: asyncio.Event = field(default_factory=asyncio.Event)
    acknowledged: asyncio.Event = field(default_factory=asyncio.Event)  # a first response came

    @property
    def deferred(self) -> bool:
        """Whether the first response was a defer."""
        return bool(self.callbacks) and self.callbacks[0]["type"] in (
            DEFERRED_MESSAGE,
            DEFERRED_UPDATE,
        )

    @property
    def reply(self) -> Json:
        """The message the user sees as the answer: the last followup, else the original."""
        if self.followups:
            return self.followups[-1]
        if self.original is not None:
            return self.original
        raise AssertionError(f"interaction {self.id} got no visible reply")

    @property
    def content(self) -> str:
        """The reply's text."""
        return str(self.reply.get("content") or "")

    @property
    def embeds(self) -> list[Json]:
        """The reply's embeds."""
        return list(self.reply.get("embeds") or [])

    @property
    def ephemeral(self) -> bool:
        """Whether only the clicker sees the reply."""
        return bool(int(self.reply.get("flags") or 0) & EPHEMERAL)

    @property
    def text(self) -> str:
        """Content and embed text of the reply, for loose assertions."""
        return "\n".join([self.content, *(embed_text(e) for e in self.embeds)])


def embed_text(embed: Json) -> str:
    """Every visible text of an embed, in reading order."""
    parts = [str(embed.get("title") or ""), str(embed.get("description") or "")]
    for item in embed.get("fields") or []:
        parts += [str(item.get("name") or ""), str(item.get("value") or "")]
    footer = embed.get("footer") or {}
    parts.append(str(footer.get("text") or ""))
    return "\n".join(p for p in parts if p)


def message_text(message: Json) -> str:
    """Content and embed text of a message."""
    return "\n".join(
        [str(message.get("content") or ""), *(embed_text(e) for e in message.get("embeds") or [])]
    )


def buttons(message: Json) -> list[Json]:
    """Every button of a message, row by row."""
    return [
        c
        for row in message.get("components") or []
        for c in row.get("components") or []
        if c.get("type") == 2
    ]


def selects(message: Json) -> list[Json]:
    """Every string select menu of a message."""
    return [
        c
        for row in message.get("components") or []
        for c in row.get("components") or []
        if c.get("type") == 3
    ]


@dataclass(frozen=True)
class FakeGuild:
    """A guild of the fake with its one text channel."""

    id: str
    channel: Json

    @property
    def channel_id(self) -> str:
        """The text channel's id."""
        return str(self.channel["id"])

    def shard(self, count: int) -> int:
        """The shard whose connection carries this guild's events."""
        return (int(self.id) >> 22) % count


def guild_id_on_shard(shard: int, count: int) -> str:
    """A fresh snowflake for a guild that lands on `shard` of `count`."""
    fresh = int(payloads.snowflake())
    high = fresh >> 22
    high += (shard - high) % count
    return str((high << 22) | (fresh & 0x3FFFFF))


@dataclass
class _Fault:
    method: str
    pattern: re.Pattern[str]
    status: int
    body: Json
    headers: dict[str, str]
    times: int
    uploads_only: bool = False  # only requests that carry files


class FakeDiscord:
    """The fake server: one guild with one text channel (more with `add_guild`), users
    added on demand, and a gateway that shards as Discord's does.

    A connection identifies as `shard: [id, count]` (none: [0, 1]) and gets the events
    of the guilds with `(guild_id >> 22) % count == id`; `/gateway/bot` recommends
    `recommended_shards`.
    """

    def __init__(
        self,
        *,
        time_scale: float = 0.3,
        token: str = "ZmFrZS1ib3Q.ZmFrZQ.ZmFrZS1ib3QtdG9rZW4",
        recommended_shards: int = 1,
    ) -> None:
        self.time_scale = time_scale
        self.recommended_shards = recommended_shards
        # the gateway URL /gateway/bot advertises (None: this fake's own)
        self.advertised_gateway_url: str | None = None
        self.session_start_limit = {
            "total": 1000,
            "remaining": 1000,
            "reset_after": 86_400_000,
            "max_concurrency": 1,
        }
        self.token = token
        self.app_id = payloads.snowflake()
        self.bot_user = payloads.user(self.app_id, "Quiz Bot", bot=True)
        self.owner = FakeUser(payloads.snowflake(), "Owner", payloads.MEMBER_PERMISSIONS)
        self.guild_id = payloads.snowflake()
        self.channel_id = payloads.snowflake()
        self.channel = payloads.text_channel(self.channel_id, self.guild_id, "study-group")
        self.guilds: dict[str, FakeGuild] = {self.guild_id: FakeGuild(self.guild_id, self.channel)}
        self.identifies: list[tuple[int, int]] = []  # the shard of every IDENTIFY, in order
        self.calls: list[RestCall] = []
        self.members: dict[str, FakeUser] = {}  # every user made by `user()`, by id
        self.viewers: dict[str, str] = {}  # ephemeral message id -> the one user who sees it
        self.dm_channels: dict[str, str] = {}  # DM channel id -> the user at the other end
        self.closed_dms: set[str] = set()  # users who accept no DM from the bot
        # called with each interaction as its first response arrives, before it is applied
        self.on_first_response: Callable[[InteractionRecord], Awaitable[None]] | None = None
        self.messages: dict[str, Json] = {}  # visible messages by id, latest state, in order
        self.edits: dict[str, list[Json]] = {}  # PATCH bodies per message id
        self.files: dict[str, dict[str, Upload]] = {}  # message id -> attached files by name
        self.interactions: dict[str, InteractionRecord] = {}
        self.attachment_files: dict[str, bytes] = {}  # attachment id -> bytes served
        self.commands: dict[str | None, list[Json]] = {}  # synced commands per guild (None: global)
        self.violations: list[str] = []
        self.identified = asyncio.Event()
        self._by_token: dict[str, InteractionRecord] = {}
        self._faults: list[_Fault] = []
        self.faults = Faults()
        self._nonces: dict[tuple[str, str], str] = {}  # (channel, nonce) -> message id
        self._sockets: dict[web.WebSocketResponse, tuple[int, int]] = {}  # -> (shard, count)
        self._seq = 0
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._deadline_checks: list[asyncio.TimerHandle] = []

    # ---- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on 127.0.0.1 on a free port."""
        app = web.Application(middlewares=[self._record])
        app.router.add_get("/gateway", self._gateway)
        p = API_PREFIX
        app.router.add_get(p + "/users/@me", self._me)
        app.router.add_get(p + "/gateway/bot", self._gateway_bot)
        app.router.add_get(p + "/oauth2/applications/@me", self._application)
        app.router.add_put(p + "/applications/{app}/commands", self._sync_commands)
        app.router.add_put(p + "/applications/{app}/guilds/{guild}/commands", self._sync_commands)
        app.router.add_post(p + "/users/@me/channels", self._open_dm)
        app.router.add_get(p + "/channels/{channel}", self._get_channel)
        app.router.add_post(p + "/channels/{channel}/messages", self._create_message)
        app.router.add_patch(p + "/channels/{channel}/messages/{message}", self._edit_message)
        app.router.add_get(p + "/channels/{channel}/messages/{message}", self._get_message)
        app.router.add_post(p + "/interactions/{id}/{token}/callback", self._callback)
        app.router.add_post(p + "/webhooks/{app}/{token}", self._followup)
        app.router.add_patch(p + "/webhooks/{app}/{token}/messages/{message}", self._edit_webhook)
        app.router.add_delete(
            p + "/webhooks/{app}/{token}/messages/{message}", self._delete_webhook
        )
        app.router.add_get("/attachments/{id}/{filename}", self._attachment)
        app.router.add_route("*", p + "/{tail:.*}", self._unknown)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = int(self._runner.addresses[0][1])

    async def close(self) -> None:
        """Drop every connection and stop listening."""
        for handle in self._deadline_checks:
            handle.cancel()
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        """The REST base, as discord.http.Route.BASE expects it."""
        return f"http://127.0.0.1:{self._port}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        """The websocket gateway URL."""
        return f"ws://127.0.0.1:{self._port}/gateway"

    @property
    def first_response_limit(self) -> float:
        """Discord's 3 seconds, in real seconds."""
        return FIRST_RESPONSE_SECONDS * self.time_scale

    # ---- guilds and shards ------------------------------------------------------------

    def add_guild(self, *, shard: int = 0, count: int = 1) -> FakeGuild:
        """A new guild (with its channel) whose events go to `shard` of `count`."""
        guild_id = guild_id_on_shard(shard, count)
        channel = payloads.text_channel(payloads.snowflake(), guild_id, "study-group")
        guild = FakeGuild(guild_id, channel)
        self.guilds[guild_id] = guild
        return guild

    def connected_shards(self) -> list[tuple[int, int]]:
        """(shard, count) of every open, identified gateway connection."""
        return [shard for ws, shard in self._sockets.items() if not ws.closed]

    async def drop_connections(self) -> None:
        """Close every gateway connection (the clients resume or reconnect)."""
        for ws in list(self._sockets):
            await ws.close()

    # ---- the users -------------------------------------------------------------------

    def user(self, name: str, *, permissions: int = payloads.MEMBER_PERMISSIONS) -> FakeUser:
        """A new member of the guild."""
        member = FakeUser(payloads.snowflake(), name, permissions)
        self.members[member.id] = member
        return member

    def users(self, count: int, prefix: str = "Player") -> list[FakeUser]:
        """`count` new members named Player 1, Player 2, ..."""
        return [self.user(f"{prefix} {i}") for i in range(1, count + 1)]

    async def slash(
        self,
        who: FakeUser,
        command: str,
        *,
        guild: FakeGuild | None = None,
        via: int | None = None,
        **options: Any,
    ) -> InteractionRecord:
        """Type a slash command ("quiz team join", name="Owls") and wait for the reply.

        A FakeUser as an option's value is a member picked in a user option; `guild`:
        typed there (default: the first guild). `via` sends the interaction to one
        gateway connection only (0: the first to identify), whatever its shard.
        """
        options = {
            name: payloads.MemberOption(v.payload, v.member) if isinstance(v, FakeUser) else v
            for name, v in options.items()
        }
        for value in options.values():
            if isinstance(value, payloads.FileOption):
                # the attachment's URL points here, where the bot downloads it from
                ident = value.attachment["id"]
                url = f"http://127.0.0.1:{self._port}/attachments/{ident}/{value.filename}"
                value.attachment.update(url=url, proxy_url=url)
                self.attachment_files[ident] = value.data
        data = payloads.command_options(command.split(), options)
        record = await self._send_interaction(2, who, data, guild=guild, via=via)
        await self._wait(record)
        return record

    async def autocomplete(self, who: FakeUser, command: str, **options: Any) -> list[Json]:
        """Type into an option marked with payloads.Focused; returns the offered choices."""
        data = payloads.command_options(command.split(), options)
        record = await self._send_interaction(4, who, data)
        await self._wait(record)
        return record.choices

    async def click(
        self,
        who: FakeUser,
        message_id: str,
        label: str,
        *,
        stale: bool = False,
        forged: bool = False,
        via: int | None = None,
    ) -> InteractionRecord:
        """Click the button labelled `label` on a message and wait for the reply.

        `stale` clicks it even if disabled, as a client showing an old copy of the
        message would. An ephemeral message can be clicked only by the user who sees
        it, unless the click is `forged` (a crafted request for someone else's message).
        """
        message = self.messages[message_id]
        self._check_visible(who, message, forged=forged)
        button = next((b for b in buttons(message) if b.get("label") == label), None)
        if button is None:
            raise AssertionError(f"no button {label!r} on message {message_id}")
        if button.get("disabled") and not stale:
            raise AssertionError(f"button {label!r} on message {message_id} is disabled")
        data = {"custom_id": button["custom_id"], "component_type": 2}
        record = await self._send_interaction(3, who, data, message, via=via)
        await self._wait(record)
        return record

    async def press(self, who: FakeUser, message: Json, custom_id: str) -> InteractionRecord:
        """Send a click on the button `custom_id` of `message` without waiting for the
        reply (benchmarks wait on `acknowledged` themselves)."""
        data = {"custom_id": custom_id, "component_type": 2}
        return await self._send_interaction(3, who, data, message)

    def post(self, guild: FakeGuild, body: Json) -> Json:
        """A message in the guild's channel as if the bot had posted it (for a client
        that posts nothing itself)."""
        return self._new_message(body, [], webhook=False, guild=guild)

    async def choose(
        self, who: FakeUser, message_id: str, labels: list[str], *, forged: bool = False
    ) -> InteractionRecord:
        """Pick options (by label) in the message's select menu and wait for the reply."""
        message = self.messages[message_id]
        self._check_visible(who, message, forged=forged)
        menus = selects(message)
        if not menus:
            raise AssertionError(f"no select menu on message {message_id}")
        menu = menus[0]
        by_label = {o["label"]: o["value"] for o in menu["options"]}
        if not menu.get("min_values", 1) <= len(labels) <= menu.get("max_values", 1):
            raise AssertionError(f"the menu does not allow {len(labels)} picks")
        data = {
            "custom_id": menu["custom_id"],
            "component_type": 3,
            "values": [by_label[label] for label in labels],
        }
        record = await self._send_interaction(3, who, data, message)
        await self._wait(record)
        return record

    def _check_visible(self, who: FakeUser, message: Json, *, forged: bool) -> None:
        viewer = self.viewers.get(str(message["id"]))
        if viewer is not None and viewer != who.id and not forged:
            raise AssertionError(f"{who.name} cannot see ephemeral message {message['id']}")

    # ---- direct messages -----------------------------------------------------------------

    def close_dms(self, who: FakeUser) -> None:
        """The user blocks the bot (or accepts DMs from friends only): sends get 50007."""
        self.closed_dms.add(who.id)

    def direct_messages(self, who: FakeUser) -> list[Json]:
        """The messages the bot sent the user in their DM channel, oldest first."""
        channels = {c for c, u in self.dm_channels.items() if u == who.id}
        return [m for m in self.messages.values() if m["channel_id"] in channels]

    # ---- what the channel shows ----------------------------------------------------------

    def channel_messages(self, guild: FakeGuild | None = None) -> list[Json]:
        """Messages visible to everyone in the channel (of `guild`, default the first
        guild's), oldest first, as last edited."""
        channel_id = guild.channel_id if guild is not None else self.channel_id
        return [
            m
            for m in self.messages.values()
            if m["channel_id"] == channel_id and not int(m.get("flags") or 0) & EPHEMERAL
        ]

    def bot_posts(self, guild: FakeGuild | None = None) -> list[Json]:
        """Messages the bot posted in the channel itself (not interaction replies)."""
        return [m for m in self.channel_messages(guild) if "webhook_id" not in m]

    def find(self, text: str) -> list[Json]:
        """Channel messages whose text contains `text`."""
        return [m for m in self.channel_messages() if text in message_text(m)]

    def attachments(self, message: Json) -> dict[str, Upload]:
        """The files attached to a message (as it is now), by file name."""
        return dict(self.files.get(str(message["id"]), {}))

    def calls_to(self, method: str, pattern: str) -> list[RestCall]:
        """Recorded calls with this method whose path matches a regex."""
        regex = re.compile(pattern)
        return [c for c in self.calls if c.method == method and regex.fullmatch(c.path)]

    # ---- faults ----------------------------------------------------------------------

    def rate_limit(
        self, method: str, pattern: str, *, retry_after: float = 0.05, times: int = 1
    ) -> None:
        """Answer the next matching request(s) with a 429, as Discord's edge does."""
        body = {
            "message": "You are being rate limited.",
            "retry_after": retry_after,
            "global": False,
        }
        headers = {"Via": "1.1 google", "Retry-After": str(retry_after)}
        self._faults.append(_Fault(method, re.compile(pattern), 429, body, headers, times))

    def forbid(self, method: str, pattern: str, *, times: int = 1) -> None:
        """Answer the next matching request(s) with 403 Missing Access."""
        body = {"code": 50001, "message": "Missing Access"}
        self._faults.append(_Fault(method, re.compile(pattern), 403, body, {}, times))

    def refuse_uploads(self, *, times: int = 1) -> None:
        """Answer the next request(s) carrying files, whatever the route, with 413, as
        Discord does for an attachment over the size limit."""
        body = {"code": 40005, "message": "Request entity too large"}
        any_route = re.compile(r".*")
        for method in ("POST", "PATCH"):
            self._faults.append(_Fault(method, any_route, 413, body, {}, times, uploads_only=True))

    # ---- gateway -----------------------------------------------------------------------

    async def dispatch(
        self, event: str, data: Json, *, via: int | None = None
    ) -> list[tuple[int, int]]:
        """Send a DISPATCH event to the connections of its guild's shard (every
        connection, for an event of no guild), or only to the `via`-th connection;
        returns the (shard, count) of each connection it went to."""
        self._seq += 1
        frame = json.dumps({"op": 0, "t": event, "s": self._seq, "d": data})
        guild = data.get("guild_id")
        sockets = list(self._sockets.items())
        if via is not None:
            sockets = [sockets[via]]
        sent = []
        for ws, (shard, count) in sockets:
            routed = via is not None or guild is None or (int(guild) >> 22) % count == shard
            if ws.closed or not routed:
                continue
            await ws.send_str(frame)
            sent.append((shard, count))
        return sent

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 41250}}))
        try:
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    continue
                frame = json.loads(msg.data)
                op = frame.get("op")
                if op == 1:
                    await ws.send_str(json.dumps({"op": 11}))
                elif op == 2:
                    if frame["d"].get("token") != self.token:
                        await ws.close(code=4004, message=b"Authentication failed.")
                        break
                    shard, count = frame["d"].get("shard") or (0, 1)
                    if not 0 <= shard < count:
                        await ws.close(code=4010, message=b"Invalid shard.")
                        break
                    await self._identify(ws, shard, count)
        finally:
            self._sockets.pop(ws, None)
        return ws

    async def _identify(self, ws: web.WebSocketResponse, shard: int, count: int) -> None:
        self._sockets[ws] = (shard, count)
        self.identifies.append((shard, count))
        mine = [g for g in self.guilds.values() if g.shard(count) == shard]
        ready = {
            "v": 10,
            "user": self.bot_user,
            "guilds": [{"id": g.id, "unavailable": True} for g in mine],
            "session_id": secrets.token_hex(16),
            "resume_gateway_url": self.gateway_url,
            "shard": [shard, count],
            "application": {"id": self.app_id, "flags": 0},
        }
        self._seq += 1
        await ws.send_str(json.dumps({"op": 0, "t": "READY", "s": self._seq, "d": ready}))
        bot_member = payloads.member(self.bot_user)
        for g in mine:
            guild = payloads.guild(g.id, "Study Group", self.owner.id, [g.channel], [bot_member])
            self._seq += 1
            frame = {"op": 0, "t": "GUILD_CREATE", "s": self._seq, "d": guild}
            await ws.send_str(json.dumps(frame))
        self.identified.set()

    # ---- interactions ------------------------------------------------------------------

    async def _send_interaction(
        self,
        kind: int,
        who: FakeUser,
        data: Json,
        message: Json | None = None,
        *,
        guild: FakeGuild | None = None,
        via: int | None = None,
    ) -> InteractionRecord:
        if guild is None:
            guild_id = message.get("guild_id") if message is not None else None
            guild = self.guilds[str(guild_id or self.guild_id)]
        loop = asyncio.get_running_loop()
        interaction_id = payloads.snowflake()
        token = "itok-" + secrets.token_hex(12)
        now = loop.time()
        record = InteractionRecord(
            id=interaction_id,
            token=token,
            kind=kind,
            user=who,
            sent_at=now,
            deadline=now + self.first_response_limit,
            message_id=message["id"] if message is not None else None,
            guild=guild,
        )
        self.interactions[interaction_id] = record
        self._by_token[token] = record
        self._deadline_checks.append(loop.call_at(record.deadline, self._check_deadline, record))
        payload = payloads.interaction(
            interaction_id=interaction_id,
            token=token,
            kind=kind,
            app_id=self.app_id,
            guild_id=guild.id,
            channel=guild.channel,
            member_payload=who.member,
            data=data,
            message_payload=message,
        )
        record.sent_at = loop.time()
        record.delivered_to = await self.dispatch("INTERACTION_CREATE", payload, via=via)
        return record

    def _check_deadline(self, record: InteractionRecord) -> None:
        if record.first_response_at is None:
            self.violations.append(
                f"interaction {record.id} by {record.user.name} got no response within 3 s"
            )
            record.answered.set()  # wake the waiting test; it fails on the violation

    async def _wait(self, record: InteractionRecord) -> None:
        # a followup may take longer than the first response; allow a generous multiple
        timeout = max(5.0, 10 * self.first_response_limit)
        try:
            await asyncio.wait_for(record.answered.wait(), timeout)
        except TimeoutError:
            raise AssertionError(
                f"interaction {record.id} by {record.user.name} got no reply in {timeout} s"
            ) from None
        if self.violations:
            raise AssertionError("; ".join(self.violations))

    async def _callback(self, request: web.Request) -> web.StreamResponse:
        record = self.interactions.get(request.match_info["id"])
        if record is None or record.token != request.match_info["token"]:
            return _error(404, 10062, "Unknown interaction")
        now = asyncio.get_running_loop().time()
        if record.callbacks:
            return _error(400, 40060, "Interaction has already been acknowledged.")
        if now > record.deadline:
            self.violations.append(
                f"interaction {record.id} by {record.user.name} answered after "
                f"{(now - record.sent_at) / self.time_scale:.1f} s"
            )
            return _error(404, 10062, "Unknown interaction")
        body, files = await _read_body(request)
        assert isinstance(body, dict)
        if self.on_first_response is not None:
            await self.on_first_response(record)
        record.callbacks.append(body)
        record.first_response_at = now
        record.acknowledged.set()
        kind = body["type"]
        data = body.get("data") or {}
        resource: Json = {"type": kind}
        ephemeral = bool(int(data.get("flags") or 0) & EPHEMERAL)
        response_message_id: str | None = None
        if kind in (MESSAGE, DEFERRED_MESSAGE):
            flags = int(data.get("flags") or 0) | (LOADING if kind == DEFERRED_MESSAGE else 0)
            message = self._new_message(
                {**data, "flags": flags}, files, webhook=True, guild=record.guild
            )
            if ephemeral:
                self.viewers[message["id"]] = record.user.id
            record.original = message
            response_message_id = message["id"]
            resource["message"] = message
            if kind == MESSAGE:
                record.answered.set()
        elif kind == UPDATE_MESSAGE:
            interaction_message = self._message_of(record)
            if interaction_message is not None:
                self._apply_edit(interaction_message, data)
                resource["message"] = interaction_message
            record.answered.set()
        elif kind == AUTOCOMPLETE:
            record.choices = list(data.get("choices") or [])
            record.answered.set()
        interaction: Json = {
            "id": record.id,
            "type": record.kind,
            "response_message_loading": kind == DEFERRED_MESSAGE,
            "response_message_ephemeral": ephemeral,
        }
        if response_message_id is not None:
            interaction["response_message_id"] = response_message_id
        result: Json = {"interaction": interaction}
        if "message" in resource:
            result["resource"] = resource
        return _json(result)

    def _message_of(self, record: InteractionRecord) -> Json | None:
        return self.messages.get(record.message_id) if record.message_id else None

    def _original(self, record: InteractionRecord) -> Json | None:
        """What @original names: the response message, or after a component's deferred
        update the message the component is on."""
        if record.original is not None:
            return record.original
        if record.callbacks and record.callbacks[0]["type"] == DEFERRED_UPDATE:
            return self._message_of(record)
        return None

    async def _followup(self, request: web.Request) -> web.StreamResponse:
        record = self._by_token.get(request.match_info["token"])
        if record is None:
            return _error(401, 50027, "Invalid Webhook Token")
        if not record.callbacks:
            return _error(404, 10015, "Unknown Webhook")
        body, files = await _read_body(request)
        assert isinstance(body, dict)
        message = self._new_message(body, files, webhook=True, guild=record.guild)
        if int(body.get("flags") or 0) & EPHEMERAL:
            self.viewers[message["id"]] = record.user.id
        record.followups.append(message)
        record.answered.set()
        return _json(message)

    async def _edit_webhook(self, request: web.Request) -> web.StreamResponse:
        record = self._by_token.get(request.match_info["token"])
        if record is None:
            return _error(401, 50027, "Invalid Webhook Token")
        body, files = await _read_body(request)
        assert isinstance(body, dict)
        target = request.match_info["message"]
        message = self._original(record) if target == "@original" else self.messages.get(target)
        if message is None:
            return _error(404, 10008, "Unknown Message")
        message["flags"] = int(message.get("flags") or 0) & ~LOADING
        self._apply_edit(message, body, files)
        record.answered.set()
        return _json(message)

    async def _delete_webhook(self, request: web.Request) -> web.StreamResponse:
        record = self._by_token.get(request.match_info["token"])
        if record is None:
            return _error(401, 50027, "Invalid Webhook Token")
        target = request.match_info["message"]
        message = record.original if target == "@original" else self.messages.get(target)
        if message is None:
            return _error(404, 10008, "Unknown Message")
        self.messages.pop(message["id"], None)
        if message is record.original:
            record.original = None
        return web.Response(status=204)

    # ---- REST --------------------------------------------------------------------------

    @web.middleware
    async def _record(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if request.path == "/gateway":
            return await handler(request)
        path = request.path.removeprefix(API_PREFIX)
        body, files = await _read_body(request)
        names = [f.filename for f in files]
        call = RestCall(request.method, path, dict(request.query), body, names, uploads=files)
        self.calls.append(call)
        rule = self.faults.take(f"{request.method} {path}")
        if rule is not None:
            return await _inject(request, call, rule)
        for fault in self._faults:
            if fault.uploads_only and not files:
                continue
            if fault.times > 0 and fault.method == request.method and fault.pattern.fullmatch(path):
                fault.times -= 1
                call.status = fault.status
                return _json(fault.body, status=fault.status, headers=fault.headers)
        if (
            not request.path.startswith(API_PREFIX + "/interactions/")
            and request.headers.get("Authorization") != f"Bot {self.token}"
            and not path.startswith("/webhooks/")
            and not path.startswith("/attachments/")  # the CDN needs no token
        ):
            call.status = 401
            return _error(401, 0, "401: Unauthorized")
        response = await handler(request)
        call.status = response.status
        return response

    async def _me(self, request: web.Request) -> web.StreamResponse:
        return _json(self.bot_user)

    async def _application(self, request: web.Request) -> web.StreamResponse:
        return _json(payloads.application(self.app_id, self.owner.payload))

    async def _sync_commands(self, request: web.Request) -> web.StreamResponse:
        body, _ = await _read_body(request)
        assert isinstance(body, list)
        guild = request.match_info.get("guild")
        synced = [
            {
                **command,
                "id": payloads.snowflake(),
                "application_id": self.app_id,
                "version": payloads.snowflake(),
                "default_member_permissions": command.get("default_member_permissions"),
                **({"guild_id": guild} if guild else {}),
            }
            for command in body
        ]
        self.commands[guild] = synced
        return _json(synced)

    async def _gateway_bot(self, request: web.Request) -> web.StreamResponse:
        return _json(
            {
                "url": self.advertised_gateway_url or self.gateway_url,
                "shards": self.recommended_shards,
                "session_start_limit": self.session_start_limit,
            }
        )

    def _guild_of_channel(self, channel_id: str) -> FakeGuild | None:
        return next((g for g in self.guilds.values() if g.channel_id == channel_id), None)

    async def _get_channel(self, request: web.Request) -> web.StreamResponse:
        guild = self._guild_of_channel(request.match_info["channel"])
        if guild is None:
            return _error(404, 10003, "Unknown Channel")
        return _json(guild.channel)

    async def _create_message(self, request: web.Request) -> web.StreamResponse:
        channel = request.match_info["channel"]
        recipient = self.dm_channels.get(channel)
        guild = self._guild_of_channel(channel)
        if guild is None and recipient is None:
            return _error(404, 10003, "Unknown Channel")
        if recipient in self.closed_dms:
            return _error(403, 50007, "Cannot send messages to this user")
        body, files = await _read_body(request)
        assert isinstance(body, dict)
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce"):
            earlier = self._nonces.get((channel, str(nonce)))
            if earlier is not None and earlier in self.messages:
                return _json(self.messages[earlier])
        message = self._new_message(body, files, webhook=False, guild=guild, channel_id=channel)
        if nonce is not None:
            self._nonces[(channel, str(nonce))] = message["id"]
        return _json(message)

    async def _open_dm(self, request: web.Request) -> web.StreamResponse:
        body, _ = await _read_body(request)
        assert isinstance(body, dict)
        member = self.members.get(str(body.get("recipient_id")))
        if member is None:
            return _error(400, 50035, "Invalid Form Body")
        # opening a DM channel succeeds even when the user refuses DMs: sending fails
        channel_id = next((c for c, u in self.dm_channels.items() if u == member.id), None)
        if channel_id is None:
            channel_id = payloads.snowflake()
            self.dm_channels[channel_id] = member.id
        return _json(
            {"id": channel_id, "type": 1, "last_message_id": None, "recipients": [member.payload]}
        )

    async def _edit_message(self, request: web.Request) -> web.StreamResponse:
        message = self.messages.get(request.match_info["message"])
        if message is None or message["channel_id"] != request.match_info["channel"]:
            return _error(404, 10008, "Unknown Message")
        if message["author"]["id"] != self.app_id:
            return _error(403, 50005, "Cannot edit a message authored by another user")
        body, files = await _read_body(request)
        assert isinstance(body, dict)
        self._apply_edit(message, body, files)
        return _json(message)

    async def _get_message(self, request: web.Request) -> web.StreamResponse:
        message = self.messages.get(request.match_info["message"])
        if message is None:
            return _error(404, 10008, "Unknown Message")
        return _json(message)

    async def _attachment(self, request: web.Request) -> web.StreamResponse:
        data = self.attachment_files.get(request.match_info["id"])
        if data is None:
            return _error(404, 0, "404: Not Found")
        return web.Response(body=data, content_type="application/octet-stream")

    async def _unknown(self, request: web.Request) -> web.StreamResponse:
        return _error(404, 0, f"404: Not Found ({request.method} {request.path})")

    def _new_message(
        self,
        body: Json,
        files: list[Upload],
        *,
        webhook: bool,
        guild: FakeGuild | None = None,
        channel_id: str | None = None,
    ) -> Json:
        guild = guild or self.guilds[self.guild_id]
        attachments = [payloads.attachment(f.filename, len(f.data), f.content_type) for f in files]
        in_dm = channel_id is not None and channel_id in self.dm_channels
        message = payloads.message(
            payloads.snowflake(),
            channel_id or guild.channel_id,
            None if in_dm else guild.id,
            self.bot_user,
            body,
            attachments=attachments,
            webhook_id=self.app_id if webhook else None,
            application_id=self.app_id if webhook else None,
        )
        self.messages[message["id"]] = message
        self.files[message["id"]] = {f.filename: f for f in files}
        return message

    def _apply_edit(self, message: Json, body: Json, files: list[Upload] | None = None) -> None:
        self.edits.setdefault(message["id"], []).append(body)
        if "attachments" in body or files:
            # the edit lists the attachments to keep by id; new files come as parts
            keep = {str(a.get("id")) for a in body.get("attachments") or []}
            kept = [a for a in message.get("attachments") or [] if str(a["id"]) in keep]
            old = self.files.get(message["id"], {})
            new = list(files or [])
            message["attachments"] = kept + [
                payloads.attachment(f.filename, len(f.data), f.content_type) for f in new
            ]
            self.files[message["id"]] = {
                **{a["filename"]: old[a["filename"]] for a in kept if a["filename"] in old},
                **{f.filename: f for f in new},
            }
        for key in ("content", "embeds", "components"):
            if key in body:
                message[key] = (
                    body[key] if body[key] is not None else ([] if key != "content" else "")
                )
        if "flags" in body and body["flags"] is not None:
            message["flags"] = int(body["flags"])
        message["edited_timestamp"] = payloads.iso_now()


_Body = tuple[Json | list[Any] | None, list[Upload]]
_BODY = web.RequestKey[_Body]("fake_body", tuple)


async def _read_body(request: web.Request) -> _Body:
    """The JSON body of a request, from plain JSON or the payload_json of a multipart one."""
    if _BODY in request:
        return request[_BODY]
    body: Json | list[Any] | None = None
    files: list[Upload] = []
    if request.content_type.startswith("multipart/"):
        form = await request.post()
        raw = form.get("payload_json")
        if isinstance(raw, str):
            body = json.loads(raw)
        files = [
            Upload(value.filename, value.file.read(), value.content_type)
            for key, value in form.items()
            if key.startswith("files[") and isinstance(value, web.FileField)
        ]
    elif request.can_read_body:
        text = await request.text()
        body = json.loads(text) if text else None
    request[_BODY] = (body, files)
    return body, files


async def _inject(request: web.Request, call: RestCall, rule: FaultRule) -> web.StreamResponse:
    """Answer a request as the rule says, without carrying it out."""
    call.status = rule.kind if isinstance(rule.kind, int) else 0
    dropped = await hang_or_drop(request, rule)
    if dropped is not None:
        return dropped
    if rule.kind == 429:
        body = {"message": "You are being rate limited.", "retry_after": rule.retry_after}
        headers = {"Via": "1.1 google", "Retry-After": str(rule.retry_after)}
        return _json({**body, "global": False}, status=429, headers=headers)
    return _json({"code": 0, "message": f"{rule.kind}: Server Error"}, status=int(rule.kind))


def _json(data: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # discord.py parses JSON only when Content-Type is exactly application/json
    # (aiohttp's json_response would add "; charset=utf-8")
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    return web.Response(body=json.dumps(data).encode(), status=status, headers=all_headers)


def _error(status: int, code: int, message: str) -> web.Response:
    return _json({"code": code, "message": message}, status=status)
