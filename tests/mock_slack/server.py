"""A local mock of the Slack Web API: an aiohttp server on 127.0.0.1 that records every call.

It answers what the bot uses (auth.test, apps.connections.open, chat.postMessage,
chat.update, chat.postEphemeral, users.info, conversations.open) under /api/, and the
response_url of every request the tests send under /response/: a response_url of a
click replaces or deletes the clicked message with `replace_original` /
`delete_original`, ephemeral ones included, and works five times, as Slack's does. It
keeps the channel's messages as Slack would show them (chat.update applied), so tests
can assert what a user sees, and it can answer a method with 429 and Retry-After, or
with an error, a given number of times. `faults` fails requests on a pattern (429, 5xx,
timeouts, dropped connections: tests/faults.py); the key of a request is its Web API
method, or "response_url".
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.faults import FaultRule, Faults, hang_or_drop

TEAM_ID = "T0QUIZ"
TEAM_NAME = "Study Group"
BOT_USER_ID = "U0BOT"


@dataclass
class Call:
    """One request the mock received."""

    method: str  # a Web API method, or "response_url"
    params: dict[str, Any]
    at: float  # event-loop time it arrived
    status: int = 200
    token: str | None = None
    path: str = ""


@dataclass
class Message:
    """A channel message as members see it now (after any chat.update)."""

    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    edits: int = 0
    files: list[str] = field(default_factory=list)  # ids of files shared with the message
    history: list[list[dict[str, Any]]] = field(default_factory=list)  # blocks, post + edits
    history_text: str = ""  # the notification text it was posted with

    @property
    def has_buttons(self) -> bool:
        """Whether the message offers answer controls now."""
        return has_actions(self.blocks)

    @property
    def plain(self) -> str:
        """Every text of the message's blocks, one per line, for assertions."""
        return blocks_text(self.blocks) or self.text


@dataclass
class Ephemeral:
    """A message only one user sees: by chat.postEphemeral or a response_url."""

    channel: str
    user: str
    text: str
    blocks: list[dict[str, Any]]
    via: str  # "chat.postEphemeral" or "response_url"
    ts: str = ""
    key: str = ""  # the response_url that posted it (a command's or a click's)
    replaced: int = 0  # times a response_url replaced it
    deleted: bool = False

    @property
    def plain(self) -> str:
        """The text a user reads."""
        return blocks_text(self.blocks) or self.text


@dataclass
class Upload:
    """A file shared in three steps: getUploadURLExternal, the upload, completeUploadExternal."""

    file_id: str
    data: bytes = b""
    channel: str | None = None
    title: str = ""
    comment: str = ""
    alt: str = ""  # the text alternative (alt_txt) a screen reader reads


@dataclass
class HostedFile:
    """A file a member uploaded to Slack (e.g. in a modal's file input)."""

    file_id: str
    name: str
    data: bytes
    size: int  # as files.info tells it

    def info(self, port: int) -> dict[str, Any]:
        """The file object of files.info."""
        url = f"http://127.0.0.1:{port}/files-pri/{TEAM_ID}-{self.file_id}/{self.name}"
        return {"id": self.file_id, "name": self.name, "size": self.size, "url_private": url}


@dataclass
class _Fault:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def has_actions(blocks: list[dict[str, Any]]) -> bool:
    """Whether Block Kit blocks hold an actions block (buttons, checkboxes)."""
    return any(block.get("type") == "actions" for block in blocks)


def blocks_text(blocks: list[dict[str, Any]]) -> str:
    """All human-readable text in Block Kit blocks, in order, one piece per line."""
    out: list[str] = []

    def text_of(obj: Any) -> None:
        if isinstance(obj, dict):
            if obj.get("type") in ("mrkdwn", "plain_text") and isinstance(obj.get("text"), str):
                out.append(obj["text"])
                return
            for key in ("text", "fields", "elements", "options", "accessory"):
                if key in obj:
                    text_of(obj[key])
        elif isinstance(obj, list):
            for item in obj:
                text_of(item)

    text_of(blocks)
    return "\n".join(out)


