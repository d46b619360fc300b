"""The close's statements on rounds at the driver's level (see `bot.store.driver`): mark
the round closed (open -> closed, once) and read its quiz and community; open the next.

On PostgreSQL the three are one statement (the UPDATE in a WITH, its row joined to its
quiz and community): one round trip. SQLite has no data-modifying WITH: there it is an
UPDATE ... RETURNING, then one read of the quiz with its community. The rows are turned
into the codec's mappings by the columns' types, as SQLAlchemy would.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import JSON, Table
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.model import Community, Quiz, Round
from bot.core.ports import NewRound
from bot.store.codec import (
    community_from_row,
    quiz_from_row,
    round_from_row,
    round_question_to_json,
)
from bot.store.db import CLOSED, OPEN
from bot.store.driver import Driver
from bot.store.tables import CommunityRow, QuizRow, RoundRow, UTCDateTime

_ROUNDS: Table = RoundRow.__table__  # type: ignore[assignment]
_QUIZZES: Table = QuizRow.__table__  # type: ignore[assignment]
_COMMUNITIES: Table = CommunityRow.__table__  # type: ignore[assignment]


def _columns(table: Table, source: str) -> str:
    return ", ".join(f"{source}.{c.name}" for c in table.c)


_MARK = "UPDATE rounds SET status = $3, closed_at = $2 WHERE rounds.id = $1 AND rounds.status = $4"
_QUIZ_AND_COMMUNITY_FROM = (
    " LEFT OUTER JOIN quizzes ON quizzes.id = {quiz_id}"
    " LEFT OUTER JOIN communities ON communities.id = quizzes.community_id"
)
_PG_CLOSE = (
    f"WITH closed AS ({_MARK} RETURNING {_columns(_ROUNDS, 'rounds')})"
    f" SELECT {_columns(_ROUNDS, 'closed')}, {_columns(_QUIZZES, 'quizzes')},"
    f" {_columns(_COMMUNITIES, 'communities')} FROM closed"
    + _QUIZ_AND_COMMUNITY_FROM.format(quiz_id="closed.quiz_id")
)
_SQLITE_MARK = f"{_MARK} RETURNING {_columns(_ROUNDS, 'rounds')}"
_SQLITE_QUIZ_AND_COMMUNITY = (
    f"SELECT {_columns(_QUIZZES, 'quizzes')}, {_columns(_COMMUNITIES, 'communities')}"
    " FROM (SELECT $1 AS id) AS wanted" + _QUIZ_AND_COMMUNITY_FROM.format(quiz_id="wanted.id")
)

_INSERT_ROUND = (
    "INSERT INTO rounds (quiz_id, position, question_id, question, opened_at, closes_at,"
    f" status) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {_columns(_ROUNDS, 'rounds')}"
)

Decoder = Callable[[Sequence[Any]], dict[str, Any]]


def decoder(driver: Driver, table: Table) -> Decoder:
    """A table's columns (in order) from a row's values, typed as SQLAlchemy reads them:
    aware UTC datetimes, decoded JSON."""
    fields: list[tuple[str, Callable[[Any], Any] | None]] = []
    for column in table.c:
        convert: Callable[[Any], Any] | None = None
        if isinstance(column.type, UTCDateTime):
            convert = driver.read_optional_moment
        elif isinstance(column.type, JSON):
            convert = driver.read_json
        fields.append((column.name, convert))

    def decode(values: Sequence[Any]) -> dict[str, Any]:
        return {
            name: value if convert is None or value is None else convert(value)
            for (name, convert), value in zip(fields, values, strict=True)
        }

    return decode


class CloseReads:
    """Marking a round closed and reading its quiz and community, for one dialect."""

    def __init__(self, driver: Driver) -> None:
        self._driver = driver
        self._round = decoder(driver, _ROUNDS)
        self._quiz = decoder(driver, _QUIZZES)
        self._community = decoder(driver, _COMMUNITIES)

    async def mark_closed(
        self, conn: AsyncConnection, round_id: int, now: Any
    ) -> tuple[Round, Quiz, Community] | None:
        """open -> closed, once: the closed round with its quiz and community, or None if
        it was not open."""
        driver = self._driver
        params = (round_id, driver.moment(now), CLOSED, OPEN)
        rounds = len(_ROUNDS.c)
        if driver.postgres:
            rows = await driver.rows(conn, _PG_CLOSE, params)
            if not rows:
                return None
            row = rows[0]
            round_, rest = round_from_row(self._round(row[:rounds])), row[rounds:]
        else:
            rows = await driver.rows(conn, _SQLITE_MARK, params)
            if not rows:
                return None
            round_ = round_from_row(self._round(rows[0]))
            rest = (await driver.rows(conn, _SQLITE_QUIZ_AND_COMMUNITY, (round_.quiz_id,)))[0]
        quizzes = len(_QUIZZES.c)
        quiz, community = rest[:quizzes], rest[quizzes:]
        if quiz[0] is None:
            raise LookupError(f"round {round_.id} names a missing quiz {round_.quiz_id}")
        return (
            round_,
            quiz_from_row(self._quiz(quiz)),
            community_from_row(self._community(community)),
        )

    async def insert_round(self, conn: AsyncConnection, quiz_id: int, new: NewRound) -> Round:
        """Insert an open round of a quiz, in `conn`'s transaction, as one driver-level
        statement (the first round of a quiz too: `Quizzes.insert_round`)."""
        driver = self._driver
        params = (
            quiz_id,
            new.position,
            new.question.question_id,
            driver.json(round_question_to_json(new.question)),
            driver.moment(new.opened_at),
            driver.moment(new.closes_at),
            OPEN,
        )
        rows = await driver.rows(conn, _INSERT_ROUND, params)
        return round_from_row(self._round(rows[0]))
