"""The engine's rules, played through the real store with a manual clock."""

from __future__ import annotations

import pytest

from bot.core.cards import ReceiptKind
from bot.core.clock import ManualClock
from bot.core.errors import ChannelBusyError, NoQuizError, NotAllowedError, UnknownDeckError
from bot.core.model import Mode, QuizStatus, Scoring, StartRequest
from bot.core.ports import Store
from bot.core.scoring import speed_points

from .helpers import (
    CHANNEL,
    GUILD,
    HOST,
    RecordingChat,
    explanation_of,
    make_engine,
    right_positions,
    user,
    wrong_position,
)

THREE = StartRequest(decks=("basics",), questions=3, seconds=20, scoring=Scoring.ACCURACY)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def chat() -> RecordingChat:
    return RecordingChat()


async def test_start_posts_first_question_and_blocks_a_second_quiz(
    store: Store, chat: RecordingChat, clock: ManualClock
) -> None:
    engine = make_engine(store, chat, clock)
    quiz = await engine.start(GUILD, CHANNEL, HOST, THREE)
    card = chat.current
    assert (card.position, card.total, card.heading) == (1, 3, "Question 1/3")
    assert quiz.total == 3 and card.seconds == 20 and card.answered == 0
    with pytest.raises(ChannelBusyError):
        await engine.start(GUILD, CHANNEL, user(1), THREE)
    await engine.start(GUILD, "other-channel", user(1), THREE)  # another channel is free
    with pytest.raises(UnknownDeckError, match="basics"):
        await engine.start(GUILD, "third", HOST, StartRequest(decks=("nope",)))


async def test_answers_receipts_and_reveal(
    store: Store, chat: RecordingChat, clock: ManualClock
) -> None:
    engine = make_engine(store, chat, clock)
    await engine.start(GUILD, CHANNEL, HOST, THREE)
    card = chat.current
    good, bad = right_positions(card), wrong_position(card)
    clock.advance(2)
    assert (await engine.record_answer(card.round_id, user(1), good)).kind is ReceiptKind.ACCEPTED
    receipt = await engine.record_answer(card.round_id, user(1), bad)
    assert receipt.kind is ReceiptKind.ALREADY_ANSWERED and receipt.selected == good
    assert (await engine.record_answer(card.round_id, user(2), bad)).text.startswith("Locked in")
    invalid = await engine.record_answer(card.round_id, user(3), (9,))
    assert invalid.kind is ReceiptKind.INVALID_CHOICE
    two = await engine.record_answer(card.round_id, user(3), (0, 1))
    assert two.kind is ReceiptKind.INVALID_CHOICE  # a single-answer question
    await engine.idle()
    assert chat.updates and chat.updates[-1].answered == 2

    clock.advance(19)  # 21 s after opening: past the 20 s deadline
    assert await engine.close_due_rounds() == 1
    reveal = chat.reveals[-1]
    assert reveal.correct == good and reveal.answered == 2
    assert reveal.votes[good[0]] == 1 and reveal.votes[bad[0]] == 1
    assert [p.name for p in reveal.fastest] == ["User 1"]
    assert reveal.explanation == explanation_of(card)
    assert chat.current.position == 2  # the next question follows the reveal
    late = await engine.record_answer(card.round_id, user(4), good)
    assert late.text == "This round is closed"
    assert await engine.close_due_rounds() == 0  # nothing is closed twice


async def test_allow_change_replaces_the_answer_until_the_reveal(
    store: Store, chat: RecordingChat, clock: ManualClock
) -> None:
    engine = make_engine(store, chat, clock)
    request = StartRequest(decks=("basics",), questions=2, seconds=20, allow_change=True)
    await engine.start(GUILD, CHANNEL, HOST, request)
    card = chat.current
    await engine.record_answer(card.round_id, user(1), wrong_position(card))
    changed = await engine.record_answer(card.round_id, user(1), right_positions(card))
    assert changed.kind is ReceiptKind.CHANGED and changed.text.startswith("Changed to")
    clock.advance(21)
    await engine.close_due_rounds()
    assert chat.reveals[-1].fastest[0].name == "User 1"


async def test_speed_points_and_streak_through_a_whole_quiz(
    store: Store, chat: RecordingChat, clock: ManualClock
) -> None:
    engine = make_engine(store, chat, clock)
    request = StartRequest(decks=("basics",), questions=3, seconds=20, scoring=Scoring.SPEED)
    await engine.start(GUILD, CHANNEL, HOST, request)
    for _ in range(3):
        card = chat.current
        clock.advance(10)
        await engine.record_answer(card.round_id, user(1), right_positions(card))
        clock.advance(11)
        await engine.close_due_rounds()
        await engine.idle()  # the early close of rounds 2 and 3 runs in the background
    summary = chat.summaries[-1]
    assert summary.status is QuizStatus.FINISHED and summary.rounds_played == 3
    # 750 for each answer at 10 s of 20, then +100 and +200 for the streak
    assert summary.players[0].points == 3 * speed_points(10, 20) + 100 + 200
    board = await engine.leaderboard(GUILD, period="week", me=user(1))
    assert board.rows[0].name == "User 1" and board.rows[0].points == summary.players[0].points
    assert board.me is not None and board.me.rank == 1


