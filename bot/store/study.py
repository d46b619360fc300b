"""Study mode's storage: FSRS cards, the review log and reminder opt-ins.

A round's cards are updated inside the transaction that closes it (`bot.store.closing`):
`round_cards` reads the round question's cards of the players concerned in one SELECT
(while the core decides the round, on PostgreSQL), `round_updates` lets the core compute
the new cards, and `write_round` writes them with one upsert (unnest arrays on
PostgreSQL, an executemany on SQLite) and one log row; `record_round` does all three.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, literal, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.ports import CloseContext, CloseDecision
from bot.core.study.closing import round_reviews
from bot.core.study.memory import STATES, card_values
from bot.core.study.model import CardUpdate, CardValues, RoundReviews, StudyCard
from bot.core.study.ports import ReminderChange, ReminderTarget
from bot.store.codec import Row, player_from_row
from bot.store.db import Database
from bot.store.driver import Driver, pg_array
from bot.store.tables import (
    PlayerRow,
    StudyCardRow,
    StudyReminderRow,
    StudyReviewRow,
    UTCDateTime,
)

CARD_COLUMNS = StudyCardRow.__table__.c

# The close's card statements, at the driver's level (see bot.store.driver); the card
# values in CardValues order after the key.
_CARD_VALUES = "state, step, stability, difficulty, due, last_review, content_hash, reviews, lapses"
# The question's content hash (NULL without a questions row) and its cards of some
# players ($2 on): one row from the one-row key, then one per card.
_CARDS_OF_QUESTION = (
    "SELECT questions.content_hash, study_cards.player_id, "
    + ", ".join(f"study_cards.{c}" for c in _CARD_VALUES.split(", "))
    + " FROM (SELECT CAST($1 AS VARCHAR(200)) AS id) AS question"
    " LEFT OUTER JOIN questions ON questions.id = question.id"
    " LEFT OUTER JOIN study_cards ON study_cards.question_id = question.id"
    " AND study_cards.player_id "
)
_UPSERT_CARDS_END = (
    " ON CONFLICT (player_id, question_id) DO UPDATE SET state = excluded.state,"
    " step = excluded.step, stability = excluded.stability,"
    " difficulty = excluded.difficulty, due = excluded.due,"
    " last_review = excluded.last_review, content_hash = excluded.content_hash,"
    " reviews = excluded.reviews, lapses = excluded.lapses"
)
# On PostgreSQL a round's cards go in one statement over arrays (unnest; array literals,
# see `pg_array`), as the scores do; on SQLite in one executemany.
_PG_UPSERT_CARDS = (
    f"INSERT INTO study_cards (player_id, question_id, {_CARD_VALUES})"
    " SELECT * FROM unnest($1::text::bigint[], $2::text::varchar[], $3::text::int[],"
    " $4::text::int[], $5::text::float8[], $6::text::float8[], $7::text::timestamptz[],"
    " $8::text::timestamptz[], $9::text::varchar[], $10::text::int[], $11::text::int[])"
    + _UPSERT_CARDS_END
)
_SQLITE_UPSERT_CARDS = (
    f"INSERT INTO study_cards (player_id, question_id, {_CARD_VALUES})"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)" + _UPSERT_CARDS_END
)
# On PostgreSQL the log rows go in the same statement as the cards (a data-modifying WITH
# runs whether or not the statement reads it): one round trip, not two.
_PG_WRITE_CARDS = (
    "WITH log AS (INSERT INTO study_reviews (community_id, question_id, source,"
    " reviewed_at, players, ratings, content_changed)"
    " SELECT l.community_id, l.question_id, l.source, l.reviewed_at, CAST(l.players AS json),"
    " CAST(l.ratings AS json), l.content_changed FROM unnest($12::bigint[], $13::varchar[],"
    " $14::varchar[], $15::timestamptz[], $16::text[], $17::text[], $18::bool[])"
    " WITH ORDINALITY AS l(community_id, question_id, source, reviewed_at, players, ratings,"
    " content_changed, n) ORDER BY l.n) " + _PG_UPSERT_CARDS
)
_INSERT_LOG = (
    "INSERT INTO study_reviews (community_id, question_id, source, reviewed_at, players,"
    " ratings, content_changed) VALUES ($1, $2, $3, $4, $5, $6, $7)"
)
# Player ids per card read on SQLite (an IN list): well under its limit of parameters.
_SQLITE_ID_CHUNK = 500

# A card row to write: the key, then CardValues.
CardRowValues = tuple[Any, ...]


def card_from_row(row: Row) -> StudyCard:
    """A StudyCard from a `study_cards` row."""
    return StudyCard(
        player_id=row["player_id"],
        question_id=row["question_id"],
        state=STATES[row["state"]],
        step=row["step"],
        stability=row["stability"],
        difficulty=row["difficulty"],
        due=row["due"],
        last_review=row["last_review"],
        content_hash=row["content_hash"],
        reviews=row["reviews"],
        lapses=row["lapses"],
    )


# A review-log row: community, question, source, moment, players, their ratings, and
# whether the question changed since one of their cards' last review.
LogRow = tuple[int, str, str, datetime, list[int], list[int], bool]


def _log_rows(updates: Sequence[CardUpdate]) -> list[LogRow]:
    """The review log's rows: one per (community, question, source, moment), listing its
    players and their ratings in player order."""
    groups: dict[tuple[int, str, str, datetime], list[CardUpdate]] = {}
    for u in updates:
        r = u.review
        key = (r.community_id, r.question_id, str(r.source), r.reviewed_at)
        groups.setdefault(key, []).append(u)
    return [
        (
            *key,
            [u.review.player_id for u in group],
            [int(u.review.rating) for u in group],
            any(u.review.content_changed for u in group),
        )
        for key, group in groups.items()
    ]


def _round_log_row(reviews: RoundReviews) -> LogRow:
    """A closing round's review-log row."""
    return (
        reviews.community_id,
        reviews.question_id,
        str(reviews.source),
        reviews.reviewed_at,
        list(reviews.players),
        [int(r) for r in reviews.ratings],
        reviews.content_changed,
    )


