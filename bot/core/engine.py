"""QuizEngine: the game, on top of a Store, a Clock and a ChatPort.

All state of a running quiz is in the store, so any process can take any click and
close any due round. The engine keeps only caches of facts that never change
(`FactCache`), the per-process rate limit of count refreshes (`CountRefresher`) and
the bookkeeping of early-close checks (`EarlyCloseBook`); what a close decides is in
`close_decision`, how a start request becomes options in `options`, and the questions
and first round of a new quiz in `quiz_plan`.
"""

from __future__ import annotations

import functools
import logging
import random
from collections.abc import Sequence
from dataclasses import replace

from bot.core.background import BackgroundWork
from bot.core.bank import QuestionBank
from bot.core.cards import (
    LeaderboardCard,
    Receipt,
    ReceiptKind,
    SummaryCard,
)
from bot.core.catalogue import (
    Catalogue,
    CommunityDeckStore,
    CommunityQuestions,
    DeckCatalogue,
)
from bot.core.close_decision import close_decision, next_round
from bot.core.count_refresh import CountRefresher
from bot.core.dispatch import Dispatcher, summary_card
from bot.core.early_close import EarlyCloseBook
from bot.core.errors import CannotPostError, NoQuizError, NotAllowedError, QuizError
from bot.core.facts import FactCache
from bot.core.model import (
    Community,
    CommunityRef,
    Mode,
    PlayerRef,
    Quiz,
    QuizOptions,
    QuizStatus,
    RoundFacts,
    StartRequest,
    SubjectKind,
    Team,
    TeamRoster,
    team_name,
)
from bot.core.options import resolve_options
from bot.core.outbox import OutboxBatch, OutboxKind, OutboxMessage
from bot.core.periods import resolve_period
from bot.core.ports import (
    AnswerOutcome,
    ChatPort,
    Clock,
    CloseContext,
    CloseDecision,
    ClosedRound,
    Decide,
    EngineEvents,
    NoEvents,
    OpenRoundCount,
    QuestionPicker,
    StandingsQuery,
    Store,
)
from bot.core.quiz_plan import QuizPlanner

log = logging.getLogger(__name__)

