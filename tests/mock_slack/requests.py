"""Signed requests as Slack sends them: slash commands and block actions, over real HTTP.

The signature is `v0=` + HMAC-SHA256(signing secret, `v0:{timestamp}:{body}`), sent with
X-Slack-Request-Timestamp; Slack's retries add X-Slack-Retry-Num and X-Slack-Retry-Reason.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp

from tests.mock_slack.server import TEAM_ID, Ephemeral, Message, MockSlack

CHANNEL = "C0QUIZ"


def signature(secret: str, timestamp: str, body: str) -> str:
    """Slack's request signature of a body sent at `timestamp`."""
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class User:
    """A workspace member the tests act as."""

    id: str
    name: str


@dataclass(frozen=True)
class Reply:
    """The app's HTTP answer to one request, and how long it took."""

    status: int
    body: str
    seconds: float


class SlackRequests:
    """Sends what Slack would send to the app's request URL, signed with `secret`."""

    def __init__(
        self,
        app_url: str,
        mock: MockSlack,
        secret: str,
        *,
        channel: str = CHANNEL,
        team_id: str = TEAM_ID,
    ) -> None:
        self.app_url = app_url
        self.mock = mock
        self.secret = secret
        self.channel = channel
        self.team_id = team_id
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()

    # ---- raw ----------------------------------------------------------------------------

    async def send(
        self,
        body: str,
        *,
        timestamp: int | None = None,
        secret: str | None = None,
        signed: bool = True,
        retry_num: int | None = None,
    ) -> Reply:
        """POST a form body to the app, signed (or not) as asked."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if signed:
            headers["X-Slack-Request-Timestamp"] = stamp
            headers["X-Slack-Signature"] = signature(secret or self.secret, stamp, body)
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        started = time.perf_counter()
        async with self._session.post(self.app_url, data=body, headers=headers) as response:
            text = await response.text()
            return Reply(response.status, text, time.perf_counter() - started)

    # ---- slash commands -------------------------------------------------------------------

    def command_body(self, user: User, text: str, *, channel: str | None = None) -> str:
        """The form body of `/quiz {text}` typed by `user`."""
        channel = channel or self.channel
        n = self.mock.request_id()
        return urlencode(
            {
                "token": "legacy-verification-token",
                "team_id": self.team_id,
                "team_domain": "study",
                "channel_id": channel,
                "channel_name": "quiz",
                "user_id": user.id,
                "user_name": user.name,
                "command": "/quiz",
                "text": text,
                "api_app_id": "A0QUIZ",
                "is_enterprise_install": "false",
                "response_url": self.mock.response_url(channel, user.id, f"c{n}"),
                "trigger_id": f"{n}.trigger",
            }
        )

    async def command(
        self, user: User, text: str, *, channel: str | None = None, **signing: Any
    ) -> Reply:
        """Type `/quiz {text}` as `user`."""
        return await self.send(self.command_body(user, text, channel=channel), **signing)

    # ---- block actions --------------------------------------------------------------------

    def actions_body(
        self,
        user: User,
        message: Message | Ephemeral,
        action: dict[str, Any],
        state: dict[str, Any] | None = None,
    ) -> str:
        """The `payload=` body of a block_actions request for one action on `message`.

        The click's response_url can replace or delete `message`; an ephemeral message's
        click carries no copy of the message, as Slack sends it.
        """
        if isinstance(message, Ephemeral):
            return self._ephemeral_actions_body(user, message, action)
        n = self.mock.request_id()
        self.mock.clicked[f"a{n}"] = message
        payload = {
            "type": "block_actions",
            "user": {"id": user.id, "username": user.name, "name": user.name, "team_id": TEAM_ID},
            "api_app_id": "A0QUIZ",
            "token": "legacy-verification-token",
            "container": {
                "type": "message",
                "message_ts": message.ts,
                "channel_id": message.channel,
                "is_ephemeral": False,
            },
            "trigger_id": f"{n}.trigger",
            "team": {"id": self.team_id, "domain": "study"},
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": message.channel, "name": "quiz"},
            "message": {
                "type": "message",
                "user": self.mock.bot_user_id,
                "ts": message.ts,
                "text": message.text,
                "blocks": message.blocks,
            },
            "state": {"values": state or {}},
            "response_url": self.mock.response_url(message.channel, user.id, f"a{n}"),
            "actions": [{**action, "action_ts": f"{time.time():.6f}"}],
        }
        return urlencode({"payload": json.dumps(payload)})

    def _ephemeral_actions_body(
        self, user: User, message: Ephemeral, action: dict[str, Any]
    ) -> str:
        n = self.mock.request_id()
        self.mock.clicked[f"a{n}"] = message
        payload = {
            "type": "block_actions",
            "user": {"id": user.id, "username": user.name, "name": user.name, "team_id": TEAM_ID},
            "api_app_id": "A0QUIZ",
            "token": "legacy-verification-token",
            "container": {
                "type": "message",
                "message_ts": message.ts,
                "channel_id": message.channel,
                "is_ephemeral": True,
            },
            "trigger_id": f"{n}.trigger",
            "team": {"id": self.team_id, "domain": "study"},
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": message.channel, "name": "quiz"},
            "state": {"values": {}},
            "response_url": self.mock.response_url(message.channel, user.id, f"a{n}"),
            "actions": [{**action, "action_ts": f"{time.time():.6f}"}],
        }
        return urlencode({"payload": json.dumps(payload)})

    def button(self, message: Message | Ephemeral, label: str) -> dict[str, Any]:
        """The button of `message` labelled `label`, as an action payload."""
        for block in message.blocks:
            for element in block.get("elements", []) if block["type"] == "actions" else []:
                if element["type"] == "button" and element["text"]["text"] == label:
                    return {
                        "type": "button",
                        "block_id": block["block_id"],
                        "action_id": element["action_id"],
                        "text": element["text"],
                        "value": element.get("value", ""),
                    }
        raise AssertionError(f"no button {label!r} on the message:\n{message.plain}")

    async def click(
        self, user: User, message: Message | Ephemeral, label: str, **signing: Any
    ) -> Reply:
        """Click the button labelled `label` on `message` as `user`."""
        body = self.actions_body(user, message, self.button(message, label))
        return await self.send(body, **signing)

    def checkbox_state(self, message: Message, labels: list[str]) -> dict[str, Any]:
        """The `state.values` of `message` with the checkboxes labelled `labels` ticked."""
        for block in message.blocks:
            for element in block.get("elements", []) if block["type"] == "actions" else []:
                if element["type"] != "checkboxes":
                    continue
                options = element["options"]
                chosen = [o for o in options if o["text"]["text"].split(" ")[0] in labels]
                assert len(chosen) == len(labels), f"no checkbox for some of {labels}"
                return {
                    block["block_id"]: {
                        element["action_id"]: {"type": "checkboxes", "selected_options": chosen}
                    }
                }
        raise AssertionError(f"no checkboxes on the message:\n{message.plain}")

    async def check_and_submit(
        self, user: User, message: Message, labels: list[str], *, submit: str = "Submit"
    ) -> Reply:
        """Tick the checkboxes labelled `labels` (first word: the letter), then click Submit."""
        state = self.checkbox_state(message, labels)
        body = self.actions_body(user, message, self.button(message, submit), state)
        return await self.send(body)

    # ---- modals ----------------------------------------------------------------------------

    async def submit_view(self, user: User, view: dict[str, Any], values: dict[str, Any]) -> Reply:
        """Submit a modal the app opened (`view` as views.open sent it) with `values`,
        {block_id: {action_id: element state}}, as Slack sends a view_submission."""
        n = self.mock.request_id()
        payload = {
            "type": "view_submission",
            "team": {"id": self.team_id, "domain": "study"},
            "user": {"id": user.id, "username": user.name, "name": user.name, "team_id": TEAM_ID},
            "api_app_id": "A0QUIZ",
            "token": "legacy-verification-token",
            "trigger_id": f"{n}.trigger",
            "view": {
                **view,
                "id": f"V{n}",
                "team_id": self.team_id,
                "state": {"values": values},
                "hash": f"{n}.hash",
            },
            "response_urls": [],
            "is_enterprise_install": False,
        }
        return await self.send(urlencode({"payload": json.dumps(payload)}))
