"""The wording of a question message that every chat adapter shows the same way.

The core's cards carry the words; these rules put them together where a card has no
ready-made line (the question message once its round has closed).
"""

from __future__ import annotations

from bot.core.cards import QuestionCard, RevealCard, kind_hint

CORRECT_MARK = "✅"
OTHER_MARK = "▫️"


def question_heading(card: QuestionCard | RevealCard) -> str:
    """ "Question 2/10", with the question's title when it has one."""
    head = f"Question {card.position}/{card.total}"
    return f"{head}: {card.title}" if card.title else head


def open_status(card: QuestionCard, deadline: str) -> str:
    """How to answer and when the question closes, e.g. "Pick one · closes in 30 s"."""
    return f"{kind_hint(card.kind)} · closes {deadline}"


def closed_status(card: RevealCard) -> str:
    """The status line of a closed question, e.g. "Closed · 4 answers"."""
    return f"Closed · {card.answered_text}"


def choice_mark(card: RevealCard, position: int) -> str:
    """The mark before a choice of a closed question: ticked when it is correct."""
    return CORRECT_MARK if position in card.correct else OTHER_MARK
