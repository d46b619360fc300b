"""Discord messages for the core's cards: embeds, answer buttons and the select menu.

Only presentation lives here. Button ids carry a round id and a choice position,
never whether the choice is correct; the clicks go back to the client, which asks
the engine.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import discord
from discord import ui

from bot.core.cards import (
    LeaderboardCard,
    QuestionCard,
    RevealCard,
    SummaryCard,
    kind_hint,
    letter,
)
from bot.core.model import Deck, Mode, QuestionKind, TeamRoster
from bot.core.rhythm.cards import ConfigCard, ScheduleCard, StatsCard, WeeklyBoardCard
from bot.render import to_chat_text

QUESTION_COLOUR = discord.Colour.blurple()
CLOSED_COLOUR = discord.Colour.dark_grey()
REVEAL_COLOUR = discord.Colour.green()
SUMMARY_COLOUR = discord.Colour.gold()
SETTINGS_COLOUR = discord.Colour.light_grey()
LEADERBOARD_IMAGE = "leaderboard.png"
"""File name of a board's chart, attached to the message and shown as its embed image."""
BUTTONS_PER_ROW = 5
MAX_SELECT_OPTIONS = 25
_DESCRIPTION_LIMIT = 4096
_FIELD_LIMIT = 1024
_OPTION_TEXT_LIMIT = 100


@runtime_checkable
class AnswerTaker(Protocol):
    """The client that turns a click on an answer component into a receipt."""

    async def take_answer(
        self, interaction: discord.Interaction[Any], round_id: int, positions: Sequence[int]
    ) -> None:
        """Record the clicker's choice and reply to them."""
        ...


async def _forward(
    interaction: discord.Interaction[Any], round_id: int, positions: Sequence[int]
) -> None:
    client = interaction.client
    if isinstance(client, AnswerTaker):
        await client.take_answer(interaction, round_id, positions)


