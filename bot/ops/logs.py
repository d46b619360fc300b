"""Logging: readable text or JSON lines, quiz ids on every line about a quiz, no secrets."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from datetime import UTC, datetime

from bot.config import Settings

CONTEXT_FIELDS = ("shard_id", "community_id", "quiz_id", "round_id")
# The Discord shard whose gateway connection delivered the event being handled; set by
# the Discord adapter, copied into the tasks that handle the event.
current_shard: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "current_shard", default=None
)


# Credentials that must not reach a log even when they are not this bot's own settings
# (a token pasted into a message, a header in a library's debug line, a database URL).
TOKEN_PATTERNS = (
    # Slack tokens: bot, user, app-level, refresh, config; the kind prefix is kept
    (re.compile(r"\b(xox[abeoprs]|xapp)-[A-Za-z0-9-]+"), r"\1-***"),
    # Discord bot tokens: base64 user id, timestamp and HMAC joined by dots
    (re.compile(r"\b[A-Za-z0-9_-]{24,}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,}"), "***"),
    # an Authorization header's value: "Bearer ..." anywhere, "Bot ..." after the header
    (re.compile(r"(\bBearer\s+|Authorization\W{1,4}Bot\s+)[^\s'\",]+"), r"\1***"),
    # user:password@ in a URL
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/@\s]+:)[^@\s]+@"), r"\1***@"),
)


class SecretMask(logging.Filter):
    """Replaces every configured secret, and anything shaped like a token, with ***.

    It masks the message with its arguments and the traceback of an exception, the
    parts of a record that can carry text from outside.
    """

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        # longest first, so a secret that contains another is masked whole
        self.secrets = sorted((s for s in secrets if len(s) >= 4), key=len, reverse=True)

    def mask(self, text: str) -> str:
        """`text` with the secrets and token-shaped strings masked."""
        for secret in self.secrets:
            text = text.replace(secret, "***")
        for pattern, replacement in TOKEN_PATTERNS:
            text = pattern.sub(replacement, text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask the message, its arguments and its traceback (always keeps the record)."""
        message = record.getMessage()
        masked = self.mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = _TRACEBACKS.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.mask(record.exc_text)
        if record.stack_info:
            record.stack_info = self.mask(record.stack_info)
        return True


_TRACEBACKS = logging.Formatter()


def _context(record: logging.LogRecord) -> dict[str, object]:
    shard = current_shard.get()
    if shard is not None and not hasattr(record, "shard_id"):
        record.shard_id = shard
    return {f: getattr(record, f) for f in CONTEXT_FIELDS if hasattr(record, f)}


class TextFormatter(logging.Formatter):
    """`time level logger: message [shard_id=0 community_id=1 quiz_id=2 round_id=3]`."""

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
            # the traceback as SecretMask left it, masked
            data["error"] = record.exc_text or self.formatException(record.exc_info)
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
    # library chatter (discord.py gateway, aiohttp access, one line per SQLite call) stays
    # at warnings
    for noisy in ("discord", "aiohttp.access", "slack_bolt", "sqlalchemy.engine", "aiosqlite"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
