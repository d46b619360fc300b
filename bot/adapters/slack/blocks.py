"""Block Kit for the core's cards: question, closed question, reveal, summary, leaderboard.

Pure functions from cards to blocks; the wording shared with other platforms comes
from bot.core.cards, the Slack-specific markup (mrkdwn escaping, date tokens,
action ids and values) lives here.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

from bot.core.cards import (
    LeaderboardCard,
    QuestionCard,
    RevealCard,
    SummaryCard,
    counted,
    letter,
)
from bot.core.model import Deck, QuestionKind
from bot.core.rhythm.cards import WeeklyBoardCard
from bot.render import to_chat_text
from bot.render.question import choice_mark, closed_status, open_status, question_heading

Block = dict[str, Any]

ANSWER_ACTION = "quiz_answer"  # + "_{position}": action ids must be unique in a block
CHOICES_ACTION = "quiz_choices"
SUBMIT_ACTION = "quiz_submit"
ANSWER_ACTION_PATTERN = re.compile(rf"^{ANSWER_ACTION}_\d+$")

_SECTION_LIMIT = 3000  # Slack refuses a section text longer than this
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_CHANNEL_LINK = re.compile(r"(<#[A-Z0-9]+(?:\|[^>]*)?>)")


def escape(text: str) -> str:
    """Text made literal for mrkdwn: &, < and > as entities (Slack's only three)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mrkdwn(text: str) -> str:
    """A deck's Markdown with math as mrkdwn: Unicode math, escaped, **bold** as *bold*."""
    return _BOLD.sub(r"*\1*", escape(to_chat_text(text)))


def _clip(text: str, limit: int = _SECTION_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _section(text: str, block_id: str | None = None) -> Block:
    block: Block = {"type": "section", "text": {"type": "mrkdwn", "text": _clip(text)}}
    if block_id is not None:
        block["block_id"] = block_id
    return block


def _context(text: str, block_id: str | None = None) -> Block:
    block: Block = {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}
    if block_id is not None:
        block["block_id"] = block_id
    return block


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def answer_value(round_id: int, position: int) -> str:
    """What a choice's button or checkbox carries: the round and the position, nothing more."""
    return f"{round_id}:{position}"


def parse_answer_value(value: str) -> tuple[int, int] | None:
    """(round id, position) from a button or checkbox value, None if it is not one of ours."""
    round_text, _, position_text = value.partition(":")
    if not (round_text.isdigit() and position_text.isdigit()):
        return None
    return int(round_text), int(position_text)


def slack_date(moment_unix: int, token: str, fallback: str) -> str:
    """A `<!date^…>` token: every reader sees the time in their own timezone."""
    return f"<!date^{moment_unix}^{token}|{fallback}>"


# ---- the question ----------------------------------------------------------------------


def _choice_lines(choices: tuple[str, ...], closed: RevealCard | None = None) -> str:
    lines = []
    for position, choice in enumerate(choices):
        text = f"*{letter(position)}*  {mrkdwn(choice)}"
        if closed is not None:
            text = f"{choice_mark(closed, position)} {text}"
        lines.append(text)
    return "\n".join(lines)


def _heading(heading: str, prompt: str) -> str:
    return f"*{escape(heading)}*\n{mrkdwn(prompt)}"


def question_text(card: QuestionCard) -> str:
    """The notification text of a question message (no markup beyond escaping)."""
    return f"{card.heading}: {escape(to_chat_text(card.prompt))}"


def question_blocks(card: QuestionCard) -> list[Block]:
    """A question: heading and prompt, lettered choices, the answer controls, deadline and count."""
    rid = card.round_id
    blocks = [
        _section(_heading(card.heading, card.prompt), f"quiz_prompt_{rid}"),
        _section(_choice_lines(card.choices), f"quiz_list_{rid}"),
        _answer_controls(card),
    ]
    closes = int(card.closes_at.timestamp())
    fallback = card.closes_at.strftime("%H:%M:%S UTC")
    deadline = slack_date(closes, "{time_secs}", fallback)
    blocks.append(
        _context(
            f"{open_status(card, deadline)} · {escape(card.answered_text)}",
            f"quiz_status_{rid}",
        )
    )
    return blocks


def _answer_controls(card: QuestionCard) -> Block:
    rid = card.round_id
    if card.kind is QuestionKind.MULTIPLE:
        # the block id stays the same across count refreshes so that Slack keeps what
        # a player has ticked but not yet submitted
        return {
            "type": "actions",
            "block_id": f"quiz_controls_{rid}",
            "elements": [
                {
                    "type": "checkboxes",
                    "action_id": CHOICES_ACTION,
                    "options": [
                        {"text": _plain(letter(p)), "value": answer_value(rid, p)}
                        for p in range(len(card.choices))
                    ],
                },
                {
                    "type": "button",
                    "action_id": SUBMIT_ACTION,
                    "text": _plain("Submit"),
                    "style": "primary",
                    "value": str(rid),
                },
            ],
        }
    return {
        "type": "actions",
        "block_id": f"quiz_controls_{rid}",
        "elements": [
            {
                "type": "button",
                "action_id": f"{ANSWER_ACTION}_{p}",
                "text": _plain(letter(p)),
                "value": answer_value(rid, p),
            }
            for p in range(len(card.choices))
        ],
    }


def closed_question_blocks(card: RevealCard) -> list[Block]:
    """The question message once its round closed: no controls, the correct choices marked."""
    rid = card.round_id
    return [
        _section(_heading(question_heading(card), card.prompt), f"quiz_prompt_{rid}"),
        _section(_choice_lines(card.choices, card), f"quiz_list_{rid}"),
        _context(closed_status(card), f"quiz_status_{rid}"),
    ]


# ---- the reveal and the summary ----------------------------------------------------------


def reveal_text(card: RevealCard) -> str:
    """The notification text of a reveal."""
    return f"{card.heading}: {escape(to_chat_text(card.correct_text))}"


def _bold(name: str) -> str:
    return f"*{escape(name)}*"


def reveal_blocks(card: RevealCard) -> list[Block]:
    """The reveal: the answer, explanation, vote spread, fastest players, team results."""
    answer = "; ".join(f"*{letter(p)}*: {mrkdwn(card.choices[p])}" for p in card.correct)
    blocks = [_section(f"*{escape(card.heading)}* ✅ {answer}")]
    if card.explanation:
        blocks.append(_section(mrkdwn(card.explanation)))
    if card.picked_note:
        blocks.append(_context(f"🧠 {escape(card.picked_note)}"))
    spread = "\n".join(card.spread_lines())
    blocks.append(_section(f"```{spread}```"))
    if card.fastest:
        blocks.append(_section("*Fastest:* " + "  ".join(card.fastest_lines(_bold))))
    elif card.answered:
        blocks.append(_section("Nobody got it this time."))
    if card.teams:
        blocks.append(_section("*Teams*\n" + "\n".join(card.team_lines(_bold))))
    footer = card.answered_text
    if card.ending:
        footer = f"{footer} · {escape(card.ending)}"
    blocks.append(_context(footer))
    return blocks


def summary_text(card: SummaryCard) -> str:
    """The notification text of a summary."""
    if card.players:
        return f"{card.heading}: {escape(card.players[0].name)} wins"
    return card.heading


def summary_blocks(card: SummaryCard) -> list[Block]:
    """The end of a quiz: the podium, the rest, team scores and why it ended."""
    blocks = [_section(f"*{escape(card.heading)}* · {card.rounds_played}/{card.total} questions")]
    if card.players:
        blocks.append(_section("\n".join(card.player_lines(_bold))))
    else:
        blocks.append(_section("Nobody scored."))
    if card.teams:
        blocks.append(_section("*Teams*\n" + "\n".join(card.team_lines(_bold))))
    if card.reason:
        blocks.append(_context(escape(card.reason)))
    return blocks


def leaderboard_blocks(card: LeaderboardCard) -> list[Block]:
    """A leaderboard: title and one line per row (and the asker's own rank)."""
    return [_section(leaderboard_text(card))]


def leaderboard_text(card: LeaderboardCard) -> str:
    """A leaderboard as mrkdwn text: the title in bold over one line per row."""
    lines = "\n".join(escape(line) for line in card.lines())
    return f"*{escape(card.title)}*\n{lines}"


def card_text(heading: str, lines: list[str]) -> str:
    """A card's heading in bold over its lines, escaped for mrkdwn (channel links kept)."""
    body = "\n".join(_escape_keeping_channels(line) for line in lines)
    return f"*{escape(heading)}*\n{body}"


def _escape_keeping_channels(line: str) -> str:
    # the cards name channels as <#C123>: a link Slack renders, so it stays unescaped
    parts = _CHANNEL_LINK.split(line)
    return "".join(p if _CHANNEL_LINK.fullmatch(p) else escape(p) for p in parts)


def board_text(card: WeeklyBoardCard) -> str:
    """The weekly board as mrkdwn text: the heading and the card's lines."""
    return card_text(card.heading, card.lines())


def decks_text(decks: list[Deck], own: Collection[str] = ()) -> str:
    """The decks, one per line, for /quiz decks; the workspace's `own` ones marked."""
    if not decks:
        return "No decks are loaded."
    lines = [
        f"*{escape(d.name)}*: {escape(d.title)} ({counted(len(d.questions), 'question')})"
        + (" · this workspace's own" if d.name in own else "")
        + (f" — {escape(d.description)}" if d.description else "")
        for d in decks
    ]
    return "\n".join(["*Decks*", *lines, "Start one with `/quiz start DECK`."])
