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
    first_response_at: float | None = None
    answered: asyncio.Event = field(default_factory=asyncio.Event)

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
    """The fake server: one guild, one text channel, users added on demand."""

    def __init__(
        self, *, time_scale: float = 0.3, token: str = "ZmFrZS1ib3Q.ZmFrZQ.ZmFrZS1ib3QtdG9rZW4"
    ) -> None:
        self.time_scale = time_scale
        self.token = token
        self.app_id = payloads.snowflake()
        self.bot_user = payloads.user(self.app_id, "Quiz Bot", bot=True)
        self.owner = FakeUser(payloads.snowflake(), "Owner", payloads.MEMBER_PERMISSIONS)
        self.guild_id = payloads.snowflake()
        self.channel_id = payloads.snowflake()
        self.channel = payloads.text_channel(self.channel_id, self.guild_id, "study-group")
        self.calls: list[RestCall] = []
        self.messages: dict[str, Json] = {}  # visible messages by id, latest state, in order
        self.edits: dict[str, list[Json]] = {}  # PATCH bodies per message id
        self.files: dict[str, dict[str, Upload]] = {}  # message id -> attached files by name
        self.interactions: dict[str, InteractionRecord] = {}
        self.commands: dict[str | None, list[Json]] = {}  # synced commands per guild (None: global)
        self.violations: list[str] = []
        self.identified = asyncio.Event()
        self._by_token: dict[str, InteractionRecord] = {}
        self._faults: list[_Fault] = []
        self.faults = Faults()
        self._nonces: dict[tuple[str, str], str] = {}  # (channel, nonce) -> message id
        self._sockets: list[web.WebSocketResponse] = []
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
        app.router.add_get(p + "/oauth2/applications/@me", self._application)
        app.router.add_put(p + "/applications/{app}/commands", self._sync_commands)
        app.router.add_put(p + "/applications/{app}/guilds/{guild}/commands", self._sync_commands)
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

    # ---- the users -------------------------------------------------------------------

    def user(self, name: str, *, permissions: int = payloads.MEMBER_PERMISSIONS) -> FakeUser:
        """A new member of the guild."""
        return FakeUser(payloads.snowflake(), name, permissions)

    def users(self, count: int, prefix: str = "Player") -> list[FakeUser]:
        """`count` new members named Player 1, Player 2, ..."""
        return [self.user(f"{prefix} {i}") for i in range(1, count + 1)]

    async def slash(self, who: FakeUser, command: str, **options: Any) -> InteractionRecord:
        """Type a slash command ("quiz team join", name="Owls") and wait for the reply.

        A FakeUser as an option's value is a member picked in a user option.
        """
        options = {
            name: payloads.MemberOption(v.payload, v.member) if isinstance(v, FakeUser) else v
            for name, v in options.items()
        }
        data = payloads.command_options(command.split(), options)
        record = await self._send_interaction(2, who, data)
        await self._wait(record)
        return record

    async def autocomplete(self, who: FakeUser, command: str, **options: Any) -> list[Json]:
        """Type into an option marked with payloads.Focused; returns the offered choices."""
        data = payloads.command_options(command.split(), options)
        record = await self._send_interaction(4, who, data)
        await self._wait(record)
        return record.choices

    async def click(
        self, who: FakeUser, message_id: str, label: str, *, stale: bool = False
    ) -> InteractionRecord:
        """Click the button labelled `label` on a message and wait for the reply.

        `stale` clicks it even if disabled, as a client showing an old copy of the
        message would.
        """
        message = self.messages[message_id]
        button = next((b for b in buttons(message) if b.get("label") == label), None)
        if button is None:
            raise AssertionError(f"no button {label!r} on message {message_id}")
        if button.get("disabled") and not stale:
            raise AssertionError(f"button {label!r} on message {message_id} is disabled")
        data = {"custom_id": button["custom_id"], "component_type": 2}
        record = await self._send_interaction(3, who, data, message)
        await self._wait(record)
        return record

    async def choose(self, who: FakeUser, message_id: str, labels: list[str]) -> InteractionRecord:
        """Pick options (by label) in the message's select menu and wait for the reply."""
        message = self.messages[message_id]
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

    # ---- what the channel shows ----------------------------------------------------------

    def channel_messages(self) -> list[Json]:
        """Messages visible to everyone in the channel, oldest first, as last edited."""
        return [
            m
            for m in self.messages.values()
            if m["channel_id"] == self.channel_id and not int(m.get("flags") or 0) & EPHEMERAL
        ]

    def bot_posts(self) -> list[Json]:
        """Messages the bot posted in the channel itself (not interaction replies)."""
        return [m for m in self.channel_messages() if "webhook_id" not in m]

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

    async def dispatch(self, event: str, data: Json) -> None:
        """Send a DISPATCH event to every identified connection."""
        self._seq += 1
        frame = json.dumps({"op": 0, "t": event, "s": self._seq, "d": data})
        for ws in list(self._sockets):
            if not ws.closed:
                await ws.send_str(frame)

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
                    await self._identify(ws)
        finally:
            if ws in self._sockets:
                self._sockets.remove(ws)
        return ws

    async def _identify(self, ws: web.WebSocketResponse) -> None:
        self._sockets.append(ws)
        ready = {
            "v": 10,
            "user": self.bot_user,
            "guilds": [{"id": self.guild_id, "unavailable": True}],
            "session_id": secrets.token_hex(16),
            "resume_gateway_url": self.gateway_url,
            "shard": [0, 1],
            "application": {"id": self.app_id, "flags": 0},
        }
        self._seq += 1
        await ws.send_str(json.dumps({"op": 0, "t": "READY", "s": self._seq, "d": ready}))
        bot_member = payloads.member(self.bot_user)
        guild = payloads.guild(
            self.guild_id, "Study Group", self.owner.id, [self.channel], [bot_member]
        )
        self._seq += 1
        await ws.send_str(json.dumps({"op": 0, "t": "GUILD_CREATE", "s": self._seq, "d": guild}))
        self.identified.set()

    # ---- interactions ------------------------------------------------------------------

    async def _send_interaction(
        self, kind: int, who: FakeUser, data: Json, message: Json | None = None
    ) -> InteractionRecord:
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
        )
        self.interactions[interaction_id] = record
        self._by_token[token] = record
        self._deadline_checks.append(loop.call_at(record.deadline, self._check_deadline, record))
        payload = payloads.interaction(
            interaction_id=interaction_id,
            token=token,
            kind=kind,
            app_id=self.app_id,
            guild_id=self.guild_id,
            channel=self.channel,
            member_payload=who.member,
            data=data,
            message_payload=message,
        )
        await self.dispatch("INTERACTION_CREATE", payload)
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
        record.callbacks.append(body)
        record.first_response_at = now
        kind = body["type"]
        data = body.get("data") or {}
        resource: Json = {"type": kind}
        ephemeral = bool(int(data.get("flags") or 0) & EPHEMERAL)
        response_message_id: str | None = None
        if kind in (MESSAGE, DEFERRED_MESSAGE):
            flags = int(data.get("flags") or 0) | (LOADING if kind == DEFERRED_MESSAGE else 0)
            message = self._new_message({**data, "flags": flags}, files, webhook=True)
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

    async def _followup(self, request: web.Request) -> web.StreamResponse:
        record = self._by_token.get(request.match_info["token"])
        if record is None:
            return _error(401, 50027, "Invalid Webhook Token")
        if not record.callbacks:
            return _error(404, 10015, "Unknown Webhook")
        body, files = await _read_body(request)
        assert isinstance(body, dict)
        message = self._new_message(body, files, webhook=True)
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
        message = record.original if target == "@original" else self.messages.get(target)
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

    async def _get_channel(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["channel"] != self.channel_id:
            return _error(404, 10003, "Unknown Channel")
        return _json(self.channel)

    async def _create_message(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["channel"] != self.channel_id:
            return _error(404, 10003, "Unknown Channel")
        body, files = await _read_body(request)
        assert isinstance(body, dict)
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce"):
            earlier = self._nonces.get((self.channel_id, str(nonce)))
            if earlier is not None and earlier in self.messages:
                return _json(self.messages[earlier])
        message = self._new_message(body, files, webhook=False)
        if nonce is not None:
            self._nonces[(self.channel_id, str(nonce))] = message["id"]
        return _json(message)

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

    async def _unknown(self, request: web.Request) -> web.StreamResponse:
        return _error(404, 0, f"404: Not Found ({request.method} {request.path})")

    def _new_message(self, body: Json, files: list[Upload], *, webhook: bool) -> Json:
        attachments = [payloads.attachment(f.filename, len(f.data), f.content_type) for f in files]
        message = payloads.message(
            payloads.snowflake(),
            self.channel_id,
            self.guild_id,
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
