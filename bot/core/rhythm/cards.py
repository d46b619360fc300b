"""Cards of the weekly rhythm: group settings, schedules, player stats, the week's board.

Like `bot.core.cards`, these say what to show; each has `lines()` giving the plain
text (Markdown-light: `*bold*` is avoided; channels are named as the platform in use
names them, `<#ID>` mentions that Discord and Slack render, `#ID` in the terminal) that
the console prints and adapters may use as the body or the fallback of a richer message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from bot.core.cards import percent, rank_label
from bot.core.model import ScoreRow, accuracy
from bot.core.periods import zone
from bot.core.rhythm.schedules import Schedule
from bot.core.study.model import MasteryCard
from bot.core.syntax import command, command_syntax


def channel_mention(channel_id: str) -> str:
    """How a channel is named in card text: `<#ID>`, a link on Discord and Slack, as
    the platform in use names it (`#ID` in the terminal)."""
    return command_syntax().channel(channel_id)


def accuracy_text(correct: int, answered: int) -> str:
    """ "83% (10/12)", or "–" when nothing was answered."""
    return f"{percent(correct, answered)} ({correct}/{answered})" if answered else "–"


@dataclass(frozen=True)
class ConfigEntry:
    """One group setting as shown: its key, the value, and whether it is the default."""

    key: str
    value: str
    default: bool = False


@dataclass(frozen=True)
class ConfigCard:
    """`/quiz config`: every group setting; `changed` names the one just set, if any."""

    community_name: str
    entries: tuple[ConfigEntry, ...]
    changed: str | None = None
    next_post: str | None = None  # "Mon 30 Nov 00:00 Europe/Berlin" when a channel is set

    @property
    def heading(self) -> str:
        """ "Settings of Study group" or "timezone set"."""
        return f"{self.changed} set" if self.changed else f"Settings of {self.community_name}"

    def value(self, key: str) -> str:
        """The shown value of one key."""
        return next(e.value for e in self.entries if e.key == key)

    def lines(self) -> list[str]:
        """One line per setting, `key: value` ("(default)" marked), then the next post."""
        lines = [
            f"{e.key}: {e.value}{' (default)' if e.default else ''}"
            + (" ← changed" if e.key == self.changed else "")
            for e in self.entries
        ]
        if self.next_post:
            lines.append(f"Next weekly board: {self.next_post}")
        lines.append(f"Change one with {command('config KEY VALUE')} (admins).")
        return lines


@dataclass(frozen=True)
class ScheduleCard:
    """A schedule just added or cancelled, or the list of a community's schedules."""

    title: str
    schedules: tuple[Schedule, ...]
    timezone: str

    def lines(self) -> list[str]:
        """One line per schedule: id, when (local), channel, what, next run."""
        if not self.schedules:
            return [
                "No scheduled quizzes. Add one: "
                + command("schedule daily 09:00 [deck] [questions]")
            ]
        return [schedule_line(s, self.timezone) for s in self.schedules]


def schedule_line(schedule: Schedule, timezone: str) -> str:
    """ "#3 weekly mon 18:00 in <#C1>: deep-learning, 10 questions (next Mon 30 Nov 18:00)"."""
    spec = schedule.spec
    nxt = schedule.next_run_at.astimezone(zone(timezone)).strftime("%a %d %b %H:%M")
    return (
        f"#{schedule.id} {spec.when_text} in {channel_mention(schedule.channel_id)}: "
        f"{spec.what_text} (next {nxt} {timezone})"
    )


@dataclass(frozen=True)
class Breakdown:
    """Accuracy within one deck or tag."""

    name: str
    correct: int
    answered: int

    @property
    def accuracy(self) -> float:
        """Share of answers that were correct."""
        return accuracy(self.correct, self.answered)


