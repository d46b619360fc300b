"""DISCORD_SHARD_COUNT and DISCORD_SHARD_IDS: accepted spellings, and one line per mistake."""

from __future__ import annotations

import logging

import pytest

from bot.adapters.discord.shards import ShardPlan, resolve, shard_of
from bot.config import Settings, check_values, settings_from
from bot.core.errors import SettingsError
from bot.ops.logs import JsonFormatter, TextFormatter, current_shard


@pytest.mark.parametrize(
    ("count", "ids", "plan"),
    [
        ("", "", ShardPlan(None, None)),
        ("auto", "", ShardPlan(None, None)),
        ("AUTO", "4,5", ShardPlan(None, (4, 5))),
        ("4", "", ShardPlan(4, None)),
        ("4", "0-3", ShardPlan(4, (0, 1, 2, 3))),
        ("8", "6, 0-1 ,4", ShardPlan(8, (0, 1, 4, 6))),
        ("2", "1", ShardPlan(2, (1,))),
    ],
)
def test_the_shard_settings_read_as_a_plan(count: str, ids: str, plan: ShardPlan) -> None:
    values = {k: v for k, v in (("DISCORD_SHARD_COUNT", count), ("DISCORD_SHARD_IDS", ids)) if v}
    assert ShardPlan.of(settings_from(values)) == plan


@pytest.mark.parametrize(
    ("count", "ids", "name", "detail"),
    [
        ("four", "", "DISCORD_SHARD_COUNT", "'four' is not a number of shards or auto"),
        ("0", "", "DISCORD_SHARD_COUNT", "'0' is not a number of shards or auto"),
        ("-2", "", "DISCORD_SHARD_COUNT", "'-2' is not a number of shards or auto"),
        ("2", "0-2", "DISCORD_SHARD_IDS", "shard 2 is outside DISCORD_SHARD_COUNT=2"),
        ("4", "4", "DISCORD_SHARD_IDS", "shard 4 is outside DISCORD_SHARD_COUNT=4"),
        ("8", "0-3,2-5", "DISCORD_SHARD_IDS", "'2-5' overlaps another part: shard 2"),
        ("8", "1,1", "DISCORD_SHARD_IDS", "'1' overlaps another part: shard 1"),
        ("8", "a-b", "DISCORD_SHARD_IDS", "'a-b' is not a shard id or a range"),
        ("8", "1.5", "DISCORD_SHARD_IDS", "'1.5' is not a shard id or a range"),
        ("8", "3-1", "DISCORD_SHARD_IDS", "'3-1' runs backwards"),
    ],
)
def test_a_bad_shard_value_is_one_line_naming_the_setting(
    count: str, ids: str, name: str, detail: str
) -> None:
    values = {k: v for k, v in (("DISCORD_SHARD_COUNT", count), ("DISCORD_SHARD_IDS", ids)) if v}
    [problem] = check_values(values)

    assert problem.name == name
    assert problem.detail.startswith(detail), problem.detail
    assert problem.fix
    with pytest.raises(SettingsError, match=f"^{name}: [^\n]*$"):
        settings_from(values)


def test_replace_keeps_the_parsed_ids() -> None:
    settings = Settings(discord_shard_count="4", discord_shard_ids="2-3")
    assert settings.replace(log_level="DEBUG").discord_shard_ids == (2, 3)


def test_resolving_auto_takes_the_recommendation_and_checks_the_ids() -> None:
    assert resolve(ShardPlan(), 3) == (3, [0, 1, 2])
    assert resolve(ShardPlan(4, None), None) == (4, [0, 1, 2, 3])
    assert resolve(ShardPlan(None, (2, 3)), 4) == (4, [2, 3])
    with pytest.raises(SettingsError, match=r"^DISCORD_SHARD_IDS: shard 3 is outside the 2"):
        resolve(ShardPlan(None, (2, 3)), 2)


def test_a_guild_belongs_to_the_shard_of_its_id() -> None:
    assert shard_of(None, 4) == 0
    assert shard_of(5 << 22, 4) == 1
    assert shard_of((6 << 22) | 123, 4) == 2


def test_log_lines_carry_the_shard_that_delivered_the_event() -> None:
    record = logging.LogRecord("bot", logging.INFO, __file__, 1, "clicked", None, None)
    token = current_shard.set(3)
    try:
        text = TextFormatter("%(message)s").format(record)
        json_line = JsonFormatter().format(record)
    finally:
        current_shard.reset(token)
    assert text == "clicked [shard_id=3]"
    assert '"shard_id": 3' in json_line
    other = logging.LogRecord("bot", logging.INFO, __file__, 1, "ticked", None, None)
    assert TextFormatter("%(message)s").format(other) == "ticked"
