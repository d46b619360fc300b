"""Faults the loopback fakes inject, on a pattern the test sets: the shared half of
tests/fake_discord and tests/mock_slack.

    fake.faults.add("chat.postMessage", kind=500, pattern="1/3")   # 1st of every 3 calls
    fake.faults.add(r"POST /channels/\\d+/messages", kind=429, first=2, retry_after=0.1)
    fake.faults.add("chat.update", kind="drop", calls=[0, 4])     # the 1st and 5th calls
    fake.faults.add("chat.update", kind="timeout", every=2, hang=1.5)

A rule matches a request by a regular expression over its key (a Slack Web API method,
or "METHOD /path" on Discord); it counts the requests it matches, 0-based, and fires on
the ones its pattern selects. The kinds are what a platform does when it misbehaves:
429 with Retry-After, 500, 502, 503, a request that hangs past the client's timeout (its
answer is never given), and a connection dropped without an answer. A faulted request
is never carried out, so a retry of it is not a double.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Collection
from dataclasses import dataclass, field

from aiohttp import web

Kind = int | str  # 429, 500, 502, 503, "timeout", "drop"
KINDS: tuple[Kind, ...] = (429, 500, 502, 503, "timeout", "drop")


@dataclass
class FaultRule:
    """One rule: which requests it matches and which of them it fails, and how."""

    key: re.Pattern[str]
    kind: Kind
    pattern: str | None = None  # "k/n": the k-th of every n matching calls (1-based k)
    every: int | None = None  # the n-th, 2n-th, ... matching calls
    first: int | None = None  # the first n matching calls
    calls: frozenset[int] | None = None  # these matching calls (0-based)
    retry_after: float = 0.05  # 429's Retry-After, in seconds
    hang: float = 30.0  # "timeout": how long the request hangs before the fake gives up
    seen: int = 0  # matching calls so far
    fired: int = 0  # of which failed

    def fires(self, index: int) -> bool:
        """Whether the `index`-th (0-based) matching call is failed."""
        if self.calls is not None:
            return index in self.calls
        if self.first is not None:
            return index < self.first
        if self.every is not None:
            return (index + 1) % self.every == 0
        if self.pattern is not None:
            k, n = (int(part) for part in self.pattern.split("/"))
            return index % n == k - 1
        return True


@dataclass(frozen=True)
class Injected:
    """A request a rule failed."""

    key: str
    kind: Kind


@dataclass
class Faults:
    """The rules of one fake; the fake asks `take(key)` for every request it receives."""

    rules: list[FaultRule] = field(default_factory=list)
    injected: list[Injected] = field(default_factory=list)

    def add(
        self,
        key: str,
        *,
        kind: Kind,
        pattern: str | None = None,
        every: int | None = None,
        first: int | None = None,
        calls: Collection[int] | None = None,
        retry_after: float = 0.05,
        hang: float = 30.0,
    ) -> FaultRule:
        """Fail the requests whose key fully matches the regex `key`, on a pattern.

        With no pattern at all every matching request fails.
        """
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {KINDS}")
        if pattern is not None and not re.fullmatch(r"[1-9][0-9]*/[1-9][0-9]*", pattern):
            raise ValueError(f"a pattern is k/n, e.g. 1/3, not {pattern!r}")
        rule = FaultRule(
            re.compile(key),
            kind,
            pattern=pattern,
            every=every,
            first=first,
            calls=frozenset(calls) if calls is not None else None,
            retry_after=retry_after,
            hang=hang,
        )
        self.rules.append(rule)
        return rule

    def clear(self) -> None:
        """Remove every rule (what was injected stays on record)."""
        self.rules.clear()

    def take(self, key: str) -> FaultRule | None:
        """The rule that fails this request, if any; every matching rule counts it."""
        chosen: FaultRule | None = None
        for rule in self.rules:
            if not rule.key.fullmatch(key):
                continue
            index = rule.seen
            rule.seen += 1
            if chosen is None and rule.fires(index):
                rule.fired += 1
                chosen = rule
        if chosen is not None:
            self.injected.append(Injected(key, chosen.kind))
        return chosen

    def count(self, kind: Kind | None = None) -> int:
        """How many requests were failed (of one kind)."""
        return sum(1 for i in self.injected if kind is None or i.kind == kind)


async def hang_or_drop(request: web.Request, rule: FaultRule) -> web.StreamResponse | None:
    """Carry out a "timeout" or "drop" fault; None for the status-code kinds.

    A dropped connection is closed with no answer; a timeout hangs (the client gives up
    first), then drops the connection too.
    """
    if rule.kind == "timeout":
        await asyncio.sleep(rule.hang)
    elif rule.kind != "drop":
        return None
    if request.transport is not None:
        request.transport.abort()
    # nothing reaches the client: the transport is gone
    return web.Response(status=500)
