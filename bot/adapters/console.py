"""Terminal play: the same engine and database as the chat bots, no chat account needed.

In a terminal it shows a countdown; when stdin is not a terminal it reads one
answer a line ("b", "a,c", "true"), so a game can be scripted.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import threading
from dataclasses import dataclass
from typing import TextIO

from bot.config import Settings
from bot.core.cards import (
    LeaderboardCard,
    QuestionCard,
    RevealCard,
    SummaryCard,
    kind_hint,
    letter,
    parse_letters,
)
from bot.core.engine import QuizEngine
from bot.core.model import CommunityRef, Mode, PlayerRef, Scoring, StartRequest
from bot.render import to_chat_text
from bot.runtime import run_ticker, running

COMMUNITY = CommunityRef(external_id="console", name="console")
CHANNEL = "terminal"
_EOF = None


def question_text(card: QuestionCard) -> str:
    """A question as terminal text."""
    lines = [
        "",
        f"━━ {card.heading} ━━",
        to_chat_text(card.prompt),
        "",
    ]
    lines += [f"  {letter(i)}) {to_chat_text(c)}" for i, c in enumerate(card.choices)]
    lines.append(f"({kind_hint(card.kind)}; {card.seconds} s)")
    return "\n".join(lines)


def reveal_text(card: RevealCard) -> str:
    """A reveal as terminal text: the answer, the explanation, the spread, the fastest."""
    correct = "; ".join(f"{letter(p)}) {to_chat_text(card.choices[p])}" for p in card.correct)
    lines = [f"✔ {card.heading}: {correct}"]
    if card.explanation:
        lines.append(f"  {to_chat_text(card.explanation)}")
    lines += [f"  {line}" for line in card.spread_lines()]
    if card.fastest:
        lines.append("  Fastest: " + "  ".join(card.fastest_lines()))
    else:
        lines.append("  Nobody got it this time.")
    lines += [f"  {line}" for line in card.team_lines()]
    if card.ending:
        lines.append(f"  {card.ending}.")
    return "\n".join(lines)


def summary_text(card: SummaryCard) -> str:
    """The final standings as terminal text."""
    lines = ["", f"━━ {card.heading} ({card.rounds_played}/{card.total} questions) ━━"]
    lines += card.player_lines() or ["Nobody scored."]
    lines += [f"Team {line}" for line in card.team_lines()]
    return "\n".join(lines)


def leaderboard_text(card: LeaderboardCard) -> str:
    """A leaderboard as terminal text."""
    return "\n".join([f"━━ {card.title} ━━", *card.lines()])


class ConsoleChat:
    """A ChatPort that prints to a terminal and tells the game loop what is on screen."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.current: QuestionCard | None = None
        self.summary: SummaryCard | None = None
        self.picked: dict[int, tuple[int, ...]] = {}  # round id -> this player's choice
        self.changed = asyncio.Event()

    def _print(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    async def post_question(self, channel_id: str, card: QuestionCard) -> str:
        """Print a question and make it the one answers go to."""
        self._print(question_text(card))
        self.current = card
        self.changed.set()
        return str(card.round_id)

    async def update_question(self, channel_id: str, message_ref: str, card: QuestionCard) -> None:
        """Answer counts need no redraw in a terminal."""

    async def post_reveal(self, channel_id: str, message_ref: str | None, card: RevealCard) -> None:
        """Print the reveal."""
        if self.current is not None and self.current.round_id == card.round_id:
            self.current = None
        self._print(reveal_text(card))
        picked = self.picked.get(card.round_id)
        if picked is not None:
            verdict = "✓ You got it" if picked == card.correct else "✗ Not this time"
            self._print(f"  {verdict} (you picked {', '.join(letter(p) for p in picked)})")
        self.changed.set()

    async def post_summary(self, channel_id: str, card: SummaryCard) -> None:
        """Print the final standings and end the game loop."""
        self._print(summary_text(card))
        self.summary = card
        self.changed.set()


def start_line_reader(stream: TextIO) -> asyncio.Queue[str | None]:
    """Lines of `stream` in a queue, read by a thread; None marks the end of input.

    A thread works for terminals, pipes and redirected files alike.
    """
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str | None] = asyncio.Queue()

    def read() -> None:
        for line in stream:
            loop.call_soon_threadsafe(lines.put_nowait, line.strip())
        loop.call_soon_threadsafe(lines.put_nowait, _EOF)

    threading.Thread(target=read, name="stdin-reader", daemon=True).start()
    return lines


@dataclass(frozen=True)
class PlayOptions:
    """What `quizbot play` was asked for."""

    decks: tuple[str, ...] = ()
    questions: int | None = None
    seconds: int | None = None
    mode: Mode = Mode.SOLO
    scoring: Scoring | None = None
    player: str = ""
    seed: int | None = None


