"""Slack's `/quiz deck add|list|show|remove|export`: a workspace's own decks from chat.

`/quiz deck add` opens a modal with a Block Kit `file_input` element (see docs/slack.md
for why a modal rather than a message shortcut). On submit, the bot asks files.info
for the file's size and private URL, refuses a file too big before downloading it,
then downloads it with its own token (the `files:read` scope), within a time limit.
The reply goes to the response_url of the `/quiz deck add` that opened the modal.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re

import aiohttp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import (
    InputBlock,
    PlainTextInputElement,
    SectionBlock,
)
from slack_sdk.models.blocks.block_elements import FileInputElement
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.ack_first import Listen
from bot.adapters.slack.blocks import escape
from bot.adapters.slack.body import channel_of, community_of, player_of
from bot.adapters.slack.chat import Body, Replies
from bot.adapters.slack.listeners import is_workspace_admin
from bot.core.engine import QuizEngine
from bot.core.errors import QuizError
from bot.questions.community_decks import (
    DOWNLOAD_SECONDS,
    CommunityDeckLibrary,
    check_upload_size,
)
from bot.questions.importers import EXPORT_FORMATS

log = logging.getLogger(__name__)

ADD_VIEW = "quiz_deck_add"
FILE_BLOCK, FILE_ACTION = "deck_file", "deck_file_input"
NAME_BLOCK, NAME_ACTION = "deck_name", "deck_name_input"
DECK_USAGE = (
    "`/quiz deck add` · `/quiz deck list` · `/quiz deck show NAME` · "
    "`/quiz deck remove NAME` · `/quiz deck export NAME [yaml|gift|csv]`"
)
_DECK_COMMAND = re.compile(r"^\s*deck(\s|$)", re.IGNORECASE)


def is_deck_command(body: Body) -> bool:
    """Whether a `/quiz` command is `/quiz deck ...` (this module's, not the others')."""
    return bool(_DECK_COMMAND.match(str(body.get("text", ""))))


def add_deck_view(response_url: str) -> View:
    """The modal of `/quiz deck add`: one file and an optional name."""
    return View(
        type="modal",
        callback_id=ADD_VIEW,
        title="Add a deck",
        submit="Add",
        close="Cancel",
        # where the result is told: the response_url of the command that opened this
        private_metadata=json.dumps({"response_url": response_url}),
        blocks=[
            SectionBlock(
                text="A deck file: YAML, GIFT, Moodle XML, Aiken, Open Trivia DB JSON or "
                "CSV, 1 MB at most. A deck of the same name is replaced."
            ),
            InputBlock(
                block_id=FILE_BLOCK,
                label="Deck file",
                element=FileInputElement(action_id=FILE_ACTION, max_files=1),
            ),
            InputBlock(
                block_id=NAME_BLOCK,
                label="Name (default: the file's name)",
                optional=True,
                element=PlainTextInputElement(action_id=NAME_ACTION),
            ),
        ],
    )


def submitted(view: Body) -> tuple[list[str], str | None]:
    """The file ids and the typed name of a submitted add view."""
    values = (view.get("state") or {}).get("values") or {}
    files = (values.get(FILE_BLOCK) or {}).get(FILE_ACTION) or {}
    ids = [str(f["id"]) for f in files.get("files") or [] if f.get("id")]
    name = ((values.get(NAME_BLOCK) or {}).get(NAME_ACTION) or {}).get("value")
    return ids, (str(name).strip() or None) if name else None


class DeckListeners:
    """`/quiz deck ...` and the add modal's submission."""

    def __init__(self, engine: QuizEngine, client: AsyncWebClient, replies: Replies) -> None:
        self.engine = engine
        self.client = client
        self.replies = replies
        self.library = CommunityDeckLibrary(engine)

    async def deck_command(self, ack: AsyncAck, body: Body) -> None:
        """`/quiz deck SUBCOMMAND ...`; a QuizError becomes an ephemeral line."""
        await ack()
        words = str(body.get("text", "")).split()[1:]
        action = words[0].lower() if words else "list"
        try:
            await self._run(action, words[1:], body)
        except QuizError as exc:
            await self.replies.ephemeral(body, escape(str(exc)))

    async def _run(self, action: str, args: list[str], body: Body) -> None:
        community = community_of(body)
        if action == "add":
            await self._editable(body)  # before the member picks a file
            view = add_deck_view(str(body.get("response_url", "")))
            await self.client.views_open(trigger_id=str(body["trigger_id"]), view=view)
        elif action == "list":
            entries = await self.library.entries(community)
            lines = [escape(e.line()) for e in entries] or ["No decks yet: `/quiz deck add`"]
            await self.replies.ephemeral(body, "*Decks*\n" + "\n".join(lines))
        elif action == "show" and args:
            summary = await self.library.show(community, args[0])
            await self.replies.ephemeral(body, "\n".join(escape(s) for s in summary.lines()))
        elif action == "remove" and args:
            text = await self.library.remove(
                community, args[0], is_admin=await self._is_admin(body)
            )
            await self.replies.ephemeral(body, escape(text))
        elif action == "export" and args:
            await self._export(body, args[0], args[1].lower() if len(args) > 1 else "yaml")
        else:
            await self.replies.ephemeral(body, DECK_USAGE)

    async def _is_admin(self, body: Body) -> bool:
        return await is_workspace_admin(self.client, player_of(body).external_id)

    async def _editable(self, body: Body) -> None:
        await self.library.editable(community_of(body), is_admin=await self._is_admin(body))

    async def _export(self, body: Body, name: str, fmt: str) -> None:
        if fmt not in EXPORT_FORMATS:
            raise QuizError(f"Export format {fmt!r}: one of {', '.join(EXPORT_FORMATS)}")
        filename, text = await self.library.export(community_of(body), name, fmt)
        try:
            await self.client.files_upload_v2(
                channel=channel_of(body),
                content=text,
                filename=filename,
                title=filename,
                initial_comment=f"Deck {escape(name)} as {fmt}",
            )
        except SlackApiError as exc:
            log.warning("uploading a deck export failed: %s", exc.response.get("error"))
            raise QuizError("I could not upload the file here: invite me first") from None

    async def add_submitted(self, ack: AsyncAck, body: Body, view: Body) -> None:
        """The add modal's Submit: close it, then fetch, parse and store the file."""
        await ack()
        metadata = json.loads(str(view.get("private_metadata") or "{}"))
        reply_to: Body = {"response_url": metadata.get("response_url")}
        try:
            text = await self._add(body, view)
        except QuizError as exc:
            text = escape(str(exc))
        await self.replies.ephemeral(reply_to, text)

    async def _add(self, body: Body, view: Body) -> str:
        ids, name = submitted(view)
        if not ids:
            raise QuizError("No file was attached: /quiz deck add, then pick a file")
        await self._editable(body)
        filename, data = await self._download(ids[0])
        added = await self.library.add(
            community_of(body),
            player_of(body),
            data,
            filename,
            name,
            is_admin=await self._is_admin(body),
        )
        return escape(added.text())

    async def _download(self, file_id: str) -> tuple[str, bytes]:
        """A file's name and bytes: files.info first (size, private URL), then the bytes."""
        try:
            info = (await self.client.files_info(file=file_id)).get("file") or {}
        except SlackApiError as exc:
            log.warning("files.info failed: %s", exc.response.get("error"))
            raise QuizError("I cannot read that file (does the app have files:read?)") from None
        filename = str(info.get("name") or "upload")
        check_upload_size(int(info.get("size") or 0), filename)
        url = str(info.get("url_private") or "")
        if not url:
            raise QuizError(f"Slack gave no download link for {filename}")
        try:
            async with asyncio.timeout(DOWNLOAD_SECONDS):
                return filename, await self._fetch(url, filename)
        except TimeoutError:
            raise QuizError(
                f"Downloading {filename} took over {DOWNLOAD_SECONDS:.0f} s: try again"
            ) from None

    async def _fetch(self, url: str, filename: str) -> bytes:
        headers = {"Authorization": f"Bearer {self.client.token}"}
        session = self.client.session
        own = session is None
        active = aiohttp.ClientSession() if session is None else session
        try:
            async with active.get(url, headers=headers) as response:
                if response.status != 200:
                    raise QuizError(f"Could not download {filename} (HTTP {response.status})")
                data = bytearray()
                async for chunk in response.content.iter_chunked(64 * 1024):
                    data += chunk
                    # files.info may have told less than the truth: never read past the limit
                    check_upload_size(len(data), filename)
                return bytes(data)
        except aiohttp.ClientError:
            raise QuizError(f"Could not download {filename}: try again") from None
        finally:
            if own:
                await active.close()


def register_deck_listeners(
    listen: Listen, engine: QuizEngine, client: AsyncWebClient, replies: Replies
) -> None:
    """Add `/quiz deck ...` and the add modal; call before the general `/quiz` listener,
    because Bolt runs the first listener whose matchers accept a request."""
    listeners = DeckListeners(engine, client, replies)

    async def deck_matcher(body: Body) -> bool:
        return is_deck_command(body)

    listen.command("/quiz", listeners.deck_command, matchers=[deck_matcher])
    listen.view(ADD_VIEW, listeners.add_submitted)
