"""The scoring rules: formula boundaries, streaks, partial credit, team plurality."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.model import Answer, QuestionKind, Round, RoundQuestion, RoundStatus, Scoring
from bot.core.scoring import (
    credit,
    plurality,
    score_answer,
    score_round,
    speed_points,
    streak_bonus,
)

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def make_round(kind: QuestionKind = QuestionKind.SINGLE, correct: tuple[int, ...] = (1,)) -> Round:
    question = RoundQuestion(
        question_id="q1",
        deck="d",
        kind=kind,
        prompt="?",
        choices=("a", "b", "c", "d"),
        correct=correct,
    )
    return Round(
        id=7,
        quiz_id=1,
        position=1,
        question=question,
        opened_at=T0,
        closes_at=T0 + timedelta(seconds=20),
        status=RoundStatus.CLOSED,
    )


def answer(player: int, selected: tuple[int, ...], after: float, team: int | None = None) -> Answer:
    return Answer(7, player, selected, T0 + timedelta(seconds=after), team_id=team)


@pytest.mark.parametrize(
    ("elapsed", "points"),
    [
        (0.0, 1000),
        (0.5, 1000),  # the grace period
        (0.51, 987),  # round(1000 × (1 − 0.51/40))
        (10.0, 750),
        (20.0, 500),  # the deadline itself
        (25.0, 500),  # never below half, even if a late answer slipped in
    ],
)
def test_speed_formula_and_its_boundaries(elapsed: float, points: int) -> None:
    assert speed_points(elapsed, 20) == points


def test_streak_bonus_grows_by_100_and_caps_at_500() -> None:
    assert [streak_bonus(n) for n in range(0, 9)] == [0, 0, 100, 200, 300, 400, 500, 500, 500]


def test_correct_answer_extends_streak_and_wrong_one_ends_it() -> None:
    rnd = make_round()
    right = score_answer(
        rnd, answer(1, (1,), 10), scoring=Scoring.SPEED, partial=False, previous_streak=3
    )
    assert (right.correct, right.streak, right.points) == (True, 4, 750 + 300)
    wrong = score_answer(
        rnd, answer(1, (0,), 1), scoring=Scoring.SPEED, partial=False, previous_streak=3
    )
    assert (wrong.correct, wrong.streak, wrong.points) == (False, 0, 0)


def test_accuracy_scoring_ignores_time() -> None:
    rnd = make_round()
    late = score_answer(
        rnd, answer(1, (1,), 19.9), scoring=Scoring.ACCURACY, partial=False, previous_streak=0
    )
    assert late.points == 1000


def test_multiple_answers_all_or_nothing_by_default() -> None:
    assert credit(QuestionKind.MULTIPLE, (0, 2), (0, 2), partial=False) == 1.0
    assert credit(QuestionKind.MULTIPLE, (0,), (0, 2), partial=False) == 0.0


@pytest.mark.parametrize(
    ("selected", "share"),
    [
        ((0, 2, 3), 1.0),
        ((0, 2), 2 / 3),
        ((0,), 1 / 3),
        ((0, 1), 0.0),  # one right, one wrong
        ((1,), 0.0),  # floored at zero, never negative
        ((0, 1, 2, 3), 2 / 3),
    ],
)
def test_partial_credit_is_right_minus_wrong_over_correct(
    selected: tuple[int, ...], share: float
) -> None:
    assert credit(QuestionKind.MULTIPLE, selected, (0, 2, 3), partial=True) == pytest.approx(share)


def test_partial_credit_points_and_only_full_credit_is_correct() -> None:
    rnd = make_round(QuestionKind.MULTIPLE, correct=(0, 2))
    half = score_answer(
        rnd, answer(1, (0,), 0), scoring=Scoring.ACCURACY, partial=True, previous_streak=2
    )
    assert (half.points, half.correct, half.streak) == (500, False, 0)


def test_plurality_picks_most_votes_and_ties_go_to_first_voted() -> None:
    votes = [answer(1, (2,), 1), answer(2, (1,), 2), answer(3, (1,), 3), answer(4, (2,), 4)]
    selected, count, first = plurality(votes)
    assert (selected, count, first.player_id) == ((2,), 2, 1)
    votes.append(answer(5, (1,), 5))
    assert plurality(votes)[:2] == ((1,), 3)


def test_team_scores_its_plurality_answer_and_members_keep_their_points() -> None:
    rnd = make_round()
    answers = [
        answer(1, (1,), 0.2, team=10),
        answer(2, (0,), 1.0, team=10),
        answer(3, (0,), 2.0, team=10),
        answer(4, (1,), 4.0, team=20),
    ]
    result = score_round(rnd, answers, {}, scoring=Scoring.SPEED, partial=False, teams=True)
    by_team = {v.team_id: v for v in result.team_votes}
    assert by_team[10].selected == (0,) and not by_team[10].correct and by_team[10].points == 0
    assert by_team[20].correct and by_team[20].points == speed_points(4.0, 20)
    personal = {a.player_id: a.points for a in result.answers}
    assert personal[1] == 1000 and personal[2] == 0
    team_deltas = {d.subject_id: d.points for d in result.deltas if d.subject_kind == "team"}
    assert team_deltas == {10: 0, 20: speed_points(4.0, 20)}
