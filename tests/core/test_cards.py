"""Shared text rules: letters, typed answers, vote bars, receipts."""

from __future__ import annotations

from bot.core.cards import Receipt, ReceiptKind, parse_letters, vote_bar


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
