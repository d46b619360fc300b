"""Fixtures of the subprocess tests: the fakes, started in the test's event loop."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fake_discord import FakeDiscord
from tests.mock_slack.server import MockSlack


@pytest.fixture
async def mock() -> AsyncIterator[MockSlack]:
    """The mock Slack Web API, started."""
    server = MockSlack()
    await server.start()
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    """The fake Discord (REST and gateway), started; Discord's 3 s are 3 s."""
    server = FakeDiscord(time_scale=1.0)
    await server.start()
    try:
        yield server
    finally:
        await server.close()
