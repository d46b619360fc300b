"""The early-close bookkeeping on its own: when a check is worth its query."""

from __future__ import annotations

from bot.core.early_close import EarlyCloseBook


def test_a_burst_of_answers_starts_one_check_and_asks_for_one_more() -> None:
    book = EarlyCloseBook()
    assert book.wants_check(1)
    assert not book.wants_check(1)  # a check runs: this answer waits for it
    assert not book.wants_check(1)
    floor = book.check_started(1)
    # two answers came during the first check, two players are still missing: check again
    book.wants_check(1)
    book.wants_check(1)
    assert book.check_found(1, floor, missing=2)


def test_after_m_missing_the_next_check_waits_for_m_answers() -> None:
    book = EarlyCloseBook()
    assert book.wants_check(1)
    assert not book.check_found(1, book.check_started(1), missing=3)
    book.check_ended(1)
    assert not book.wants_check(1)
    assert not book.wants_check(1)
    assert book.wants_check(1)  # the third answer may complete the round


def test_a_new_round_expects_the_players_of_the_last_one() -> None:
    book = EarlyCloseBook()
    book.expect(2, 2)
    assert not book.wants_check(2)
    assert book.wants_check(2)


def test_a_sweep_waits_until_the_count_covers_the_missing_players() -> None:
    book = EarlyCloseBook()
    assert book.wants_check(1)
    assert not book.check_found(1, book.check_started(1), missing=2)
    book.check_ended(1)
    book.wants_check(1)  # one answer here: not enough for a check
    assert not book.sweep_due(1, answered=1)  # other processes took none
    assert book.sweep_due(1, answered=2)
    assert book.wants_check(1, sweep=True)


def test_a_sweep_during_a_check_asks_for_another_in_any_case() -> None:
    book = EarlyCloseBook()
    assert book.wants_check(1)
    floor = book.check_started(1)
    assert not book.wants_check(1, sweep=True)
    assert book.check_found(1, floor, missing=5)


def test_a_revealed_round_leaves_nothing_behind() -> None:
    book = EarlyCloseBook()
    assert book.wants_check(1)
    book.check_started(1)
    book.forget(1)  # revealed while its check still runs
    assert not book.wants_check(1)  # the running check still counts
    book.check_ended(1)
    book.forget(1)
    assert book._rounds == {}