class MockSlack:
    """The mock Web API server; `start()` it, point the client at `base_url`."""

    def __init__(self, *, team_id: str = TEAM_ID, bot_user_id: str = BOT_USER_ID) -> None:
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.calls: list[Call] = []
        self.messages: dict[tuple[str, str], Message] = {}
        self.ephemerals: list[Ephemeral] = []
        self.users: dict[str, dict[str, Any]] = {}
        self.uploads: dict[str, Upload] = {}
        self.hosted: dict[str, HostedFile] = {}  # files members uploaded, by id
        self.views: list[dict[str, Any]] = []  # views.open calls' views, in order
        self.bot_token: str | None = None  # the token private file URLs require, if set
        self._faults: dict[str, deque[_Fault]] = defaultdict(deque)
        # response_url key -> the message the click came from (what replace_original edits)
        self.clicked: dict[str, Message | Ephemeral] = {}
        self.dm_refusals: dict[str, str] = {}  # user id -> the error a DM to them gets
        self._response_uses: dict[str, int] = defaultdict(int)
        self._request_ids = itertools.count(1)  # shared by every sender: unique response_urls
        self.faults = Faults()
        self.refused_tokens: set[str] = set()  # tokens answered with invalid_auth
        self._ts = itertools.count(1)
        self._changed: asyncio.Condition | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ---- life cycle ------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on 127.0.0.1 on a free port."""
        self._changed = asyncio.Condition()
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{channel}/{user}/{key}", self._response_url)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/files-pri/{team_file}/{name}", self._private_file)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def close(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        """The Web API base URL, for AsyncWebClient(base_url=...)."""
        return f"http://127.0.0.1:{self.port}/api/"

    def request_id(self) -> int:
        """A number no other request sent to any app process has had."""
        return next(self._request_ids)

    def ephemeral_from(self, response_url: str) -> Ephemeral | None:
        """The ephemeral message a response_url posted, if it did."""
        key = response_url.rsplit("/", 1)[-1]
        return next((e for e in self.ephemerals if e.key == key), None)

    def response_url(self, channel: str, user: str, key: str) -> str:
        """A response_url for one request the tests send on behalf of `user`."""
        return f"http://127.0.0.1:{self.port}/response/{channel}/{user}/{key}"

    # ---- set-up ------------------------------------------------------------------------

    def add_user(
        self, user_id: str, name: str, *, admin: bool = False, owner: bool = False
    ) -> None:
        """A workspace member that users.info knows."""
        self.users[user_id] = {
            "id": user_id,
            "team_id": self.team_id,
            "name": name,
            "real_name": name.title(),
            "is_admin": admin or owner,
            "is_owner": owner,
            "is_primary_owner": False,
            "is_bot": False,
            "profile": {"display_name": name, "real_name": name.title()},
        }

    def host_file(self, name: str, data: bytes, *, size: int | None = None) -> str:
        """A file a member uploaded; its id. `size` is what files.info will claim."""
        file_id = f"F{self._next_ts().split('.')[1]}UP"
        self.hosted[file_id] = HostedFile(file_id, name, data, len(data) if size is None else size)
        return file_id

    def rate_limit(self, method: str, *, times: int = 1, retry_after: str = "0.2") -> None:
        """Answer the next `times` calls of `method` with 429 and Retry-After."""
        for _ in range(times):
            self._faults[method].append(
                _Fault(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": retry_after})
            )

    def refuse_dms(self, user_id: str, error: str = "cannot_dm_bot") -> None:
        """DMs to the user fail: conversations.open with `error` (cannot_dm_bot,
        user_disabled, ...), or chat.postMessage for messages_tab_disabled."""
        self.dm_refusals[user_id] = error

    def dm_channel(self, user_id: str) -> str:
        """The id of the bot's DM conversation with a user."""
        return f"D{user_id}"

    def direct_messages(self, user_id: str) -> list[Message]:
        """What the bot posted in its DM with a user."""
        return self.channel_messages(self.dm_channel(user_id))

    def fail(self, method: str, error: str, *, times: int = 1) -> None:
        """Answer the next `times` calls of `method` with ok=false and `error`."""
        for _ in range(times):
            self._faults[method].append(_Fault(200, {"ok": False, "error": error}))

    # ---- what happened -------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        """Calls of one method (answered or refused), in order."""
        return [c for c in self.calls if c.method == method]

    def channel_messages(self, channel: str) -> list[Message]:
        """A channel's messages in posting order, as they look now."""
        return [m for (ch, _), m in self.messages.items() if ch == channel]

    def last_message(self, channel: str) -> Message:
        """The newest message of a channel."""
        messages = self.channel_messages(channel)
        assert messages, f"no message in {channel}"
        return messages[-1]

    def ephemerals_for(self, user: str) -> list[Ephemeral]:
        """What only `user` was shown, in order."""
        return [e for e in self.ephemerals if e.user == user]

    async def wait_for(self, predicate: Callable[[], bool], seconds: float = 5.0) -> None:
        """Wait until `predicate()` holds; it is checked after every call the mock records."""
        assert self._changed is not None
        async with asyncio.timeout(seconds), self._changed:
            await self._changed.wait_for(predicate)

    async def wait_for_ephemerals(self, user: str, count: int, seconds: float = 5.0) -> list[str]:
        """Wait until `user` has `count` ephemeral messages; their texts."""
        await self.wait_for(lambda: len(self.ephemerals_for(user)) >= count, seconds)
        return [e.plain for e in self.ephemerals_for(user)]

    # ---- handlers ------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                params.update(await request.json())
            else:
                params.update(await request.post())
        token = request.headers.get("Authorization", "").removeprefix("Bearer ") or None
        call = Call(method, params, asyncio.get_running_loop().time(), token=token)
        rule = self.faults.take(method)
        if rule is not None:
            return await self._inject(request, call, rule)
        faults = self._faults.get(method)
        if faults:
            fault = faults.popleft()
            call.status = fault.status
            await self._record(call)
            return web.json_response(fault.body, status=fault.status, headers=fault.headers)
        if token in self.refused_tokens:
            body: dict[str, Any] = {"ok": False, "error": "invalid_auth"}
        else:
            body = self._answer(method, params)
        await self._record(call)
        return web.json_response(body)

    async def _inject(
        self, request: web.Request, call: Call, rule: FaultRule
    ) -> web.StreamResponse:
        """Answer a request as the rule says, without carrying it out."""
        call.status = rule.kind if isinstance(rule.kind, int) else 0
        await self._record(call)
        dropped = await hang_or_drop(request, rule)
        if dropped is not None:
            return dropped
        if rule.kind == 429:
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(rule.retry_after)},
            )
        # Slack's edge answers 5xx with a plain page, not the API's JSON
        return web.Response(status=int(rule.kind), text="upstream error", content_type="text/html")

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://study.example/",
                "team": TEAM_NAME,
                "user": "quizbot",
                "team_id": self.team_id,
                "user_id": self.bot_user_id,
                "bot_id": "B0BOT",
            }
        if method == "apps.connections.open":
            # no websocket is served there: a Socket Mode client never gets connected
            return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/socket-mode"}
        if method == "conversations.open":
            user = str(params.get("users", ""))
            error = self.dm_refusals.get(user)
            if error is not None and error != "messages_tab_disabled":
                return {"ok": False, "error": error}
            if user not in self.users:
                return {"ok": False, "error": "user_not_found"}
            return {"ok": True, "channel": {"id": self.dm_channel(user), "is_im": True}}
        if method == "chat.postMessage":
            ts = self._next_ts()
            channel = str(params["channel"])
            recipient = channel[1:] if channel.startswith("D") else None
            if recipient is not None and self.dm_refusals.get(recipient):
                return {"ok": False, "error": self.dm_refusals[recipient]}
            blocks = _blocks(params)
            self.messages[(channel, ts)] = Message(
                channel,
                ts,
                str(params.get("text", "")),
                blocks,
                history=[blocks],
                history_text=str(params.get("text", "")),
            )
            return {"ok": True, "channel": channel, "ts": ts, "message": {"ts": ts}}
        if method == "chat.update":
            key = (str(params["channel"]), str(params["ts"]))
            message = self.messages.get(key)
            if message is None:
                return {"ok": False, "error": "message_not_found"}
            message.text = str(params.get("text", message.text))
            message.blocks = _blocks(params) if "blocks" in params else message.blocks
            message.edits += 1
            message.history.append(message.blocks)
            return {"ok": True, "channel": key[0], "ts": key[1]}
        if method == "chat.postEphemeral":
            channel, user = str(params["channel"]), str(params["user"])
            ts = self._next_ts()
            self.ephemerals.append(
                Ephemeral(channel, user, str(params.get("text", "")), _blocks(params), method, ts)
            )
            return {"ok": True, "message_ts": ts}
        if method == "users.info":
            user = self.users.get(str(params.get("user")))
            if user is None:
                return {"ok": False, "error": "user_not_found"}
            return {"ok": True, "user": user}
        if method == "views.open":
            view = params.get("view")
            self.views.append(json.loads(view) if isinstance(view, str) else dict(view or {}))
            return {"ok": True, "view": {"id": f"V{len(self.views)}"}}
        if method == "files.info":
            hosted = self.hosted.get(str(params.get("file")))
            if hosted is None:
                return {"ok": False, "error": "file_not_found"}
            return {"ok": True, "file": hosted.info(self.port)}
        if method == "files.getUploadURLExternal":
            file_id = f"F{self._next_ts().split('.')[1]}"
            self.uploads[file_id] = Upload(file_id, alt=str(params.get("alt_txt") or ""))
            url = f"http://127.0.0.1:{self.port}/upload/{file_id}"
            return {"ok": True, "upload_url": url, "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = params.get("files")
            items = json.loads(files) if isinstance(files, str) else list(files or [])
            for item in items:
                upload = self.uploads.get(str(item["id"]))
                if upload is None or not upload.data:
                    return {"ok": False, "error": "file_not_found"}
                upload.channel = params.get("channel_id")
                upload.title = str(item.get("title") or "")
                upload.comment = str(params.get("initial_comment") or "")
            channel = params.get("channel_id")
            if channel:
                # sharing files to a channel posts one message: the comment with the files
                ts = self._next_ts()
                self.messages[(str(channel), ts)] = Message(
                    str(channel),
                    ts,
                    str(params.get("initial_comment") or ""),
                    [],
                    files=[str(i["id"]) for i in items],
                )
            return {"ok": True, "files": [{"id": i["id"], "title": i.get("title")} for i in items]}
        return {"ok": False, "error": "unknown_method"}

    async def _response_url(self, request: web.Request) -> web.Response:
        channel, user = request.match_info["channel"], request.match_info["user"]
        body = await request.json()
        call = Call("response_url", body, asyncio.get_running_loop().time(), path=request.path)
        rule = self.faults.take("response_url")
        if rule is not None:
            return await self._inject(request, call, rule)
        key = request.match_info["key"]
        self._response_uses[key] += 1
        if self._response_uses[key] > 5:
            call.status = 404
            await self._record(call)
            return web.Response(status=404, text="used_url")
        text, blocks = str(body.get("text", "")), _blocks(body)
        original = self.clicked.get(key)
        if original is not None and (body.get("replace_original") or body.get("delete_original")):
            self._change_original(original, body, text, blocks)
        elif body.get("response_type") == "in_channel":
            ts = self._next_ts()
            self.messages[(channel, ts)] = Message(channel, ts, text, blocks)
        else:
            self.ephemerals.append(
                Ephemeral(channel, user, text, blocks, "response_url", self._next_ts(), key)
            )
        await self._record(call)
        return web.Response(text="ok")

    def _change_original(
        self, original: Message | Ephemeral, body: dict[str, Any], text: str, blocks: list[Any]
    ) -> None:
        """replace_original / delete_original on the message a click came from."""
        if isinstance(original, Ephemeral):
            if body.get("delete_original"):
                original.deleted = True
                return
            original.text, original.blocks = text, blocks
            original.replaced += 1
            return
        if body.get("delete_original"):
            self.messages.pop((original.channel, original.ts), None)
            return
        original.text, original.blocks = text, blocks
        original.edits += 1

    async def _upload(self, request: web.Request) -> web.Response:
        upload = self.uploads.get(request.match_info["file_id"])
        if upload is None:
            return web.Response(status=404)
        upload.data = await request.read()
        await self._record(Call("upload", {}, asyncio.get_running_loop().time(), path=request.path))
        return web.Response(text=f"OK - {len(upload.data)}")

    async def _private_file(self, request: web.Request) -> web.Response:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ") or None
        await self._record(
            Call(
                "url_private", {}, asyncio.get_running_loop().time(), token=token, path=request.path
            )
        )
        if token is None or (self.bot_token is not None and token != self.bot_token):
            return web.Response(status=302, headers={"Location": "/login"})  # as Slack does
        file_id = request.match_info["team_file"].split("-", 1)[1]
        hosted = self.hosted.get(file_id)
        if hosted is None:
            return web.Response(status=404)
        return web.Response(body=hosted.data, content_type="application/octet-stream")

    async def _record(self, call: Call) -> None:
        self.calls.append(call)
        assert self._changed is not None
        async with self._changed:
            self._changed.notify_all()

    def _next_ts(self) -> str:
        n = next(self._ts)
        return f"{1_790_000_000 + n}.{n:06d}"


def _blocks(params: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = params.get("blocks")
    if isinstance(blocks, str):  # form-encoded calls send blocks as a JSON string
        blocks = json.loads(blocks)
    return list(blocks or [])
