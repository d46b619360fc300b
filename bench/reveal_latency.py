"""P6: from a round's close commit to its reveal's post, through the outbox.

The engine runs on the real store with the Slack adapter's chat (`SlackChat`) on the
mock Slack of `tests/mock_slack`, in a process of its own, as in P2. `quizzes` quizzes
run side by side, one channel each, a few players each. Each outbox phase closes the
open round of every quiz at once (`engine.close_round`): the close writes the reveal
to the outbox in its transaction and the dispatcher posts it. Timed per round: from
the moment the close's transaction committed (the store's close_round returned) to the
moment the reveal's chat.postMessage came back from the mock.

Baseline, same run, alternating with the outbox phases: the same closes by the store
directly, each followed at once by the same reveal posted straight through the chat
(no outbox in between), timed the same way. The target compares the p99s.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import insert, select

from bench.click_to_ack import BOT_TOKEN, start_mock, stop_mock
from bench.common import Database, Results, bench_bank, now, percentile, print_figures
from bot.adapters.slack.chat import SlackChat, http_session, web_client
from bot.core.cards import RevealCard, reveal_card
from bot.core.clock import SystemClock
from bot.core.engine import QuizEngine
from bot.core.model import CommunityRef, PlayerRef, StartRequest
from bot.core.ports import ClosedRound
from bot.store import SqlStore
from bot.store.tables import AnswerRow, PlayerRow

METRIC = "p6_reveal_latency"
GUILD = CommunityRef("T-bench", "Bench workspace")
HOST = PlayerRef("U-host", "Host")


@dataclass(frozen=True)
class Params:
    """Quizzes closing at once, players answering each round, outbox/direct pairs."""

    quizzes: int = 100
    players: int = 5
    pairs: int = 3

    @classmethod
    def tiny(cls) -> Params:
        """A size for the smoke test."""
        return cls(quizzes=4, players=2, pairs=1)

    def quick(self) -> Params:
        """A tenth of the quizzes."""
        return Params(self.quizzes // 10, self.players, self.pairs)


class TimedChat:
    """The Slack chat, noting when each reveal's post came back."""

    def __init__(self, inner: SlackChat) -> None:
        self.inner = inner
        self.revealed: dict[int, float] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def post_reveal(
        self, channel_id: str, message_ref: str | None, card: RevealCard, *, key: str
    ) -> None:
        await self.inner.post_reveal(channel_id, message_ref, card, key=key)
        self.revealed.setdefault(card.round_id, now())


def note_commits(store: SqlStore, committed: dict[int, float]) -> None:
    """Wrap the store's close_round: note when each close's transaction committed."""
    close: Callable[..., Awaitable[ClosedRound | None]] = store.close_round

    async def close_round(round_id: int, *args: Any, **kwargs: Any) -> ClosedRound | None:
        closed = await close(round_id, *args, **kwargs)
        committed[round_id] = now()
        return closed

    store.close_round = close_round  # type: ignore[method-assign]


async def open_round_ids(store: SqlStore, quiz_ids: list[int]) -> list[int]:
    """Every quiz's open round."""
    ids = []
    for quiz_id in quiz_ids:
        rnd = await store.open_round(quiz_id)
        assert rnd is not None
        ids.append(rnd.id)
    return ids


async def answer(store: SqlStore, round_ids: list[int], players: list[int]) -> None:
    """Every player answers every round (bulk: the answers are not what is timed)."""
    at = SystemClock().now() - timedelta(seconds=1)
    async with store.engine.begin() as conn:
        await conn.execute(
            insert(AnswerRow),
            [
                {"round_id": r, "player_id": p, "selected": [0], "answered_at": at}
                for r in round_ids
                for p in players
            ],
        )


async def outbox_phase(
    engine: QuizEngine, chat: TimedChat, committed: dict[int, float], round_ids: list[int]
) -> list[float]:
    """Close every round at once through the engine; seconds from commit to reveal."""
    await asyncio.gather(*(engine.close_round(r) for r in round_ids))
    await engine.idle()
    return [chat.revealed[r] - committed[r] for r in round_ids]


