"""ReviewEngine: a player's private review sessions, mastery per tag and reminders.

Which questions come up: the player's due cards first, lowest predicted recall (FSRS
retrievability) first, then new questions (no card yet) from the group's decks, up
to the size asked. No timer and no points. A question answered wrong goes back to
the end of the queue until it is answered right once. Every answer updates the card
in the transaction that records it (a right answer is Good, a wrong one Again, as in
`bot.core.ratings` for an answer without a time limit).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from bot.core.bank import QuestionBank
from bot.core.cards import counted, shuffled_question
from bot.core.engine import QuizEngine
from bot.core.errors import NotAllowedError, QuizError
from bot.core.model import Community, CommunityRef, PlayerRef, Question
from bot.core.periods import zone
from bot.core.ratings import answer_rating
from bot.core.start_options import MAX_QUESTIONS
from bot.core.study.mastery import mastery_card
from bot.core.study.memory import recall, retention_of, review_card
from bot.core.study.model import (
    MasteryCard,
    NewReviewSession,
    ReviewFeedback,
    ReviewQuestionCard,
    ReviewSession,
    ReviewSource,
    ReviewStep,
    ReviewSummary,
    SessionStatus,
    StudyCard,
)
from bot.core.study.ports import ReminderChange, ReviewAnswer, StudyStore

log = logging.getLogger(__name__)

DEFAULT_REVIEW_SIZE = 10
ACTIVE_DAYS = 14
"""A community's active members answered within this many days."""


