"""Discord messages for the core's cards: embeds, answer buttons and the select menu.

Only presentation lives here, and the replies that must go out within Discord's 3
seconds. Button ids carry a round id and a choice position, never whether the choice
is correct; a click's callback asks the engine and replies with the receipt, as in
discord.py's examples/views/dynamic_counter.py.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import discord
from discord import ui
from discord.utils import MISSING

from bot.adapters.discord.choices import (
    DESCRIPTION_LIMIT,
    RebuiltFromId,
    choice_button,
    choice_row,
    choices_menu,
    clip,
    release_view,
)
from bot.core.cards import (
    LeaderboardCard,
    QuestionCard,
    RevealCard,
    SummaryCard,
    counted,
    letter,
)
from bot.core.deadline import act_if_slow
from bot.core.delivery import Undeliverable
from bot.core.errors import QuizError
from bot.core.model import Deck, Mode, PlayerRef, QuestionKind, TeamRoster
from bot.core.rhythm.cards import ConfigCard, ScheduleCard, StatsCard, WeeklyBoardCard
from bot.core.start_options import start_usage
from bot.render import to_chat_text
from bot.render.chart import LEADERBOARD_IMAGE
from bot.render.pictures import question_picture_name
from bot.render.question import choice_mark, closed_status, open_status, question_heading

if TYPE_CHECKING:
    from bot.adapters.discord.client import QuizBot

log = logging.getLogger(__name__)

QUESTION_COLOUR = discord.Colour.blurple()
CLOSED_COLOUR = discord.Colour.dark_grey()
REVEAL_COLOUR = discord.Colour.green()
SUMMARY_COLOUR = discord.Colour.gold()
SETTINGS_COLOUR = discord.Colour.light_grey()
_FIELD_LIMIT = 1024
NO_ACCESS = (
    "I cannot post in this channel: give me View Channel, Send Messages, Embed Links "
    "and Attach Files here"
)


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
    on_defer: Callable[[], None] | None = None,
) -> None:
    """Answer with `work`'s reply: directly when it is quick, else defer first and follow up.

    A QuizError becomes an ephemeral line; `public` says how to defer, i.e. what the
    reply usually is. A reply whose picture cannot be uploaded is sent as text. The
    response goes out after `work` is done (an answer is committed before Discord hears
    of it) unless that takes `defer_after`: then a defer, counted by `on_defer`.
    """

    async def defer() -> None:
        if on_defer is not None:
            on_defer()
        await interaction.response.defer(ephemeral=not public, thinking=True)

    reply = await act_if_slow(_guarded(work), defer_after, defer)
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
    except (discord.Forbidden, Undeliverable):
        return Reply(NO_ACCESS)
    except Exception:
        log.exception("handling an interaction failed")
        return Reply("Something went wrong on our side; please try again.")


def player_of(interaction: discord.Interaction[Any]) -> PlayerRef:
    """The user as the core names them."""
    return PlayerRef(str(interaction.user.id), interaction.user.display_name)


# ---- the answer components ---------------------------------------------------------------


async def _receipt(
    bot: QuizBot, round_id: int, player: PlayerRef, positions: Sequence[int]
) -> Reply:
    receipt = await bot.engine.record_answer(round_id, player, positions)
    return Reply(receipt.text)


class AnswerButton(
    RebuiltFromId,
    ui.DynamicItem[ui.Button[ui.View]],
    template=r"quiz:a:(?P<round>[0-9]+):(?P<pos>[0-9]+)",
):
    """One choice of a single-answer question; works for any process, before and after
    a restart, because everything it needs is in its custom_id."""

    def __init__(
        self,
        round_id: int,
        position: int,
        *,
        style: discord.ButtonStyle = discord.ButtonStyle.primary,
        disabled: bool = False,
        emoji: str | None = None,
    ) -> None:
        super().__init__(
            choice_button(
                f"quiz:a:{round_id}:{position}",
                position,
                style=style,
                disabled=disabled,
                emoji=emoji,
            ),
            row=choice_row(position),
        )
        self.round_id = round_id
        self.position = position

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Record the click as this choice; the clicker gets a private receipt."""
        bot: QuizBot = interaction.client
        work = _receipt(bot, self.round_id, player_of(interaction), (self.position,))
        try:
            await respond(interaction, work, defer_after=bot.defer_after, on_defer=bot.on_late_ack)
        finally:
            release_view(self)


