"""Study mode on the rhythm tests' doubles: a process with a ReviewEngine, a quiz played
with chosen answers, and fsrs itself to check due dates against."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import fsrs

from bot.core.clock import ManualClock
from bot.core.model import Scoring, StartRequest
from bot.core.study.review import ReviewEngine
from bot.store import SqlStore
from bot.store.reviews import SqlStudyStore
from tests.rhythm.helpers import ADMIN, CHANNEL, GUILD, Process, make_process, right, user, wrong

T0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # a Monday morning
SECONDS = 20


@dataclass
class StudyProcess:
    """One bot process with study mode."""

    process: Process
    study: SqlStudyStore
    reviews: ReviewEngine

    @property
    def store(self) -> SqlStore:
        return self.process.store


def make_study(store: SqlStore, clock: ManualClock, seed: int = 3) -> StudyProcess:
    """A process on `store` with its review engine."""
    process = make_process(store, clock, seed=seed)
    study = SqlStudyStore(store)
    return StudyProcess(process, study, ReviewEngine(process.engine, study))


async def play_rounds(
    proc: StudyProcess, clock: ManualClock, answers: list[dict[int, bool]], deck: str = "algebra"
) -> list[str]:
    """Play a quiz: in round r, player n answers right or wrong 8 s in (neither Easy nor
    Hard); the round closes at its deadline, or early once everyone expected answered. Returns the question ids in order."""
    engine, chat = proc.process.engine, proc.process.chat
    request = StartRequest(
        decks=(deck,), questions=len(answers), seconds=SECONDS, scoring=Scoring.ACCURACY
    )
    await engine.start(GUILD, CHANNEL, ADMIN, request)
    asked = []
    for round_answers in answers:
        card = chat.current
        rnd = await proc.store.round(card.round_id)
        assert rnd is not None
        asked.append(rnd.question.question_id)
        start = clock.now()
        clock.set(start + timedelta(seconds=8))
        for n, correct in round_answers.items():
            pick = right(card.choices) if correct else wrong(card.choices)
            await engine.record_answer(card.round_id, user(n), pick)
        await engine.idle()
        if chat.reveals and chat.reveals[-1].round_id == card.round_id:
            continue  # everyone expected answered: the round closed early
        clock.set(start + timedelta(seconds=SECONDS + 1))
        await engine.close_due_rounds()
        await engine.idle()
    return asked


def fsrs_after(ratings: list[tuple[fsrs.Rating, datetime]]) -> fsrs.Card:
    """The card fsrs itself computes for a new card rated as given (no fuzzing)."""
    scheduler = fsrs.Scheduler(enable_fuzzing=False)
    card = fsrs.Card(card_id=1, due=ratings[0][1])
    for rating, moment in ratings:
        card, _ = scheduler.review_card(card, rating, moment)
    return card


__all__ = ["GUILD", "T0", "fsrs_after", "make_study", "play_rounds", "right", "user", "wrong"]
