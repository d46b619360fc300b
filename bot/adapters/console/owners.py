"""Which terminal owns a console quiz, and what to do with quizzes whose terminal is gone.

A console quiz's channel names the process that plays it, `terminal:HOST:PID`. A game
that ended without stopping its quiz (killed, power cut) leaves it running; the next
game on that host, or `quizbot stop`, finds the owner gone and stops the quiz.
"""

from __future__ import annotations

import os
import signal
import socket
from dataclasses import dataclass

from bot.core.engine import QuizEngine
from bot.core.errors import NoQuizError
from bot.core.model import CommunityRef, PlayerRef, Quiz

COMMUNITY = CommunityRef(external_id="console", name="console")
OPERATOR = PlayerRef(external_id="console", display_name="the terminal")


def terminal_channel(pid: int | None = None) -> str:
    """This process's console channel."""
    return f"terminal:{socket.gethostname()}:{pid or os.getpid()}"


@dataclass(frozen=True)
class Owner:
    """The process a console channel names; `host` None for channels of old versions."""

    host: str | None
    pid: int | None

    @property
    def here(self) -> bool:
        """Whether the owner would run on this host (or cannot be known to run anywhere)."""
        return self.host is None or self.host == socket.gethostname()

    @property
    def alive(self) -> bool:
        """Whether the owning process still runs on this host."""
        if self.pid is None or not self.here:
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True  # it exists, under another user
        return True


def owner_of(channel_id: str) -> Owner:
    """The owner named by a console channel id."""
    parts = channel_id.split(":")
    if len(parts) == 3 and parts[0] == "terminal" and parts[2].isdigit():
        return Owner(parts[1], int(parts[2]))
    return Owner(None, None)


async def console_quizzes(engine: QuizEngine) -> list[Quiz]:
    """The running console quizzes."""
    community = await engine.community(COMMUNITY)
    return await engine.store.running_quizzes(community.id)


async def stop_abandoned(engine: QuizEngine, quiz: Quiz) -> bool:
    """Stop a quiz whose terminal is gone; False if it ended meanwhile."""
    try:
        await engine.stop(COMMUNITY, quiz.channel_id, OPERATOR, is_admin=True)
    except NoQuizError:
        return False
    await engine.idle()
    return True


async def close_abandoned_quizzes(engine: QuizEngine) -> list[Quiz]:
    """Stop the console quizzes of this host whose terminal is gone."""
    stopped = []
    for quiz in await console_quizzes(engine):
        owner = owner_of(quiz.channel_id)
        if owner.here and not owner.alive and await stop_abandoned(engine, quiz):
            stopped.append(quiz)
    return stopped


@dataclass(frozen=True)
class StopReport:
    """What `quizbot stop` did."""

    stopped: list[Quiz]  # terminal gone: stopped here
    signalled: list[Quiz]  # terminal alive: asked to stop its own game
    elsewhere: list[Quiz]  # played on another host: left alone

    def lines(self) -> list[str]:
        """One line per quiz, or one line saying there was none."""
        out = [f"stopped quiz #{q.id}: its terminal game had ended" for q in self.stopped]
        out += [f"asked the terminal game of quiz #{q.id} to stop" for q in self.signalled]
        out += [
            f"left quiz #{q.id} running: it is played on {owner_of(q.channel_id).host}"
            for q in self.elsewhere
        ]
        return out or ["no console quiz is running"]


async def stop_console_quizzes(engine: QuizEngine) -> StopReport:
    """Stop every console quiz of this host: a live game is sent Ctrl-C (SIGINT), so it
    reveals its open round and prints its standings; an abandoned one is stopped here."""
    report = StopReport([], [], [])
    for quiz in await console_quizzes(engine):
        owner = owner_of(quiz.channel_id)
        if not owner.here:
            report.elsewhere.append(quiz)
        elif owner.alive and owner.pid is not None and owner.pid != os.getpid():
            os.kill(owner.pid, signal.SIGINT)
            report.signalled.append(quiz)
        elif await stop_abandoned(engine, quiz):
            report.stopped.append(quiz)
    return report
