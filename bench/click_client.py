"""The processes P2 runs beside the bot, so that none of their work lands on its loop.

    python -m bench.click_client mock          # the mock Slack Web API; prints its port,
                                               # serves until stdin closes
    python -m bench.click_client burst SPEC    # sends SPEC's clicks, signed as Slack signs
                                               # them, `in_flight` at a time; prints JSON

SPEC is a JSON file: {"url", "secret", "in_flight", "bodies": [form body, ...]}. The
output has one latency (request sent to response read) per click, in seconds, the
statuses, and the seconds from the first request to the last response.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp

from tests.mock_slack.requests import signature
from tests.mock_slack.server import MockSlack


async def serve_mock() -> None:
    """Run the mock Web API until stdin closes.

    The mock keeps every message it is sent, so its heap grows through a run, and each
    full collection of it stalls every request in flight for tens of milliseconds:
    whichever benchmark phase such a pause hit would carry it, a fake's pause and not the
    bot's. So it runs with its collector off (its garbage is a run's worth of requests,
    freed when it exits).
    """
    gc.disable()
    mock = MockSlack()
    await mock.start()
    print(mock.port, flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)
    await mock.close()


async def burst(spec: dict[str, Any]) -> dict[str, Any]:
    """Send every body of `spec`, `in_flight` at a time; latencies and statuses."""
    bodies: list[str] = spec["bodies"]
    in_flight = int(spec["in_flight"])
    latencies: list[float] = [0.0] * len(bodies)
    statuses: Counter[int] = Counter()
    connector = aiohttp.TCPConnector(limit=in_flight)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        # one connection per slot before the clock starts, as Slack keeps its own warm
        async def warm() -> None:
            async with session.get(spec["health_url"]) as reply:
                await reply.read()

        await asyncio.gather(*(warm() for _ in range(in_flight)))
        next_index = iter(range(len(bodies)))

        async def sender() -> None:
            for i in next_index:
                stamp = str(int(time.time()))
                headers = {
                    "Content-Type": "application/x-www-form-urlencoded",
                    "X-Slack-Request-Timestamp": stamp,
                    "X-Slack-Signature": signature(spec["secret"], stamp, bodies[i]),
                }
                started = time.perf_counter()
                async with session.post(spec["url"], data=bodies[i], headers=headers) as reply:
                    await reply.read()
                    statuses[reply.status] += 1
                latencies[i] = time.perf_counter() - started

        started = time.perf_counter()
        await asyncio.gather(*(sender() for _ in range(in_flight)))
        seconds = time.perf_counter() - started
    return {"latencies": latencies, "statuses": dict(statuses), "seconds": seconds}


def main(argv: list[str]) -> None:
    """Dispatch on the first argument."""
    if argv[0] == "mock":
        asyncio.run(serve_mock())
    elif argv[0] == "burst":
        spec = json.loads(Path(argv[1]).read_text())
        print(json.dumps(asyncio.run(burst(spec))))
    else:
        raise SystemExit(f"unknown command {argv[0]!r}: mock or burst")


if __name__ == "__main__":
    main(sys.argv[1:])