@dataclass(frozen=True)
class StatsCard:
    """`/quiz stats`: one player's record in a community (shown to the asker only)."""

    player_name: str
    answered: int
    correct: int
    decks: tuple[Breakdown, ...]  # most answered first
    tags: tuple[Breakdown, ...]  # most answered first
    best_streak: int
    median_seconds: float | None
    week: str
    week_rank: int | None
    week_points: int
    all_rank: int | None
    all_points: int
    # study mode: predicted recall per tag, cards due today, the weakest tag
    mastery: MasteryCard | None = None

    @property
    def heading(self) -> str:
        """ "Stats of Ann"."""
        return f"Stats of {self.player_name}"

    @property
    def accuracy(self) -> float:
        """Share of all answers that were correct."""
        return accuracy(self.correct, self.answered)

    def lines(self) -> list[str]:
        """The figures as text lines."""
        if not self.answered:
            return [f"{self.player_name} has not answered any question here yet."]
        median = f"{self.median_seconds:.1f} s" if self.median_seconds is not None else "–"
        week_rank = f"#{self.week_rank} ({self.week_points} pts)" if self.week_rank else "unranked"
        all_rank = f"#{self.all_rank} ({self.all_points} pts)" if self.all_rank else "unranked"
        lines = [
            f"Questions answered: {self.answered}",
            f"Accuracy: {accuracy_text(self.correct, self.answered)}",
            f"Best streak: {self.best_streak}",
            f"Median answer time: {median}",
            f"Rank this week ({self.week}): {week_rank}",
            f"Rank all time: {all_rank}",
        ]
        if self.decks:
            lines.append("By deck: " + "; ".join(_breakdown(b) for b in self.decks))
        if self.tags:
            lines.append("By tag: " + "; ".join(_breakdown(b) for b in self.tags))
        if self.mastery is not None and self.mastery.tags:
            lines.append("Recall now by tag:")
            lines.extend(f"  {line}" for line in self.mastery.lines())
        return lines


def _breakdown(item: Breakdown) -> str:
    return f"{item.name} {accuracy_text(item.correct, item.answered)}"


@dataclass(frozen=True)
class Improvement:
    """The player who gained most points on the week before."""

    subject_id: int
    name: str
    points: int
    previous_points: int

    @property
    def gain(self) -> int:
        """Points more than the week before."""
        return self.points - self.previous_points


@dataclass(frozen=True)
class WeeklyBoardCard:
    """The board posted when a week ends: top players, teams, questions, most improved."""

    community_name: str
    week: str  # "2026-W48"
    first_day: date  # local, inclusive
    last_day: date  # local, inclusive
    players: tuple[ScoreRow, ...]
    teams: tuple[ScoreRow, ...]
    questions_played: int
    most_improved: Improvement | None
    ended_at: datetime  # when the week ended (UTC)
    late: bool = False  # posted well after the week ended (the bot was down)

    @property
    def heading(self) -> str:
        """ "Week 2026-W48 (Mon 23 Nov – Sun 29 Nov): the board"."""
        span = f"{self.first_day:%a %d %b} – {self.last_day:%a %d %b}"
        return f"Week {self.week} ({span}): the board"

    def lines(self) -> list[str]:
        """The board as text: players with points and accuracy, teams, totals."""
        lines: list[str] = []
        if self.late:
            lines.append(f"(Posted late: this is the board of week {self.week}.)")
        lines.append(f"Questions played: {self.questions_played}")
        if not self.players:
            lines.append("Nobody scored this week.")
        lines += [_board_row(row) for row in self.players]
        if self.teams:
            lines.append("Teams:")
            lines += [_board_row(row) for row in self.teams]
        if self.most_improved is not None:
            m = self.most_improved
            lines.append(
                f"Most improved: {m.name}, +{m.gain} pts on the week before "
                f"({m.previous_points} → {m.points})"
            )
        return lines


def _board_row(row: ScoreRow) -> str:
    """ "🥇 Ann: 2100 pts, 83% (10/12)"."""
    accuracy = accuracy_text(row.correct, row.answered)
    return f"{rank_label(row.rank, row.points)} {row.name}: {row.points} pts, {accuracy}"
