"""The fake Discord P5 runs in a process of its own, so that none of its work lands on
the loop of the client being measured.

    python -m bench.discord_fake ROUNDS

It shards the bot in two: ROUNDS guilds on shard 0 (the quiz bot's) and one guild on
shard 1 (the baseline client's). It prints one JSON line (its URLs, token and guilds),
then reads one JSON command a line from stdin and answers each with one JSON line, until
stdin closes:

    {"op": "mirror", "message": id}

posts in the baseline's guild a copy of a message (a quiz question: its embed and its
buttons, the buttons' custom_ids `bench:ack:0`, `bench:ack:1`, ...), so that the
baseline's clicks carry the same payload as the bot's, and answers with its id and
custom_ids;

    {"op": "burst", "messages": [id, ...], "prefix": "quiz:a:", "clicks": N,
     "in_flight": K, "first": F}

sends N clicks from new players F, F+1, ... on the buttons whose custom_id starts
with `prefix`, spread over the messages, K at a time, and answers with the time from
each INTERACTION_CREATE going out to its first interaction callback coming in, the
(message, user) of each click, and how many first responses were defers.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import random
import sys
from typing import Any

from tests.fake_discord import FakeDiscord, FakeUser, buttons, payloads
from tests.fake_discord.server import (
    DEFERRED_MESSAGE,
    DEFERRED_UPDATE,
    FakeGuild,
    InteractionRecord,
)

BASELINE_BUTTON = "bench:ack"
SHARDS = 2
ACK_TIMEOUT = 10.0  # a click unanswered for this long counts as missed
DEFERS = (DEFERRED_MESSAGE, DEFERRED_UPDATE)


async def burst(fake: FakeDiscord, command: dict[str, Any]) -> dict[str, Any]:
    """Send one burst of clicks; what the clients answered, and when."""
    messages = [fake.messages[m] for m in command["messages"]]
    choices = [
        [b["custom_id"] for b in buttons(m) if str(b["custom_id"]).startswith(command["prefix"])]
        for m in messages
    ]
    rng = random.Random(command["first"])
    limit = asyncio.Semaphore(command["in_flight"])
    loop = asyncio.get_running_loop()
    records: list[InteractionRecord] = []

    async def click(n: int) -> None:
        async with limit:
            message, ids = messages[n % len(messages)], choices[n % len(messages)]
            who = FakeUser(payloads.snowflake(), f"player{n}", payloads.MEMBER_PERMISSIONS)
            record = await fake.press(who, message, rng.choice(ids))
            records.append(record)
            with contextlib.suppress(TimeoutError):  # counted as missed below
                await asyncio.wait_for(record.acknowledged.wait(), ACK_TIMEOUT)

    started = loop.time()
    first = command["first"]
    await asyncio.gather(*(click(n) for n in range(first, first + command["clicks"])))
    seconds = loop.time() - started
    answered = [r for r in records if r.first_response_at is not None]
    return {
        "latencies": [r.first_response_at - r.sent_at for r in answered],  # type: ignore[operator]
        "clicks": [[r.message_id, r.user.id] for r in records],
        "missed": len(records) - len(answered),
        "deferred": sum(r.callbacks[0]["type"] in DEFERS for r in answered),
        "seconds": seconds,
        "violations": fake.violations[-5:],
    }


def mirror(fake: FakeDiscord, guild: FakeGuild, message_id: str) -> dict[str, Any]:
    """Post a copy of a message in the baseline's guild, its buttons renamed."""
    original = fake.messages[message_id]
    custom_ids: list[str] = []
    rows = []
    for row in original.get("components") or []:
        components = []
        for component in row.get("components") or []:
            copy = dict(component)
            if copy.get("type") == 2 and "custom_id" in copy:
                copy["custom_id"] = f"{BASELINE_BUTTON}:{len(custom_ids)}"
                custom_ids.append(copy["custom_id"])
            components.append(copy)
        rows.append({**row, "components": components})
    body = {
        "content": original.get("content") or "",
        "embeds": original.get("embeds") or [],
        "components": rows,
    }
    return {"message": fake.post(guild, body)["id"], "custom_ids": custom_ids}


async def main(rounds: int) -> None:
    """Serve the fake; run bursts as stdin asks, until it closes.

    The fake keeps every interaction and message of a run, and a full collection of that
    heap stalls every click in flight for tens of milliseconds, in whichever burst it
    falls (the bot's or the baseline's): a fake's pause, not the clients'. So the fake
    runs with its collector off (a run's garbage, freed when it exits).
    """
    gc.disable()
    fake = FakeDiscord(time_scale=1.0, recommended_shards=SHARDS)
    await fake.start()
    bot_guilds = [fake.add_guild(shard=0, count=SHARDS) for _ in range(rounds)]
    baseline_guild = fake.add_guild(shard=1, count=SHARDS)
    hello = {
        "api_url": fake.api_url,
        "gateway_url": fake.gateway_url,
        "token": fake.token,
        "bot_guilds": [[g.id, g.channel_id] for g in bot_guilds],
    }
    print(json.dumps(hello), flush=True)
    reader = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    try:
        while line := await reader.readline():
            command = json.loads(line)
            if command["op"] == "burst":
                print(json.dumps(await burst(fake, command)), flush=True)
            elif command["op"] == "mirror":
                print(json.dumps(mirror(fake, baseline_guild, command["message"])), flush=True)
    finally:
        await fake.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
