"""The core's cards as terminal text: plain lines for pipes, Markdown for a terminal.

Plain text is the scripting contract (one `  A) choice` line per choice, a `(Pick one…`
hint line); the Markdown form is what a person at a terminal sees, wrapped by rich.
"""

from __future__ import annotations

from bot.core.cards import (
    LeaderboardCard,
    QuestionCard,
    RevealCard,
    SummaryCard,
    kind_hint,
    letter,
)
from bot.render import to_chat_text


def question_text(card: QuestionCard) -> str:
    """A question as plain terminal text."""
    lines = ["", f"━━ {card.heading} ━━", to_chat_text(card.prompt), ""]
    lines += [f"  {letter(i)}) {to_chat_text(c)}" for i, c in enumerate(card.choices)]
    lines.append(f"({kind_hint(card.kind)}; {card.seconds} s)")
    return "\n".join(lines)


def _hard_breaks(text: str) -> str:
    # the decks' line breaks are meant: Markdown would join single lines into one
    return "\n".join(line + "  " if line.strip() else line for line in text.split("\n"))


def question_markdown(card: QuestionCard) -> str:
    """A question as Markdown: the prompt rendered, the choices one per line."""
    lines = [f"### {card.heading}", "", _hard_breaks(to_chat_text(card.prompt)), ""]
    lines += [f"**{letter(i)})** {to_chat_text(c)}  " for i, c in enumerate(card.choices)]
    lines += ["", f"*{kind_hint(card.kind)}; {card.seconds} s*"]
    return "\n".join(lines)


def correct_text(card: RevealCard) -> str:
    """ "B) text; D) text": the right choices of a reveal."""
    return "; ".join(f"{letter(p)}) {to_chat_text(card.choices[p])}" for p in card.correct)


def reveal_text(card: RevealCard) -> str:
    """A reveal as plain text: the answer, the explanation, the spread, the fastest."""
    lines = [f"✔ {card.heading}: {correct_text(card)}"]
    if card.explanation:
        lines.append(f"  {to_chat_text(card.explanation)}")
    lines += [f"  {line}" for line in card.spread_lines()]
    if card.fastest:
        lines.append("  Fastest: " + "  ".join(card.fastest_lines()))
    else:
        lines.append("  Nobody got it this time.")
    lines += [f"  {line}" for line in card.team_lines()]
    if card.ending:
        lines.append(f"  {card.ending}.")
    return "\n".join(lines)


def reveal_markdown(card: RevealCard) -> str:
    """A reveal as Markdown."""
    lines = [f"**✔ {card.heading}: {correct_text(card)}**", ""]
    if card.explanation:
        lines += [_hard_breaks(to_chat_text(card.explanation)), ""]
    lines += [f"{line}  " for line in card.spread_lines()]
    if card.fastest:
        lines.append("Fastest: " + "  ".join(card.fastest_lines()) + "  ")
    else:
        lines.append("Nobody got it this time.  ")
    lines += [f"{line}  " for line in card.team_lines()]
    if card.ending:
        lines.append(f"*{card.ending}.*")
    return "\n".join(lines)


def verdict_text(card: RevealCard, picked: tuple[int, ...] | None) -> str:
    """The player's own result of a round, including not answering at all."""
    if picked is None:
        return "  – You didn't answer."
    verdict = "✓ You got it" if picked == card.correct else "✗ Not this time"
    return f"  {verdict} (you picked {', '.join(letter(p) for p in picked)})"


def summary_text(card: SummaryCard) -> str:
    """The final standings as terminal text."""
    lines = ["", f"━━ {card.heading} ({card.rounds_played}/{card.total} questions) ━━"]
    lines += card.player_lines() or ["Nobody scored."]
    lines += [f"Team {line}" for line in card.team_lines()]
    return "\n".join(lines)


def leaderboard_text(card: LeaderboardCard) -> str:
    """A leaderboard as terminal text."""
    return "\n".join([f"━━ {card.title} ━━", *card.lines()])
