"""Slack's listeners: `/quiz` and the answer controls, as methods of one class.

Bolt accepts bound methods as listeners (bolt-python's
tests/scenario_tests_async/test_app_using_methods_in_class.py). A command is
acknowledged at once and then carried out; a click is acknowledged once its answer is
committed (acks.py). The subcommands of `/quiz` are QuizCommands' methods.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.acks import AckAfterCommit
from bot.adapters.slack.blocks import (
    CHOICES_ACTION,
    card_text,
    decks_text,
    escape,
    leaderboard_blocks,
    leaderboard_text,
    parse_answer_value,
)
from bot.adapters.slack.body import channel_of, community_of, player_of
from bot.adapters.slack.chat import Body, Replies
from bot.adapters.slack.parse import (
    HELP,
    Command,
    Leaderboard,
    Review,
    Rhythm,
    Simple,
    Start,
    TeamCommand,
    UsageError,
    parse,
)
from bot.adapters.slack.review import SlackReviews
from bot.core.cards import Receipt, ReceiptKind
from bot.core.delivery import Undeliverable
from bot.core.engine import QuizEngine
from bot.core.errors import NotAllowedError, QuizError
from bot.core.model import PlayerRef
from bot.core.rhythm.service import Rhythm as WeeklyRhythm
from bot.render.chart import LEADERBOARD_IMAGE, leaderboard_chart

log = logging.getLogger(__name__)

THEME = "light"  # Slack's usual client theme: the colours of the charts
# Slack's errors when the bot may not post where /quiz was typed
ANSWER_FAILED = "Your answer could not be saved; please click again"
_CANNOT_POST = ("not_in_channel", "channel_not_found", "is_archived", "restricted_action")


# ---- who and where ------------------------------------------------------------------------


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


# ---- /quiz ---------------------------------------------------------------------------------


class QuizCommands:
    """The subcommands of `/quiz`, each a small method; the game rules stay in the engine."""

    def __init__(
        self,
        engine: QuizEngine,
        client: AsyncWebClient,
        replies: Replies,
        rhythm: WeeklyRhythm | None = None,
        study: SlackReviews | None = None,
    ) -> None:
        self.engine = engine
        self.client = client
        self.replies = replies
        self.rhythm = rhythm
        self.study = study

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
            elif isinstance(command, Review):
                if self.study is None:
                    raise QuizError("Reviews are not available here")
                await self.study.run(command, body)
            elif command.name in ("stop", "skip"):
                await self.control(command, body)
            elif command.name == "decks":
                catalogue = await self.engine.decks_of(community_of(body))
                text = decks_text(catalogue.bank.decks(), catalogue.own)
                await self.replies.ephemeral(body, text)
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
        except (SlackApiError, Undeliverable) as exc:
            if isinstance(exc, SlackApiError) and exc.response.get("error") not in _CANNOT_POST:
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
        png = await leaderboard_chart(card, THEME)
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
            group = [w.lower() for w in words] == ["group"]
            if words and target is None and not group:
                raise QuizError(f"Name a member as @name, not {words[0]!r}: /quiz stats @name")
            if self.study is not None:
                await self.study.stats(self.rhythm, body, target, group=group)
                return
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


class QuizListeners:
    """The app's listeners: commands acknowledge first, answers once they are stored."""

    def __init__(
        self,
        engine: QuizEngine,
        commands: QuizCommands,
        replies: Replies,
        acks: AckAfterCommit | None = None,
    ) -> None:
        self.engine = engine
        self.commands = commands
        self.replies = replies
        self.acks = acks or AckAfterCommit()

    async def quiz_command(self, ack: AsyncAck, body: Body) -> None:
        """`/quiz ...`: parse the text, then run the subcommand."""
        await ack()
        catalogue = await self.engine.decks_of(community_of(body))
        deck_names = [d.name for d in catalogue.bank.decks()]
        try:
            command = parse(str(body.get("text", "")), deck_names)
        except UsageError as exc:
            await self.replies.ephemeral(body, str(exc))
            return
        await self.commands.run(command, body)

    async def answer_button(
        self, ack: AsyncAck, body: Body, action: Body, request: AsyncBoltRequest
    ) -> None:
        """A letter button of a single-answer question."""
        parsed = parse_answer_value(str(action.get("value", "")))
        if parsed is None:
            await ack()
            return
        round_id, position = parsed
        write = self.engine.record_answer(round_id, player_of(body), [position])
        receipt = await self.acks.record(ack, write)
        if receipt is None:
            await self.replies.ephemeral(body, ANSWER_FAILED)
            return
        retried = bool(retry_number(request))
        await send_receipt(self.replies, body, receipt, [position], retried=retried)

    async def submit_button(
        self, ack: AsyncAck, body: Body, action: Body, request: AsyncBoltRequest
    ) -> None:
        """Submit under the checkboxes of a multiple-answer question."""
        value = str(action.get("value", ""))
        positions = submitted_positions(body, int(value)) if value.isdigit() else []
        if not positions:
            await ack()
            if value.isdigit():
                await self.replies.ephemeral(body, "Tick one or more boxes first, then Submit")
            return
        write = self.engine.record_answer(int(value), player_of(body), positions)
        receipt = await self.acks.record(ack, write)
        if receipt is None:
            await self.replies.ephemeral(body, ANSWER_FAILED)
            return
        retried = bool(retry_number(request))
        await send_receipt(self.replies, body, receipt, positions, retried=retried)

    async def ticked(self, ack: AsyncAck) -> None:
        """A box ticked: not an answer yet, Submit is."""
        await ack()

    async def failed(self, error: Exception, body: Body) -> None:
        """A listener raised: log it, and tell the member if there is a way to."""
        log.error("slack listener failed", exc_info=error)
        if body.get("response_url"):
            await self.replies.ephemeral(body, "Something went wrong on my side; please try again")