class AnswerSelect(
    RebuiltFromId,
    ui.DynamicItem[ui.Select[ui.View]],
    template=r"quiz:m:(?P<round>[0-9]+)",
):
    """The menu of a multiple-answer question: pick one or more choices at once."""

    def __init__(self, round_id: int, choices: Sequence[str] = ()) -> None:
        super().__init__(choices_menu(f"quiz:m:{round_id}", choices))
        self.round_id = round_id

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Record the picked choices."""
        bot: QuizBot = interaction.client
        positions = [int(v) for v in self.item.values if v.isdigit()]
        work = _receipt(bot, self.round_id, player_of(interaction), positions)
        try:
            await respond(interaction, work, defer_after=bot.defer_after, on_defer=bot.on_late_ack)
        finally:
            release_view(self)


# ---- the question ---------------------------------------------------------------------


def question_image_name(card: QuestionCard) -> str:
    """File name of a question's math picture, referenced from its embed."""
    return question_picture_name(card)


def question_embed(card: QuestionCard, *, image: bool = False) -> discord.Embed:
    """The question: heading, prompt, lettered choices, countdown and answers so far."""
    lines = [to_chat_text(card.prompt), ""]
    lines += [f"**{letter(i)}**  {to_chat_text(c)}" for i, c in enumerate(card.choices)]
    deadline = discord.utils.format_dt(card.closes_at, "R")
    lines += ["", open_status(card, deadline), f"🗳️ {card.answered_text}"]
    embed = discord.Embed(
        title=card.heading,
        description=clip("\n".join(lines), DESCRIPTION_LIMIT),
        colour=QUESTION_COLOUR,
    )
    if image:
        embed.set_image(url=f"attachment://{question_image_name(card)}")
    mode = "teams" if card.mode is Mode.TEAMS else "solo"
    embed.set_footer(text=f"{card.deck} · {mode} · {card.seconds} s")
    return embed


def question_view(card: QuestionCard) -> ui.View:
    """Letter buttons (5 a row), or a select menu for a multiple-answer question."""
    view = ui.View(timeout=None)
    if card.kind is QuestionKind.MULTIPLE:
        view.add_item(AnswerSelect(card.round_id, card.choices))
    else:
        for position in range(len(card.choices)):
            view.add_item(AnswerButton(card.round_id, position))
    return view


def closed_question_embed(card: RevealCard, *, image_name: str | None = None) -> discord.Embed:
    """The question message after its round closed: the correct choices marked."""
    lines = [to_chat_text(card.prompt), ""]
    for i, choice in enumerate(card.choices):
        lines.append(f"{choice_mark(card, i)} **{letter(i)}**  {to_chat_text(choice)}")
    lines += ["", closed_status(card)]
    embed = discord.Embed(
        title=question_heading(card),
        description=clip("\n".join(lines), DESCRIPTION_LIMIT),
        colour=CLOSED_COLOUR,
    )
    if image_name:
        embed.set_image(url=f"attachment://{image_name}")
    return embed


def closed_question_view(card: RevealCard) -> ui.View:
    """Every choice as a disabled button, the correct ones green and ticked."""
    view = ui.View(timeout=None)
    for position in range(len(card.choices)):
        right = position in card.correct
        view.add_item(
            AnswerButton(
                card.round_id,
                position,
                style=discord.ButtonStyle.success if right else discord.ButtonStyle.secondary,
                disabled=True,
                emoji="✅" if right else None,
            )
        )
    return view


# ---- the reveal and the summary ----------------------------------------------------------


def reveal_embed(card: RevealCard) -> discord.Embed:
    """The answer, the explanation, the vote spread, the fastest players and team results."""
    answer = "; ".join(f"**{letter(p)}**: {to_chat_text(card.choices[p])}" for p in card.correct)
    lines = [f"Correct: {answer}"]
    if card.explanation:
        lines += ["", to_chat_text(card.explanation)]
    if card.picked_note:
        lines += ["", f"🧠 {card.picked_note}"]
    embed = discord.Embed(
        title=f"✅ {card.heading}",
        description=clip("\n".join(lines), DESCRIPTION_LIMIT),
        colour=REVEAL_COLOUR,
    )
    spread = "\n".join(card.spread_lines())
    embed.add_field(
        name=f"Spread ({card.answered_text})",
        value=clip(f"```\n{spread}\n```", _FIELD_LIMIT),
        inline=False,
    )
    if card.fastest:
        fastest = "\n".join(card.fastest_lines())
        embed.add_field(name="⚡ Fastest correct", value=clip(fastest, _FIELD_LIMIT), inline=False)
    elif card.answered:
        embed.add_field(name="⚡ Fastest correct", value="Nobody got it this time", inline=False)
    if card.teams:
        teams = "\n".join(card.team_lines())
        embed.add_field(name="👥 Team votes", value=clip(teams, _FIELD_LIMIT), inline=False)
    if card.ending:
        embed.set_footer(text=card.ending)
    return embed


