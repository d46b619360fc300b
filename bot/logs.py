"""Logging: readable text or JSON lines, quiz ids on every line about a quiz, no secrets."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from bot.config import Settings

CONTEXT_FIELDS = ("community_id", "quiz_id", "round_id")


class SecretMask(logging.Filter):
    """Replaces every configured secret in a log line with ***."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if len(s) >= 4]

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask the secrets in the message and its arguments (always keeps the record)."""
        if not self.secrets:
            return True
        message = record.getMessage()
        masked = message
        for secret in self.secrets:
            masked = masked.replace(secret, "***")
        if masked != message:
            record.msg, record.args = masked, None
        return True


def _context(record: logging.LogRecord) -> dict[str, object]:
    return {f: getattr(record, f) for f in CONTEXT_FIELDS if hasattr(record, f)}


class TextFormatter(logging.Formatter):
    """`time level logger: message [community_id=1 quiz_id=2 round_id=3]`."""

    def format(self, record: logging.LogRecord) -> str:
        """One readable line (plus the traceback, if any)."""
        line = super().format(record)
        context = _context(record)
        if context:
            line += " [" + " ".join(f"{k}={v}" for k, v in context.items()) + "]"
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the quiz ids as fields."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line."""
        data: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **_context(record),
        }
        if record.exc_info:
            data["error"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


def configure_logging(settings: Settings, stream: object = None) -> None:
    """Set up the root logger from LOG_LEVEL and LOG_FORMAT, masking every secret."""
    handler = logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
    if settings.log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(SecretMask(settings.secrets()))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    # library chatter (discord.py gateway, aiohttp access) stays at warnings
    for noisy in ("discord", "aiohttp.access", "slack_bolt", "sqlalchemy.engine"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
