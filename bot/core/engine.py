"""QuizEngine: the game, on top of a Store, a Clock and a ChatPort.

All state of a running quiz is in the store, so any process can take any click and
close any due round. The engine keeps only caches of facts that never change (a
round's question, a player's id) and the per-process rate limit of count refreshes.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import OrderedDict
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Generic, TypeVar

from bot.core.bank import QuestionBank
from bot.core.cards import (
    FastPlayer,
    LeaderboardCard,
    QuestionCard,
    Receipt,
    ReceiptKind,
    RevealCard,
    SummaryCard,
    TeamResult,
)
from bot.core.errors import NoQuizError, NotAllowedError, QuizError, TeamError
from bot.core.model import (
    Community,
    CommunityRef,
    Mode,
    PlayerRef,
    Question,
    QuestionKind,
    Quiz,
    QuizOptions,
    QuizStatus,
    Round,
    RoundQuestion,
    Scoring,
    StartRequest,
    SubjectKind,
    Team,
    TeamRoster,
)
from bot.core.periods import ALL_TIME, resolve_period, week_label
from bot.core.ports import (
    AnswerOutcome,
    ChatPort,
    Clock,
    CloseContext,
    CloseDecision,
    ClosedRound,
    Decide,
    EngineEvents,
    NewQuiz,
    NewRound,
    NoEvents,
    OpenRoundCount,
    Store,
)
from bot.core.scoring import elapsed_seconds, score_round
from bot.core.start_options import (
    DEFAULT_QUESTIONS,
    DEFAULT_SECONDS,
    MAX_QUESTIONS,
    MAX_SECONDS,
    MIN_SECONDS,
)

log = logging.getLogger(__name__)

MAX_TEAM_NAME = 32
EMPTY_ROUNDS_BEFORE_STOP = 2
FASTEST_SHOWN = 3
_CACHE_SIZE = 4096
# After a running early-close check: nothing more, another if this process took enough
# answers meanwhile to complete the round, or another in any case (the refresh's sweep).
_CHECK_DONE, _CHECK_IF_ENOUGH, _CHECK_AGAIN = 0, 1, 2


@dataclass(frozen=True)
class RoundFacts:
    """What a click needs to know about its round; none of it changes while it is open."""

    round_id: int
    quiz_id: int
    community_id: int
    position: int
    kind: QuestionKind
    choice_count: int
    mode: Mode
    allow_change: bool
    roster: tuple[int, ...]


K = TypeVar("K")
V = TypeVar("V")


class _LRU(Generic[K, V]):
    """A small bounded mapping: the oldest entries go first."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self._size:
            self._items.popitem(last=False)

    def pop(self, key: K) -> None:
        """Forget `key`, if it is here."""
        self._items.pop(key, None)


def shuffled_question(question: Question, rng: random.Random) -> RoundQuestion:
    """The question as one round shows it: choices shuffled, unless order means something."""
    order = list(range(len(question.choices)))
    if question.kind is not QuestionKind.TRUE_FALSE and question.shuffle:
        rng.shuffle(order)
    return RoundQuestion(
        question_id=question.id,
        deck=question.deck,
        kind=question.kind,
        prompt=question.prompt,
        choices=tuple(question.choices[i].text for i in order),
        correct=tuple(pos for pos, i in enumerate(order) if question.choices[i].correct),
        explanation=question.explanation,
        tags=question.tags,
        title=question.title,
    )


def question_card(quiz: Quiz, rnd: Round, answered: int) -> QuestionCard:
    """The card that shows a round's question."""
    question = rnd.question
    return QuestionCard(
        quiz_id=quiz.id,
        round_id=rnd.id,
        position=rnd.position,
        total=quiz.total,
        deck=question.deck,
        kind=question.kind,
        prompt=question.prompt,
        choices=question.choices,
        closes_at=rnd.closes_at,
        seconds=round((rnd.closes_at - rnd.opened_at).total_seconds()),
        answered=answered,
        mode=quiz.options.mode,
        title=question.title,
    )


