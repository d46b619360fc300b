"""How a chat adapter says that a message could not be delivered, and whether to retry.

The outbox dispatcher (bot.core.dispatch) sends every message the channel must see;
a ChatPort raises one of these so the dispatcher knows what to do next:

- `RetryLater`: the platform or the network failed for now (429 with its Retry-After,
  5xx, a timeout, a dropped connection the client's own retries gave up on). The row is
  tried again later, a bounded number of times.
- `Undeliverable`: it will never work (missing permission, unknown or archived channel,
  the bot not in the channel). The row fails and its quiz is stopped.

Anything else a ChatPort raises is unexpected and treated as RetryLater.
"""

from __future__ import annotations

MAX_KEY_LENGTH = 25  # Discord's nonce limit; keys are ASCII


class DeliveryError(Exception):
    """A message could not be delivered."""


class RetryLater(DeliveryError):
    """A temporary failure: try again, after `retry_after` seconds when the platform said."""

    def __init__(self, message: str = "try again later", *, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class Undeliverable(DeliveryError):
    """A permanent failure for this channel; `reason` is one line for the log and the host."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
