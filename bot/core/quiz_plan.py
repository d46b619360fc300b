"""What a start creates: the quiz's questions and options, and its first round.

The questions are study mode's weakest where the group has a picker and it picks, else
drawn at random from the chosen decks, avoiding what the channel saw recently. The
engine stores the plan and posts the first question.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

from bot.core.bank import QuestionBank, least_recent
from bot.core.cards import shuffled_question
from bot.core.catalogue import DeckCatalogue
from bot.core.errors import QuizError
from bot.core.model import Community, Question, QuizOptions
from bot.core.ports import Clock, NewQuiz, NewRound, QuestionPicker, RoundStore


@dataclass(frozen=True, slots=True)
class QuizPlan:
    """A quiz ready to store, with its first round."""

    quiz: NewQuiz
    first_round: NewRound


class QuizPlanner:
    """Chooses a new quiz's questions and lays out the quiz and its first round."""

    def __init__(
        self,
        store: RoundStore,
        catalogue: DeckCatalogue,
        *,
        platform: str,
        clock: Clock,
        rng: random.Random,
    ) -> None:
        self.store = store
        self.catalogue = catalogue
        self.platform = platform
        self.clock = clock
        self.rng = rng

    async def draw_questions(
        self, community_id: int, channel_id: str, decks: Sequence[str], count: int
    ) -> list[Question]:
        """Draw `count` questions at random, avoiding those the channel saw recently."""
        pool = (await self.catalogue.bank(community_id)).questions(decks)
        if not pool:
            raise QuizError("No questions to ask: the chosen decks are empty")
        recent = await self.store.recent_question_ids(community_id, channel_id, len(pool))
        return least_recent(pool, recent, count, self.rng)

    async def questions(
        self,
        community: Community,
        channel_id: str,
        options: QuizOptions,
        bank: QuestionBank,
        picker: QuestionPicker | None,
    ) -> tuple[list[Question], QuizOptions]:
        """The quiz's questions, and its options with the weak picks noted if any."""
        picked = None
        if picker is not None:
            picked = await picker.pick(community, bank.questions(options.decks), options.questions)
        if picked:
            questions, weak = picked
            return questions, replace(options, weak_picks=weak)
        drawn = await self.draw_questions(
            community.id, channel_id, options.decks, options.questions
        )
        return drawn, options

    async def plan(
        self,
        community: Community,
        channel_id: str,
        host_id: int,
        options: QuizOptions,
        bank: QuestionBank,
        picker: QuestionPicker | None = None,
    ) -> QuizPlan:
        """The quiz and its first round, opening now."""
        questions, options = await self.questions(community, channel_id, options, bank, picker)
        now = self.clock.now()
        quiz = NewQuiz(
            community_id=community.id,
            platform=self.platform,
            channel_id=channel_id,
            host_id=host_id,
            options=options,
            question_ids=tuple(q.id for q in questions),
            created_at=now,
        )
        first = NewRound(
            quiz_id=0,
            position=1,
            question=shuffled_question(questions[0], self.rng),
            opened_at=now,
            closes_at=now + timedelta(seconds=options.seconds),
        )
        return QuizPlan(quiz, first)
