"""Study mode's storage: FSRS cards, the review log and reminder opt-ins.

`StudyCards.record_round` runs inside the transaction that closes a round (called by
`bot.store.closing`): it reads the round question's cards of the players concerned in
one SELECT, lets the core compute the new cards, and writes them with one upsert
(unnest arrays on PostgreSQL, an executemany on SQLite) and one log row.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Float,
    Integer,
    String,
    any_,
    bindparam,
    func,
    literal,
    select,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.ports import CloseContext, CloseDecision
from bot.core.study.closing import round_card_updates
from bot.core.study.memory import STATES
from bot.core.study.model import CardUpdate, StudyCard
from bot.core.study.ports import ReminderTarget
from bot.store.codec import Row, player_from_row
from bot.store.db import Database, as_arrays
from bot.store.tables import (
    AnswerRow,
    PlayerRow,
    QuestionRow,
    RoundRow,
    StudyCardRow,
    StudyReminderRow,
    StudyReviewRow,
    UTCDateTime,
)

CARD_COLUMNS = StudyCardRow.__table__.c

_CARD_FIELDS = (
    "state",
    "step",
    "stability",
    "difficulty",
    "due",
    "last_review",
    "content_hash",
    "reviews",
    "lapses",
)

# On PostgreSQL a closing round's cards go in one statement over arrays (unnest), as
# the scores do; elsewhere in one executemany.
_PG_UPSERT_CARDS = text(
    "INSERT INTO study_cards (player_id, question_id, state, step, stability, difficulty,"
    " due, last_review, content_hash, reviews, lapses)"
    " SELECT * FROM unnest(:player_id, :question_id, :state, :step, :stability,"
    " :difficulty, :due, :last_review, :content_hash, :reviews, :lapses)"
    " ON CONFLICT (player_id, question_id) DO UPDATE SET state = excluded.state,"
    " step = excluded.step, stability = excluded.stability,"
    " difficulty = excluded.difficulty, due = excluded.due,"
    " last_review = excluded.last_review, content_hash = excluded.content_hash,"
    " reviews = excluded.reviews, lapses = excluded.lapses"
).bindparams(
    bindparam("player_id", type_=postgresql.ARRAY(BigInteger())),
    bindparam("question_id", type_=postgresql.ARRAY(String())),
    bindparam("state", type_=postgresql.ARRAY(Integer())),
    bindparam("step", type_=postgresql.ARRAY(Integer())),
    bindparam("stability", type_=postgresql.ARRAY(Float())),
    bindparam("difficulty", type_=postgresql.ARRAY(Float())),
    bindparam("due", type_=postgresql.ARRAY(DateTime(timezone=True))),
    bindparam("last_review", type_=postgresql.ARRAY(DateTime(timezone=True))),
    bindparam("content_hash", type_=postgresql.ARRAY(String())),
    bindparam("reviews", type_=postgresql.ARRAY(Integer())),
    bindparam("lapses", type_=postgresql.ARRAY(Integer())),
)


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


def _card_values(card: StudyCard) -> dict[str, Any]:
    return {
        "player_id": card.player_id,
        "question_id": card.question_id,
        "state": int(card.state),
        "step": card.step,
        "stability": card.stability,
        "difficulty": card.difficulty,
        "due": card.due,
        "last_review": card.last_review,
        "content_hash": card.content_hash,
        "reviews": card.reviews,
        "lapses": card.lapses,
    }


def _log_rows(updates: Sequence[CardUpdate]) -> list[dict[str, Any]]:
    """The review log's rows: one per (community, question, source, moment), listing its
    players and their ratings in player order."""
    rows: dict[tuple[int, str, str, datetime], dict[str, Any]] = {}
    for u in updates:
        r = u.review
        key = (r.community_id, r.question_id, str(r.source), r.reviewed_at)
        row = rows.get(key)
        if row is None:
            row = rows[key] = {
                "community_id": r.community_id,
                "question_id": r.question_id,
                "source": str(r.source),
                "reviewed_at": r.reviewed_at,
                "players": [],
                "ratings": [],
                "content_changed": False,
            }
        row["players"].append(r.player_id)
        row["ratings"].append(int(r.rating))
        row["content_changed"] = row["content_changed"] or r.content_changed
    return list(rows.values())


class StudyCards:
    """Cards, the review log and reminders, on the shared Database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # ---- writes inside other transactions ------------------------------------------------

    async def record_round(
        self, conn: AsyncConnection, ctx: CloseContext, decision: CloseDecision
    ) -> int:
        """Update the cards of a closing round's answers and expected players, in `conn`'s
        transaction; returns how many cards changed."""
        question_id = ctx.round.question.question_id
        expected = set(ctx.quiz.options.roster)
        if ctx.round.position > 1:
            expected.update(await self._earlier_players(conn, ctx))
        players = expected | {a.player_id for a in decision.answers}
        if not players:
            return 0
        cards = await self._cards_of_question(conn, question_id, players)
        digest = (
            await conn.execute(
                select(QuestionRow.content_hash).where(QuestionRow.id == question_id)
            )
        ).scalar()
        updates = round_card_updates(ctx, decision, expected, cards, digest or "")
        await self.write_updates(conn, updates)
        return len(updates)

    async def write_updates(self, conn: AsyncConnection, updates: Sequence[CardUpdate]) -> None:
        """Upsert the cards (one statement) and append their log row(s)."""
        if not updates:
            return
        cards = [_card_values(u.card) for u in updates]
        await conn.execute(self._db.insert(StudyReviewRow), _log_rows(updates))
        if self._db.postgres:
            await conn.execute(_PG_UPSERT_CARDS, as_arrays(cards))
            return
        ins = self._db.insert(StudyCardRow)
        await conn.execute(
            ins.on_conflict_do_update(
                index_elements=["player_id", "question_id"],
                set_={name: ins.excluded[name] for name in _CARD_FIELDS},
            ),
            cards,
        )

    @staticmethod
    async def _earlier_players(conn: AsyncConnection, ctx: CloseContext) -> list[int]:
        """Everyone who answered an earlier round of the quiz: expected in this one."""
        rows = await conn.execute(
            select(AnswerRow.player_id)
            .distinct()
            .join(RoundRow, RoundRow.id == AnswerRow.round_id)
            .where(RoundRow.quiz_id == ctx.quiz.id, RoundRow.position < ctx.round.position)
        )
        return list(rows.scalars())

    async def _cards_of_question(
        self, conn: AsyncConnection, question_id: str, players: Collection[int]
    ) -> dict[int, StudyCard]:
        ids = sorted(players)
        # PostgreSQL: one array parameter rather than an IN list of hundreds
        among = (
            StudyCardRow.player_id == any_(literal(ids, postgresql.ARRAY(BigInteger())))
            if self._db.postgres
            else StudyCardRow.player_id.in_(ids)
        )
        rows = await conn.execute(
            select(StudyCardRow.__table__).where(StudyCardRow.question_id == question_id, among)
        )
        return {r["player_id"]: card_from_row(r) for r in rows.mappings()}

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

    async def set_reminders(
        self,
        community_id: int,
        player_id: int,
        on: bool,
        now: datetime,
        detail: str | None = None,
    ) -> None:
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
                    "community_id": community_id,
                    "player_id": player_id,
                    "enabled": on,
                    "changed_at": now,
                    "detail": detail,
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
        await self.set_reminders(community_id, player_id, False, now, why)