def summary_embed(card: SummaryCard) -> discord.Embed:
    """The podium, the team scores, and where to see the week's board."""
    description = [card.reason] if card.reason else []
    description.append(f"{card.rounds_played}/{card.total} questions played")
    embed = discord.Embed(
        title=f"🏁 {card.heading}", description="\n".join(description), colour=SUMMARY_COLOUR
    )
    players = card.player_lines()
    embed.add_field(
        name="Podium",
        value=clip("\n".join(players) or "Nobody scored", _FIELD_LIMIT),
        inline=False,
    )
    if card.teams:
        teams = "\n".join(card.team_lines())
        embed.add_field(name="Teams", value=clip(teams, _FIELD_LIMIT), inline=False)
    embed.set_footer(text="See the week's standings with /quiz leaderboard")
    return embed


# ---- replies to commands ----------------------------------------------------------------


def leaderboard_embed(card: LeaderboardCard, *, image: bool = False) -> discord.Embed:
    """A leaderboard of one period; `image` shows the attached chart under it."""
    return _board_embed(card.title, card.lines(), image=image)


def weekly_board_embed(card: WeeklyBoardCard, *, image: bool = False) -> discord.Embed:
    """The week's board as posted when the week ends; `image` shows the attached chart."""
    return _board_embed(card.heading, card.lines(), image=image).set_footer(
        text=card.community_name
    )


def _board_embed(title: str, lines: Sequence[str], *, image: bool) -> discord.Embed:
    embed = _lines_embed(f"🏆 {title}", lines, SUMMARY_COLOUR)
    if image:
        embed.set_image(url=f"attachment://{LEADERBOARD_IMAGE}")
    return embed


def config_embed(card: ConfigCard) -> discord.Embed:
    """The group's settings, the one just changed marked."""
    return _lines_embed(card.heading, card.lines(), SETTINGS_COLOUR)


def schedule_embed(card: ScheduleCard) -> discord.Embed:
    """A scheduled quiz just added or cancelled, or the list of them."""
    return _lines_embed(card.title, card.lines(), QUESTION_COLOUR)


def stats_embed(card: StatsCard) -> discord.Embed:
    """One player's figures in this server."""
    return _lines_embed(f"📊 {card.heading}", card.lines(), SUMMARY_COLOUR)


def _lines_embed(title: str, lines: Sequence[str], colour: discord.Colour) -> discord.Embed:
    return discord.Embed(
        title=title, description=clip("\n".join(lines), DESCRIPTION_LIMIT), colour=colour
    )


def decks_embed(decks: Sequence[Deck]) -> discord.Embed:
    """The loaded decks with their sizes."""
    lines = [
        f"**{d.name}**: {d.title} ({counted(len(d.questions), 'question')})"
        + (f"\n{d.description}" if d.description else "")
        for d in decks
    ]
    return discord.Embed(
        title="Decks",
        description=clip("\n".join(lines) or "No decks are loaded.", DESCRIPTION_LIMIT),
        colour=QUESTION_COLOUR,
    )


def teams_embed(rosters: Sequence[TeamRoster]) -> discord.Embed:
    """The community's teams and their members."""
    lines = [
        f"**{r.team.name}** ({len(r.members)}): {', '.join(m.display_name for m in r.members)}"
        for r in rosters
    ]
    text = "\n".join(lines) or "No teams yet: /quiz team create NAME"
    return discord.Embed(
        title="Teams", description=clip(text, DESCRIPTION_LIMIT), colour=QUESTION_COLOUR
    )


HELP_LINES = (
    f"`/quiz start {start_usage()}`: start a quiz here",
    "Answer with the letter buttons (or the menu when several answers are right);"
    " you get a private receipt.",
    "`/quiz stop`, `/quiz skip`: end the quiz or close the question now"
    " (the host, or members with Manage Server or Manage Messages)",
    "`/quiz leaderboard [period] [teams]`: this week, last week or all time",
    "`/quiz stats [player] [group]`: your figures and recall per tag, another member's,"
    " or the group's (only you see them)",
    "`/quiz review [questions] [deck]`: a private review of your due questions;"
    " `/quiz review remind:on|off` for a daily reminder DM",
    "`/quiz config [key] [value]`: the server's settings; changing one needs Manage Server",
    "`/quiz schedule daily|weekly|list|cancel`: quizzes that start by themselves"
    " (adding and cancelling need Manage Server)",
    "`/quiz team create|join|leave|list`: play as a team in teams mode",
    "`/quiz decks`: the question decks",
)


def help_embed() -> discord.Embed:
    """How to play."""
    return discord.Embed(
        title="Quiz help", description="\n".join(HELP_LINES), colour=QUESTION_COLOUR
    )