async def direct_phase(engine: QuizEngine, chat: TimedChat, round_ids: list[int]) -> list[float]:
    """Close every round at once in the store, each reveal posted straight after."""

    async def close_and_post(round_id: int) -> float:
        closed = await engine.store.close_round(round_id, engine.clock.now(), engine.decide)
        committed = now()
        assert closed is not None
        card = reveal_card(closed)
        ref = closed.context.round.message_ref
        await chat.inner.post_reveal(closed.quiz.channel_id, ref, card, key=f"direct-{round_id}")
        return now() - committed

    latencies = await asyncio.gather(*(close_and_post(r) for r in round_ids))
    await engine.idle()  # the outbox's own reveal rows, and the next questions
    return list(latencies)


async def setup(store: SqlStore, engine: QuizEngine, params: Params) -> tuple[list[int], list[int]]:
    """Quizzes started, one channel each; the players' ids."""
    await store.sync_questions(engine.bank.all_questions())
    request = StartRequest(decks=("bench",), questions=2 * params.pairs + 1, seconds=600)
    quiz_ids = []
    for q in range(params.quizzes):
        quiz = await engine.start(GUILD, f"C{q:05d}", HOST, request)
        quiz_ids.append(quiz.id)
    async with store.engine.begin() as conn:
        await conn.execute(
            insert(PlayerRow),
            [
                {"platform": "slack", "external_id": f"U{n}", "display_name": f"Player {n}"}
                for n in range(params.players)
            ],
        )
        players = list(
            (
                await conn.execute(
                    select(PlayerRow.id).where(PlayerRow.external_id != HOST.external_id)
                )
            ).scalars()
        )
    await engine.idle()
    return quiz_ids, players


async def run(db: Database, results: Results, params: Params | None = None) -> None:
    """Measure P6 on one database and record its figures."""
    params = params or Params()
    await db.reset()
    mock_process, mock_port = await start_mock()
    store = db.store()
    session = http_session()
    committed: dict[int, float] = {}
    outbox: list[float] = []
    direct: list[float] = []
    try:
        client = web_client(
            BOT_TOKEN, f"http://127.0.0.1:{mock_port}/api/", session=session, jitter=0.0
        )
        chat = TimedChat(SlackChat(client))
        engine = QuizEngine(store, bench_bank(), chat, platform="slack", clock=SystemClock())
        note_commits(store, committed)
        quiz_ids, players = await setup(store, engine, params)
        for _ in range(params.pairs):
            for phase in ("outbox", "direct"):
                round_ids = await open_round_ids(store, quiz_ids)
                await answer(store, round_ids, players)
                if phase == "outbox":
                    outbox += await outbox_phase(engine, chat, committed, round_ids)
                else:
                    direct += await direct_phase(engine, chat, round_ids)
        await engine.shutdown()
    finally:
        await session.close()
        await store.close()
        await stop_mock(mock_process)
    prefix = f"{METRIC}.{db.name}."
    ms = 1000
    results.reference(prefix + "reveals", len(outbox), "reveals")
    results.reference(prefix + "p50_ms", percentile(outbox, 50) * ms, "ms")
    results.reference(prefix + "p99_ms", percentile(outbox, 99) * ms, "ms")
    results.reference(prefix + "direct_p50_ms", percentile(direct, 50) * ms, "ms")
    results.reference(prefix + "direct_p99_ms", percentile(direct, 99) * ms, "ms")
    results.at_most(
        prefix + "p99_vs_direct",
        percentile(outbox, 99) / percentile(direct, 99),
        "x direct",
        2,
        baseline=f"x {prefix}direct_p99_ms",
    )
    print_figures(
        f"P6 close to reveal on {db.name}: {params.quizzes} quizzes closing at once, "
        f"{params.pairs} x (outbox, direct) phases, through the mock Slack",
        results,
        prefix,
    )
