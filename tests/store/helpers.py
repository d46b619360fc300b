"""Builders and a deterministic `decide` for store tests (the real scoring is the core's)."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event

from bot.core.model import (
    Mode,
    QuestionKind,
    QuizOptions,
    QuizStatus,
    Round,
    RoundQuestion,
    ScoreDelta,
    SubjectKind,
    TeamVote,
)
from bot.core.outbox import OutboxClaim, OutboxKind, QuestionShown
from bot.core.ports import CloseContext, CloseDecision, NewQuiz, NewRound
from bot.store import SqlStore

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # a Monday
SECONDS = 20
POINTS = 100


def round_question(n: int = 1) -> RoundQuestion:
    """A single-answer question whose correct choice is shown first."""
    return RoundQuestion(
        question_id=f"q{n}",
        deck="test",
        kind=QuestionKind.SINGLE,
        prompt=f"Question {n}?",
        choices=("right", "wrong", "other"),
        correct=(0,),
        explanation="Because.",
    )


def new_round(position: int, opened_at: datetime, quiz_id: int = 0) -> NewRound:
    """Round `position`, open for SECONDS from `opened_at`."""
    return NewRound(
        quiz_id=quiz_id,
        position=position,
        question=round_question(position),
        opened_at=opened_at,
        closes_at=opened_at + timedelta(seconds=SECONDS),
    )


async def start_quiz(
    store: SqlStore,
    channel: str = "chan",
    questions: int = 3,
    mode: Mode = Mode.SOLO,
    platform: str = "test",
    now: datetime = T0,
) -> tuple[int, int, Round]:
    """A community, a host and a running quiz; returns (community id, host id, round 1)."""
    community = await store.community(platform, "guild", "Guild")
    host = await store.player(platform, "host", "Host")
    quiz, first = await store.create_quiz(
        NewQuiz(
            community_id=community.id,
            platform=platform,
            channel_id=channel,
            host_id=host.id,
            options=QuizOptions(decks=("test",), questions=questions, seconds=SECONDS, mode=mode),
            question_ids=tuple(f"q{i}" for i in range(1, questions + 1)),
            created_at=now,
        ),
        new_round(1, now),
    )
    assert first.quiz_id == quiz.id
    await show_questions(store, platform, now)
    return community.id, host.id, first


async def show_questions(store: SqlStore, platform: str = "test", now: datetime = T0) -> list[int]:
    """Deliver the pending question rows as a dispatcher would (the rounds' deadlines only
    count once their question is shown); returns their round ids."""
    shown = []
    claim = OutboxClaim(platform, None, now, now + timedelta(minutes=1), 100)
    for item in await store.claim_outbox(claim):
        if item.kind is OutboxKind.QUESTION and item.round_id is not None:
            posted = QuestionShown(item.id, item.round_id, f"msg-{item.round_id}", None)
            await store.question_shown(posted, now)
            shown.append(item.round_id)
        else:
            await store.outbox_done(item.id, now, None)
    return shown


def week_label(moment: datetime) -> str:
    """ISO week of a UTC moment, e.g. 2026-W48."""
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def decide(ctx: CloseContext) -> CloseDecision:
    """POINTS per correct answer, streaks, plurality team votes, next round until the end."""
    correct_set = set(ctx.round.question.correct)
    answers = []
    deltas: list[ScoreDelta] = []
    for a in ctx.answers:
        right = set(a.selected) == correct_set
        streak = ctx.previous_streaks.get(a.player_id, 0) + 1 if right else 0
        points = POINTS if right else 0
        answers.append(replace(a, correct=right, points=points, streak=streak))
        deltas.append(ScoreDelta(SubjectKind.PLAYER, a.player_id, points, int(right), 1))
    votes: list[TeamVote] = []
    by_team: dict[int, Counter[tuple[int, ...]]] = {}
    for a in ctx.answers:
        if a.team_id is not None:
            by_team.setdefault(a.team_id, Counter())[a.selected] += 1
    for team_id, counter in sorted(by_team.items()):
        choice, count = counter.most_common(1)[0]
        right = set(choice) == correct_set
        points = POINTS if right else 0
        votes.append(
            TeamVote(ctx.round.id, team_id, choice, count, sum(counter.values()), right, points)
        )
        deltas.append(ScoreDelta(SubjectKind.TEAM, team_id, points, int(right), 1))
    last = ctx.round.position >= ctx.quiz.total
    next_round = None if last else new_round(ctx.round.position + 1, ctx.now, ctx.quiz.id)
    return CloseDecision(
        answers=tuple(answers),
        team_votes=tuple(votes),
        deltas=tuple(deltas),
        periods=(week_label(ctx.now), "all"),
        quiz_status=QuizStatus.FINISHED if last else QuizStatus.RUNNING,
        next_round=next_round,
    )


@contextmanager
def counted_commits(store: SqlStore) -> Iterator[list[int]]:
    """Counts the transactions committed on the store's engine while in the block,
    SQLAlchemy's and those at the driver's level (`Database.driver_transaction`)."""
    commits: list[int] = []

    def on_commit(_: Any) -> None:
        commits.append(1)

    db = store.db
    on_driver = db.driver_transaction

    @asynccontextmanager
    async def counted_driver_transaction() -> AsyncIterator[Any]:
        async with on_driver() as pg:
            yield pg
        commits.append(1)

    engine = store.engine.sync_engine
    event.listen(engine, "commit", on_commit)
    db.driver_transaction = counted_driver_transaction  # type: ignore[method-assign]
    try:
        yield commits
    finally:
        event.remove(engine, "commit", on_commit)
        del db.driver_transaction
