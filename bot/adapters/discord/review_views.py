"""Discord embeds of study mode: a review's feedback, question and summary, and mastery.

Presentation only (the wording shared with Slack is bot.render.review's); the
review's command and buttons are in review.py.
"""

from __future__ import annotations

import discord

from bot.adapters.discord.choices import clip
from bot.core.cards import letter
from bot.core.study import model as study
from bot.render import review as wording
from bot.render import to_chat_text

QUESTION_COLOUR = discord.Colour.blurple()
RIGHT_COLOUR = discord.Colour.green()
WRONG_COLOUR = discord.Colour.red()
SUMMARY_COLOUR = discord.Colour.gold()


def review_embeds(step: study.ReviewStep) -> list[discord.Embed]:
    """The feedback on the last answer (if any), then the next question or the summary."""
    embeds: list[discord.Embed] = []
    if step.feedback is not None:
        embeds.append(feedback_embed(step.feedback))
    if step.question is not None:
        embeds.append(question_embed(step.question))
    elif step.summary is not None:
        embeds.append(summary_embed(step.summary))
    return embeds


def feedback_embed(feedback: study.ReviewFeedback) -> discord.Embed:
    """Right or wrong, the answer, the explanation, and when the card comes back."""
    lines = [to_chat_text(wording.feedback_answer(feedback))]
    if feedback.explanation:
        lines += ["", to_chat_text(feedback.explanation)]
    lines.append("")
    if feedback.comes_back:
        lines.append(wording.COMES_BACK)
    lines.append(f"Next review {discord.utils.format_dt(feedback.next_due, 'R')}")
    return discord.Embed(
        title=wording.feedback_heading(feedback),
        description=clip("\n".join(lines)),
        colour=RIGHT_COLOUR if feedback.right else WRONG_COLOUR,
    )


def question_embed(card: study.ReviewQuestionCard) -> discord.Embed:
    """The prompt and the lettered choices; no countdown, a review has no timer."""
    lines = [to_chat_text(card.prompt), ""]
    lines += [f"**{letter(i)}**  {to_chat_text(c)}" for i, c in enumerate(card.choices)]
    embed = discord.Embed(
        title=wording.question_heading(card),
        description=clip("\n".join(lines)),
        colour=QUESTION_COLOUR,
    )
    return embed.set_footer(text=wording.question_footer(card))


def summary_embed(summary: study.ReviewSummary) -> discord.Embed:
    """How the review went and when cards are due next."""
    next_due = discord.utils.format_dt(summary.next_due, "R") if summary.next_due else ""
    lines = wording.summary_lines(summary, next_due)
    return discord.Embed(
        title=wording.SUMMARY_HEADING, description="\n".join(lines), colour=SUMMARY_COLOUR
    )


def mastery_embed(card: study.MasteryCard) -> discord.Embed:
    """Recall per tag over the group's active members (`/quiz stats group`)."""
    lines = [*card.lines(), "", f"Active members (answered in the last 14 days): {card.players}"]
    return discord.Embed(
        title=f"🧠 {card.title}", description=clip("\n".join(lines)), colour=SUMMARY_COLOUR
    )
