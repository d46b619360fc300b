"""Review sessions: missed questions first, due dates from fsrs, resume, retries, owners."""

from __future__ import annotations

import logging
from datetime import timedelta

import fsrs
import pytest

from bot.core.clock import ManualClock
from bot.core.errors import NotAllowedError, QuizError
from bot.core.study.model import CardState, ReviewStep
from bot.store import SqlStore
from tests.study.helpers import GUILD, T0, fsrs_after, make_study, play_rounds, user


def pick(step: ReviewStep, correct: bool) -> tuple[int, ...]:
    """The right (or a wrong) choice of the step's question."""
    assert step.question is not None
    want = "right" if correct else "wrong"
    return (step.question.choices.index(want),)


async def test_missed_questions_come_back_first_and_move_forward(store: SqlStore) -> None:
    clock = ManualClock(T0)
    proc = make_study(store, clock)
    # user 1 misses rounds 1 and 3, gets round 2 right; user 2 answers round 1 only
    asked = await play_rounds(proc, clock, [{1: False, 2: True}, {1: True}, {1: False}])
    closes = [T0 + timedelta(seconds=21 * (n + 1)) for n in range(3)]
    ann = await proc.store.player("test", "u1", "User 1")
    bo = await proc.store.player("test", "u2", "User 2")
    cards = {c.question_id: c for c in await proc.study.cards([ann.id])}
    assert set(cards) == set(asked)
    assert cards[asked[0]].due == closes[0] + timedelta(minutes=1)  # Again: a minute later
    assert cards[asked[0]].state is CardState.LEARNING and cards[asked[0]].lapses == 1
    # user 2 was expected in round 2 (they answered round 1) and gave no answer: Again
    bo_cards = {c.question_id: c for c in await proc.study.cards([bo.id])}
    assert bo_cards[asked[1]].lapses == 1 and bo_cards[asked[0]].lapses == 0

    clock.set(closes[2] + timedelta(minutes=5))
    step = await proc.reviews.start_review(GUILD, user(1), questions=2, deck="algebra")
    offered = []
    while step.question is not None:
        offered.append(step.question)
        step = await proc.reviews.answer(
            GUILD, user(1), step.session_id, step.question.item, pick(step, True)
        )
        assert step.feedback is not None and step.feedback.right
    # the two missed questions, both due, in order of predicted recall (equal: due first)
    assert [q.prompt for q in offered] == [f"{qid.replace('-', ' ')}?" for qid in
                                           (asked[0], asked[2])]  # fmt: skip
    assert all(q.due and not q.retry for q in offered)
    assert step.summary is not None and step.summary.right_first_time == 2
    reviewed_at = closes[2] + timedelta(minutes=5)
    after = {c.question_id: c for c in await proc.study.cards([ann.id])}
    for qid, closed in ((asked[0], closes[0]), (asked[2], closes[2])):
        expected = fsrs_after([(fsrs.Rating.Again, closed), (fsrs.Rating.Good, reviewed_at)])
        assert after[qid].due == expected.due
        assert after[qid].stability == pytest.approx(expected.stability)
        assert after[qid].due > cards[qid].due
    assert step.summary.next_due == min(c.due for c in after.values())

    # right after: no card is due any more; the one question left is new
    again = await proc.reviews.start_review(GUILD, user(1), questions=5, deck="algebra")
    assert again.question is not None and not again.question.due
    assert again.session_id != step.session_id

    # once the learning step (10 minutes) has passed, the reviewed cards are due again
    clock.set(reviewed_at + timedelta(minutes=11))
    due = {c.question_id for c in await proc.study.due_cards(ann.id, clock.now())}
    assert {asked[0], asked[2]} <= due


async def test_a_wrong_answer_comes_back_at_the_end_until_right(store: SqlStore) -> None:
    clock = ManualClock(T0)
    proc = make_study(store, clock)
    step = await proc.reviews.start_review(GUILD, user(1), questions=2, deck="history")
    assert step.question is not None and step.question.remaining == 2
    first = step.question.prompt
    step = await proc.reviews.answer(GUILD, user(1), step.session_id, 0, pick(step, False))
    assert step.feedback is not None and not step.feedback.right and step.feedback.comes_back
    assert step.feedback.correct_text.endswith(": right")
    assert step.question is not None and step.question.prompt != first
    step = await proc.reviews.answer(GUILD, user(1), step.session_id, 1, pick(step, True))
    assert step.question is not None and step.question.prompt == first and step.question.retry
    step = await proc.reviews.answer(GUILD, user(1), step.session_id, 2, pick(step, True))
    assert step.summary is not None
    assert (step.summary.answered, step.summary.right_first_time) == (2, 1)


