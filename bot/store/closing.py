"""`RoundCloser`: close a round once and write what the core decided, in one transaction.

The close marks the round closed by a conditional UPDATE (open -> closed), reads what
scoring needs, asks the core to `decide`, then writes the answers' points, the team
votes, the score deltas, the FSRS cards and the quiz's next step. The reads and writes
of hundreds of rows (the answers, the previous round's streaks, the points, the team
votes, the score deltas) are driver-level statements (`bot.store.driver`): plain tuples,
without SQLAlchemy's type processing per row. On PostgreSQL the answers' points (with
the team votes) and the score deltas each go in one statement over arrays (unnest).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import literal, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.model import Answer, Community, Quiz, Round, TeamVote
from bot.core.outbox import OutboxBatch, close_messages
from bot.core.ports import CloseContext, CloseDecision, ClosedRound, Decide
from bot.core.records import builder
from bot.store.close_reads import CloseReads
from bot.store.db import OPEN, Database
from bot.store.driver import Driver, pg_array
from bot.store.outbox import question_undelivered
from bot.store.quizzes import Quizzes
from bot.store.study import RoundCards, RoundUpdates, StudyCards
from bot.store.tables import QuizRow, RoundRow, UTCDateTime

log = logging.getLogger(__name__)

# A round's answers in order, with their players' and teams' names, in one read (their
# selections as text, which the close decodes once per distinct one: asyncpg would decode
# every row's JSON).
_ANSWERS_WITH_NAMES = (
    "SELECT answers.player_id, CAST(answers.selected AS TEXT), answers.answered_at,"
    " answers.team_id,"
    " answers.correct, answers.points, answers.streak, players.display_name, teams.name"
    " FROM answers JOIN players ON players.id = answers.player_id"
    " LEFT OUTER JOIN teams ON teams.id = answers.team_id"
    " WHERE answers.round_id = $1 ORDER BY answers.answered_at, answers.player_id"
)
# Who answered the rounds before ($3) and their streaks in the one just before ($2).
_EARLIER_ANSWERS = (
    "SELECT answers.player_id,"
    " MAX(CASE WHEN rounds.position = $2 THEN answers.streak END) FROM answers"
    " JOIN rounds ON rounds.id = answers.round_id"
    " WHERE rounds.quiz_id = $1 AND rounds.position < $3 GROUP BY answers.player_id"
)
# The answers' points: one statement over arrays on PostgreSQL (given as array literals,
# see `pg_array`), an executemany on SQLite.
_PG_SCORE_ANSWERS = (
    "UPDATE answers SET correct = v.correct, points = v.points, streak = v.streak"
    " FROM unnest($2::text::bigint[], $3::text::bool[], $4::text::int[], $5::text::int[])"
    " AS v(player_id, correct, points, streak)"
    " WHERE answers.round_id = $1 AND answers.player_id = v.player_id"
)
_SQLITE_SCORE_ANSWERS = (
    "UPDATE answers SET correct = $1, points = $2, streak = $3"
    " WHERE round_id = $4 AND player_id = $5"
)
# On PostgreSQL the team votes go in the same statement as the answers' points (a
# data-modifying WITH runs whether or not the statement reads it): one round trip.
_PG_SCORE_ANSWERS_AND_VOTES = (
    "WITH votes AS (INSERT INTO team_answers (round_id, team_id, selected, votes,"
    " members_voted, correct, points) SELECT $1, t.team_id, CAST(t.selected AS json), t.votes,"
    " t.members_voted, t.correct, t.points FROM unnest($6::bigint[], $7::text[], $8::int[],"
    " $9::int[], $10::bool[], $11::int[])"
    " AS t(team_id, selected, votes, members_voted, correct, points)) " + _PG_SCORE_ANSWERS
)
_INSERT_TEAM_VOTES = (
    "INSERT INTO team_answers (round_id, team_id, selected, votes, members_voted, correct,"
    " points) VALUES ($1, $2, $3, $4, $5, $6, $7)"
)
# The score deltas, in the order given (the lock order of scores).
_ADD_SCORES_END = (
    " ON CONFLICT (community_id, period, subject_kind, subject_id) DO UPDATE SET"
    " points = scores.points + excluded.points,"
    " correct = scores.correct + excluded.correct,"
    " answered = scores.answered + excluded.answered"
)
_PG_ADD_SCORES = (
    "INSERT INTO scores (community_id, period, subject_kind, subject_id, points, correct,"
    " answered)"
    " SELECT $1, v.period, v.kind, v.subject, v.points, v.correct, v.answered"
    " FROM unnest($2::text::varchar[], $3::text::varchar[], $4::text::bigint[],"
    " $5::text::bigint[], $6::text::int[], $7::text::int[])"
    " WITH ORDINALITY AS v(period, kind, subject, points, correct, answered, n)"
    " ORDER BY v.n" + _ADD_SCORES_END
)
_SQLITE_ADD_SCORES = (
    "INSERT INTO scores (community_id, period, subject_kind, subject_id, points, correct,"
    " answered) VALUES ($1, $2, $3, $4, $5, $6, $7)" + _ADD_SCORES_END
)

# A round's hundreds of answers, built without Answer's frozen __init__
_answer = builder(Answer)

# A score delta in one period: (period, subject kind, subject id, points, correct,
# answered); in this order, tuples sort in the lock order of scores.
ScoreRowValues = tuple[str, str, int, int, int, int]


class RoundCloser:
    """Closing rounds, one by one or every due one of a platform."""

    def __init__(self, db: Database, quizzes: Quizzes) -> None:
        self._db = db
        self._quizzes = quizzes
        self._study = StudyCards(db)
        self._driver = Driver(db.postgres, direct=True)
        self._reads = CloseReads(self._driver)

    async def close_round(self, round_id: int, now: datetime, decide: Decide) -> ClosedRound | None:
        """Close an open round and apply `decide` in the same transaction.

        A conditional update (open -> closed) makes this happen once: a second caller,
        in this process or another, gets None.
        """
        async with self._db.write() as conn:
            return await self._close(conn, round_id, now, decide)

    async def close_due_rounds(
        self, platform: str, now: datetime, decide: Decide, limit: int = 50
    ) -> list[ClosedRound]:
        """Close every open round of `platform` whose deadline has passed, each in its own
        transaction; on PostgreSQL due rounds are claimed with FOR UPDATE SKIP LOCKED.

        A round whose close fails is logged and left open for the next call.
        """
        if not self._db.postgres:
            return await self._close_due_one_by_one(platform, now, decide, limit)
        closed: list[ClosedRound] = []
        failed: set[int] = set()
        while len(closed) + len(failed) < limit:
            claim = (
                self._due_rounds(platform, now, 1)
                .where(RoundRow.id.not_in(failed))
                .with_for_update(of=RoundRow, skip_locked=True)
            )
            round_id: int | None = None
            try:
                async with self._db.write() as conn:
                    round_id = (await conn.execute(claim)).scalar()
                    if round_id is None:
                        break
                    result = await self._close(conn, round_id, now, decide)
            except Exception:
                if round_id is None:
                    raise
                log.exception("closing round %s failed", round_id)
                failed.add(round_id)
                continue
            if result is not None:
                closed.append(result)
        return closed

    async def _close_due_one_by_one(
        self, platform: str, now: datetime, decide: Decide, limit: int
    ) -> list[ClosedRound]:
        """`close_due_rounds` on SQLite, where writers take turns anyway: read the due
        ids, then close each in its own transaction."""
        closed: list[ClosedRound] = []
        for due_id in await self.due_round_ids(platform, now, limit):
            try:
                result = await self.close_round(due_id, now, decide)
            except Exception:
                log.exception("closing round %s failed", due_id)
                continue
            if result is not None:
                closed.append(result)
        return closed

    def _due_rounds(self, platform: str, now: datetime, limit: int) -> Any:
        """SELECT the ids of `platform`'s open rounds past their deadline, oldest first.

        A round whose question is still in the outbox is not due: its clock starts when
        the question is seen (the dispatcher moves its deadline then).
        """
        return (
            select(RoundRow.id)
            .join(QuizRow, QuizRow.id == RoundRow.quiz_id)
            .where(
                RoundRow.status == OPEN,
                RoundRow.closes_at <= literal(now, UTCDateTime()),
                QuizRow.platform == platform,
                ~question_undelivered(RoundRow.id),
            )
            .order_by(RoundRow.closes_at, RoundRow.id)
            .limit(limit)
        )

    async def due_round_ids(self, platform: str, now: datetime, limit: int = 50) -> list[int]:
        """Ids of open rounds of `platform` past their deadline (no lock taken)."""
        async with self._db.reader.connect() as conn:
            return list((await conn.execute(self._due_rounds(platform, now, limit))).scalars())

    async def _close(
        self, conn: AsyncConnection, round_id: int, now: datetime, decide: Decide
    ) -> ClosedRound | None:
        """Mark a round closed if it is open, then score it with `decide`, in `conn`'s
        transaction.

        On PostgreSQL the Python work is done while the server runs the statement
        before it (`Driver.beside`): deciding while the cards are read, the score rows
        built while the answers' points are written, the card updates while the scores
        are, the messages while the cards are. The cards are written after the next
        round, whose messages are built meanwhile.
        """
        marked = await self._reads.mark_closed(conn, round_id, now)
        if marked is None:
            return None
        context = await self._close_context(conn, *marked, now)
        decision, cards = await self._decide(conn, context, decide)
        updates = await self._write_scores(conn, context, decision, cards)
        quiz = context.quiz
        next_round = None
        if decision.next_round is not None:
            next_round = await self._reads.insert_round(conn, quiz.id, decision.next_round)
        if decision.quiz_status != quiz.status:
            await self._quizzes.set_quiz_status(conn, quiz, decision.quiz_status.value)
            quiz = Quiz(**{**vars(quiz), "status": decision.quiz_status})
        closed = ClosedRound(context=context, decision=decision, quiz=quiz, next_round=next_round)
        # the reveal and what follows are shown whatever happens to this process next
        if updates is None:
            messages = close_messages(closed)
        else:
            _, messages = await self._driver.beside(
                self._study.write_round(conn, updates), lambda: close_messages(closed)
            )
        batch = OutboxBatch(quiz.platform, quiz.community_id, quiz.id, messages)
        await self._quizzes.outbox.write_in(conn, batch, now)
        return closed

    async def _decide(
        self, conn: AsyncConnection, context: CloseContext, decide: Decide
    ) -> tuple[CloseDecision, RoundCards | None]:
        """The decision on the round, and the round question's cards of the players it
        concerns (read while deciding; None if it concerns no one)."""
        _, players = self._study.round_players(context)
        if not players:
            return decide(context), None
        cards, decision = await self._driver.beside(
            self._study.round_cards(conn, context, players), lambda: decide(context)
        )
        answered = {a.player_id for a in decision.answers}
        if not answered <= cards.players:
            # a decision that scores players who did not answer: read theirs too
            cards = await self._study.round_cards(conn, context, players | answered)
        return decision, cards

    async def _write_scores(
        self,
        conn: AsyncConnection,
        context: CloseContext,
        decision: CloseDecision,
        cards: RoundCards | None,
    ) -> RoundUpdates | None:
        """Write the answers' points, the team votes and the score deltas; the card
        updates, worked out meanwhile (study mode: every answer, and every expected
        player's silence, rates a card)."""
        round_id = context.round.id
        scores: list[ScoreRowValues]
        answers, votes = decision.answers, decision.team_votes
        if answers or votes:
            _, scores = await self._driver.beside(
                self._score_answers(conn, round_id, answers, votes), lambda: score_rows(decision)
            )
        else:
            scores = score_rows(decision)

        def updates() -> RoundUpdates | None:
            if cards is None:
                return None
            return self._study.round_updates(context, decision, cards)

        if not scores:
            return updates()
        community_id = context.quiz.community_id
        _, card_updates = await self._driver.beside(
            self._add_scores(conn, community_id, scores), updates
        )
        return card_updates

    async def _score_answers(
        self,
        conn: AsyncConnection,
        round_id: int,
        answers: Sequence[Answer],
        votes: Sequence[TeamVote],
    ) -> None:
        """Write each answer's correct, points and streak, and store each team's vote."""
        driver = self._driver
        if driver.postgres and answers:
            # one statement for the whole round, not one UPDATE per answer
            columns = (
                pg_array([a.player_id for a in answers]),
                pg_array([a.correct for a in answers]),
                pg_array([a.points for a in answers]),
                pg_array([a.streak for a in answers]),
            )
            if not votes:
                await driver.execute(conn, _PG_SCORE_ANSWERS, (round_id, *columns))
                return
            vote_columns = [list(c) for c in zip(*self._vote_values(votes), strict=True)]
            await driver.execute(
                conn, _PG_SCORE_ANSWERS_AND_VOTES, (round_id, *columns, *vote_columns)
            )
            return
        if answers:
            await driver.executemany(
                conn,
                _SQLITE_SCORE_ANSWERS,
                [(a.correct, a.points, a.streak, round_id, a.player_id) for a in answers],
            )
        if votes:
            await driver.executemany(
                conn, _INSERT_TEAM_VOTES, [(round_id, *v) for v in self._vote_values(votes)]
            )

    def _vote_values(self, votes: Sequence[TeamVote]) -> list[tuple[Any, ...]]:
        """Each team vote's team_answers values after the round id."""
        json = self._driver.json
        return [
            (v.team_id, json(sorted(v.selected)), v.votes, v.members_voted, v.correct, v.points)
            for v in votes
        ]

    async def _add_scores(
        self, conn: AsyncConnection, community_id: int, scores: Sequence[ScoreRowValues]
    ) -> None:
        """Add the score deltas to their rows (created when missing), in the order given."""
        if self._driver.postgres:
            columns = [pg_array(c) for c in zip(*scores, strict=True)]
            await self._driver.execute(conn, _PG_ADD_SCORES, (community_id, *columns))
            return
        await self._driver.executemany(
            conn, _SQLITE_ADD_SCORES, [(community_id, *s) for s in scores]
        )

    async def _close_context(
        self, conn: AsyncConnection, round_: Round, quiz: Quiz, community: Community, now: datetime
    ) -> CloseContext:
        """Read what scoring needs, inside the closing transaction."""
        driver = self._driver
        rows = await driver.rows(conn, _ANSWERS_WITH_NAMES, (round_.id,))
        previous_streaks: dict[int, int] = {}
        previous_answered: int | None = None
        earlier: frozenset[int] = frozenset()
        if round_.position > 1:
            # one read of the earlier rounds' answers: who answered, and the streaks of
            # those who answered the round just before (a streak is never NULL); the
            # answers are built from their rows meanwhile
            params = (quiz.id, round_.position - 1, round_.position)
            earlier_rows, (answers, player_names, team_names) = await self._driver.beside(
                driver.rows(conn, _EARLIER_ANSWERS, params),
                lambda: self._answers_from_rows(round_.id, rows),
            )
            earlier = frozenset(player_id for player_id, _ in earlier_rows)
            previous_streaks = {p: streak for p, streak in earlier_rows if streak is not None}
            previous_answered = len(previous_streaks)
        else:
            answers, player_names, team_names = self._answers_from_rows(round_.id, rows)
        return CloseContext(
            quiz=quiz,
            round=round_,
            community=community,
            answers=answers,
            previous_streaks=previous_streaks,
            previous_answered=previous_answered,
            player_names=player_names,
            team_names=team_names,
            now=now,
            earlier_players=earlier,
        )

    def _answers_from_rows(
        self, round_id: int, rows: Sequence[Sequence[Any]]
    ) -> tuple[tuple[Answer, ...], dict[int, str], dict[int, str]]:
        """A round's answers, with their players' and teams' names, from `_ANSWERS_WITH_NAMES`."""
        driver = self._driver
        read_moment = driver.read_moment
        # a round's answers pick among a few selections: decode each one once (the
        # selection is read as text)
        selections: dict[Any, tuple[int, ...]] = {}
        answers: list[Answer] = []
        player_names: dict[int, str] = {}
        team_names: dict[int, str] = {}
        for player_id, raw, answered_at, team_id, correct, points, streak, name, team in rows:
            selected = selections.get(raw)
            if selected is None:
                selected = selections[raw] = tuple(int(i) for i in driver.read_json(raw))
            if answered_at.__class__ is not datetime or answered_at.tzinfo is not UTC:
                answered_at = read_moment(answered_at)  # SQLite's text (asyncpg's is UTC)
            right = None if correct is None else bool(correct)
            answers.append(
                _answer(round_id, player_id, selected, answered_at, team_id, right, points, streak)
            )
            player_names[player_id] = name
            if team_id is not None:
                team_names[team_id] = team
        return tuple(answers), player_names, team_names


def score_rows(decision: CloseDecision) -> list[ScoreRowValues]:
    """The score rows a decision adds to, one per delta and period, in lock order."""
    # One lock order for every closer, so concurrent closes never deadlock: (period,
    # subject kind, subject id) is unique, so the tuples sort by it alone. Sorted as
    # built: periods, then kinds, then each kind's deltas by subject id.
    by_kind: dict[str, list[tuple[int, int, int, int]]] = {}
    for d in decision.deltas:
        by_kind.setdefault(d.subject_kind.value, []).append(
            (d.subject_id, d.points, d.correct, d.answered)
        )
    kinds = [(kind, sorted(by_kind[kind])) for kind in sorted(by_kind)]
    return [
        (period, kind, *delta)
        for period in sorted(set(decision.periods))
        for kind, deltas in kinds
        for delta in deltas
    ]