def _sqlite_card_rows(
    driver: Driver, keys: Sequence[tuple[int, str]], cards: Sequence[CardValues]
) -> list[CardRowValues]:
    """The cards' rows for `_SQLITE_UPSERT_CARDS`: due and last_review as SQLite's text.
    A round's new cards share a few values (one per rating): each is converted once."""
    moment = driver.moments()
    converted: dict[int, tuple[Any, ...]] = {}
    rows = []
    for key, card in zip(keys, cards, strict=True):
        values = converted.get(id(card))
        if values is None:
            s, step, stability, difficulty, due, last, digest, reviews, lapses = card
            values = converted[id(card)] = (s, step, stability, difficulty, moment(due),
                                            moment(last), digest, reviews, lapses)  # fmt: skip
        rows.append(key + values)
    return rows


@dataclass(frozen=True)
class RoundCards:
    """What a close reads of its question's cards: of which players, the question's
    content hash ("" if unknown) and the existing cards, by player."""

    players: frozenset[int]
    digest: str
    cards: dict[int, CardValues]


@dataclass(frozen=True)
class RoundUpdates:
    """A closing round's card rows (`keys[i]` is `cards[i]`'s player and question) and
    its review-log rows."""

    keys: list[tuple[int, str]]
    cards: Sequence[CardValues]
    logs: list[LogRow]