def reveal_card(closed: ClosedRound) -> RevealCard:
    """The card that reveals a closed round's answer and how the votes split."""
    ctx, decision = closed.context, closed.decision
    rnd, question = ctx.round, ctx.round.question
    votes = [0] * len(question.choices)
    for answer in decision.answers:
        for position in answer.selected:
            votes[position] += 1
    fastest = sorted(
        (a for a in decision.answers if a.correct), key=lambda a: (a.answered_at, a.player_id)
    )[:FASTEST_SHOWN]
    return RevealCard(
        quiz_id=ctx.quiz.id,
        round_id=rnd.id,
        position=rnd.position,
        total=ctx.quiz.total,
        kind=question.kind,
        prompt=question.prompt,
        choices=question.choices,
        correct=question.correct,
        explanation=question.explanation,
        votes=tuple(votes),
        answered=len(decision.answers),
        fastest=tuple(
            FastPlayer(
                name=ctx.player_names.get(a.player_id, "?"),
                seconds=round(elapsed_seconds(rnd.opened_at, a.answered_at), 1),
                points=a.points,
            )
            for a in fastest
        ),
        teams=tuple(
            TeamResult(
                name=ctx.team_names.get(v.team_id, "?"),
                selected=v.selected,
                votes=v.votes,
                members_voted=v.members_voted,
                correct=v.correct,
                points=v.points,
            )
            for v in decision.team_votes
        ),
        mode=ctx.quiz.options.mode,
        title=question.title,
        ending=decision.ending,
    )