class ReviewEngine:
    """Study mode for one platform, on the quiz engine's bank, clock and identities."""

    def __init__(self, engine: QuizEngine, store: StudyStore) -> None:
        self.engine = engine
        self.store = store

    def _now(self) -> datetime:
        return self.engine.clock.now()

    # ---- starting ---------------------------------------------------------------------

    async def start_review(
        self,
        community: CommunityRef,
        player: PlayerRef,
        questions: int = DEFAULT_REVIEW_SIZE,
        deck: str | None = None,
    ) -> ReviewStep:
        """Start a private review, or resume the player's open one (`resumed`)."""
        if not 1 <= questions <= MAX_QUESTIONS:
            raise QuizError(f"A review has 1 to {MAX_QUESTIONS} questions")
        stored = await self.engine.community(community)
        player_id = await self.engine.player_id(player)
        session = await self.store.open_review(stored.id, player_id)
        if session is not None:
            return await self._step(stored, session, None, resumed=True)
        bank = await self.engine.catalogue.bank(stored.id)
        queue, due_ids = await self._pick(stored, bank, player_id, questions, deck)
        if not queue:
            _, next_due = await self.store.card_outlook(player_id, self._now())
            when = f"; next due {next_due:%a %d %b %H:%M} UTC" if next_due else ""
            raise QuizError(f"Nothing to review: no card is due and no question is new{when}")
        first = bank.question(queue[0])
        assert first is not None
        session, created = await self.store.create_review(
            NewReviewSession(
                community_id=stored.id,
                player_id=player_id,
                queue=tuple(queue),
                current=shuffled_question(first, self.engine.rng),
                due_ids=tuple(due_ids),
                deck=deck,
                started_at=self._now(),
            )
        )
        log.info(
            "review started",
            extra={"community_id": stored.id, "session_id": session.id, "new_session": created},
        )
        return await self._step(stored, session, None, resumed=not created)

    def _pool(self, community: Community, bank: QuestionBank, deck: str | None) -> list[Question]:
        """The questions a review may ask: the deck asked for, else the group's decks
        (the server's and the community's own)."""
        if deck:
            return bank.questions([deck])
        setting = community.settings.get("deck")
        names = [n for n in str(setting).split(",") if n] if setting else []
        return bank.questions(names)

    async def _pick(
        self, community: Community, bank: QuestionBank, player_id: int, size: int, deck: str | None
    ) -> tuple[list[str], list[str]]:
        """The session's questions (due ones first, by predicted recall, then new ones)
        and which of them came in as due cards."""
        now = self._now()
        pool = self._pool(community, bank, deck)
        allowed = {q.id for q in pool}
        cards = await self.store.cards([player_id])
        retention = retention_of(community)
        due = sorted(
            (c for c in cards if c.due <= now and c.question_id in allowed),
            key=lambda c: (recall(c, now, retention), c.due, c.question_id),
        )
        due_ids = [c.question_id for c in due[:size]]
        seen = {c.question_id for c in cards}
        fresh = [q.id for q in pool if q.id not in seen]
        self.engine.rng.shuffle(fresh)
        return due_ids + fresh[: size - len(due_ids)], due_ids

    # ---- answering --------------------------------------------------------------------

    async def answer(
        self,
        community: CommunityRef,
        player: PlayerRef,
        session_id: int,
        item: int,
        positions: Sequence[int],
    ) -> ReviewStep:
        """Answer item `item` of a session: the feedback, then the next question or the
        summary. NotAllowedError for someone else's session; a click for an item
        already answered changes nothing (`stale`)."""
        stored = await self.engine.community(community)
        player_id = await self.engine.player_id(player)
        session = await self.store.review(session_id)
        if session is None or session.community_id != stored.id:
            raise QuizError("No such review: start one with /quiz review")
        if session.player_id != player_id:
            raise NotAllowedError("This review belongs to someone else: start your own")
        if session.status is not SessionStatus.OPEN or session.item != item:
            return await self._step(stored, session, None, stale=True)
        assert session.current is not None
        selected = tuple(sorted(set(positions)))
        if not selected or any(not 0 <= p < len(session.current.choices) for p in selected):
            raise QuizError("That is not one of the choices")
        now = self._now()
        bank = await self.engine.catalogue.bank(stored.id)

        def decide(locked: ReviewSession, card: StudyCard | None) -> ReviewAnswer | None:
            if locked.status is not SessionStatus.OPEN or locked.item != item:
                return None  # answered meanwhile, by another process or a double click
            return self._decide(stored, bank, locked, card, selected, now)

        result = await self.store.answer_review(session_id, now, decide)
        if result is None:
            fresh = await self.store.review(session_id)
            assert fresh is not None
            return await self._step(stored, fresh, None, stale=True)
        current = session.current
        question = bank.question(current.question_id)
        right = set(selected) == set(current.correct)
        feedback = ReviewFeedback(
            right=right,
            selected=selected,
            correct=current.correct,
            choices=current.choices,
            explanation=question.explanation if question else current.explanation,
            next_due=result.update.card.due,
            comes_back=not right,
        )
        return await self._step(stored, result.session, feedback)

    def _decide(
        self,
        community: Community,
        bank: QuestionBank,
        session: ReviewSession,
        card: StudyCard | None,
        selected: tuple[int, ...],
        now: datetime,
    ) -> ReviewAnswer:
        """The session and card after one answer (pure, run in the store's transaction)."""
        current = session.current
        assert current is not None
        qid = current.question_id
        right = set(selected) == set(current.correct)
        question = bank.question(qid)
        update = review_card(
            card,
            community_id=community.id,
            player_id=session.player_id,
            question_id=qid,
            content_hash=question.content_hash()
            if question
            else (card.content_hash if card else ""),
            rating=answer_rating(right, None, None),
            source=ReviewSource.REVIEW,
            now=now,
            retention=retention_of(community),
        )
        queue = list(session.queue[1:])
        if not right:
            queue.append(qid)  # back at the end until it is answered right once
        upcoming = None
        while queue and upcoming is None:
            found = bank.question(queue[0])
            if found is None:
                queue.pop(0)  # removed from its deck since the session began
            else:
                upcoming = shuffled_question(found, self.engine.rng)
        first_try = right and qid not in session.missed
        after = replace(
            session,
            status=SessionStatus.OPEN if upcoming else SessionStatus.DONE,
            queue=tuple(queue),
            current=upcoming,
            item=session.item + 1,
            right=session.right + int(first_try),
            missed=session.missed if right or qid in session.missed else (*session.missed, qid),
            updated_at=now,
        )
        return ReviewAnswer(session=after, update=update)

    # ---- what is shown ----------------------------------------------------------------

    async def _step(
        self,
        community: Community,
        session: ReviewSession,
        feedback: ReviewFeedback | None,
        *,
        resumed: bool = False,
        stale: bool = False,
    ) -> ReviewStep:
        if session.status is SessionStatus.DONE or session.current is None:
            return ReviewStep(
                session.id, feedback, None, await self._summary(community, session),
                resumed=resumed, stale=stale,
            )  # fmt: skip
        current = session.current
        card = ReviewQuestionCard(
            session_id=session.id,
            item=session.item,
            number=session.item + 1,
            remaining=len(session.queue),
            kind=current.kind,
            prompt=current.prompt,
            choices=current.choices,
            title=current.title,
            deck=current.deck,
            due=current.question_id in session.due_ids,
            retry=current.question_id in session.missed,
        )
        return ReviewStep(session.id, feedback, card, None, resumed=resumed, stale=stale)

    async def _summary(self, community: Community, session: ReviewSession) -> ReviewSummary:
        tz = zone(community.timezone)
        local = self._now().astimezone(tz)
        end_of_tomorrow = datetime.combine(
            local.date() + timedelta(days=2), datetime.min.time(), tzinfo=tz
        )
        due, next_due = await self.store.card_outlook(session.player_id, end_of_tomorrow)
        return ReviewSummary(
            answered=session.size,
            right_first_time=session.right,
            due_tomorrow=due,
            next_due=next_due,
        )

    # ---- mastery and reminders -----------------------------------------------------------

    async def mastery(
        self, community: CommunityRef, player: PlayerRef, *, group: bool = False
    ) -> MasteryCard:
        """Recall per tag for a player, or over the community's active members."""
        stored = await self.engine.community(community)
        now = self._now()
        if group:
            players = await self.store.active_players(stored.id, now - timedelta(days=ACTIVE_DAYS))
            title = f"Mastery of {stored.name} ({counted(len(players), 'active member')})"
        else:
            players = [await self.engine.player_id(player)]
            title = f"Mastery of {player.display_name}"
        cards = await self.store.cards(players)
        bank = await self.engine.catalogue.bank(stored.id)
        return mastery_card(title, cards, bank, stored, now, len(players))

    async def set_reminders(self, community: CommunityRef, player: PlayerRef, on: bool) -> bool:
        """Turn the player's daily reminder on or off; returns the new value."""
        stored = await self.engine.community(community)
        player_id = await self.engine.player_id(player)
        await self.store.set_reminders(ReminderChange(stored.id, player_id, on), self._now())
        return on
