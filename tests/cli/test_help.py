"""Every command explains itself: a description and an example in its --help; one error
prefix, `quizbot: `, for usage mistakes too."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import pytest

from bot.cli.main import build_parser, main


def commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every subcommand's parser, by its words after `quizbot`."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield (*path, name), sub
                yield from commands(sub, (*path, name))


def test_the_walk_finds_every_command() -> None:
    found = {" ".join(path) for path, _ in commands(build_parser())}
    assert {"play", "leaderboard", "stop", "db upgrade", "questions import", "doctor"} <= found
    assert {"serve slack", "discord sync", "config", "schedule", "stats"} <= found


@pytest.mark.parametrize("path", [p for p, _ in commands(build_parser())], ids=" ".join)
def test_every_command_has_a_description_and_an_example(path: tuple[str, ...]) -> None:
    parser = dict(commands(build_parser()))[path]
    text = parser.format_help()
    assert parser.description, f"quizbot {' '.join(path)} has no description"
    assert "examples:\n  " in text, f"quizbot {' '.join(path)} --help shows no example"
    # each example runs the command it documents
    examples = text.split("examples:\n", 1)[1].splitlines()
    assert any(f"quizbot {' '.join(path)}" in line for line in examples), examples


def test_a_usage_mistake_is_one_quizbot_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["play", "--questions", "zero"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err == (
        "quizbot: argument --questions: 'zero' is not a whole number (see quizbot play --help)\n"
    )


@pytest.mark.parametrize("command", ["play", "review"])
def test_a_count_must_be_a_positive_whole_number_in_every_command(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for value, why in (("0", "must be a positive whole number"), ("2.5", "is not a whole number")):
        with pytest.raises(SystemExit):
            main([command, "--questions", value])
        assert capsys.readouterr().err == (
            f"quizbot: argument --questions: '{value}' {why} (see quizbot {command} --help)\n"
        )


@pytest.mark.parametrize("command", ["play", "review", "stats", "mastery"])
def test_a_player_name_is_neither_blank_nor_longer_than_the_store_keeps(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for value, why in (
        ("   ", "give a name, not a blank one"),
        ("x" * 300, "a name of at most 100 characters, not 300"),
    ):
        with pytest.raises(SystemExit) as exited:
            main([command, "--player", value])
        assert exited.value.code == 2
        assert capsys.readouterr().err == (
            f"quizbot: argument --player: {why} (see quizbot {command} --help)\n"
        )
    assert build_parser().parse_args([command, "--player", "  Ada  "]).player == "Ada"


def test_slack_http_binds_this_machine_unless_told() -> None:
    parser = build_parser()
    assert parser.parse_args(["serve", "slack", "--http"]).host == "127.0.0.1"
    assert parser.parse_args(["serve", "slack", "--http", "--host", "0.0.0.0"]).host == "0.0.0.0"
    slack = dict(commands(parser))[("serve", "slack")]
    assert "127.0.0.1" in " ".join(slack.format_help().split())
