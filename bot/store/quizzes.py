"""`Quizzes`: the question table, and quizzes with their rounds (creating, reading, the
message that shows a round); closing rounds is `bot.store.closing`'s."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.errors import ChannelBusyError
from bot.core.model import Question, Quiz, Round
from bot.core.outbox import OutboxBatch, question_message
from bot.core.ports import NewQuiz, NewRound
from bot.core.syntax import command
from bot.store.close_reads import CloseReads
from bot.store.codec import (
    options_to_json,
    question_to_json,
    quiz_from_row,
    round_from_row,
)
from bot.store.db import OPEN, RUNNING, Database
from bot.store.driver import Driver
from bot.store.outbox import Outbox
from bot.store.tables import QuestionRow, QuizRow, RoundRow

# Question ids per lookup of known content hashes: well under every driver's limit of
# bound parameters.
_QUESTION_CHUNK = 500
# built once: every question and count edit the dispatcher sends reads its quiz
_QUIZ_BY_ID = select(QuizRow.__table__).where(QuizRow.id == bindparam("quiz_id"))
# built once: the outbox reads a round before every question it posts
_ROUND_BY_ID = select(RoundRow.__table__).where(RoundRow.id == bindparam("round_id"))


class Quizzes:
    """The `questions`, `quizzes` and `rounds` tables."""

    def __init__(self, db: Database, outbox: Outbox) -> None:
        self._db = db
        self.outbox = outbox
        self._rounds = CloseReads(Driver(db.postgres))

    async def sync_questions(self, questions: Sequence[Question]) -> int:
        """Upsert questions by id with their content hash; returns how many changed."""
        if not questions:
            return 0
        by_id = {q.id: q for q in questions}
        async with self._db.write() as conn:
            known: dict[str, str] = {}
            ids = list(by_id)
            for start in range(0, len(ids), _QUESTION_CHUNK):
                rows = await conn.execute(
                    select(QuestionRow.id, QuestionRow.content_hash).where(
                        QuestionRow.id.in_(ids[start : start + _QUESTION_CHUNK])
                    )
                )
                known.update({r.id: r.content_hash for r in rows})
            changed = [
                {
                    "id": q.id,
                    "deck": q.deck,
                    "kind": q.kind.value,
                    "content_hash": digest,
                    "prompt": q.prompt,
                    "data": question_to_json(q),
                }
                for q in by_id.values()
                if known.get(q.id) != (digest := q.content_hash())
            ]
            if changed:
                ins = self._db.insert(QuestionRow)
                stmt = ins.on_conflict_do_update(
                    index_elements=["id"],
                    set_={
                        col: ins.excluded[col]
                        for col in ("deck", "kind", "content_hash", "prompt", "data")
                    },
                )
                await conn.execute(stmt, changed)
        return len(changed)

    async def recent_question_ids(
        self, community_id: int, channel_id: str, limit: int
    ) -> list[str]:
        """Question ids of the channel's latest rounds, newest first, at most `limit`."""
        stmt = (
            select(RoundRow.question_id)
            .join(QuizRow, QuizRow.id == RoundRow.quiz_id)
            .where(QuizRow.community_id == community_id, QuizRow.channel_id == channel_id)
            .order_by(RoundRow.opened_at.desc(), RoundRow.id.desc())
            .limit(limit)
        )
        async with self._db.reader.connect() as conn:
            return list((await conn.execute(stmt)).scalars())

    async def create_quiz(self, quiz: NewQuiz, first_round: NewRound) -> tuple[Quiz, Round]:
        """Create a running quiz with its first open round (`first_round.quiz_id` is ignored).

        Raises ChannelBusyError if the channel already has a running quiz (a partial
        unique index on running quizzes decides). The first question goes to the
        outbox in the same transaction.
        """
        try:
            async with self._db.write() as conn:
                quiz_row = (
                    (
                        await conn.execute(
                            self._db.insert(QuizRow)
                            .values(
                                community_id=quiz.community_id,
                                platform=quiz.platform,
                                channel_id=quiz.channel_id,
                                host_id=quiz.host_id,
                                options=options_to_json(quiz.options),
                                question_ids=list(quiz.question_ids),
                                status=RUNNING,
                                created_at=quiz.created_at,
                            )
                            .returning(*QuizRow.__table__.c)
                        )
                    )
                    .mappings()
                    .one()
                )
                round_ = await self.insert_round(conn, quiz_row["id"], first_round)
                question = question_message(quiz.channel_id, round_.id)
                batch = OutboxBatch(quiz.platform, quiz.community_id, round_.quiz_id, [question])
                await self.outbox.write_in(conn, batch, quiz.created_at)
        except IntegrityError:
            if await self.running_quiz(quiz.community_id, quiz.channel_id) is not None:
                raise ChannelBusyError(
                    f"A quiz is already running in this channel; {command('stop')} ends it"
                ) from None
            raise
        return quiz_from_row(quiz_row), round_

    async def insert_round(self, conn: AsyncConnection, quiz_id: int, new: NewRound) -> Round:
        """Insert an open round of a quiz, in `conn`'s transaction (the close's own
        statement: one way to open a round)."""
        return await self._rounds.insert_round(conn, quiz_id, new)

    async def quiz(self, quiz_id: int) -> Quiz | None:
        """A quiz by id."""
        async with self._db.reader.connect() as conn:
            return await self.quiz_in(conn, quiz_id)

    async def quiz_in(self, conn: AsyncConnection, quiz_id: int) -> Quiz | None:
        """A quiz by id, read on `conn` (inside its transaction, if any)."""
        row = (await conn.execute(_QUIZ_BY_ID, {"quiz_id": quiz_id})).mappings().first()
        return None if row is None else quiz_from_row(row)

    async def running_quiz(self, community_id: int, channel_id: str) -> Quiz | None:
        """The channel's running quiz, if any."""
        stmt = select(QuizRow.__table__).where(
            QuizRow.community_id == community_id,
            QuizRow.channel_id == channel_id,
            QuizRow.status == RUNNING,
        )
        async with self._db.reader.connect() as conn:
            row = (await conn.execute(stmt)).mappings().first()
        return None if row is None else quiz_from_row(row)

    async def running_quizzes(self, community_id: int) -> list[Quiz]:
        """Every running quiz of a community, oldest first."""
        stmt = (
            select(QuizRow.__table__)
            .where(QuizRow.community_id == community_id, QuizRow.status == RUNNING)
            .order_by(QuizRow.id)
        )
        async with self._db.reader.connect() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [quiz_from_row(row) for row in rows]

    async def set_quiz_status(self, conn: AsyncConnection, quiz: Quiz, status: str) -> None:
        """Set a quiz's status, in `conn`'s transaction."""
        await conn.execute(update(QuizRow).where(QuizRow.id == quiz.id).values(status=status))

    async def round(self, round_id: int) -> Round | None:
        """A round by id."""
        async with self._db.reader.connect() as conn:
            row = (await conn.execute(_ROUND_BY_ID, {"round_id": round_id})).mappings().first()
        return None if row is None else round_from_row(row)

    async def open_round(self, quiz_id: int) -> Round | None:
        """The quiz's open round, if any."""
        stmt = (
            select(RoundRow.__table__)
            .where(RoundRow.quiz_id == quiz_id, RoundRow.status == OPEN)
            .order_by(RoundRow.position.desc())
            .limit(1)
        )
        async with self._db.reader.connect() as conn:
            row = (await conn.execute(stmt)).mappings().first()
        return None if row is None else round_from_row(row)

    async def set_message_ref(self, round_id: int, message_ref: str) -> None:
        """Remember the chat message that shows a round."""
        async with self._db.write() as conn:
            await conn.execute(
                update(RoundRow).where(RoundRow.id == round_id).values(message_ref=message_ref)
            )
