"""Every scoring rule of the game, in one place (the README's scoring table mirrors this).

- speed: a correct answer scores round(1000 × (1 − elapsed / (2 × limit))); an answer
  within the first 0.5 s scores the full 1000; the slowest correct answer still scores 500.
- accuracy: 1000 per correct answer.
- streak: the n-th correct answer in a row within a quiz adds 100 × (n − 1), at most 500.
  A wrong answer or a missed round ends the streak.
- multiple answers: all-or-nothing by default; with `partial`, the credit is
  (right picks − wrong picks) / correct choices, floored at 0, times the base points.
  Only full credit counts as correct (and keeps a streak going).
- teams: a team's answer is the plurality of its members' votes, a tie going to the
  selection voted first; the team scores that answer as if given at the time of the
  first vote for it (no streak), and members keep the personal points of their votes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core.model import Answer, QuestionKind, Round, ScoreDelta, Scoring, SubjectKind, TeamVote
from bot.core.records import builder

FULL_POINTS = 1000
GRACE_SECONDS = 0.5
STREAK_STEP = 100
STREAK_CAP = 500


def speed_points(elapsed: float, limit: float) -> int:
    """Points for a correct answer given `elapsed` seconds into a `limit`-second round."""
    if elapsed <= GRACE_SECONDS:
        return FULL_POINTS
    share = min(elapsed, limit) / (2 * limit)
    return round(FULL_POINTS * (1 - share))


def credit(
    kind: QuestionKind, selected: Sequence[int], correct: Sequence[int], partial: bool
) -> float:
    """Share of the base points an answer earns: 1.0 right, 0.0 wrong, between with partial."""
    chosen, right = set(selected), set(correct)
    if chosen == right:
        return 1.0
    if kind is not QuestionKind.MULTIPLE or not partial or not right:
        return 0.0
    hits = len(chosen & right)
    misses = len(chosen - right)
    return max(0.0, (hits - misses) / len(right))


def streak_bonus(streak: int) -> int:
    """Bonus for the `streak`-th correct answer in a row (1 = no bonus yet)."""
    return min(STREAK_STEP * max(streak - 1, 0), STREAK_CAP)


def base_points(scoring: Scoring, elapsed: float, limit: float) -> int:
    """Points a fully correct answer is worth before streaks."""
    if scoring is Scoring.SPEED:
        return speed_points(elapsed, limit)
    return FULL_POINTS


def elapsed_seconds(opened_at: datetime, answered_at: datetime) -> float:
    """Seconds from a round's opening to an answer, never negative."""
    return max((answered_at - opened_at).total_seconds(), 0.0)


@dataclass(frozen=True)
class RoundScore:
    """The outcome of scoring one round."""

    answers: tuple[Answer, ...]
    team_votes: tuple[TeamVote, ...]
    deltas: tuple[ScoreDelta, ...]


def score_answer(
    rnd: Round,
    answer: Answer,
    *,
    scoring: Scoring,
    partial: bool,
    previous_streak: int,
) -> Answer:
    """Fill in correct, points and streak of one answer."""
    question = rnd.question
    share = credit(question.kind, answer.selected, question.correct, partial)
    limit = (rnd.closes_at - rnd.opened_at).total_seconds()
    return _scored(rnd, answer, share, limit, scoring, previous_streak)


def _scored(
    rnd: Round, answer: Answer, share: float, limit: float, scoring: Scoring, previous_streak: int
) -> Answer:
    """An answer with its credit `share` turned into correct, points and streak."""
    correct = share == 1.0
    elapsed = elapsed_seconds(rnd.opened_at, answer.answered_at)
    points = round(share * base_points(scoring, elapsed, limit))
    streak = previous_streak + 1 if correct else 0
    if correct:
        points += streak_bonus(streak)
    # the constructor, not dataclasses.replace: a third of the cost, 500 times a close
    return Answer(
        answer.round_id,
        answer.player_id,
        answer.selected,
        answer.answered_at,
        answer.team_id,
        correct,
        points,
        streak,
    )


def plurality(votes: Sequence[Answer]) -> tuple[tuple[int, ...], int, Answer]:
    """The selection most votes went to, its vote count, and its first vote.

    `votes` must be in the order they were cast; a tie goes to the selection voted first.
    """
    counts: dict[tuple[int, ...], int] = {}
    first: dict[tuple[int, ...], Answer] = {}
    for vote in votes:
        counts[vote.selected] = counts.get(vote.selected, 0) + 1
        first.setdefault(vote.selected, vote)
    # dicts keep insertion order, so max() returns the earliest of equal counts
    best = max(counts, key=lambda selection: counts[selection])
    return best, counts[best], first[best]


