"""The wording of a private review that every chat adapter shows the same way.

The core's review cards carry the facts; these put them into words, so that Discord
and Slack (and their tests) read alike. Markup stays with the adapters.
"""

from __future__ import annotations

from bot.core.cards import kind_hint, letters
from bot.core.study.model import ReviewFeedback, ReviewQuestionCard, ReviewStep, ReviewSummary

RIGHT_HEADING = "✅ Right"
WRONG_HEADING = "❌ Not quite"
SUMMARY_HEADING = "🏁 Review done"
COMES_BACK = "It comes back at the end of this review."
RESUMED = "You had a review open: here is where you left off."
STALE = "That question was already answered: here is where the review is now."
NOT_YOURS = "This review belongs to someone else: start your own with /quiz review."


def question_heading(card: ReviewQuestionCard) -> str:
    """ "Review 3 · 8 left", with the question's title when it has one."""
    head = f"Review {card.number} · {card.remaining} left"
    return f"{head}: {card.title}" if card.title else head


def question_footer(card: ReviewQuestionCard) -> str:
    """Where the question comes from: its deck, and why it is asked now."""
    if card.retry:
        why = "again: missed earlier in this review"
    elif card.due:
        why = "due for review"
    else:
        why = "new question"
    return f"{card.deck} · {why} · {kind_hint(card.kind)} · no timer"


def feedback_heading(feedback: ReviewFeedback) -> str:
    """Right or wrong."""
    return RIGHT_HEADING if feedback.right else WRONG_HEADING


def feedback_answer(feedback: ReviewFeedback) -> str:
    """The correct answer, and the player's when it was wrong."""
    line = f"Answer: {feedback.correct_text}"
    if not feedback.right and feedback.selected:
        line += f" (you picked {letters(feedback.selected)})"
    return line


def summary_lines(summary: ReviewSummary, next_due: str) -> list[str]:
    """The summary's lines, with the next due time as the platform shows a time."""
    return [
        f"{summary.right_first_time}/{summary.answered} right at the first try",
        f"{summary.due_tomorrow} due by the end of tomorrow",
        f"Next due: {next_due if summary.next_due else 'nothing scheduled'}",
    ]


def step_notice(step: ReviewStep) -> str | None:
    """A line above the review when it was resumed, or the click was for an old question."""
    if step.stale:
        return STALE
    if step.resumed:
        return RESUMED
    return None


def fallback_text(step: ReviewStep) -> str:
    """A one-line text of the step, for notifications and screen readers."""
    if step.question is not None:
        return question_heading(step.question)
    return SUMMARY_HEADING
