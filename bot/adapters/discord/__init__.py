"""The Discord adapter (discord.py): client, slash commands, views, chat port."""