def team_votes(
    rnd: Round, answers: Sequence[Answer], *, scoring: Scoring, partial: bool
) -> tuple[TeamVote, ...]:
    """Each team's answer by plurality of its members' votes, scored."""
    # per team, in first-vote order: each selection's [count, first vote] (`plurality`,
    # counted in one pass over the round's answers)
    by_team: dict[int, dict[tuple[int, ...], list[Any]]] = {}
    for answer in answers:
        team_id = answer.team_id
        if team_id is None:
            continue
        tally = by_team.get(team_id)
        if tally is None:
            tally = by_team[team_id] = {}
        entry = tally.get(answer.selected)
        if entry is None:
            tally[answer.selected] = [1, answer]
        else:
            entry[0] += 1
    question = rnd.question
    limit = (rnd.closes_at - rnd.opened_at).total_seconds()
    results = []
    for team_id, tally in by_team.items():
        # dicts keep insertion order, so max() returns the earliest of equal counts
        selected = max(tally, key=lambda selection: tally[selection][0])
        count, first_vote = tally[selected]
        share = credit(question.kind, selected, question.correct, partial)
        elapsed = elapsed_seconds(rnd.opened_at, first_vote.answered_at)
        points = round(share * base_points(scoring, elapsed, limit))
        results.append(
            TeamVote(
                round_id=rnd.id,
                team_id=team_id,
                selected=selected,
                votes=count,
                members_voted=sum(c for c, _ in tally.values()),
                correct=share == 1.0,
                points=points,
            )
        )
    return tuple(sorted(results, key=lambda v: (-v.points, v.team_id)))


def score_round(
    rnd: Round,
    answers: Sequence[Answer],
    previous_streaks: Mapping[int, int],
    *,
    scoring: Scoring,
    partial: bool,
    teams: bool,
) -> RoundScore:
    """Score every answer of a round, the team votes in teams mode, and the score deltas."""
    scored = _score_answers(rnd, answers, previous_streaks, scoring=scoring, partial=partial)
    votes = team_votes(rnd, scored, scoring=scoring, partial=partial) if teams else ()
    player, team = SubjectKind.PLAYER, SubjectKind.TEAM
    deltas = [_delta(player, a.player_id, a.points, 1 if a.correct else 0, 1) for a in scored]
    deltas += [_delta(team, v.team_id, v.points, int(v.correct), 1) for v in votes]
    return RoundScore(answers=scored, team_votes=votes, deltas=tuple(deltas))


# the close builds an Answer and a ScoreDelta per answer: without their frozen __init__
_answer = builder(Answer)
_delta = builder(ScoreDelta)


def _score_answers(
    rnd: Round,
    answers: Sequence[Answer],
    previous_streaks: Mapping[int, int],
    *,
    scoring: Scoring,
    partial: bool,
) -> tuple[Answer, ...]:
    """`_scored` for each of a round's hundreds of answers, with what they share worked
    out once: each distinct selection's credit, the round's limit and opening."""
    question = rnd.question
    opened_at = rnd.opened_at
    limit = (rnd.closes_at - opened_at).total_seconds()
    speed = scoring is Scoring.SPEED
    shares: dict[tuple[int, ...], float] = {}
    scored = []
    streak_of = previous_streaks.get
    for a in answers:
        selected = a.selected
        share = shares.get(selected)
        if share is None:
            share = shares[selected] = credit(question.kind, selected, question.correct, partial)
        if share == 1.0:
            streak = streak_of(a.player_id, 0) + 1
            points = _base(speed, a.answered_at, opened_at, limit) + streak_bonus(streak)
        elif share:
            streak = 0
            points = round(share * _base(speed, a.answered_at, opened_at, limit))
        else:
            streak = points = 0
        # `builder`'s, not dataclasses.replace: a sixth of the cost, 500 times a close
        scored.append(_answer(a.round_id, a.player_id, selected, a.answered_at, a.team_id,
                              share == 1.0, points, streak))  # fmt: skip
    return tuple(scored)


def _base(speed: bool, answered_at: datetime, opened_at: datetime, limit: float) -> int:
    """`base_points` of an answer at `answered_at` in a round opened at `opened_at`."""
    if not speed:
        return FULL_POINTS
    return speed_points(max((answered_at - opened_at).total_seconds(), 0.0), limit)
