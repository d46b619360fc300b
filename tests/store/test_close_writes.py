"""What a close writes, row by row: the answers' points and streaks, the team votes, the
scores and every FSRS card and log row equal what the core's own rules give for the
answers as they were given (the close reads and writes these at the driver's level, so
a mistake in a column's conversion would show here)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, Table, select

from bot.core.close_decision import close_decision
from bot.core.model import Answer, Choice, Mode, Question, QuestionKind, Scoring, SubjectKind
from bot.core.ports import CloseContext, CloseDecision
from bot.core.ratings import Rating, answer_rating
from bot.core.scoring import elapsed_seconds, score_round
from bot.core.study.memory import review_card
from bot.core.study.model import ReviewSource, StudyCard
from bot.store import SqlStore, create_engine
from bot.store.driver import Driver
from bot.store.study import StudyCards
from bot.store.tables import AnswerRow, StudyReviewRow, TeamAnswerRow, UTCDateTime
from tests.store.helpers import SECONDS, T0, new_round, start_quiz, week_label

# (player, team, pick, seconds into the round) per round; q1 and q2's right pick is 0.
# Times with and without microseconds, in all four rating bands; p4 misses round 2.
ROUND_1 = [
    (0, "Reds", (0,), 0.3),
    (1, "Reds", (1,), 4.000001),
    (2, "Blues", (0,), 9.5),
    (3, "Blues", (0,), 18.0),
    (4, "Blues", (2,), 12.25),
]
ROUND_2 = [
    (0, "Reds", (0,), 2.0),
    (1, "Reds", (0,), 19.75),
    (2, "Blues", (1,), 6.5),
    (3, "Blues", (0,), 3.0),
]


def question(n: int, prompt: str) -> Question:
    """Deck question q<n>, its right choice first (as the helpers' rounds show it)."""
    choices = (Choice("right", True), Choice("wrong", False), Choice("other", False))
    return Question(f"q{n}", "test", QuestionKind.SINGLE, prompt, choices, "Because.")


def speed_decide(ctx: CloseContext) -> CloseDecision:
    """The core's scoring (speed, streaks, team plurality), then the helpers' next round."""
    last = ctx.round.position >= ctx.quiz.total
    upcoming = None if last else new_round(ctx.round.position + 1, ctx.now, ctx.quiz.id)
    return close_decision(ctx, upcoming, stop=False, reason=None)


async def test_a_close_writes_what_the_rules_give_for_the_answers(store: SqlStore) -> None:
    community_id, _, first = await start_quiz(store, questions=2, mode=Mode.TEAMS)
    await store.sync_questions([question(1, "Question 1?"), question(2, "Question 2?")])
    players = [(await store.player("test", f"p{n}", f"P{n}")).id for n in range(5)]
    teams: dict[str, int] = {}
    for n, team, _, _ in ROUND_1:
        if team in teams:
            teams[team] = (await store.join_team(community_id, team, players[n])).id
        else:
            teams[team] = (await store.create_team(community_id, team, players[n])).id
    # earlier cards of q1: p0's from before the question was edited, p1's current
    cards = StudyCards(store.db)
    earlier = T0 - timedelta(days=3)
    seeded = {
        players[0]: review_card(None, community_id=community_id, player_id=players[0],
                                question_id="q1", content_hash="old", rating=Rating.GOOD,
                                source=ReviewSource.REVIEW, now=earlier),
        players[1]: review_card(None, community_id=community_id, player_id=players[1],
                                question_id="q1", content_hash=question(1, "Question 1?")
                                .content_hash(), rating=Rating.AGAIN,
                                source=ReviewSource.REVIEW, now=earlier),
    }  # fmt: skip
    async with store.engine.begin() as conn:
        await cards.write_updates(conn, list(seeded.values()))
    expected_cards: dict[tuple[int, str], StudyCard] = {
        (p, "q1"): u.card for p, u in seeded.items()
    }

    rnd = first
    streaks: dict[int, int] = {}
    totals: dict[tuple[str, int], tuple[int, int, int]] = {}
    for position, given in ((1, ROUND_1), (2, ROUND_2)):
        answers = []
        for n, team, pick, seconds in given:
            at = rnd.opened_at + timedelta(seconds=seconds)
            await store.add_answer(rnd.id, players[n], pick, at, team_community_id=community_id)
            answers.append(Answer(rnd.id, players[n], pick, at, teams[team]))
        answers.sort(key=lambda a: (a.answered_at, a.player_id))
        # round 2 closes on a whole second: due times without microseconds
        close_at = rnd.opened_at + timedelta(seconds=SECONDS + 1, microseconds=250 * (2 - position))
        closed = await store.close_round(rnd.id, close_at, speed_decide)
        assert closed is not None

        # what the close read is what was given, in time order
        ctx = closed.context
        assert list(ctx.answers) == answers
        assert ctx.player_names == {players[n]: f"P{n}" for n, *_ in given}
        assert ctx.previous_streaks == streaks
        assert ctx.earlier_players == ({players[n] for n, *_ in ROUND_1} if position > 1 else set())

        # points and streaks: the core's scoring of those answers
        options = ctx.quiz.options
        assert options.scoring is Scoring.SPEED
        score = score_round(rnd, answers, streaks, scoring=options.scoring, partial=False,
                            teams=True)  # fmt: skip
        async with store.engine.connect() as conn:
            rows = await conn.execute(
                select(AnswerRow.player_id, AnswerRow.correct, AnswerRow.points, AnswerRow.streak)
                .where(AnswerRow.round_id == rnd.id)
                .order_by(AnswerRow.player_id)
            )
            assert [tuple(r) for r in rows] == sorted(
                (a.player_id, a.correct, a.points, a.streak) for a in score.answers
            )
            votes = await conn.execute(
                select(
                    TeamAnswerRow.team_id,
                    TeamAnswerRow.selected,
                    TeamAnswerRow.votes,
                    TeamAnswerRow.members_voted,
                    TeamAnswerRow.correct,
                    TeamAnswerRow.points,
                )
                .where(TeamAnswerRow.round_id == rnd.id)
                .order_by(TeamAnswerRow.team_id)
            )
            assert [tuple(v) for v in votes] == sorted(
                (v.team_id, list(v.selected), v.votes, v.members_voted, v.correct, v.points)
                for v in score.team_votes
            )
        streaks = {a.player_id: a.streak for a in score.answers}
        for d in score.deltas:
            key = (d.subject_kind.value, d.subject_id)
            points, correct, answered = totals.get(key, (0, 0, 0))
            totals[key] = (points + d.points, correct + d.correct, answered + d.answered)

        # cards: fsrs through the one-card rule, for every answer and for p4's silence
        limit = float(SECONDS)
        given_by = {a.player_id: a for a in score.answers}
        concerned = set(given_by) | set(ctx.earlier_players)
        qid = rnd.question.question_id
        digest = question(position, f"Question {position}?").content_hash()
        for p in sorted(concerned):
            a = given_by.get(p)
            rating = (
                answer_rating(None, None, limit)
                if a is None
                else answer_rating(a.correct, elapsed_seconds(rnd.opened_at, a.answered_at), limit)
            )
            update = review_card(expected_cards.get((p, qid)), community_id=community_id,
                                 player_id=p, question_id=qid, content_hash=digest,
                                 rating=rating, source=ReviewSource.QUIZ, now=close_at)  # fmt: skip
            expected_cards[(p, qid)] = update.card
        assert closed.next_round is not None or position == 2
        if closed.next_round is not None:
            rnd = closed.next_round

    # every card, as the store's own reads see them
    stored = {(c.player_id, c.question_id): c for c in await cards.cards(players)}
    assert stored == expected_cards
    assert stored[(players[4], "q2")].lapses == 1  # expected in round 2, silent: Again
    for card in stored.values():
        # the due time is stored so that it compares as a time, to the microsecond
        due = {c.question_id for c in await cards.due_cards(card.player_id, card.due)}
        assert card.question_id in due
        before = card.due - timedelta(microseconds=1)
        assert card.question_id not in {
            c.question_id for c in await cards.due_cards(card.player_id, before)
        }

    # one log row a round, its players and ratings in player order; q1's notes the edit
    async with store.engine.connect() as conn:
        log = (
            await conn.execute(
                select(
                    StudyReviewRow.question_id,
                    StudyReviewRow.source,
                    StudyReviewRow.players,
                    StudyReviewRow.content_changed,
                ).order_by(StudyReviewRow.id)
            )
        ).all()
    quiz_rows = [tuple(r) for r in log if r.source == "quiz"]
    assert quiz_rows == [
        ("q1", "quiz", sorted(players), True),
        ("q2", "quiz", sorted(players), False),
    ]

    # the scores: every delta added once, in both periods
    for period in ("all", week_label(T0)):
        for kind in (SubjectKind.PLAYER, SubjectKind.TEAM):
            board = await store.standings(community_id, period, kind, 20)
            assert {(r.subject_id, r.points, r.correct, r.answered) for r in board.rows} == {
                (subject, *values) for (k, subject), values in totals.items() if k == kind.value
            }


async def test_driver_moments_are_the_text_sqlalchemy_stores_on_sqlite(tmp_path: Path) -> None:
    moments_table = Table(
        "moments", MetaData(), Column("n", Integer, primary_key=True), Column("at", UTCDateTime())
    )
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'moments.db'}")
    moments = [
        datetime(2026, 11, 23, 12, 0, tzinfo=UTC),
        datetime(2026, 11, 23, 12, 0, 0, 1, tzinfo=UTC),
        datetime(2026, 11, 23, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2026, 11, 24, 1, 30, 5, 120000, tzinfo=timezone(timedelta(hours=2))),
    ]
    driver = Driver(postgres=False)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(moments_table.metadata.create_all)
            await conn.execute(
                moments_table.insert(), [{"n": n, "at": m} for n, m in enumerate(moments)]
            )
            raw = (await conn.exec_driver_sql("SELECT at FROM moments ORDER BY n")).all()
        assert [r[0] for r in raw] == [driver.moment(m) for m in moments]
        assert [driver.read_moment(r[0]) for r in raw] == moments
        assert all(driver.read_moment(r[0]).tzinfo is UTC for r in raw)
    finally:
        await engine.dispose()
