"""The Slack adapter (slack-bolt): app, listeners, command parsing, Block Kit, chat port."""