class StudyCards:
    """Cards, the review log and reminders, on the shared Database."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._driver = Driver(db.postgres, direct=True)

    # ---- writes inside other transactions ------------------------------------------------

    @staticmethod
    def round_players(ctx: CloseContext) -> tuple[frozenset[int], frozenset[int]]:
        """A closing round's expected players (Again for those who did not answer) and
        every player whose card it changes: the expected and those who answered."""
        expected = frozenset(ctx.quiz.options.roster) | ctx.earlier_players
        return expected, expected | {a.player_id for a in ctx.answers}

    async def round_cards(
        self, conn: AsyncConnection, ctx: CloseContext, players: Collection[int]
    ) -> RoundCards:
        """The round question's content hash and existing cards of `players`, in `conn`'s
        transaction (read before the round is decided, while it is)."""
        question_id = ctx.round.question.question_id
        digest, cards = await self._cards_of_question(conn, question_id, players)
        return RoundCards(frozenset(players), digest, cards)

    def round_updates(
        self, ctx: CloseContext, decision: CloseDecision, read: RoundCards
    ) -> RoundUpdates | None:
        """The card and log rows of a closing round's answers and expected players, from
        the cards read (`read` must hold every player concerned); None if none."""
        expected, _ = self.round_players(ctx)
        if not expected and not decision.answers:
            return None
        reviews = round_reviews(ctx, decision, expected, read.cards, read.digest)
        question_id = ctx.round.question.question_id
        keys = [(p, question_id) for p in reviews.players]
        return RoundUpdates(keys, reviews.cards, [_round_log_row(reviews)])

    async def write_round(self, conn: AsyncConnection, updates: RoundUpdates) -> None:
        """Write `round_updates`'s rows, in `conn`'s transaction."""
        await self._write(conn, updates.keys, updates.cards, updates.logs)

    async def record_round(
        self, conn: AsyncConnection, ctx: CloseContext, decision: CloseDecision
    ) -> int:
        """Update the cards of a closing round's answers and expected players, in `conn`'s
        transaction; returns how many cards changed."""
        expected, _ = self.round_players(ctx)
        players = expected | {a.player_id for a in decision.answers}
        if not players:
            return 0
        read = await self.round_cards(conn, ctx, players)
        updates = self.round_updates(ctx, decision, read)
        if updates is None:
            return 0
        await self.write_round(conn, updates)
        return len(updates.keys)

    async def write_updates(self, conn: AsyncConnection, updates: Sequence[CardUpdate]) -> None:
        """Upsert the cards (one statement) and append their log row(s)."""
        keys = [(u.card.player_id, u.card.question_id) for u in updates]
        await self._write(conn, keys, [card_values(u.card) for u in updates], _log_rows(updates))

    async def _write(
        self,
        conn: AsyncConnection,
        keys: Sequence[tuple[int, str]],
        cards: Sequence[CardValues],
        logs: Sequence[LogRow],
    ) -> None:
        """Append the log rows and upsert the cards (`keys[i]` is `cards[i]`'s player and
        question), in the order given, in one statement."""
        if not cards:
            return
        driver = self._driver
        log_params = [
            (
                community,
                question,
                source,
                driver.moment(at),
                driver.json(players),
                driver.json(ratings),
                changed,
            )
            for community, question, source, at, players, ratings, changed in logs
        ]
        if driver.postgres:
            card_columns = [
                pg_array(c) for c in (*zip(*keys, strict=True), *zip(*cards, strict=True))
            ]
            log_columns = [[row[i] for row in log_params] for i in range(7)]
            await driver.execute(conn, _PG_WRITE_CARDS, (*card_columns, *log_columns))
            return
        await driver.executemany(conn, _INSERT_LOG, log_params)
        await driver.executemany(conn, _SQLITE_UPSERT_CARDS, _sqlite_card_rows(driver, keys, cards))

    async def _cards_of_question(
        self, conn: AsyncConnection, question_id: str, players: Collection[int]
    ) -> tuple[str, dict[int, CardValues]]:
        """The question's content hash ("" if unknown) and its existing cards of these
        players, by player, in one read (one per 500 players on SQLite)."""
        driver = self._driver
        ids = sorted(players)
        chunks: list[tuple[str, list[Any]]] = []
        if driver.postgres:
            # one array parameter rather than an IN list of hundreds
            chunks.append((f"{_CARDS_OF_QUESTION} = ANY($2::text::bigint[])", [pg_array(ids)]))
        else:
            for start in range(0, len(ids), _SQLITE_ID_CHUNK):
                part = ids[start : start + _SQLITE_ID_CHUNK]
                marks = ", ".join(f"${n + 2}" for n in range(len(part)))
                chunks.append((f"{_CARDS_OF_QUESTION} IN ({marks})", part))
        digest = ""
        cards: dict[int, CardValues] = {}
        for statement, params in chunks:
            for r in await driver.rows(conn, statement, (question_id, *params)):
                digest = r[0] or ""
                if r[1] is None:
                    continue  # the key's row: no card of these players
                cards[r[1]] = CardValues(
                    r[2],
                    r[3],
                    r[4],
                    r[5],
                    driver.read_moment(r[6]),
                    driver.read_optional_moment(r[7]),
                    r[8],
                    r[9],
                    r[10],
                )
        return digest, cards

    @staticmethod
    async def card_in(conn: AsyncConnection, player_id: int, question_id: str) -> StudyCard | None:
        """One card, read in `conn`'s transaction."""
        row = (
            (
                await conn.execute(
                    select(StudyCardRow.__table__).where(
                        StudyCardRow.player_id == player_id,
                        StudyCardRow.question_id == question_id,
                    )
                )
            )
            .mappings()
            .first()
        )
        return None if row is None else card_from_row(row)

    # ---- reads ---------------------------------------------------------------------------

    async def cards(self, player_ids: Collection[int]) -> list[StudyCard]:
        """Every card of these players."""
        if not player_ids:
            return []
        async with self._db.reader.connect() as conn:
            rows = await conn.execute(
                select(StudyCardRow.__table__)
                .where(StudyCardRow.player_id.in_(sorted(player_ids)))
                .order_by(StudyCardRow.player_id, StudyCardRow.question_id)
            )
            return [card_from_row(r) for r in rows.mappings()]

    async def due_cards(self, player_id: int, now: datetime) -> list[StudyCard]:
        """A player's cards due at `now`, earliest due first."""
        async with self._db.reader.connect() as conn:
            rows = await conn.execute(
                select(StudyCardRow.__table__)
                .where(
                    StudyCardRow.player_id == player_id,
                    StudyCardRow.due <= literal(now, UTCDateTime()),
                )
                .order_by(StudyCardRow.due, StudyCardRow.question_id)
            )
            return [card_from_row(r) for r in rows.mappings()]

    async def card_outlook(self, player_id: int, until: datetime) -> tuple[int, datetime | None]:
        """How many of the player's cards are due by `until`, and the earliest due time."""
        async with self._db.reader.connect() as conn:
            due = (
                await conn.execute(
                    select(func.count()).where(
                        StudyCardRow.player_id == player_id,
                        StudyCardRow.due <= literal(until, UTCDateTime()),
                    )
                )
            ).scalar_one()
            first = (
                await conn.execute(
                    select(StudyCardRow.due)
                    .where(StudyCardRow.player_id == player_id)
                    .order_by(StudyCardRow.due)
                    .limit(1)
                )
            ).scalar()
        return int(due), first

    async def active_players(self, community_id: int, since: datetime) -> list[int]:
        """Players with a rated answer in the community since `since` (the log's rows
        of that range, their player lists merged)."""
        async with self._db.reader.connect() as conn:
            rows = await conn.execute(
                select(StudyReviewRow.players).where(
                    StudyReviewRow.community_id == community_id,
                    StudyReviewRow.reviewed_at >= literal(since, UTCDateTime()),
                )
            )
            return sorted({int(p) for players in rows.scalars() for p in players})

    # ---- reminders -----------------------------------------------------------------------

    async def set_reminders(self, change: ReminderChange, now: datetime) -> None:
        """Turn a player's daily reminder in a community on or off."""
        ins = self._db.insert(StudyReminderRow)
        async with self._db.write() as conn:
            await conn.execute(
                ins.on_conflict_do_update(
                    index_elements=["community_id", "player_id"],
                    set_={
                        "enabled": ins.excluded.enabled,
                        "changed_at": ins.excluded.changed_at,
                        "detail": ins.excluded.detail,
                    },
                ),
                {
                    "community_id": change.community_id,
                    "player_id": change.player_id,
                    "enabled": change.on,
                    "changed_at": now,
                    "detail": change.detail,
                },
            )

    async def reminders_on(self, community_id: int, player_id: int) -> bool:
        """Whether the player asked for reminders in the community."""
        async with self._db.reader.connect() as conn:
            value = (
                await conn.execute(
                    select(StudyReminderRow.enabled).where(
                        StudyReminderRow.community_id == community_id,
                        StudyReminderRow.player_id == player_id,
                    )
                )
            ).scalar()
        return bool(value)

    async def reminder_communities(self, platform: str) -> list[int]:
        """Ids of a platform's communities where someone has reminders on."""
        from bot.store.tables import CommunityRow

        async with self._db.reader.connect() as conn:
            rows = await conn.execute(
                select(StudyReminderRow.community_id)
                .distinct()
                .join(CommunityRow, CommunityRow.id == StudyReminderRow.community_id)
                .where(CommunityRow.platform == platform, StudyReminderRow.enabled.is_(True))
                .order_by(StudyReminderRow.community_id)
            )
            return list(rows.scalars())

    async def reminder_targets(self, community_id: int, now: datetime) -> list[ReminderTarget]:
        """Players with reminders on and cards due at `now`, with how many are due (a
        range of the (player, due) index per opted-in player)."""
        due = func.count().label("due")
        async with self._db.reader.connect() as conn:
            rows = await conn.execute(
                select(
                    PlayerRow.id,
                    PlayerRow.platform,
                    PlayerRow.external_id,
                    PlayerRow.display_name,
                    due,
                )
                .select_from(StudyReminderRow)
                .join(PlayerRow, PlayerRow.id == StudyReminderRow.player_id)
                .join(
                    StudyCardRow,
                    (StudyCardRow.player_id == StudyReminderRow.player_id)
                    & (StudyCardRow.due <= literal(now, UTCDateTime())),
                )
                .where(
                    StudyReminderRow.community_id == community_id,
                    StudyReminderRow.enabled.is_(True),
                )
                .group_by(
                    PlayerRow.id, PlayerRow.platform, PlayerRow.external_id, PlayerRow.display_name
                )
                .order_by(PlayerRow.id)
            )
            return [ReminderTarget(player_from_row(r), int(r["due"])) for r in rows.mappings()]

    async def stop_reminders(
        self, community_id: int, player_id: int, now: datetime, why: str
    ) -> None:
        """Turn a player's reminders off for a reason (a refused DM)."""
        await self.set_reminders(ReminderChange(community_id, player_id, False, why), now)
