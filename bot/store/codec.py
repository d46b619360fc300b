"""Conversions between table rows (and their JSON columns) and the core's dataclasses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.core.model import (
    Answer,
    Choice,
    Community,
    Mode,
    Player,
    Question,
    QuestionKind,
    Quiz,
    QuizOptions,
    QuizStatus,
    Round,
    RoundQuestion,
    RoundStatus,
    Scoring,
    Team,
)

Row = Mapping[Any, Any]


def community_from_row(row: Row) -> Community:
    """A Community from a `communities` row."""
    return Community(
        id=row["id"],
        platform=row["platform"],
        external_id=row["external_id"],
        name=row["name"],
        timezone=row["timezone"],
        week_start=row["week_start"],
        settings=dict(row["settings"] or {}),
    )


def player_from_row(row: Row) -> Player:
    """A Player from a `players` row."""
    return Player(
        id=row["id"],
        platform=row["platform"],
        external_id=row["external_id"],
        display_name=row["display_name"],
    )


def team_from_row(row: Row) -> Team:
    """A Team from a `teams` row."""
    return Team(id=row["id"], community_id=row["community_id"], name=row["name"])


def question_to_json(question: Question) -> dict[str, Any]:
    """Everything of a deck question, for the `questions.data` column."""
    return {
        "kind": question.kind.value,
        "prompt": question.prompt,
        "choices": [[c.text, c.correct] for c in question.choices],
        "explanation": question.explanation,
        "tags": list(question.tags),
        "difficulty": question.difficulty,
        "source": question.source,
        "title": question.title,
    }


def deck_question_to_json(question: Question) -> dict[str, Any]:
    """A deck question, everything of it, for the `community_decks.questions` column."""
    return {
        "id": question.id,
        "deck": question.deck,
        **question_to_json(question),
        "shuffle": question.shuffle,
    }


def deck_question_from_json(data: Mapping[str, Any]) -> Question:
    """A deck question from the `community_decks.questions` column."""
    return Question(
        id=data["id"],
        deck=data["deck"],
        kind=QuestionKind(data["kind"]),
        prompt=data["prompt"],
        choices=tuple(Choice(str(text), bool(correct)) for text, correct in data["choices"]),
        explanation=data.get("explanation") or "",
        tags=tuple(data.get("tags") or ()),
        difficulty=data.get("difficulty"),
        source=data.get("source"),
        title=data.get("title"),
        shuffle=bool(data.get("shuffle", True)),
    )


def options_to_json(options: QuizOptions) -> dict[str, Any]:
    """QuizOptions for the `quizzes.options` column."""
    return {
        "decks": list(options.decks),
        "questions": options.questions,
        "seconds": options.seconds,
        "mode": options.mode.value,
        "scoring": options.scoring.value,
        "allow_change": options.allow_change,
        "partial": options.partial,
        "roster": list(options.roster),
        "weak_picks": list(options.weak_picks),
    }


def options_from_json(data: Mapping[str, Any]) -> QuizOptions:
    """QuizOptions from the `quizzes.options` column."""
    return QuizOptions(
        decks=tuple(data["decks"]),
        questions=int(data["questions"]),
        seconds=int(data["seconds"]),
        mode=Mode(data.get("mode", Mode.SOLO.value)),
        scoring=Scoring(data.get("scoring", Scoring.SPEED.value)),
        allow_change=bool(data.get("allow_change", False)),
        partial=bool(data.get("partial", False)),
        roster=tuple(int(p) for p in data.get("roster", ())),
        weak_picks=tuple(str(q) for q in data.get("weak_picks", ())),
    )


def quiz_from_row(row: Row) -> Quiz:
    """A Quiz from a `quizzes` row."""
    return Quiz(
        id=row["id"],
        community_id=row["community_id"],
        platform=row["platform"],
        channel_id=row["channel_id"],
        host_id=row["host_id"],
        options=options_from_json(row["options"]),
        question_ids=tuple(row["question_ids"]),
        status=QuizStatus(row["status"]),
        created_at=row["created_at"],
    )


def round_question_to_json(question: RoundQuestion) -> dict[str, Any]:
    """The question snapshot of a round, for the `rounds.question` column."""
    return {
        "question_id": question.question_id,
        "deck": question.deck,
        "kind": question.kind.value,
        "prompt": question.prompt,
        "choices": list(question.choices),
        "correct": list(question.correct),
        "explanation": question.explanation,
        "tags": list(question.tags),
        "title": question.title,
    }


def round_question_from_json(data: Mapping[str, Any]) -> RoundQuestion:
    """The question snapshot of a round from the `rounds.question` column."""
    return RoundQuestion(
        question_id=data["question_id"],
        deck=data["deck"],
        kind=QuestionKind(data["kind"]),
        prompt=data["prompt"],
        choices=tuple(data["choices"]),
        correct=tuple(int(i) for i in data["correct"]),
        explanation=data.get("explanation", ""),
        tags=tuple(data.get("tags", ())),
        title=data.get("title"),
    )


def round_from_row(row: Row) -> Round:
    """A Round from a `rounds` row."""
    return Round(
        id=row["id"],
        quiz_id=row["quiz_id"],
        position=row["position"],
        question=round_question_from_json(row["question"]),
        opened_at=row["opened_at"],
        closes_at=row["closes_at"],
        status=RoundStatus(row["status"]),
        message_ref=row["message_ref"],
        closed_at=row["closed_at"],
    )


def answer_from_row(row: Row) -> Answer:
    """An Answer from an `answers` row."""
    return Answer(
        round_id=row["round_id"],
        player_id=row["player_id"],
        selected=tuple(int(i) for i in row["selected"]),
        answered_at=row["answered_at"],
        team_id=row["team_id"],
        correct=row["correct"],
        points=row["points"],
        streak=row["streak"],
    )
