"""`Dispatcher`: delivers the outbox's rows through a ChatPort, lane by lane, in order.

Every serving process (and every terminal game) runs one. It claims the first due row
of each lane (a channel), sends it, and records the outcome in one short transaction:

- sent: the row is done; a question's message ref goes on its round and, when the
  question came late, the round's clock restarts so players get their full time;
- `RetryLater` (or anything unexpected): pending again after the platform's
  Retry-After, or an exponential backoff, for at most `max_attempts` tries;
- `Undeliverable`, or out of tries: the row fails and its quiz stops, with one log
  line and a word to the host.

Question, count and summary rows are built when sent, from the state at that moment:
a count edit of a closed round is dropped, so no edit can put buttons back on a
revealed question, whichever process sends it.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import random
from collections import deque
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import replace
from datetime import timedelta
from enum import StrEnum

from bot.core.cards import SummaryCard, question_card
from bot.core.delivery import RetryLater, Undeliverable
from bot.core.facts import CACHE_SIZE
from bot.core.lru import LRU
from bot.core.model import Mode, Quiz, Round, RoundStatus, SubjectKind
from bot.core.outbox import (
    OutboxClaim,
    OutboxItem,
    OutboxKind,
    OutboxSender,
    QuestionShown,
    from_json,
    reveal_of,
)
from bot.core.ports import ChatPort, Clock, EngineEvents, NoEvents, Store
from bot.core.rhythm.cards import WeeklyBoardCard
from bot.core.rhythm.ports import BoardPort

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)  # longer than any send: the platforms time out first
MAX_ATTEMPTS = 8  # with the backoff below, about a minute of trying
FIRST_BACKOFF = 0.5
MAX_BACKOFF = 30.0
MAX_RETRY_AFTER = 300.0
LATE_AFTER = timedelta(seconds=1)  # a question shown later than this gets its time back
BATCH = 64  # rows claimed at once: at most one per lane, sent concurrently


class Outcome(StrEnum):
    """What became of one delivery attempt (the deliveries metric's label)."""

    SENT = "sent"
    RETRIED = "retried"
    DROPPED = "dropped"
    FAILED = "failed"


async def summary_card(store: Store, quiz: Quiz, *, reason: str, rounds_played: int) -> SummaryCard:
    """The end-of-quiz card: players' and teams' points within the quiz."""
    players = await store.quiz_totals(quiz.id, SubjectKind.PLAYER)
    teams = (
        await store.quiz_totals(quiz.id, SubjectKind.TEAM)
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


def backoff(attempts: int, rng: random.Random) -> float:
    """Seconds before try number `attempts + 1`: doubling from 0.5 s to 30 s, ±20 %."""
    base = min(MAX_BACKOFF, FIRST_BACKOFF * 2 ** max(0, attempts - 1))
    return float(base * rng.uniform(0.8, 1.2))


class Dispatcher:
    """Delivers one platform's outbox rows (of one channel, if given) through `chat`."""

    def __init__(
        self,
        store: Store,
        chat: ChatPort,
        *,
        platform: str,
        clock: Clock,
        channel_id: str | None = None,
        events: EngineEvents | None = None,
        on_question: Callable[[Quiz, Round], object] | None = None,
        card_quiz: Callable[[int], Awaitable[Quiz | None]] | None = None,
        rng: random.Random | None = None,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self.store = store
        # a quiz as question cards need it (what they show of it never changes): the
        # engine's cache, so that a count edit or a question reads only its round
        self._card_quiz = card_quiz or store.quiz
        self.chat = chat
        self.platform = platform
        self.clock = clock
        self.channel_id = channel_id
        self.events: EngineEvents = events or NoEvents()
        self.on_question = on_question
        self.max_attempts = max_attempts
        self._rng = rng or random.Random()
        self._lock = asyncio.Lock()  # one pass at a time: a lane's rows never overlap
        self._again = False
        self._kicked = asyncio.Event()  # rows were committed while a drain runs
        self._sent: list[int] = []  # rows delivered and not yet marked done
        self._task: asyncio.Task[None] | None = None
        self._taken: deque[OutboxItem] = deque()  # rows taken as they were written
        self._handed: set[asyncio.Task[None]] = set()  # the tasks sending them
        self._sender: OutboxSender | None = None
        self._stopped = False
        # why recent quizzes were stopped as undeliverable, for the command that started one
        self.stopped_because: LRU[int, str] = LRU(CACHE_SIZE)

    # ---- when to deliver -----------------------------------------------------------

    def deliver_as_written(self) -> None:
        """Take this process's rows as they are written: the first row of a free lane
        is claimed by the writing transaction and sent as soon as that commits, with no
        claim of its own (see `OutboxSender`). The engine asks for this: it kicks its
        dispatcher after every write anyway."""
        if self._sender is None:
            self._sender = OutboxSender(self.platform, self.channel_id, LEASE, self.take)
            self.store.deliver_as_written(self._sender)

    def take(self, items: list[OutboxItem]) -> None:
        """Rows claimed for this dispatcher as they were written: send them now, at most
        BATCH at once (a burst of count edits must not become thousands of sends)."""
        if self._stopped:
            return  # they come back to whichever process claims them when the lease ends
        self._taken.extend(items)
        while self._taken and len(self._handed) < BATCH:
            task = asyncio.ensure_future(self._send_taken())
            self._handed.add(task)
            task.add_done_callback(self._handed.discard)

    async def _send_taken(self) -> None:
        while self._taken:
            item = self._taken.popleft()
            try:
                await self._deliver(item)
            except Exception:
                # the outcome could not be recorded: the row is retried when its lease ends
                log.exception("delivering outbox row %s failed", item.id)
                self.events.error("outbox")
            finally:
                self.kick()  # mark it done, and claim its lane's next row

    def kick(self) -> None:
        """Rows were just committed: deliver them now (in the background)."""
        if self._stopped:
            return
        self._again = True
        self._kicked.set()
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._drain_while_kicked())

    async def deliver_now(self, wait_at_most: float | None = None) -> None:
        """Kick, then wait (up to `wait_at_most` seconds) until what is due now is delivered;
        the delivery goes on in the background after that."""
        self.kick()
        with suppress(TimeoutError):
            await asyncio.wait_for(self._sends_ended(), wait_at_most)

    async def _sends_ended(self) -> None:
        """Wait for the drain and the taken rows in flight, and for what they lead to
        (asyncio.wait, unlike gather, leaves them running if this wait is cancelled)."""
        while True:
            running = {t for t in (self._task, *self._handed) if t is not None and not t.done()}
            if not running:
                return
            await asyncio.wait(running)

    async def _drain_while_kicked(self) -> None:
        while self._again and not self._stopped:
            self._again = False
            try:
                await self.drain()
            except Exception:
                log.exception("delivering the outbox failed; retrying at the next poll")
                self.events.error("outbox")
                return

    async def drain(self) -> int:
        """Deliver every row due now, lane by lane; returns how many were handled.

        Lanes do not wait for each other: rows are sent as they are claimed, and the
        store is asked again as soon as a send ends (its lane's next row may be due)
        or new rows are kicked in, not after a whole batch. A lane's row in flight is
        still `sending`, so the claim never takes the row after it too early.
        """
        handled = 0
        async with self._lock:
            in_flight: set[asyncio.Task[None]] = set()
            try:
                while not self._stopped:
                    self._kicked.clear()
                    await self._mark_sent()  # rows taken as written, so their lanes go on
                    now = self.clock.now()
                    claim = OutboxClaim(self.platform, self.channel_id, now, now + LEASE, BATCH)
                    items = await self.store.claim_outbox(claim)
                    handled += len(items)
                    in_flight.update(asyncio.ensure_future(self._deliver(i)) for i in items)
                    if not in_flight:
                        return handled
                    await self._some_sent(in_flight)
            finally:
                if in_flight:
                    await asyncio.gather(*in_flight, return_exceptions=True)
                await self._mark_sent()
        return handled

    async def _some_sent(self, in_flight: set[asyncio.Task[None]]) -> None:
        """Wait until a send ends or rows are kicked in; mark what was sent done."""
        kicked = asyncio.ensure_future(self._kicked.wait())
        try:
            done, _ = await asyncio.wait({*in_flight, kicked}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            kicked.cancel()
        in_flight.difference_update(done)
        await self._mark_sent()
        for task in done - {kicked}:
            task.result()  # a failure to record an outcome ends the drain, as before

    async def _mark_sent(self) -> None:
        # one transaction marks every row sent since the last, not one per row
        sent, self._sent = self._sent, []
        await self.store.outbox_done_many(sent, self.clock.now())

    async def run(self, stop: asyncio.Event, poll: float = 0.5) -> None:
        """Deliver until `stop` is set: at once when kicked, and every `poll` seconds
        for rows other processes wrote or retries that came due."""
        while not stop.is_set() and not self._stopped:
            try:
                await self.drain()
            except Exception:
                log.exception("delivering the outbox failed; retrying")
                self.events.error("outbox")
            with_stop = asyncio.ensure_future(stop.wait())
            try:
                await asyncio.wait({with_stop}, timeout=poll)
            finally:
                with_stop.cancel()

    async def idle(self) -> None:
        """Wait until every row due now (and any it leads to) is delivered."""
        while True:
            await self._sends_ended()
            if self._stopped or await self.drain() == 0:
                return

    async def shutdown(self) -> None:
        """Finish the sends in flight, then stop; pending rows stay for the next process."""
        self._stopped = True
        if self._sender is not None:
            self.store.stop_delivering_as_written(self._sender)
        async with self._lock:
            pass
        await self._sends_ended()
        async with self._lock:
            await self._mark_sent()  # what was taken and sent since the last drain

    # ---- one row -----------------------------------------------------------------------

    async def _deliver(self, item: OutboxItem) -> None:
        ids: dict[str, object] = {
            "outbox_id": item.id,
            "quiz_id": item.quiz_id,
            "round_id": item.round_id,
        }
        try:
            dropped = await self._send(item)
        except Undeliverable as exc:
            await self._fail(item, exc.reason, ids)
            return
        except Exception as exc:
            await self._retry(item, exc, ids)
            return
        outcome = Outcome.DROPPED if dropped else Outcome.SENT
        self.events.delivered(outcome.value)

    async def _send(self, item: OutboxItem) -> bool:
        """Send one row and record it; True when it was dropped as no longer wanted."""
        if item.kind is OutboxKind.QUESTION:
            return await self._question(item)
        if item.kind is OutboxKind.COUNT:
            return await self._count(item)
        if item.kind is OutboxKind.REVEAL:
            reveal = reveal_of(item)
            await self.chat.post_reveal(item.channel_id, item.round_ref, reveal, key=item.key)
        elif item.kind is OutboxKind.SUMMARY:
            quiz = await self.store.quiz(item.quiz_id) if item.quiz_id else None
            if quiz is None:
                return await self._drop(item, "the quiz is gone")
            card = await summary_card(
                self.store,
                quiz,
                reason=str(item.payload["reason"]),
                rounds_played=int(item.payload["rounds_played"]),
            )
            await self.chat.post_summary(item.channel_id, card, key=item.key)
        elif item.kind is OutboxKind.BOARD:
            await self._board(item)
        self._sent.append(item.id)
        return False

    async def _question(self, item: OutboxItem) -> bool:
        rnd = await self.store.round(item.round_id) if item.round_id else None
        quiz = await self._card_quiz(rnd.quiz_id) if rnd is not None else None
        if rnd is None or quiz is None or rnd.status is not RoundStatus.OPEN:
            return await self._drop(item, "the round closed before its question was shown")
        now = self.clock.now()
        moved = None
        if now - rnd.opened_at > LATE_AFTER:
            # a round's clock starts when its question is visible
            moved = (now, now + (rnd.closes_at - rnd.opened_at))
            rnd = replace(rnd, opened_at=moved[0], closes_at=moved[1])
        if self.on_question is not None:
            self.on_question(quiz, rnd)  # its clicks will come here first
        card = question_card(quiz, rnd, 0)
        ref = await self.chat.post_question(item.channel_id, card, key=item.key)
        shown = QuestionShown(item.id, rnd.id, ref, moved)
        await self.store.question_shown(shown, self.clock.now())
        if moved is not None:
            log.info(
                "question shown late; its deadline moved",
                extra={"round_id": rnd.id, "late_seconds": (now - moved[0]).total_seconds()},
            )
        return False

    async def _count(self, item: OutboxItem) -> bool:
        counts = await self.store.open_round_counts([item.round_id] if item.round_id else [])
        if not counts or counts[0].round.message_ref is None:
            return await self._drop(item, "the round is closed")
        rnd, answered = counts[0].round, counts[0].answered
        quiz = await self._card_quiz(rnd.quiz_id)
        if quiz is None:
            return await self._drop(item, "the quiz is gone")
        assert rnd.message_ref is not None
        card = question_card(quiz, rnd, answered)
        await self.chat.update_question(item.channel_id, rnd.message_ref, card, key=item.key)
        self._sent.append(item.id)
        return False

    async def _board(self, item: OutboxItem) -> None:
        if not isinstance(self.chat, BoardPort):
            raise Undeliverable(f"{self.platform} cannot post weekly boards")
        card = from_json(WeeklyBoardCard, item.payload["card"])
        image = item.payload.get("image")
        picture = base64.b64decode(image) if isinstance(image, str) else None
        await self.chat.post_board(item.channel_id, card, picture, key=item.key)

    async def _drop(self, item: OutboxItem, reason: str) -> bool:
        await self.store.drop_outbox(item.id, self.clock.now(), reason)
        return True

    async def _retry(self, item: OutboxItem, exc: Exception, ids: dict[str, object]) -> None:
        error = f"{type(exc).__name__}: {exc}"
        if not isinstance(exc, RetryLater):
            log.warning("sending outbox row %s failed unexpectedly", item.id, exc_info=exc)
        if item.attempts >= self.max_attempts:
            await self._fail(item, f"gave up after {item.attempts} tries ({error})", ids)
            return
        after = exc.retry_after if isinstance(exc, RetryLater) else None
        delay = (
            min(after, MAX_RETRY_AFTER) if after is not None else backoff(item.attempts, self._rng)
        )
        await self.store.retry_outbox(item.id, self.clock.now() + timedelta(seconds=delay), error)
        self.events.delivered(Outcome.RETRIED.value)

    async def _fail(self, item: OutboxItem, reason: str, ids: dict[str, object]) -> None:
        host = await self.store.fail_outbox(item, self.clock.now(), reason)
        self.events.delivered(Outcome.FAILED.value)
        stopped = "; the quiz is stopped" if host is not None else ""
        log.error(
            "a %s message to %s cannot be delivered: %s%s",
            item.kind.value,
            item.channel_id,
            reason,
            stopped,
            extra=ids,
        )
        if host is not None and item.quiz_id is not None:
            self.stopped_because.put(item.quiz_id, reason)
            self.events.quiz_ended()
            text = f"Your quiz in this channel was stopped: the bot cannot post there ({reason})."
            try:
                await self.chat.notify_host(item.channel_id, host, text)
            except Exception:
                log.warning("telling the host why the quiz stopped failed", exc_info=True)
