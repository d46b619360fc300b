"""Slack without a network: parsing /quiz text, Block Kit of the cards, mode selection."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.adapters.slack.app import slack_mode
from bot.adapters.slack.blocks import (
    escape,
    mrkdwn,
    parse_answer_value,
    question_blocks,
    reveal_blocks,
    summary_blocks,
)
from bot.adapters.slack.parse import (
    USAGE,
    Leaderboard,
    Simple,
    Start,
    TeamCommand,
    UsageError,
    parse,
)
from bot.config import Settings
from bot.core.cards import FastPlayer, QuestionCard, RevealCard, SummaryCard, TeamResult
from bot.core.errors import SettingsError
from bot.core.model import (
    Mode,
    QuestionKind,
    QuizStatus,
    ScoreRow,
    Scoring,
    StartRequest,
    SubjectKind,
)
from bot.core.start_options import START_OPTIONS, OptionKind, StartOption

DECKS = ["calculus", "Deep-Learning"]


# ---- /quiz text --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "start calculus 10 30s teams accuracy",
        "start accuracy teams 30 seconds calculus 10",
        "start 10 questions CALCULUS teams 30sec accuracy",
        "start seconds=30 questions=10 deck=calculus team accuracy",
        "play calculus 10 30 teams accuracy",
    ],
)
def test_start_options_in_any_order(text: str) -> None:
    command = parse(text, DECKS)
    assert isinstance(command, Start)
    request = command.request
    assert request.decks == ("calculus",)
    assert (request.questions, request.seconds) == (10, 30)
    assert (request.mode, request.scoring) == (Mode.TEAMS, Scoring.ACCURACY)


def test_start_takes_changes_and_partial_like_discord() -> None:
    command = parse("start calculus 10 30s teams changes partial", DECKS)
    assert isinstance(command, Start)
    assert command.request == StartRequest(
        decks=("calculus",),
        questions=10,
        seconds=30,
        mode=Mode.TEAMS,
        allow_change=True,
        partial=True,
    )
    assert "[changes] [partial]" in USAGE["start"]
    plain = parse("start calculus", DECKS)
    assert isinstance(plain, Start)
    assert not plain.request.allow_change and not plain.request.partial


def sample_word(option: StartOption) -> str:
    """A /quiz start word that sets `option` away from its default."""
    if option.kind is OptionKind.DECK:
        return DECKS[0]
    if option.kind is OptionKind.NUMBER:
        return f"{option.name}={option.minimum}"
    if option.kind is OptionKind.CHOICE:
        return f"{option.name}={option.choices[-1]}"
    return option.name


@pytest.mark.parametrize("option", START_OPTIONS, ids=lambda o: o.name)
def test_every_option_of_the_spec_can_be_typed(option: StartOption) -> None:
    command = parse(f"start {sample_word(option)}", DECKS)
    assert isinstance(command, Start)
    assert command.request != StartRequest()
    assert f"[{option.name}]" in USAGE["start"] or "|".join(option.choices) in USAGE["start"]


def test_start_defaults_and_deck_names_keep_their_case() -> None:
    command = parse("start deep-learning", DECKS)
    assert isinstance(command, Start)
    assert command.request.decks == ("Deep-Learning",)
    assert command.request.questions is None and command.request.mode is None
    assert parse("start", DECKS) == Start(parse("start", []).request)


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("start calculus banana", "`banana`"),
        ("start 10 20 30", "`30`"),
        ("start 10x", "`10x`"),
        ("leaderboard yesterday", "`yesterday`"),
        ("team rename Owls", "`rename`"),
        ("team leave now", "`now`"),
        ("stop please", "`please`"),
        ("frobnicate", "`/quiz frobnicate`"),
    ],
)
def test_a_bad_word_is_named_in_the_usage_message(text: str, word: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse(text, DECKS)
    assert word in str(caught.value)
    assert "/quiz" in str(caught.value)


def test_other_subcommands() -> None:
    assert parse("", DECKS) == Simple("help")
    assert parse("STOP", DECKS) == Simple("stop")
    assert parse("skip", DECKS) == Simple("skip")
    assert parse("decks", DECKS) == Simple("decks")
    assert parse("leaderboard", DECKS) == Leaderboard("week", False)
    assert parse("leaderboard teams last-week", DECKS) == Leaderboard("last-week", True)
    assert parse("leaderboard all", DECKS) == Leaderboard("all", False)
    assert parse("leaderboard 2026-w48", DECKS) == Leaderboard("2026-W48", False)
    assert parse("team create The Night Owls", DECKS) == TeamCommand("create", "The Night Owls")
    assert parse("team join owls", DECKS) == TeamCommand("join", "owls")
    assert parse("team leave", DECKS) == TeamCommand("leave")
    assert parse("teams", DECKS) == TeamCommand("list")
    with pytest.raises(UsageError, match="needs a team NAME"):
        parse("team create", DECKS)


# ---- blocks ----------------------------------------------------------------------------------

CLOSES = datetime(2026, 11, 23, 12, 0, 30, tzinfo=UTC)


def question(kind: QuestionKind = QuestionKind.SINGLE, answered: int = 0) -> QuestionCard:
    return QuestionCard(
        quiz_id=1,
        round_id=42,
        position=2,
        total=10,
        deck="calculus",
        kind=kind,
        prompt="Is $x^2 \\geq 0$ for <real> x & y?",
        choices=("yes", "no", "only if $x > 0$"),
        closes_at=CLOSES,
        seconds=30,
        answered=answered,
        mode=Mode.SOLO,
    )


def test_mrkdwn_escapes_after_turning_math_into_unicode() -> None:
    assert escape("a < b && c > d") == "a &lt; b &amp;&amp; c &gt; d"
    assert mrkdwn("$x^2 \\geq 0$ <b> **bold**") == "x² ≥ 0 &lt;b&gt; *bold*"


def test_question_blocks_show_prompt_choices_buttons_deadline_and_count() -> None:
    blocks = question_blocks(question(answered=1))
    assert blocks[0]["text"]["text"] == "*Question 2/10*\nIs x² ≥ 0 for &lt;real&gt; x &amp; y?"
    assert blocks[1]["text"]["text"] == "*A*  yes\n*B*  no\n*C*  only if x &gt; 0"
    buttons = blocks[2]["elements"]
    assert [b["text"]["text"] for b in buttons] == ["A", "B", "C"]
    assert [b["value"] for b in buttons] == ["42:0", "42:1", "42:2"]
    assert len({b["action_id"] for b in buttons}) == 3, "action ids are unique in a block"
    context = blocks[3]["elements"][0]["text"]
    unix = int(CLOSES.timestamp())
    assert f"<!date^{unix}^{{time_secs}}|12:00:30 UTC>" in context
    assert context.endswith("1 answer so far")


def test_multiple_answer_questions_get_checkboxes_and_submit() -> None:
    controls = question_blocks(question(QuestionKind.MULTIPLE))[2]
    checkboxes, submit = controls["elements"]
    assert checkboxes["type"] == "checkboxes"
    assert [o["value"] for o in checkboxes["options"]] == ["42:0", "42:1", "42:2"]
    assert submit["text"]["text"] == "Submit" and submit["value"] == "42"


def test_answer_values_carry_round_and_position_only() -> None:
    assert parse_answer_value("42:1") == (42, 1)
    for bad in ("", "42", "x:1", "42:-1", "42:1:correct"):
        assert parse_answer_value(bad) is None


def test_reveal_blocks_show_answer_explanation_spread_fastest_and_teams() -> None:
    card = RevealCard(
        quiz_id=1,
        round_id=42,
        position=2,
        total=10,
        kind=QuestionKind.SINGLE,
        prompt="p",
        choices=("yes", "no <b>"),
        correct=(0,),
        explanation="Squares & such",
        votes=(3, 1),
        answered=4,
        fastest=(FastPlayer("ada", 1.5, 12), FastPlayer("<ben>", 3.0, 11)),
        teams=(TeamResult("Owls", (0,), 2, 2, True, 10), TeamResult("Cats", (1,), 1, 2, False, 0)),
        mode=Mode.TEAMS,
        ending="That was the last question",
    )
    texts = [
        b["text"]["text"] if "text" in b else b["elements"][0]["text"] for b in reveal_blocks(card)
    ]
    assert texts[0] == "*Answer 2/10* ✅ *A*: yes"
    assert texts[1] == "Squares &amp; such"
    assert texts[2] == "```A ▰▰▰▰▰▰▰▰▱▱ 3 (75%) ✓\nB ▰▰▱▱▱▱▱▱▱▱ 1 (25%)```"
    assert texts[3] == "*Fastest:* 🥇 *ada* 1.5 s (+12)  🥈 *&lt;ben&gt;* 3.0 s (+11)"
    assert texts[4] == "*Teams*\n✅ *Owls*: A (2 of 2 votes) +10\n❌ *Cats*: B (1 of 2 votes) +0"
    assert texts[5] == "4 votes · That was the last question"


def test_summary_blocks_show_the_podium() -> None:
    rows = tuple(
        ScoreRow(rank, SubjectKind.PLAYER, rank, name, 30 - rank, 3, 3)
        for rank, name in enumerate(["ada", "ben", "cy", "dee"], start=1)
    )
    card = SummaryCard(1, QuizStatus.FINISHED, "That was the last question", 3, 3, rows, ())
    texts = [
        b["text"]["text"] if "text" in b else b["elements"][0]["text"] for b in summary_blocks(card)
    ]
    assert texts[0] == "*Quiz over* · 3/3 questions"
    assert texts[1].splitlines() == [
        "🥇 *ada*: 29 pts (3/3 correct)",
        "🥈 *ben*: 28 pts (3/3 correct)",
        "🥉 *cy*: 27 pts (3/3 correct)",
        "#4 *dee*: 26 pts (3/3 correct)",
    ]


# ---- settings ---------------------------------------------------------------------------------


def test_mode_follows_the_tokens_and_names_a_missing_setting() -> None:
    socket = Settings(slack_bot_token="xoxb-1", slack_app_token="xapp-1")
    assert slack_mode(socket, http=False) == "socket"
    with pytest.raises(SettingsError, match="SLACK_SIGNING_SECRET"):
        slack_mode(socket, http=True)
    http = Settings(slack_bot_token="xoxb-1", slack_signing_secret="s")
    assert slack_mode(http, http=True) == "http"
    assert slack_mode(http, http=False) == "http", "no app token: HTTP mode"
    with pytest.raises(SettingsError, match="SLACK_BOT_TOKEN"):
        slack_mode(Settings(slack_signing_secret="s"), http=True)
    with pytest.raises(SettingsError, match="SLACK_APP_TOKEN"):
        slack_mode(Settings(slack_bot_token="xoxb-1"), http=False)
    with pytest.raises(SettingsError, match="xapp-"):
        slack_mode(Settings(slack_bot_token="xoxb-1", slack_app_token="xoxb-2"), http=False)


# ---- the app manifest -------------------------------------------------------------------------


def test_manifest_has_the_command_interactivity_scopes_and_socket_mode() -> None:
    import yaml

    path = Path(__file__).resolve().parents[2] / "slack" / "manifest.yml"
    manifest = yaml.safe_load(path.read_text())
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == "/quiz" and command["should_escape"] is True
    settings = manifest["settings"]
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["socket_mode_enabled"] is True
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "users:read", "files:write"} <= scopes
