"""`quizbot play`: one quiz in a terminal, on the same engine and database as the bots.

At a terminal it shows a prompt with a live countdown; on a pipe it reads one answer a
line ("b", "a,c", "true"), so a game can be scripted. However the game ends (the last
question, Ctrl-C, Ctrl-D, the end of piped input, a reader that went away) the quiz is
stopped in the database: nothing is left running.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
from collections.abc import Awaitable
from contextlib import suppress
from dataclasses import dataclass
from typing import TextIO

from bot.adapters.console.chat import ConsoleChat
from bot.adapters.console.owners import (
    COMMUNITY,
    close_abandoned_quizzes,
    stop_console_quizzes,
    terminal_channel,
)
from bot.adapters.console.prompt import AnswerInput, Interrupted, PipeInput, TerminalInput
from bot.adapters.console.screen import Screen
from bot.adapters.console.text import leaderboard_text
from bot.config import Settings
from bot.core.cards import parse_letters
from bot.core.engine import QuizEngine
from bot.core.errors import NoQuizError
from bot.core.model import CommunityRef, Mode, PlayerRef, QuestionKind, Scoring, StartRequest
from bot.runtime import deliver_outbox, run_ticker, running

HINT = "Ctrl-D or Ctrl-C ends the game"


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


class Game:
    """One terminal game: the engine, what is on screen, and how answers come in."""

    def __init__(
        self, engine: QuizEngine, chat: ConsoleChat, answers: AnswerInput, player: PlayerRef
    ) -> None:
        self.engine = engine
        self.chat = chat
        self.answers = answers
        self.player = player
        self.interactive = isinstance(answers, TerminalInput)
        self.interrupted = asyncio.Event()

    def status(self) -> str:
        """The toolbar: time left on the open question and how to leave."""
        card = self.chat.current
        if card is None:
            return f" {HINT}"
        left = max(0, int((card.closes_at - self.engine.clock.now()).total_seconds() + 0.999))
        return f" ⏳ {left} s left · {HINT}"

    async def start(self, options: PlayOptions) -> None:
        """Start the quiz in this terminal's channel, with the player as its roster."""
        request = StartRequest(
            decks=options.decks,
            questions=options.questions,
            seconds=options.seconds,
            mode=options.mode,
            scoring=options.scoring,
        )
        if options.mode is Mode.TEAMS and not any(
            self.player.external_id in {m.external_id for m in roster.members}
            for roster in await self.engine.teams(COMMUNITY)
        ):
            await self.engine.create_team(
                COMMUNITY, self.player, f"team {self.player.display_name}"
            )
        await self.engine.start(
            COMMUNITY, self._channel, self.player, request, roster=[self.player]
        )

    @property
    def _channel(self) -> str:
        assert self.chat.channel is not None
        return self.chat.channel

    async def run(self) -> None:
        """Answer questions until the quiz ends or the player leaves."""
        while self.chat.summary is None:
            if self.interrupted.is_set() or self.chat.screen.closed:
                await self.stop()
                return
            card = self.chat.current
            if card is None:
                await self._wait(self.chat.changed.wait())
                continue
            line = await self._wait(self.answers.next_line(), reading=True)
            if line is False:
                continue  # the round closed, or Ctrl-C
            if line is None:
                if self.interactive:
                    await self.stop()  # Ctrl-D at the prompt: end the game now
                    return
                await self.reveal_the_rest()
                return
            assert isinstance(line, str)
            if line:
                await self.answer(line)

    async def _wait(
        self, work: Awaitable[str | bool | None], *, reading: bool = False
    ) -> str | bool | None:
        """`work`'s result, or False when the screen changes or Ctrl-C comes first."""
        self.chat.changed.clear()
        task = asyncio.ensure_future(work)
        others = [
            asyncio.ensure_future(self.chat.changed.wait()),
            asyncio.ensure_future(self.interrupted.wait()),
        ]
        try:
            await asyncio.wait({task, *others}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for other in others:
                other.cancel()
        if not task.done():
            if reading and self.interactive:
                self.answers.abandon()
            else:
                task.cancel()
            with suppress(asyncio.CancelledError, Interrupted):
                await task
            return False
        try:
            result = task.result()
        except Interrupted:
            self.interrupted.set()
            return False
        return result

    async def answer(self, line: str) -> None:
        """Record one typed answer and print the receipt."""
        card = self.chat.current
        if card is None:
            return
        positions = parse_letters(line, len(card.choices))
        if positions is None:
            self.chat.screen.line(f"'{line}' is not a choice: type a letter such as a (or a,c)")
            return
        if card.kind is not QuestionKind.MULTIPLE and len(positions) > 1:
            self.chat.screen.line("This question takes one answer: type one letter")
            return
        receipt = await self.engine.record_answer(card.round_id, self.player, positions)
        self.chat.screen.line(receipt.text)
        if receipt.accepted:
            self.chat.picked[card.round_id] = receipt.selected
            await self.engine.idle()  # the roster has answered: the round closes now

    async def reveal_the_rest(self) -> None:
        """Piped input has ended: no answer will come, so each remaining question is
        revealed at once (two unanswered rounds in a row stop the quiz, as anywhere)."""
        while self.chat.summary is None and not self.chat.screen.closed:
            card = self.chat.current
            if card is None:
                await self._wait(self.chat.changed.wait())
                continue
            await self.engine.close_round(card.round_id)
            await self.engine.idle()
        if self.chat.screen.closed:
            await self.stop()

    async def stop(self) -> None:
        """Stop the quiz now: the open round is revealed, then the standings."""
        with suppress(NoQuizError):
            await self.engine.stop(COMMUNITY, self._channel, self.player, is_admin=True)
        await self.engine.idle()


async def play_game(
    settings: Settings,
    options: PlayOptions,
    stdin: TextIO = sys.stdin,
    out: TextIO = sys.stdout,
) -> int:
    """Play one quiz in the terminal; results go to the database under "console"."""
    interactive = stdin.isatty() and out.isatty()
    screen = Screen(out, rich=interactive)
    channel = terminal_channel()
    chat = ConsoleChat(screen, channel=channel)
    rng = random.Random(options.seed) if options.seed is not None else None
    player = PlayerRef(external_id=options.player, display_name=options.player)
    # this terminal delivers its own channel's messages only, whoever wrote them (a
    # `quizbot stop` from another shell writes this game's last reveal and summary)
    async with running(
        settings, chat, platform="console", rng=rng, outbox_channel=channel
    ) as runtime:
        engine = runtime.engine
        for quiz in await close_abandoned_quizzes(engine):
            screen.note(f"(stopped quiz #{quiz.id}, left running by a terminal game that ended)")
        game = Game(engine, chat, TerminalInput(lambda: game.status()) if interactive
                    else PipeInput(stdin), player)  # fmt: skip
        stop = asyncio.Event()
        ticker = asyncio.create_task(run_ticker(engine, stop, interval=0.2))
        outbox = asyncio.create_task(deliver_outbox(engine, stop))
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGINT, game.interrupted.set)
        watcher = asyncio.create_task(screen.watch_reader())
        watcher.add_done_callback(lambda _: game.interrupted.set() if screen.closed else None)
        try:
            with game.answers.session():
                if interactive:
                    screen.note(f"Type a letter and Enter to answer. {HINT}.")
                await game.start(options)
                await game.run()
        finally:
            loop.remove_signal_handler(signal.SIGINT)
            watcher.cancel()
            await engine.idle()  # this game's last messages, before the dispatcher stops
            stop.set()
            await ticker
            await outbox
    return 0


async def stop_games(settings: Settings, out: TextIO = sys.stdout) -> int:
    """`quizbot stop`: end the console quizzes of this host."""
    chat = ConsoleChat(out, channel="")  # shows nothing: each game prints its own end
    async with running(settings, chat, platform="console", outbox_channel="") as runtime:
        report = await stop_console_quizzes(runtime.engine)
    print("\n".join(report.lines()), file=out)
    return 0


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