async def test_starting_again_resumes_on_any_process(database_url: str) -> None:
    clock = ManualClock(T0)
    first_store, second_store = SqlStore.from_url(database_url), SqlStore.from_url(database_url)
    try:
        one, two = make_study(first_store, clock), make_study(second_store, clock, seed=9)
        step = await one.reviews.start_review(GUILD, user(1), questions=3, deck="history")
        assert step.question is not None and not step.resumed
        step = await one.reviews.answer(GUILD, user(1), step.session_id, 0, pick(step, True))
        resumed = await two.reviews.start_review(GUILD, user(1), questions=3, deck="history")
        assert resumed.resumed and resumed.session_id == step.session_id
        assert resumed.question == step.question  # the same question, shuffled the same
        # a click for the item already answered changes nothing
        stale = await two.reviews.answer(GUILD, user(1), step.session_id, 0, (0,))
        assert stale.stale and stale.question == step.question
    finally:
        await first_store.close()
        await second_store.close()


async def test_another_member_cannot_answer_a_review(store: SqlStore) -> None:
    proc = make_study(store, ManualClock(T0))
    step = await proc.reviews.start_review(GUILD, user(1), questions=1, deck="history")
    with pytest.raises(NotAllowedError):
        await proc.reviews.answer(GUILD, user(2), step.session_id, 0, (0,))
    with pytest.raises(QuizError, match="not one of the choices"):
        await proc.reviews.answer(GUILD, user(1), step.session_id, 0, (7,))


async def test_nothing_to_review_is_one_clear_error(store: SqlStore) -> None:
    clock = ManualClock(T0)
    proc = make_study(store, clock)
    step = await proc.reviews.start_review(GUILD, user(1), questions=5, deck="history")
    while step.question is not None:
        step = await proc.reviews.answer(
            GUILD, user(1), step.session_id, step.question.item, pick(step, True)
        )
    with pytest.raises(QuizError, match=r"Nothing to review.*next due"):
        await proc.reviews.start_review(GUILD, user(1), deck="history")


async def test_an_edited_question_keeps_its_cards_and_the_log_notes_it(store: SqlStore) -> None:
    from dataclasses import replace

    from sqlalchemy import select

    from bot.store.tables import StudyReviewRow

    clock = ManualClock(T0)
    proc = make_study(store, clock)
    bank = proc.process.engine.bank
    await store.sync_questions(bank.all_questions())
    asked = await play_rounds(proc, clock, [{1: False}], deck="history")
    edited = replace(bank.question(asked[0]), prompt="history, reworded?")  # type: ignore[type-var]
    await store.sync_questions([edited])
    clock.set(clock.now() + timedelta(hours=1))
    await play_rounds(proc, clock, [{1: True}] * 5, deck="history")
    ann = await store.player("test", "u1", "User 1")
    card = next(c for c in await proc.study.cards([ann.id]) if c.question_id == asked[0])
    assert card.reviews == 2 and card.lapses == 1  # the same card, reviewed twice
    assert card.content_hash == edited.content_hash()
    async with store.engine.connect() as conn:
        rows = (
            await conn.execute(
                select(StudyReviewRow.content_changed, StudyReviewRow.players)
                .where(StudyReviewRow.question_id == asked[0])
                .order_by(StudyReviewRow.id)
            )
        ).all()
    assert [(changed, players) for changed, players in rows] == [
        (False, [ann.id]),
        (True, [ann.id]),
    ]


async def test_a_review_starts_with_info_logging_on(
    store: SqlStore, caplog: pytest.LogCaptureFixture
) -> None:
    # LOG_LEVEL=INFO, the default: the start's log line must not break the start
    clock = ManualClock(T0)
    proc = make_study(store, clock)
    await play_rounds(proc, clock, [{1: False}])
    clock.set(T0 + timedelta(minutes=5))
    caplog.set_level(logging.INFO, logger="bot.core.study.review")
    step = await proc.reviews.start_review(GUILD, user(1), questions=1, deck="algebra")
    assert step.question is not None
    started = [r for r in caplog.records if r.getMessage() == "review started"]
    assert [r.__dict__["session_id"] for r in started] == [step.session_id]
