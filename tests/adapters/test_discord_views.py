"""Cards as Discord components and embeds, without a connection."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.adapters.discord.views import (
    AnswerButton,
    closed_question_view,
    question_embed,
    question_view,
    reveal_embed,
)
from bot.core.cards import FastPlayer, QuestionCard, RevealCard, TeamResult
from bot.core.model import Mode, QuestionKind

CLOSES = datetime(2026, 11, 23, 12, 0, 30, tzinfo=UTC)


def card(kind: QuestionKind, choices: int, mode: Mode = Mode.SOLO) -> QuestionCard:
    """A question card with `choices` numbered choices."""
    return QuestionCard(
        quiz_id=1,
        round_id=77,
        position=2,
        total=10,
        deck="algebra",
        kind=kind,
        prompt="What is $x^2$ at $x = 3$?",
        choices=tuple(str(n) for n in range(choices)),
        closes_at=CLOSES,
        seconds=30,
        answered=3,
        mode=mode,
    )


def rows(components: list[dict[str, Any]]) -> list[list[str]]:
    """Labels (or custom ids) of each action row."""
    return [[c.get("label") or c["custom_id"] for c in row["components"]] for row in components]


def test_buttons_go_five_to_a_row_with_ids_that_hide_the_answer() -> None:
    view = question_view(card(QuestionKind.SINGLE, 7))
    components = view.to_components()
    assert rows(components) == [["A", "B", "C", "D", "E"], ["F", "G"]]
    ids = [c["custom_id"] for row in components for c in row["components"]]
    assert ids == [f"quiz:a:77:{p}" for p in range(7)]
    assert all(AnswerButton.__discord_ui_compiled_template__.fullmatch(i) for i in ids)


def test_multiple_answers_use_one_menu_of_all_choices() -> None:
    components = question_view(card(QuestionKind.MULTIPLE, 4)).to_components()
    (menu,) = [c for row in components for c in row["components"]]
    assert menu["custom_id"] == "quiz:m:77"
    assert (menu["min_values"], menu["max_values"]) == (1, 4)
    assert [o["label"] for o in menu["options"]] == ["A", "B", "C", "D"]


def test_question_embed_has_heading_unicode_math_countdown_and_count() -> None:
    embed = question_embed(card(QuestionKind.SINGLE, 3)).to_dict()
    assert embed["title"] == "Question 2/10"
    description = embed["description"]
    assert "x² at x = 3" in description
    assert "**A**  0" in description and "**C**  2" in description
    assert f"closes <t:{int(CLOSES.timestamp())}:R>" in description
    assert "3 answers so far" in description
    teams = question_embed(card(QuestionKind.SINGLE, 3, Mode.TEAMS)).to_dict()
    assert "3 votes so far" in teams["description"]


def reveal(**changes: Any) -> RevealCard:
    """A reveal of a 4-choice question where B and D were right."""
    values: dict[str, Any] = {
        "quiz_id": 1,
        "round_id": 77,
        "position": 2,
        "total": 10,
        "kind": QuestionKind.MULTIPLE,
        "prompt": "Pick the primes",
        "choices": ("4", "5", "6", "7"),
        "correct": (1, 3),
        "explanation": "5 and 7 are prime",
        "votes": (1, 3, 0, 2),
        "answered": 4,
        "fastest": (FastPlayer("Ann", 1.24, 95),),
        "teams": (),
        "mode": Mode.SOLO,
    }
    values.update(changes)
    return RevealCard(**values)


def test_closed_question_disables_every_button_and_marks_the_right_ones() -> None:
    components = closed_question_view(reveal()).to_components()
    flat = [c for row in components for c in row["components"]]
    assert all(c["disabled"] for c in flat)
    assert [c["label"] for c in flat if c["style"] == 3] == ["B", "D"]
    assert [c["custom_id"] for c in flat] == [f"quiz:a:77:{p}" for p in range(4)]


def test_reveal_shows_answer_explanation_spread_fastest_and_teams() -> None:
    teams = (
        TeamResult("Owls", (1, 3), 2, 3, True, 120),
        TeamResult("Foxes", (0,), 1, 1, False, 0),
    )
    embed = reveal_embed(reveal(teams=teams, mode=Mode.TEAMS, ending="Last question")).to_dict()
    assert embed["title"] == "✅ Answer 2/10"
    assert "Correct: **B**: 5; **D**: 7" in embed["description"]
    assert "5 and 7 are prime" in embed["description"]
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    spread = fields["Spread (4 votes)"]
    assert "B ▰▰▰▰▰▰▰▰▱▱ 3 (75%) ✓" in spread and "C ▱▱▱▱▱▱▱▱▱▱ 0 (0%)" in spread
    assert fields["⚡ Fastest correct"] == "🥇 Ann 1.2 s (+95)"
    assert "✅ Owls: B, D (2 of 3 votes) +120" in fields["👥 Team votes"]
    assert "❌ Foxes: A (1 of 1 vote) +0" in fields["👥 Team votes"]
    assert embed["footer"]["text"] == "Last question"