async def test_round_closes_early_once_every_expected_player_answered(
    store: Store, chat: RecordingChat, clock: ManualClock
) -> None:
    engine = make_engine(store, chat, clock)
    await engine.start(GUILD, CHANNEL, HOST, THREE)
    first = chat.current
    await engine.record_answer(first.round_id, user(1), (0,))
    await engine.record_answer(first.round_id, user(2), (0,))
    await engine.idle()
    assert not chat.reveals  # round 1 has nobody to wait for: it runs to its deadline
    clock.advance(21)
    await engine.close_due_rounds()
    second = chat.current
    await engine.record_answer(second.round_id, user(1), (0,))
    await engine.idle()
    assert len(chat.reveals) == 1  # user 2 has not answered yet
    clock.advance(1)
    await engine.record_answer(second.round_id, user(2), (0,))
    await engine.idle()
    assert len(chat.reveals) == 2 and chat.current.position == 3  # closed early


async def test_quiz_stops_itself_after_two_rounds_without_answers(
    store: Store, chat: RecordingChat, clock: ManualClock
) -> None:
    engine = make_engine(store, chat, clock)
    request = StartRequest(decks=("basics",), questions=4, seconds=20)
    await engine.start(GUILD, CHANNEL, HOST, request)
    for _ in range(2):
        clock.advance(21)
        await engine.close_due_rounds()
    assert [r.position for r in chat.reveals] == [1, 2]
    assert chat.summaries[-1].status is QuizStatus.STOPPED
    assert "No answers for 2 rounds" in chat.summaries[-1].reason
    assert len(chat.questions) == 2  # round 3 never opened
    await engine.start(GUILD, CHANNEL, HOST, request)  # the channel is free again


async def test_stop_and_skip_are_for_the_host_or_an_admin(
    store: Store, chat: RecordingChat, clock: ManualClock
) -> None:
    engine = make_engine(store, chat, clock)
    with pytest.raises(NoQuizError):
        await engine.stop(GUILD, CHANNEL, HOST, is_admin=False)
    await engine.start(GUILD, CHANNEL, HOST, THREE)
    card = chat.current
    await engine.record_answer(card.round_id, user(1), right_positions(card))
    with pytest.raises(NotAllowedError, match="host or an admin"):
        await engine.skip(GUILD, CHANNEL, user(1), is_admin=False)
    with pytest.raises(NotAllowedError):
        await engine.stop(GUILD, CHANNEL, user(1), is_admin=False)
    await engine.skip(GUILD, CHANNEL, user(2), is_admin=True)
    assert chat.reveals[-1].round_id == card.round_id and chat.reveals[-1].answered == 1
    assert chat.current.position == 2
    await engine.stop(GUILD, CHANNEL, HOST, is_admin=False)
    summary = chat.summaries[-1]
    assert summary.status is QuizStatus.STOPPED and summary.reason == "Stopped by Host"
    assert summary.players[0].name == "User 1"  # the skipped round's answer still counted


async def test_teams_mode_votes_and_team_board(
    store: Store, chat: RecordingChat, clock: ManualClock
) -> None:
    engine = make_engine(store, chat, clock)
    await engine.create_team(GUILD, user(1), "Owls")
    await engine.join_team(GUILD, user(2), "owls")
    await engine.join_team(GUILD, user(3), "Owls")
    await engine.create_team(GUILD, user(4), "Foxes")
    request = StartRequest(decks=("basics",), questions=1, seconds=20, mode=Mode.TEAMS)
    await engine.start(GUILD, CHANNEL, HOST, request)
    card = chat.current
    good, bad = right_positions(card), wrong_position(card)
    outsider = await engine.record_answer(card.round_id, user(9), good)
    assert outsider.kind is ReceiptKind.NOT_IN_TEAM
    clock.advance(1)
    await engine.record_answer(card.round_id, user(1), bad)
    await engine.record_answer(card.round_id, user(2), good)
    await engine.record_answer(card.round_id, user(3), good)
    await engine.record_answer(card.round_id, user(4), bad)
    clock.advance(20)
    await engine.close_due_rounds()
    teams = {t.name: t for t in chat.reveals[-1].teams}
    assert teams["Owls"].selected == good and teams["Owls"].correct
    assert (teams["Owls"].votes, teams["Owls"].members_voted) == (2, 3)
    assert not teams["Foxes"].correct and teams["Foxes"].points == 0
    board = await engine.leaderboard(GUILD, period="all", teams=True, me=user(4))
    assert [r.name for r in board.rows] == ["Owls", "Foxes"]
    assert board.me is not None and board.me.name == "Foxes" and board.me.rank == 2
    assert chat.summaries[-1].teams[0].name == "Owls"


async def test_next_quiz_avoids_questions_the_channel_just_saw(
    store: Store, chat: RecordingChat, clock: ManualClock
) -> None:
    engine = make_engine(store, chat, clock)
    request = StartRequest(decks=("basics",), questions=2, seconds=20)
    await engine.start(GUILD, CHANNEL, HOST, request)
    await engine.stop(GUILD, CHANNEL, HOST, is_admin=False)
    first_prompts = {c.prompt for c in chat.questions}
    chat.questions.clear()
    await engine.start(GUILD, CHANNEL, HOST, request)
    assert chat.current.prompt not in first_prompts
