"""Running the bot in production: logs, metrics, health, shutdown, doctor."""