START_WAIT = 2.0  # seconds a start waits for its first question to be posted
# seconds a count refresh waits for the outbox before the next may start: the sends
# pace the refreshes, but a busy process, always sending somewhere, must not stop them
COUNT_PACING_WAIT = 5.0


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
        count_edits_per_minute: float | None = None,
        default_timezone: str = "UTC",
        events: EngineEvents | None = None,
        outbox_channel: str | None = None,
    ) -> None:
        self.store = store
        self.events: EngineEvents = events or NoEvents()
        self.default_timezone = default_timezone
        self.bank = bank  # the server's decks; a community's are in `catalogue`
        # a store that also keeps the communities' own decks gives them to every quiz
        deck_store = store if isinstance(store, CommunityDeckStore) else None
        self.catalogue = DeckCatalogue(bank, deck_store)
        self.chat = chat
        self.platform = platform
        self.clock = clock
        self.rng = rng or random.Random()
        self.accepting = True
        self._known = FactCache(store, platform)
        self._background = BackgroundWork(self.events)
        self._counts = CountRefresher(
            refresh_interval, self.store.open_round_counts, self._refreshed, count_edits_per_minute
        )
        self._early = EarlyCloseBook()
        self._planner = QuizPlanner(
            store, self.catalogue, platform=platform, clock=clock, rng=self.rng
        )
        # study mode's `pick weakest`, set by the composition root
        self.picker: QuestionPicker | None = None
        # everything the channels see goes through the outbox; this delivers it
        self.dispatcher = Dispatcher(
            store,
            chat,
            platform=platform,
            clock=clock,
            channel_id=outbox_channel,
            events=self.events,
            on_question=self._known.remember,
            card_quiz=self._known.card_quiz,
            rng=self.rng,
        )
        self.dispatcher.deliver_as_written()  # the engine kicks it after each write anyway

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
        return await self._known.player_id(ref)

    # ---- starting -----------------------------------------------------------------

    def resolve_options(
        self,
        request: StartRequest,
        community: Community,
        roster: tuple[int, ...] = (),
        bank: QuestionBank | None = None,
    ) -> QuizOptions:
        """Fill a start request's gaps from the community's and deck's defaults; check it
        (against `bank`, the community's catalogue, or else the server's decks)."""
        return resolve_options(request, community, bank or self.bank, roster)

    async def decks_of(self, community: CommunityRef) -> Catalogue:
        """The decks a community may play: the server's and its own."""
        stored = await self.community(community)
        return await self.catalogue.catalogue(stored.id)

    async def start(
        self,
        community: CommunityRef,
        channel_id: str,
        host: PlayerRef,
        request: StartRequest,
        *,
        roster: Sequence[PlayerRef] = (),
    ) -> Quiz:
        """Start a quiz in a channel; its first question is posted through the outbox.

        `roster` names players known to play from the start (the console's player):
        rounds then close as soon as they have all answered.
        """
        if not self.accepting:
            raise QuizError("The bot is restarting; try again in a moment")
        stored = await self.community(community)
        host_id = await self.player_id(host)
        roster_ids = tuple([await self.player_id(p) for p in roster])
        bank = await self.catalogue.bank(stored.id)
        options = self.resolve_options(request, stored, roster_ids, bank)
        plan = await self._planner.plan(stored, channel_id, host_id, options, bank, self.picker)
        quiz, rnd = await self.store.create_quiz(plan.quiz, plan.first_round)
        self.events.quiz_started()
        log.info(
            "quiz started",
            extra={"community_id": stored.id, "quiz_id": quiz.id, "round_id": rnd.id},
        )
        self._known.remember(quiz, rnd)
        # the command answers once the question is up, or after START_WAIT in any case
        await self.dispatcher.deliver_now(START_WAIT)
        reason = self.dispatcher.stopped_because.get(quiz.id)
        if reason is not None:
            raise CannotPostError(f"I cannot post in this channel, so the quiz stopped: {reason}")
        return quiz

    # ---- answers ------------------------------------------------------------------

    async def round_facts(self, round_id: int) -> RoundFacts | None:
        """The unchanging facts of a round (cached), or None if there is no such round."""
        return await self._known.round_facts(round_id)

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
        if not facts.accepts(selected):
            return Receipt(ReceiptKind.INVALID_CHOICE, round_id=round_id)
        now = self.clock.now()
        team_community = facts.community_id if facts.mode is Mode.TEAMS else None
        # a player new to this process is created in the answer's own transaction
        known = self._known.player(player)
        result = await self.store.add_answer(round_id, known, selected, now, team_community)
        player_id = result.player_id
        if player_id != known:
            self._known.remember_player(player, player_id)
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
        if counted and self._counts.want(facts.round_id):
            self._background.spawn(self._counts.run())
        # round 1 has nobody expected yet unless a roster was given
        if facts.position > 1 or facts.roster:
            self._request_close_check(facts)

    def _request_close_check(self, facts: RoundFacts, *, sweep: bool = False) -> None:
        """Check whether everyone answered, once per burst rather than once per click
        (see bot.core.early_close)."""
        if self._early.wants_check(facts.round_id, sweep=sweep):
            self._background.spawn(self._close_if_all_answered(facts))

    async def _close_if_all_answered(self, facts: RoundFacts) -> None:
        rid = facts.round_id
        try:
            while True:
                floor = self._early.check_started(rid)
                missing = await self.store.missing_expected(facts.quiz_id, rid, facts.roster)
                again = self._early.check_found(rid, floor, missing)
                if missing == 0:
                    await self.close_round(rid)
                    return
                if not again:
                    return
        finally:
            self._early.check_ended(rid)

    # ---- the answers-so-far line, refreshed at a bounded rate -----------------------

    @property
    def refresh_interval(self) -> float:
        """Seconds between two refreshes of the answers-so-far lines."""
        return self._counts.interval

    async def _refreshed(self, items: list[OpenRoundCount]) -> int:
        """Fresh counts: sweep the rounds' close checks and have the counts shown; returns
        the most edits one community got. The edits go through the outbox, in each
        channel's lane, and are built when sent: one sent after its round's reveal is
        dropped, whichever process sends it. This returns once the outbox is delivered,
        so that the next refresh waits for these edits (and what is ahead of them)."""
        edits: dict[int, list[OutboxMessage]] = {}
        for item in items:
            self._sweep(item)
            if item.round.message_ref is None:
                continue
            quiz = await self._known.card_quiz(item.round.quiz_id)
            if quiz is not None:
                message = OutboxMessage(OutboxKind.COUNT, quiz.channel_id, item.round.id)
                edits.setdefault(quiz.community_id, []).append(message)
        if edits:
            batches = [OutboxBatch(self.platform, c, None, m) for c, m in edits.items()]
            await self.store.add_outbox(batches, self.clock.now())
            await self.dispatcher.deliver_now(COUNT_PACING_WAIT)
        return max(map(len, edits.values()), default=0)

    def _sweep(self, item: OpenRoundCount) -> None:
        """Check for an early close that answers taken by other processes may allow."""
        facts = self._known.known_round(item.round.id)
        if facts is None or not (facts.position > 1 or facts.roster):
            return
        if self._early.sweep_due(facts.round_id, item.answered):
            self._request_close_check(facts, sweep=True)

    # ---- closing --------------------------------------------------------------------

    def _decider(self, *, stop: bool = False, reason: str | None = None) -> Decide:
        """The scoring decision for closing a round, as the store's transaction calls it."""

        return functools.partial(self.decide, stop=stop, reason=reason)

    def decide(
        self, ctx: CloseContext, *, stop: bool = False, reason: str | None = None
    ) -> CloseDecision:
        """Score a closing round and choose what comes next (pure: reads only `ctx`)."""
        questions = CommunityQuestions(self.catalogue, ctx.community.id)
        upcoming = None if stop else next_round(ctx, questions, self.rng)
        return close_decision(ctx, upcoming, stop=stop, reason=reason)

    async def close_round(
        self, round_id: int, *, stop: bool = False, reason: str | None = None
    ) -> ClosedRound | None:
        """Close one round now (once, whoever else tries) and publish the outcome."""
        facts = await self.round_facts(round_id)
        if facts is not None:
            # the close picks the next question from memory, inside the store's transaction
            await self.catalogue.ensure_loaded(facts.community_id)
        closed = await self.store.close_round(
            round_id, self.clock.now(), self._decider(stop=stop, reason=reason)
        )
        if closed is not None:
            await self._publish(closed)
        return closed

    async def close_due_rounds(self) -> int:
        """Close and publish every round of this platform past its deadline."""
        closed = await self.store.close_due_rounds(self.platform, self.clock.now(), self._decider())
        if await self.catalogue.load_wanted():
            # a close needed a community's decks this process had not read: the store
            # left those rounds open; now that the decks are here, close them too
            closed += await self.store.close_due_rounds(
                self.platform, self.clock.now(), self._decider()
            )
        for item in closed:
            await self._publish(item)
        if closed:
            await self.dispatcher.deliver_now()  # the ticker's pass ends with the reveals out
        return len(closed)

    async def _publish(self, closed: ClosedRound) -> None:
        """A round closed: its reveal and what follows are in the outbox already
        (written by the close's transaction); have them delivered now, in the
        background: the close is committed, so it need not wait for the sends
        (`idle` waits for them)."""
        quiz, rnd = closed.quiz, closed.context.round
        ids = {"community_id": quiz.community_id, "quiz_id": quiz.id, "round_id": rnd.id}
        log.info("round closed", extra=ids)
        self.events.round_closed()
        self._early.forget(rnd.id)
        if closed.next_round is not None:
            # everyone who answered this round is expected in the next, so at least that
            # many are missing there: no need to ask the store before that many answered
            self._early.expect(closed.next_round.id, len(closed.context.answers))
        elif quiz.status is not QuizStatus.RUNNING:
            log.info("quiz ended", extra=ids)
            self.events.quiz_ended()
        self.dispatcher.kick()

    async def summary_card(self, quiz: Quiz, *, reason: str, rounds_played: int) -> SummaryCard:
        """The end-of-quiz card: players' and teams' points within the quiz."""
        return await summary_card(self.store, quiz, reason=reason, rounds_played=rounds_played)

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
                await self.dispatcher.deliver_now()  # the host's reply follows the summary
                return

    async def skip(
        self, community: CommunityRef, channel_id: str, by: PlayerRef, *, is_admin: bool
    ) -> None:
        """Close the open round now (answers so far count) and go on."""
        quiz = await self._controlled_quiz(community, channel_id, by, is_admin, "skip")
        rnd = await self.store.open_round(quiz.id)
        if rnd is not None and await self.close_round(rnd.id) is not None:
            await self.dispatcher.deliver_now()  # the host's reply follows the reveal

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
        standings = await self.store.standings(StandingsQuery(stored.id, label, kind, limit, me_id))
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
            stored.id, team_name(name), await self.player_id(player)
        )

    async def join_team(self, community: CommunityRef, player: PlayerRef, name: str) -> Team:
        """Join a team by name."""
        stored = await self.community(community)
        return await self.store.join_team(stored.id, team_name(name), await self.player_id(player))

    async def leave_team(self, community: CommunityRef, player: PlayerRef) -> Team:
        """Leave one's team."""
        stored = await self.community(community)
        return await self.store.leave_team(stored.id, await self.player_id(player))

    async def teams(self, community: CommunityRef) -> list[TeamRoster]:
        """The community's teams and members."""
        stored = await self.community(community)
        return await self.store.teams(stored.id)

    # ---- background work -----------------------------------------------------------------

    async def idle(self) -> None:
        """Wait until the background work and the outbox rows due now are done."""
        while True:
            await self._background.idle()
            await self.dispatcher.idle()
            if not self._background.busy:
                return

    async def shutdown(self) -> None:
        """Stop taking new quizzes, finish background work and the sends in flight; open
        rounds and undelivered rows stay in the store for the next process."""
        self.accepting = False
        self._counts.stop()
        await self._background.idle()
        await self.dispatcher.shutdown()
