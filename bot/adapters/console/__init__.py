"""The terminal adapter: play in a terminal with no chat account, on the same engine."""

from bot.adapters.console.chat import ConsoleChat
from bot.adapters.console.game import (
    PlayOptions,
    default_player_name,
    play_game,
    show_leaderboard,
    stop_games,
)

__all__ = [
    "ConsoleChat",
    "PlayOptions",
    "default_player_name",
    "play_game",
    "show_leaderboard",
    "stop_games",
]
