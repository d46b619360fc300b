"""Shared text rules: letters, typed answers, vote bars, receipts."""

from __future__ import annotations

from bot.core.cards import (
    Receipt,
    ReceiptKind,
    RevealCard,
    SummaryCard,
    TeamResult,
    counted,
    parse_letters,
    rank_label,
    vote_bar,
)
from bot.core.model import Mode, QuestionKind, QuizStatus, ScoreRow, SubjectKind


def test_parse_letters_accepts_what_people_type() -> None:
    assert parse_letters("b", 4) == (1,)
    assert parse_letters("a,c", 4) == (0, 2)
    assert parse_letters(" C  a ", 4) == (0, 2)
    assert parse_letters("true", 2) == (0,)
    assert parse_letters("F", 2) == (1,)


def test_parse_letters_refuses_what_is_not_a_choice() -> None:
    assert parse_letters("e", 4) is None
    assert parse_letters("ab", 4) is None
    assert parse_letters("", 4) is None
    assert parse_letters("true", 4) is None


def test_vote_bar() -> None:
    assert vote_bar(3, 10) == "▰▰▰▱▱▱▱▱▱▱"
    assert vote_bar(0, 0) == "▱" * 10


def test_receipt_texts() -> None:
    assert Receipt(ReceiptKind.ACCEPTED, (1,)).text == "Locked in: B"
    assert Receipt(ReceiptKind.ALREADY_ANSWERED, (0, 2)).text == "You already answered A, C"
    assert Receipt(ReceiptKind.CHANGED, (2,)).text == "Changed to C"
    assert Receipt(ReceiptKind.ROUND_CLOSED).text == "This round is closed"
    assert Receipt(ReceiptKind.NOT_IN_TEAM).text.startswith("Join a team first")


def _row(rank: int, name: str, points: int) -> ScoreRow:
    return ScoreRow(rank, SubjectKind.PLAYER, rank, name, points, correct=0, answered=1)


def test_no_medal_for_0_points() -> None:
    card = SummaryCard(
        quiz_id=1,
        status=QuizStatus.FINISHED,
        reason="",
        rounds_played=1,
        total=1,
        players=(_row(1, "Ann", 120), _row(2, "Ben", 0)),
        teams=(),
    )
    assert card.player_lines() == [
        "🥇 Ann: 120 pts (0/1 correct)",
        "– Ben: 0 pts (0/1 correct)",
    ]
    assert rank_label(1, 0) == "–"
    assert rank_label(4, 10) == "#4"


def test_one_vote_is_one_vote() -> None:
    team = TeamResult("Foxes", (0,), votes=1, members_voted=1, correct=False, points=0)
    card = RevealCard(
        quiz_id=1,
        round_id=1,
        position=1,
        total=1,
        kind=QuestionKind.SINGLE,
        prompt="?",
        choices=("a", "b"),
        correct=(1,),
        explanation="",
        votes=(1, 0),
        answered=1,
        fastest=(),
        teams=(team, TeamResult("Owls", (1,), 2, 3, True, 10)),
        mode=Mode.TEAMS,
    )
    assert card.team_lines() == ["❌ Foxes: A (1 of 1 vote) +0", "✅ Owls: B (2 of 3 votes) +10"]


def test_counts_agree_with_their_number() -> None:
    assert [counted(n, "question") for n in (0, 1, 2)] == [
        "0 questions",
        "1 question",
        "2 questions",
    ]
