"""Block Kit of study mode: a review's feedback, question and summary, and mastery.

The wording shared with Discord is bot.render.review's; the action ids and values
(session, item and choice, never whether a choice is right) are defined here.
"""

from __future__ import annotations

import re
from datetime import datetime

from bot.adapters.slack.blocks import Block, escape, mrkdwn, slack_date
from bot.core.cards import letter
from bot.core.model import QuestionKind
from bot.core.study.model import (
    MasteryCard,
    ReviewFeedback,
    ReviewQuestionCard,
    ReviewStep,
    ReviewSummary,
)
from bot.render.review import (
    COMES_BACK,
    SUMMARY_HEADING,
    fallback_text,
    feedback_answer,
    feedback_heading,
    question_footer,
    question_heading,
    step_notice,
    summary_lines,
)

REVIEW_ACTION = "quiz_review"  # + "_{position}"
REVIEW_ACTION_PATTERN = re.compile(rf"^{REVIEW_ACTION}_\d+$")
REVIEW_CHOICES_ACTION = "quiz_review_choices"
REVIEW_SUBMIT_ACTION = "quiz_review_submit"
_SECTION_LIMIT = 3000


def review_value(session_id: int, item: int, position: int | None = None) -> str:
    """What a review control carries: "session:item" and, for a choice, ":position"."""
    head = f"{session_id}:{item}"
    return head if position is None else f"{head}:{position}"


def parse_review_value(value: str) -> tuple[int, int, int | None] | None:
    """(session, item, position or None) from a review control's value; None if not ours."""
    parts = value.split(":")
    if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts):
        return None
    position = int(parts[2]) if len(parts) == 3 else None
    return int(parts[0]), int(parts[1]), position


def _section(text: str) -> Block:
    clipped = text if len(text) <= _SECTION_LIMIT else text[: _SECTION_LIMIT - 1] + "…"
    return {"type": "section", "text": {"type": "mrkdwn", "text": clipped}}


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _plain(text: str) -> dict[str, object]:
    return {"type": "plain_text", "text": text, "emoji": True}


def _when(moment: datetime) -> str:
    return slack_date(
        int(moment.timestamp()), "{date_short_pretty} {time}", f"{moment:%d %b %H:%M} UTC"
    )


def review_text(step: ReviewStep) -> str:
    """The notification text of a review message."""
    return escape(fallback_text(step))


def review_blocks(step: ReviewStep) -> list[Block]:
    """The feedback on the last answer (if any), then the next question or the summary."""
    blocks: list[Block] = []
    notice = step_notice(step)
    if notice:
        blocks.append(_context(escape(notice)))
    if step.feedback is not None:
        blocks += feedback_blocks(step.feedback)
    if step.question is not None:
        blocks += question_blocks(step.question)
    elif step.summary is not None:
        blocks += summary_blocks(step.summary)
    return blocks


def feedback_blocks(feedback: ReviewFeedback) -> list[Block]:
    """Right or wrong, the answer, the explanation, and when the card comes back."""
    lines = [f"*{escape(feedback_heading(feedback))}*", mrkdwn(feedback_answer(feedback))]
    if feedback.explanation:
        lines.append(mrkdwn(feedback.explanation))
    blocks = [_section("\n".join(lines))]
    later = [COMES_BACK] if feedback.comes_back else []
    later.append(f"Next review: {_when(feedback.next_due)}")
    blocks += [_context(" ".join(later)), {"type": "divider"}]
    return blocks


def question_blocks(card: ReviewQuestionCard) -> list[Block]:
    """The prompt, the lettered choices, the answer controls and where the question is from."""
    choices = "\n".join(f"*{letter(i)}*  {mrkdwn(c)}" for i, c in enumerate(card.choices))
    return [
        _section(f"*{escape(question_heading(card))}*\n{mrkdwn(card.prompt)}"),
        _section(choices),
        _controls(card),
        _context(escape(question_footer(card))),
    ]


def _controls(card: ReviewQuestionCard) -> Block:
    sid, item = card.session_id, card.item
    # a block id per item: Slack then forgets the ticks of the previous question
    block_id = f"quiz_review_controls_{sid}_{item}"
    if card.kind is QuestionKind.MULTIPLE:
        return {
            "type": "actions",
            "block_id": block_id,
            "elements": [
                {
                    "type": "checkboxes",
                    "action_id": REVIEW_CHOICES_ACTION,
                    "options": [
                        {"text": _plain(letter(p)), "value": review_value(sid, item, p)}
                        for p in range(len(card.choices))
                    ],
                },
                {
                    "type": "button",
                    "action_id": REVIEW_SUBMIT_ACTION,
                    "text": _plain("Submit"),
                    "style": "primary",
                    "value": review_value(sid, item),
                },
            ],
        }
    return {
        "type": "actions",
        "block_id": block_id,
        "elements": [
            {
                "type": "button",
                "action_id": f"{REVIEW_ACTION}_{p}",
                "text": _plain(letter(p)),
                "value": review_value(sid, item, p),
            }
            for p in range(len(card.choices))
        ],
    }


def summary_blocks(summary: ReviewSummary) -> list[Block]:
    """How the review went and when cards are due next."""
    lines = summary_lines(summary, _when(summary.next_due) if summary.next_due else "")
    return [_section(f"*{escape(SUMMARY_HEADING)}*\n" + "\n".join(lines))]


def mastery_text(card: MasteryCard) -> str:
    """Recall per tag as mrkdwn: the title in bold over one line per tag."""
    return f"*🧠 {escape(card.title)}*\n" + "\n".join(escape(line) for line in card.lines())