class AnswerButton(
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
            ui.Button(
                label=letter(position),
                style=style,
                disabled=disabled,
                emoji=emoji,
                custom_id=f"quiz:a:{round_id}:{position}",
            ),
            row=position // BUTTONS_PER_ROW,
        )
        self.round_id = round_id
        self.position = position

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> AnswerButton:
        """Rebuild the button from a clicked custom_id."""
        return cls(int(match["round"]), int(match["pos"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Record the click as this choice."""
        await _forward(interaction, self.round_id, (self.position,))


class AnswerSelect(
    ui.DynamicItem[ui.Select[ui.View]],
    template=r"quiz:m:(?P<round>[0-9]+)",
):
    """The menu of a multiple-answer question: pick one or more choices at once."""

    def __init__(self, round_id: int, choices: Sequence[str] = ()) -> None:
        options = [
            discord.SelectOption(
                label=letter(i),
                value=str(i),
                description=_clip(to_chat_text(c), _OPTION_TEXT_LIMIT),
            )
            for i, c in enumerate(choices[:MAX_SELECT_OPTIONS])
        ]
        super().__init__(
            ui.Select(
                custom_id=f"quiz:m:{round_id}",
                placeholder="Check all that apply",
                min_values=1,
                max_values=max(1, len(options)),
                options=options or [discord.SelectOption(label="A", value="0")],
            )
        )
        self.round_id = round_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> AnswerSelect:
        """Rebuild the menu from a used custom_id (its options come with the interaction)."""
        return cls(int(match["round"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Record the picked choices."""
        positions = [int(v) for v in self.item.values if v.isdigit()]
        await _forward(interaction, self.round_id, positions)


# ---- the question ---------------------------------------------------------------------


def question_image_name(card: QuestionCard) -> str:
    """File name of a question's math picture, referenced from its embed."""
    return f"question-{card.round_id}.png"


def question_embed(
    card: QuestionCard, *, image: bool = False, closed: bool = False
) -> discord.Embed:
    """The question: heading, prompt, lettered choices, countdown and answers so far."""
    lines = [to_chat_text(card.prompt), ""]
    lines += [f"**{letter(i)}**  {to_chat_text(c)}" for i, c in enumerate(card.choices)]
    lines.append("")
    if closed:
        lines.append(f"Closed · {card.answered_text.replace(' so far', '')}")
    else:
        deadline = discord.utils.format_dt(card.closes_at, "R")
        lines.append(f"{kind_hint(card.kind)} · closes {deadline}")
        lines.append(f"🗳️ {card.answered_text}")
    embed = discord.Embed(
        title=card.heading,
        description=_clip("\n".join(lines), _DESCRIPTION_LIMIT),
        colour=CLOSED_COLOUR if closed else QUESTION_COLOUR,
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
        mark = "✅" if i in card.correct else "▫️"
        lines.append(f"{mark} **{letter(i)}**  {to_chat_text(choice)}")
    noun = "vote" if card.mode is Mode.TEAMS else "answer"
    lines += ["", f"Closed · {card.answered} {noun}{'' if card.answered == 1 else 's'}"]
    embed = discord.Embed(
        title=f"Question {card.position}/{card.total}",
        description=_clip("\n".join(lines), _DESCRIPTION_LIMIT),
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
    embed = discord.Embed(
        title=f"✅ {card.heading}",
        description=_clip("\n".join(lines), _DESCRIPTION_LIMIT),
        colour=REVEAL_COLOUR,
    )
    spread = "\n".join(card.spread_lines())
    embed.add_field(
        name=f"Spread ({card.answered_text})",
        value=_clip(f"```\n{spread}\n```", _FIELD_LIMIT),
        inline=False,
    )
    if card.fastest:
        fastest = "\n".join(card.fastest_lines())
        embed.add_field(name="⚡ Fastest correct", value=_clip(fastest, _FIELD_LIMIT), inline=False)
    elif card.answered:
        embed.add_field(name="⚡ Fastest correct", value="Nobody got it this time", inline=False)
    if card.teams:
        teams = "\n".join(card.team_lines())
        embed.add_field(name="👥 Team votes", value=_clip(teams, _FIELD_LIMIT), inline=False)
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
        value=_clip("\n".join(players) or "Nobody scored", _FIELD_LIMIT),
        inline=False,
    )
    if card.teams:
        teams = "\n".join(card.team_lines())
        embed.add_field(name="Teams", value=_clip(teams, _FIELD_LIMIT), inline=False)
    embed.set_footer(text="See the week's standings with /quiz leaderboard")
    return embed


# ---- replies to commands ----------------------------------------------------------------


def leaderboard_embed(card: LeaderboardCard, *, image: bool = False) -> discord.Embed:
    """A leaderboard of one period; `image` shows the attached chart under it."""
    embed = discord.Embed(
        title=f"🏆 {card.title}",
        description=_clip("\n".join(card.lines()), _DESCRIPTION_LIMIT),
        colour=SUMMARY_COLOUR,
    )
    if image:
        embed.set_image(url=f"attachment://{LEADERBOARD_IMAGE}")
    return embed


def weekly_board_embed(card: WeeklyBoardCard, *, image: bool = False) -> discord.Embed:
    """The week's board as posted when the week ends; `image` shows the attached chart."""
    embed = discord.Embed(
        title=f"🏆 {card.heading}",
        description=_clip("\n".join(card.lines()), _DESCRIPTION_LIMIT),
        colour=SUMMARY_COLOUR,
    )
    if image:
        embed.set_image(url=f"attachment://{LEADERBOARD_IMAGE}")
    embed.set_footer(text=card.community_name)
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
        title=title, description=_clip("\n".join(lines), _DESCRIPTION_LIMIT), colour=colour
    )


def decks_embed(decks: Sequence[Deck]) -> discord.Embed:
    """The loaded decks with their sizes."""
    lines = [
        f"**{d.name}**: {d.title} ({len(d.questions)} questions)"
        + (f"\n{d.description}" if d.description else "")
        for d in decks
    ]
    return discord.Embed(
        title="Decks",
        description=_clip("\n".join(lines) or "No decks are loaded.", _DESCRIPTION_LIMIT),
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
        title="Teams", description=_clip(text, _DESCRIPTION_LIMIT), colour=QUESTION_COLOUR
    )


HELP_LINES = (
    "`/quiz start [deck] [questions] [seconds] [mode] [scoring]`: start a quiz here",
    "Answer with the letter buttons (or the menu when several answers are right);"
    " you get a private receipt.",
    "`/quiz stop`, `/quiz skip`: end the quiz or close the question now"
    " (the host, or members with Manage Server or Manage Messages)",
    "`/quiz leaderboard [period] [teams]`: this week, last week or all time",
    "`/quiz stats [player]`: your figures here, or another member's (only you see them)",
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


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