def default_player_name() -> str:
    """The login name, as a sensible default player."""
    return os.environ.get("USER") or os.environ.get("USERNAME") or "player"


async def _countdown(chat: ConsoleChat, card: QuestionCard, engine: QuizEngine) -> None:
    # a few reminders rather than a redraw every second: it keeps typed input readable
    marks = {20, 10, 5, 3, 2, 1}
    while chat.current is card:
        left = (card.closes_at - engine.clock.now()).total_seconds()
        whole = int(left + 0.999)
        if whole in marks and whole < card.seconds:
            marks.discard(whole)
            chat._print(f"⏳ {whole} s left")
        await asyncio.sleep(0.2)


async def _next_line(lines: asyncio.Queue[str | None], chat: ConsoleChat) -> str | bool | None:
    """The next typed line, or False when the screen changed first (round closed)."""
    chat.changed.clear()
    getter = asyncio.ensure_future(lines.get())
    changed = asyncio.ensure_future(chat.changed.wait())
    done, _ = await asyncio.wait({getter, changed}, return_when=asyncio.FIRST_COMPLETED)
    changed.cancel()
    if getter in done:
        return getter.result()
    getter.cancel()
    return False


async def play_game(
    settings: Settings,
    options: PlayOptions,
    stdin: TextIO = sys.stdin,
    out: TextIO = sys.stdout,
) -> int:
    """Play one quiz in the terminal; results go to the database under "console"."""
    chat = ConsoleChat(out)
    interactive = stdin.isatty()
    rng = random.Random(options.seed) if options.seed is not None else None
    player = PlayerRef(external_id=options.player, display_name=options.player)
    async with running(settings, chat, platform="console", rng=rng) as runtime:
        engine = runtime.engine
        stop = asyncio.Event()
        ticker = asyncio.create_task(run_ticker(engine, stop, interval=0.2))
        lines = start_line_reader(stdin)
        try:
            await _play(engine, chat, lines, player, options, interactive)
        finally:
            stop.set()
            await ticker
            await engine.idle()
    return 0


async def _play(
    engine: QuizEngine,
    chat: ConsoleChat,
    lines: asyncio.Queue[str | None],
    player: PlayerRef,
    options: PlayOptions,
    interactive: bool,
) -> None:
    request = StartRequest(
        decks=options.decks,
        questions=options.questions,
        seconds=options.seconds,
        mode=options.mode,
        scoring=options.scoring,
    )
    if options.mode is Mode.TEAMS and not any(
        player.external_id in {m.external_id for m in roster.members}
        for roster in await engine.teams(COMMUNITY)
    ):
        await engine.create_team(COMMUNITY, player, f"team {player.display_name}")
    await engine.start(COMMUNITY, CHANNEL, player, request, roster=[player])
    input_ended = False
    countdown: asyncio.Task[None] | None = None
    while chat.summary is None:
        card = chat.current
        if card is None:
            chat.changed.clear()
            await chat.changed.wait()
            continue
        if input_ended:
            # no more answers will come: reveal the remaining questions without waiting
            await engine.close_round(card.round_id)
            await engine.idle()
            continue
        if interactive and countdown is None:
            countdown = asyncio.create_task(_countdown(chat, card, engine))
        line = await _next_line(lines, chat)
        if line is False:
            countdown = _cancelled(countdown)
            continue
        if line is None:
            input_ended = True
            countdown = _cancelled(countdown)
            continue
        assert isinstance(line, str)
        if not line:
            continue
        positions = parse_letters(line, len(card.choices))
        if positions is None:
            chat._print(f"'{line}' is not a choice: type a letter such as a (or a,c)")
            continue
        receipt = await engine.record_answer(card.round_id, player, positions)
        chat._print(receipt.text)
        if receipt.accepted:
            chat.picked[card.round_id] = receipt.selected
        if receipt.accepted:
            countdown = _cancelled(countdown)
            await engine.idle()  # the roster has answered: the round closes now


def _cancelled(task: asyncio.Task[None] | None) -> asyncio.Task[None] | None:
    """Cancel a countdown, if any; returns None to clear the caller's handle."""
    if task is not None:
        task.cancel()
    return None


async def show_leaderboard(
    settings: Settings,
    *,
    period: str,
    teams: bool,
    community: str,
    platform: str = "console",
    out: TextIO = sys.stdout,
) -> int:
    """Print a community's leaderboard."""
    chat = ConsoleChat(out)
    async with running(settings, chat, platform=platform) as runtime:
        card = await runtime.engine.leaderboard(
            CommunityRef(external_id=community, name=community), period=period, teams=teams
        )
    print(leaderboard_text(card), file=out)
    return 0
