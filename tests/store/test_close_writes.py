"""What a close writes, row by row: the answers' points and streaks, the team votes, the
scores and every FSRS card and log row equal what the core's own rules give for the
answers as they were given (the close reads and writes these at the driver's level, so
a mistake in a column's conversion would show here)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, Table, select

from bot.core.close_decision import close_decision
from bot.core.model import (
    Answer,
    Choice,
    Mode,
    Question,
    QuestionKind,
    Round,
    Scoring,
    SubjectKind,
)
from bot.core.ports import CloseContext, CloseDecision, ClosedRound, StandingsQuery
from bot.core.ratings import Rating, answer_rating
from bot.core.scoring import RoundScore, elapsed_seconds, score_round
from bot.core.study.memory import review_card
from bot.core.study.model import ReviewSource, StudyCard
from bot.store import SqlStore, create_engine
from bot.store.driver import Driver
from bot.store.study import StudyCards
from bot.store.tables import AnswerRow, StudyReviewRow, TeamAnswerRow, UTCDateTime
from tests.store.helpers import SECONDS, T0, new_round, start_quiz, week_label

# (player, team, pick, seconds into the round) per round; q1 and q2's right pick is 0.
# Times with and without microseconds, in all four rating bands; p4 misses round 2.
Given = tuple[int, str, tuple[int, ...], float]

ROUND_1: list[Given] = [
    (0, "Reds", (0,), 0.3),
    (1, "Reds", (1,), 4.000001),
    (2, "Blues", (0,), 9.5),
    (3, "Blues", (0,), 18.0),
    (4, "Blues", (2,), 12.25),
]
ROUND_2: list[Given] = [
    (0, "Reds", (0,), 2.0),
    (1, "Reds", (0,), 19.75),
    (2, "Blues", (1,), 6.5),
    (3, "Blues", (0,), 3.0),
]


def question(n: int) -> Question:
    """Deck question q<n>, its right choice first (as the helpers' rounds show it)."""
    choices = (Choice("right", True), Choice("wrong", False), Choice("other", False))
    return Question(f"q{n}", "test", QuestionKind.SINGLE, f"Question {n}?", choices, "Because.")


def speed_decide(ctx: CloseContext) -> CloseDecision:
    """The core's scoring (speed, streaks, team plurality), then the helpers' next round."""
    last = ctx.round.position >= ctx.quiz.total
    upcoming = None if last else new_round(ctx.round.position + 1, ctx.now, ctx.quiz.id)
    return close_decision(ctx, upcoming, stop=False, reason=None)


class Game:
    """A two-round teams quiz of five players, with what the rules expect kept beside it."""

    def __init__(self, store: SqlStore, community_id: int, players: list[int]) -> None:
        self.store = store
        self.community_id = community_id
        self.players = players
        self.teams: dict[str, int] = {}
        self.cards = StudyCards(store.db)
        self.expected_cards: dict[tuple[int, str], StudyCard] = {}
        self.streaks: dict[int, int] = {}
        self.totals: dict[tuple[str, int], tuple[int, int, int]] = {}

    @classmethod
    async def start(cls, store: SqlStore) -> tuple[Game, Round]:
        community_id, _, first = await start_quiz(store, questions=2, mode=Mode.TEAMS)
        await store.sync_questions([question(1), question(2)])
        players = [(await store.player("test", f"p{n}", f"P{n}")).id for n in range(5)]
        game = cls(store, community_id, players)
        for n, team, _, _ in ROUND_1:
            join = store.join_team if team in game.teams else store.create_team
            game.teams[team] = (await join(community_id, team, players[n])).id
        return game, first

    async def seed_cards(self) -> None:
        """Earlier cards of q1: p0's from before the question was edited, p1's current."""
        updates = [
            review_card(None, community_id=self.community_id, player_id=self.players[n],
                        question_id="q1", content_hash=digest, rating=rating,
                        source=ReviewSource.REVIEW, now=T0 - timedelta(days=3))
            for n, digest, rating in ((0, "old", Rating.GOOD),
                                      (1, question(1).content_hash(), Rating.AGAIN))
        ]  # fmt: skip
        async with self.store.engine.begin() as conn:
            await self.cards.write_updates(conn, updates)
        self.expected_cards = {(u.card.player_id, "q1"): u.card for u in updates}

    async def play(self, rnd: Round, position: int, given: list[Given]) -> ClosedRound:
        """Answer and close a round; check what the close read, keep what to expect."""
        answers = []
        for n, team, pick, seconds in given:
            at = rnd.opened_at + timedelta(seconds=seconds)
            await self.store.add_answer(rnd.id, self.players[n], pick, at, self.community_id)
            answers.append(Answer(rnd.id, self.players[n], pick, at, self.teams[team]))
        answers.sort(key=lambda a: (a.answered_at, a.player_id))
        # round 2 closes on a whole second: due times without microseconds
        micros = 250 if position == 1 else 0
        close_at = rnd.opened_at + timedelta(seconds=SECONDS + 1, microseconds=micros)
        closed = await self.store.close_round(rnd.id, close_at, speed_decide)
        assert closed is not None
        # what the close read is what was given, in time order
        ctx = closed.context
        assert list(ctx.answers) == answers
        assert ctx.player_names == {self.players[n]: f"P{n}" for n, *_ in given}
        assert ctx.previous_streaks == self.streaks
        earlier = {self.players[n] for n, *_ in ROUND_1} if position > 1 else set()
        assert ctx.earlier_players == earlier
        assert ctx.quiz.options.scoring is Scoring.SPEED
        score = score_round(rnd, answers, self.streaks, scoring=Scoring.SPEED, partial=False,
                            teams=True)  # fmt: skip
        await self.check_round_rows(rnd, score)
        self.streaks = {a.player_id: a.streak for a in score.answers}
        for d in score.deltas:
            key = (d.subject_kind.value, d.subject_id)
            points, correct, answered = self.totals.get(key, (0, 0, 0))
            self.totals[key] = (points + d.points, correct + d.correct, answered + d.answered)
        self.expect_cards(rnd, score.answers, earlier, question(position).content_hash(), close_at)
        return closed

    async def check_round_rows(self, rnd: Round, score: RoundScore) -> None:
        """The answers' points and streaks and the team votes: the core's scoring."""
        async with self.store.engine.connect() as conn:
            rows = await conn.execute(
                select(AnswerRow.player_id, AnswerRow.correct, AnswerRow.points, AnswerRow.streak)
                .where(AnswerRow.round_id == rnd.id)
                .order_by(AnswerRow.player_id)
            )
            assert [tuple(r) for r in rows] == sorted(
                (a.player_id, a.correct, a.points, a.streak) for a in score.answers
            )
            t = TeamAnswerRow
            votes = await conn.execute(
                select(t.team_id, t.selected, t.votes, t.members_voted, t.correct, t.points)
                .where(t.round_id == rnd.id)
                .order_by(t.team_id)
            )
            assert [tuple(v) for v in votes] == sorted(
                (v.team_id, list(v.selected), v.votes, v.members_voted, v.correct, v.points)
                for v in score.team_votes
            )

    def expect_cards(
        self,
        rnd: Round,
        answers: tuple[Answer, ...],
        earlier: set[int],
        digest: str,
        close_at: datetime,
    ) -> None:
        """fsrs through the one-card rule, for every answer and every expected silence."""
        limit = float(SECONDS)
        given_by = {a.player_id: a for a in answers}
        qid = rnd.question.question_id
        for p in sorted(set(given_by) | earlier):
            a = given_by.get(p)
            rating = (
                answer_rating(None, None, limit)
                if a is None
                else answer_rating(a.correct, elapsed_seconds(rnd.opened_at, a.answered_at), limit)
            )
            update = review_card(self.expected_cards.get((p, qid)), community_id=self.community_id,
                                 player_id=p, question_id=qid, content_hash=digest,
                                 rating=rating, source=ReviewSource.QUIZ, now=close_at)  # fmt: skip
            self.expected_cards[(p, qid)] = update.card

    async def check_cards_and_log(self) -> None:
        """Every card as the store's reads see it, due to the microsecond; one log row a
        round, q1's noting the edit."""
        stored = {(c.player_id, c.question_id): c for c in await self.cards.cards(self.players)}
        assert stored == self.expected_cards
        assert stored[(self.players[4], "q2")].lapses == 1  # expected in round 2, silent
        for card in stored.values():
            due = {c.question_id for c in await self.cards.due_cards(card.player_id, card.due)}
            assert card.question_id in due
            before = card.due - timedelta(microseconds=1)
            due = {c.question_id for c in await self.cards.due_cards(card.player_id, before)}
            assert card.question_id not in due
        r = StudyReviewRow
        async with self.store.engine.connect() as conn:
            log = (
                await conn.execute(
                    select(r.question_id, r.source, r.players, r.content_changed)
                    .where(r.source == "quiz")
                    .order_by(r.id)
                )
            ).all()
        assert [tuple(row) for row in log] == [
            ("q1", "quiz", sorted(self.players), True),
            ("q2", "quiz", sorted(self.players), False),
        ]

    async def check_scores(self) -> None:
        """Every delta added once, in both periods."""
        for period in ("all", week_label(T0)):
            for kind in (SubjectKind.PLAYER, SubjectKind.TEAM):
                board = await self.store.standings(
                    StandingsQuery(self.community_id, period, kind, 20)
                )
                assert {(r.subject_id, r.points, r.correct, r.answered) for r in board.rows} == {
                    (subject, *values)
                    for (k, subject), values in self.totals.items()
                    if k == kind.value
                }


async def test_a_close_writes_what_the_rules_give_for_the_answers(store: SqlStore) -> None:
    game, first = await Game.start(store)
    await game.seed_cards()
    closed = await game.play(first, 1, ROUND_1)
    assert closed.next_round is not None
    last = await game.play(closed.next_round, 2, ROUND_2)
    assert last.next_round is None
    await game.check_cards_and_log()
    await game.check_scores()


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