class QuizEngine:
    """Starts quizzes, records answers, closes and scores rounds, answers board queries."""

    def __init__(
        self,
        store: Store,
        bank: QuestionBank,
        chat: ChatPort,
        *,
        platform: str,
        clock: Clock,
        rng: random.Random | None = None,
        refresh_interval: float = 2.0,
        default_timezone: str = "UTC",
        events: EngineEvents | None = None,
    ) -> None:
        self.store = store
        self.events: EngineEvents = events or NoEvents()
        self.default_timezone = default_timezone
        self.bank = bank
        self.chat = chat
        self.platform = platform
        self.clock = clock
        self.rng = rng or random.Random()
        self.refresh_interval = refresh_interval
        self.accepting = True
        self._facts: _LRU[int, RoundFacts] = _LRU(_CACHE_SIZE)
        self._player_ids: _LRU[tuple[str, str], int] = _LRU(_CACHE_SIZE)
        self._tasks: set[asyncio.Task[None]] = set()
        self._refresh_wanted: set[int] = set()  # rounds that took answers since the refresh
        self._refresher_running = False
        self._refreshed_at = float("-inf")
        self._quizzes: _LRU[int, Quiz] = _LRU(_CACHE_SIZE)
        self._revealed: _LRU[int, bool] = _LRU(_CACHE_SIZE)
        self._counted: dict[int, int] = {}  # round id -> answer count before the last check
        self._sweep_floor: dict[int, int] = {}  # round id -> answer count seen by a sweep
        self._close_checks: dict[int, int] = {}  # round id -> what to do when this check ends
        self._missing: dict[int, int] = {}  # round id -> players missing at the last check
        self._unchecked: dict[int, int] = {}  # round id -> answers taken since that check
        # bounded: a round revealed by another process never has its lock dropped here
        self._chat_locks: _LRU[int, asyncio.Lock] = _LRU(_CACHE_SIZE)

    # ---- identities -------------------------------------------------------------

    async def community(self, ref: CommunityRef) -> Community:
        """The stored community for an adapter's reference."""
        stored = await self.store.community(self.platform, ref.external_id, ref.name)
        if "timezone" not in stored.settings and stored.timezone != self.default_timezone:
            # a new community starts in the bot's TIMEZONE until an admin sets its own
            stored = await self.store.save_community(
                replace(
                    stored,
                    timezone=self.default_timezone,
                    settings={**stored.settings, "timezone": self.default_timezone},
                )
            )
        return stored

    async def player_id(self, ref: PlayerRef) -> int:
        """The stored player id for an adapter's reference (cached)."""
        key = (ref.external_id, ref.display_name)
        cached = self._player_ids.get(key)
        if cached is not None:
            return cached
        player = await self.store.player(self.platform, ref.external_id, ref.display_name)
        self._player_ids.put(key, player.id)
        return player.id

    # ---- starting -----------------------------------------------------------------

    def resolve_options(
        self, request: StartRequest, community: Community, roster: tuple[int, ...] = ()
    ) -> QuizOptions:
        """Fill a start request's gaps from the community's and deck's defaults; check it."""
        settings = community.settings
        decks = request.decks or _setting_decks(settings.get("deck"))
        if decks and "all" not in decks:
            for name in decks:
                self.bank.deck(name)  # raises UnknownDeckError naming the known decks
        questions = request.questions or _setting_int(settings.get("questions"))
        questions = questions or DEFAULT_QUESTIONS
        if not 1 <= questions <= MAX_QUESTIONS:
            raise QuizError(f"questions must be between 1 and {MAX_QUESTIONS}, not {questions}")
        seconds = request.seconds or _setting_int(settings.get("seconds"))
        if seconds is None and len(decks) == 1 and decks[0] != "all":
            seconds = self.bank.deck(decks[0]).default_seconds
        seconds = seconds or DEFAULT_SECONDS
        if not MIN_SECONDS <= seconds <= MAX_SECONDS:
            raise QuizError(
                f"seconds must be between {MIN_SECONDS} and {MAX_SECONDS}, not {seconds}"
            )
        scoring = request.scoring or _setting_scoring(settings.get("scoring"))
        if scoring is None and len(decks) == 1 and decks[0] != "all":
            scoring = self.bank.deck(decks[0]).default_scoring
        return QuizOptions(
            decks=decks,
            questions=questions,
            seconds=seconds,
            mode=request.mode or Mode.SOLO,
            scoring=scoring or Scoring.SPEED,
            allow_change=request.allow_change,
            partial=request.partial,
            roster=roster,
        )

    async def draw_questions(
        self, community_id: int, channel_id: str, decks: Sequence[str], count: int
    ) -> list[Question]:
        """Draw `count` questions at random, avoiding those the channel saw recently."""
        pool = self.bank.questions(decks)
        if not pool:
            raise QuizError("No questions to ask: the chosen decks are empty")
        recent = await self.store.recent_question_ids(community_id, channel_id, len(pool))
        seen = {qid: age for age, qid in enumerate(recent)}  # 0 = newest
        fresh = [q for q in pool if q.id not in seen]
        self.rng.shuffle(fresh)
        # when fresh ones run out, reuse the ones seen longest ago first
        stale = sorted((q for q in pool if q.id in seen), key=lambda q: -seen[q.id])
        return (fresh + stale)[: min(count, len(pool))]

    async def start(
        self,
        community: CommunityRef,
        channel_id: str,
        host: PlayerRef,
        request: StartRequest,
        *,
        roster: Sequence[PlayerRef] = (),
    ) -> Quiz:
        """Start a quiz in a channel and post its first question.

        `roster` names players known to play from the start (the console's player):
        rounds then close as soon as they have all answered.
        """
        if not self.accepting:
            raise QuizError("The bot is restarting; try again in a moment")
        stored = await self.community(community)
        host_id = await self.player_id(host)
        roster_ids = tuple([await self.player_id(p) for p in roster])
        options = self.resolve_options(request, stored, roster_ids)
        questions = await self.draw_questions(
            stored.id, channel_id, options.decks, options.questions
        )
        now = self.clock.now()
        new_quiz = NewQuiz(
            community_id=stored.id,
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
        quiz, rnd = await self.store.create_quiz(new_quiz, first)
        self.events.quiz_started()
        log.info(
            "quiz started",
            extra={"community_id": stored.id, "quiz_id": quiz.id, "round_id": rnd.id},
        )
        try:
            await self._post_question(quiz, rnd)
        except Exception:
            # nobody can see the quiz: end it rather than block the channel
            await self.store.close_round(rnd.id, self.clock.now(), self._decider(stop=True))
            raise
        return quiz

    # ---- answers ------------------------------------------------------------------

    async def round_facts(self, round_id: int) -> RoundFacts | None:
        """The unchanging facts of a round (cached), or None if there is no such round."""
        facts = self._facts.get(round_id)
        if facts is not None:
            return facts
        rnd = await self.store.round(round_id)
        if rnd is None:
            return None
        quiz = await self.store.quiz(rnd.quiz_id)
        if quiz is None:
            return None
        return self._remember_round(quiz, rnd)

    def _remember_round(self, quiz: Quiz, rnd: Round) -> RoundFacts:
        """Cache what clicks and question cards need of a round and its quiz."""
        facts = RoundFacts(
            round_id=rnd.id,
            quiz_id=quiz.id,
            community_id=quiz.community_id,
            position=rnd.position,
            kind=rnd.question.kind,
            choice_count=len(rnd.question.choices),
            mode=quiz.options.mode,
            allow_change=quiz.options.allow_change,
            roster=quiz.options.roster,
        )
        self._facts.put(rnd.id, facts)
        self._quizzes.put(quiz.id, quiz)
        return facts

    async def record_answer(
        self, round_id: int, player: PlayerRef, positions: Sequence[int]
    ) -> Receipt:
        """Record a click (a vote in teams mode) and say what happened; never raises for
        a late, double or bogus click."""
        receipt = await self._record_answer(round_id, player, positions)
        self.events.answer_recorded(receipt.kind.value)
        return receipt

    async def _record_answer(
        self, round_id: int, player: PlayerRef, positions: Sequence[int]
    ) -> Receipt:
        facts = await self.round_facts(round_id)
        if facts is None:
            return Receipt(ReceiptKind.ROUND_CLOSED, round_id=round_id)
        selected = tuple(sorted(set(positions)))
        if not _valid_selection(facts, selected):
            return Receipt(ReceiptKind.INVALID_CHOICE, round_id=round_id)
        player_id = await self.player_id(player)
        now = self.clock.now()
        team_community = facts.community_id if facts.mode is Mode.TEAMS else None
        result = await self.store.add_answer(round_id, player_id, selected, now, team_community)
        if result.outcome is AnswerOutcome.INSERTED:
            self._after_answer(facts)
            return Receipt(ReceiptKind.ACCEPTED, selected, round_id)
        if result.outcome is AnswerOutcome.CLOSED:
            return Receipt(ReceiptKind.ROUND_CLOSED, round_id=round_id)
        if result.outcome is AnswerOutcome.NO_TEAM:
            return Receipt(ReceiptKind.NOT_IN_TEAM, round_id=round_id)
        earlier = result.answer.selected if result.answer else ()
        if facts.allow_change and earlier != selected:
            if await self.store.change_answer(round_id, player_id, selected, now):
                self._after_answer(facts, counted=False)
                return Receipt(ReceiptKind.CHANGED, selected, round_id)
            return Receipt(ReceiptKind.ROUND_CLOSED, round_id=round_id)
        return Receipt(ReceiptKind.ALREADY_ANSWERED, earlier, round_id)

    def _after_answer(self, facts: RoundFacts, *, counted: bool = True) -> None:
        """Refresh the count shown (rate-limited) and close early if everyone answered.

        Both run in the background so that the click's receipt is not held up.
        """
        if counted:
            self._request_refresh(facts.round_id)
        # round 1 has nobody expected yet unless a roster was given
        if facts.position > 1 or facts.roster:
            self._request_close_check(facts)

    def _request_close_check(self, facts: RoundFacts, *, sweep: bool = False) -> None:
        """Check whether everyone answered, once per burst rather than once per click.

        While a check of the round runs, later answers only ask for one more check after
        it; that one starts after their commit, so the last answer is always seen. After
        a check found m players missing, the next one waits until this process took m
        more answers (fewer cannot complete the round); answers other processes took
        are covered by the sweep of the rate-bounded count refresh.
        """
        rid = facts.round_id
        if not sweep:
            self._unchecked[rid] = self._unchecked.get(rid, 0) + 1
        if rid in self._close_checks:
            again = _CHECK_AGAIN if sweep else _CHECK_IF_ENOUGH
            self._close_checks[rid] = max(self._close_checks[rid], again)
            return
        missing = self._missing.get(rid)
        unchecked = self._unchecked.get(rid, 0)
        if sweep and not unchecked:
            return
        if not sweep and missing is not None and unchecked < missing:
            return
        self._close_checks[rid] = _CHECK_DONE
        self._spawn(self._close_if_all_answered(facts))

    async def _close_if_all_answered(self, facts: RoundFacts) -> None:
        rid = facts.round_id
        try:
            while True:
                self._close_checks[rid] = _CHECK_DONE
                self._unchecked[rid] = 0
                floor = self._sweep_floor.pop(rid, 0)
                missing = await self.store.missing_expected(facts.quiz_id, rid, facts.roster)
                self._counted[rid] = floor
                if missing == 0:
                    await self.close_round(rid)
                    return
                self._missing[rid] = missing
                again = self._close_checks.get(rid, _CHECK_DONE)
                if again == _CHECK_DONE:
                    return
                if again == _CHECK_IF_ENOUGH and self._unchecked.get(rid, 0) < missing:
                    return
        finally:
            self._close_checks.pop(rid, None)

    # ---- the answers-so-far line, refreshed at a bounded rate -----------------------

    def _request_refresh(self, round_id: int) -> None:
        """Show a round's new answer count at the next refresh; start the refresher."""
        self._refresh_wanted.add(round_id)
        if not self._refresher_running:
            self._refresher_running = True
            self._spawn(self._refresh_counts())

    async def _refresh_counts(self) -> None:
        """Every `refresh_interval`, read the counts of all rounds that took answers in
        one query, edit their questions and sweep their close checks.

        One read per interval whatever the number of open rounds, and at most one edit
        per round per interval, within the chat platforms' edit rate limits.
        """
        loop = asyncio.get_running_loop()
        try:
            while self._refresh_wanted:
                wait = self._refreshed_at + self.refresh_interval - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                # stamped before the read, so that answers arriving meanwhile wait a
                # full interval instead of refreshing at once
                self._refreshed_at = loop.time()
                due, self._refresh_wanted = self._refresh_wanted, set()
                for item in await self.store.open_round_counts(due):
                    self._sweep(item)
                    if item.round.message_ref is not None:
                        self._spawn(self._show_count(item))
        finally:
            self._refresher_running = False

    def _sweep(self, item: OpenRoundCount) -> None:
        """Check for an early close that answers taken by other processes may allow.

        Skipped while the count cannot yet cover the players missing at the last check
        (the count then was at least the floor recorded before it).
        """
        facts = self._facts.get(item.round.id)
        if facts is None or not (facts.position > 1 or facts.roster):
            return
        rid = facts.round_id
        missing = self._missing.get(rid)
        if missing is not None and item.answered < self._counted.get(rid, 0) + missing:
            return
        self._sweep_floor[rid] = item.answered
        self._request_close_check(facts, sweep=True)

    async def _show_count(self, item: OpenRoundCount) -> None:
        rnd = item.round
        assert rnd.message_ref is not None
        async with self._chat_lock(rnd.id):
            if self._revealed.get(rnd.id):
                return  # never put buttons back on a revealed question
            quiz = await self._card_quiz(rnd.quiz_id)
            if quiz is None:
                return
            await self.chat.update_question(
                quiz.channel_id, rnd.message_ref, question_card(quiz, rnd, item.answered)
            )

    async def _card_quiz(self, quiz_id: int) -> Quiz | None:
        """A quiz as question cards need it (channel, options, size: never changing)."""
        quiz = self._quizzes.get(quiz_id)
        if quiz is None:
            quiz = await self.store.quiz(quiz_id)
            if quiz is not None:
                self._quizzes.put(quiz_id, quiz)
        return quiz

    def _chat_lock(self, round_id: int) -> asyncio.Lock:
        # serialises this process's edits of one question message, so that a late count
        # refresh can never put buttons back on a revealed question
        lock = self._chat_locks.get(round_id)
        if lock is None:
            lock = asyncio.Lock()
            self._chat_locks.put(round_id, lock)
        return lock

    # ---- closing --------------------------------------------------------------------

    def _decider(self, *, stop: bool = False, reason: str | None = None) -> Decide:
        """The scoring decision for closing a round, as the store's transaction calls it."""

        def decide(ctx: CloseContext) -> CloseDecision:
            return self.decide(ctx, stop=stop, reason=reason)

        return decide

    def decide(
        self, ctx: CloseContext, *, stop: bool = False, reason: str | None = None
    ) -> CloseDecision:
        """Score a closing round and choose what comes next (pure: reads only `ctx`)."""
        options = ctx.quiz.options
        scored = score_round(
            ctx.round,
            ctx.answers,
            ctx.previous_streaks,
            scoring=options.scoring,
            partial=options.partial,
            teams=options.mode is Mode.TEAMS,
        )
        periods = (
            week_label(ctx.round.opened_at, ctx.community.timezone, ctx.community.week_start),
            ALL_TIME,
        )
        status, ending = QuizStatus.RUNNING, None
        next_round = None if stop else self._next_round(ctx)
        if stop:
            status, ending = QuizStatus.STOPPED, reason or "Stopped by the host"
        elif next_round is None:
            status, ending = QuizStatus.FINISHED, "That was the last question"
        elif not ctx.answers and ctx.previous_answered == 0:
            status, next_round = QuizStatus.STOPPED, None
            ending = f"No answers for {EMPTY_ROUNDS_BEFORE_STOP} rounds in a row"
        return CloseDecision(
            answers=scored.answers,
            team_votes=scored.team_votes,
            deltas=scored.deltas,
            periods=periods,
            quiz_status=status,
            next_round=next_round,
            ending=ending,
        )

    def _next_round(self, ctx: CloseContext) -> NewRound | None:
        quiz, position = ctx.quiz, ctx.round.position
        for offset, question_id in enumerate(quiz.question_ids[position:]):
            question = self.bank.question(question_id)
            if question is None:
                continue  # removed from its deck since the quiz began: skip it
            return NewRound(
                quiz_id=quiz.id,
                position=position + 1 + offset,
                question=shuffled_question(question, self.rng),
                opened_at=ctx.now,
                closes_at=ctx.now + timedelta(seconds=quiz.options.seconds),
            )
        return None

    async def close_round(
        self, round_id: int, *, stop: bool = False, reason: str | None = None
    ) -> ClosedRound | None:
        """Close one round now (once, whoever else tries) and publish the outcome."""
        closed = await self.store.close_round(
            round_id, self.clock.now(), self._decider(stop=stop, reason=reason)
        )
        if closed is not None:
            await self._publish(closed)
        return closed

    async def close_due_rounds(self) -> int:
        """Close and publish every round of this platform past its deadline."""
        closed = await self.store.close_due_rounds(self.platform, self.clock.now(), self._decider())
        for item in closed:
            await self._publish(item)
        return len(closed)

    async def _publish(self, closed: ClosedRound) -> None:
        """Show a closed round's reveal, then the next question or the summary.

        The close is already committed: a failed post is logged, never un-scores.
        """
        quiz, rnd = closed.quiz, closed.context.round
        ids = {"community_id": quiz.community_id, "quiz_id": quiz.id, "round_id": rnd.id}
        log.info("round closed", extra=ids)
        self.events.round_closed()
        await self._guarded(self._reveal(quiz, rnd, closed), "post_reveal", ids)
        if closed.next_round is not None:
            # everyone who answered this round is expected in the next, so at least that
            # many are missing there: no need to ask the store before that many answered
            self._missing[closed.next_round.id] = len(closed.context.answers)
            await self._guarded(self._post_question(quiz, closed.next_round), "post_question", ids)
        elif quiz.status is not QuizStatus.RUNNING:
            log.info("quiz ended", extra=ids)
            self.events.quiz_ended()
            await self._guarded(self._summarise(quiz, closed), "post_summary", ids)

    async def _reveal(self, quiz: Quiz, rnd: Round, closed: ClosedRound) -> None:
        async with self._chat_lock(rnd.id):
            self._revealed.put(rnd.id, True)
            await self.chat.post_reveal(quiz.channel_id, rnd.message_ref, reveal_card(closed))
        self._chat_locks.pop(rnd.id)
        for per_round in (self._missing, self._unchecked, self._counted, self._sweep_floor):
            per_round.pop(rnd.id, None)

    async def _post_question(self, quiz: Quiz, rnd: Round) -> None:
        # the clicks on this question will come here first: no reads for their facts
        self._remember_round(quiz, rnd)
        ref = await self.chat.post_question(quiz.channel_id, question_card(quiz, rnd, 0))
        await self.store.set_message_ref(rnd.id, ref)

    async def summary_card(self, quiz: Quiz, *, reason: str, rounds_played: int) -> SummaryCard:
        """The end-of-quiz card: players' and teams' points within the quiz."""
        players = await self.store.quiz_totals(quiz.id, SubjectKind.PLAYER)
        teams = (
            await self.store.quiz_totals(quiz.id, SubjectKind.TEAM)
            if quiz.options.mode is Mode.TEAMS
            else []
        )
        return SummaryCard(
            quiz_id=quiz.id,
            status=quiz.status,
            reason=reason,
            rounds_played=rounds_played,
            total=quiz.total,
            players=tuple(players),
            teams=tuple(teams),
        )

    async def _summarise(self, quiz: Quiz, closed: ClosedRound) -> None:
        card = await self.summary_card(
            quiz,
            reason=closed.decision.ending or "",
            rounds_played=closed.context.round.position,
        )
        await self.chat.post_summary(quiz.channel_id, card)

    # ---- host controls -----------------------------------------------------------------

    async def _controlled_quiz(
        self, community: CommunityRef, channel_id: str, by: PlayerRef, is_admin: bool, verb: str
    ) -> Quiz:
        stored = await self.community(community)
        quiz = await self.store.running_quiz(stored.id, channel_id)
        if quiz is None:
            raise NoQuizError("No quiz is running in this channel")
        if not is_admin and await self.player_id(by) != quiz.host_id:
            raise NotAllowedError(f"Only the quiz host or an admin can {verb} the quiz")
        return quiz

    async def stop(
        self, community: CommunityRef, channel_id: str, by: PlayerRef, *, is_admin: bool
    ) -> None:
        """End the channel's quiz now: the open round is scored and revealed, then the summary."""
        quiz = await self._controlled_quiz(community, channel_id, by, is_admin, "stop")
        reason = f"Stopped by {by.display_name}"
        for _ in range(3):  # the round may close under us; then the next one is open
            rnd = await self.store.open_round(quiz.id)
            if rnd is None:
                return
            if await self.close_round(rnd.id, stop=True, reason=reason) is not None:
                return

    async def skip(
        self, community: CommunityRef, channel_id: str, by: PlayerRef, *, is_admin: bool
    ) -> None:
        """Close the open round now (answers so far count) and go on."""
        quiz = await self._controlled_quiz(community, channel_id, by, is_admin, "skip")
        rnd = await self.store.open_round(quiz.id)
        if rnd is not None:
            await self.close_round(rnd.id)

    # ---- leaderboards and teams ----------------------------------------------------------

    async def leaderboard(
        self,
        community: CommunityRef,
        *,
        period: str = "week",
        teams: bool = False,
        me: PlayerRef | None = None,
        limit: int = 10,
    ) -> LeaderboardCard:
        """A board of a period (week, last-week, all, YYYY-Www), for players or teams."""
        stored = await self.community(community)
        label, title = resolve_period(period, self.clock.now(), stored.timezone, stored.week_start)
        kind = SubjectKind.TEAM if teams else SubjectKind.PLAYER
        me_id: int | None = None
        if me is not None:
            player_id = await self.player_id(me)
            if teams:
                team = await self.store.team_of(stored.id, player_id)
                me_id = team.id if team else None
            else:
                me_id = player_id
        standings = await self.store.standings(stored.id, label, kind, limit, me_id)
        return LeaderboardCard(
            title=f"Teams: {title}" if teams else title,
            period=label,
            subject_kind=kind,
            rows=standings.rows,
            me=standings.me,
        )

    async def create_team(self, community: CommunityRef, player: PlayerRef, name: str) -> Team:
        """Create a team and join it."""
        stored = await self.community(community)
        return await self.store.create_team(
            stored.id, _team_name(name), await self.player_id(player)
        )

    async def join_team(self, community: CommunityRef, player: PlayerRef, name: str) -> Team:
        """Join a team by name."""
        stored = await self.community(community)
        return await self.store.join_team(stored.id, _team_name(name), await self.player_id(player))

    async def leave_team(self, community: CommunityRef, player: PlayerRef) -> Team:
        """Leave one's team."""
        stored = await self.community(community)
        return await self.store.leave_team(stored.id, await self.player_id(player))

    async def teams(self, community: CommunityRef) -> list[TeamRoster]:
        """The community's teams and members."""
        stored = await self.community(community)
        return await self.store.teams(stored.id)

    # ---- background work -----------------------------------------------------------------

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(self._guarded(work, "background", {}))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _guarded(self, work: Awaitable[None], kind: str, ids: dict[str, int]) -> None:
        """Run `work`, logging and counting a failure instead of raising it."""
        try:
            await work
        except Exception:
            log.exception("%s failed", kind, extra=ids)
            self.events.error(kind)

    async def idle(self) -> None:
        """Wait until background work (early closes, count refreshes) is done."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks))

    async def shutdown(self) -> None:
        """Stop taking new quizzes and finish background work; open rounds stay in the
        store for the next process to close."""
        self.accepting = False
        await self.idle()


def _valid_selection(facts: RoundFacts, selected: tuple[int, ...]) -> bool:
    if not selected or any(not 0 <= p < facts.choice_count for p in selected):
        return False
    return facts.kind is QuestionKind.MULTIPLE or len(selected) == 1


def _team_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise TeamError("Give the team a name, e.g. /quiz team create Owls")
    if len(cleaned) > MAX_TEAM_NAME:
        raise TeamError(f"Team names are at most {MAX_TEAM_NAME} characters")
    return cleaned


def _setting_decks(value: object) -> tuple[str, ...]:
    if isinstance(value, str) and value:
        return tuple(v.strip() for v in value.split(",") if v.strip())
    return ()


def _setting_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _setting_scoring(value: object) -> Scoring | None:
    return Scoring(value) if value in ("speed", "accuracy") else None
