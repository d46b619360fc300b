"""Prometheus metrics from the engine's events, /metrics and /healthz over real HTTP."""

from __future__ import annotations

import socket
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.pool import NullPool

from bot.config import Settings
from bot.core.clock import ManualClock
from bot.core.model import StartRequest
from bot.ops.health import DatabaseHealth
from bot.ops.metrics import Metrics, PrometheusEvents, add_ops_routes
from bot.runtime import running
from bot.store import create_engine, upgrade
from tests.core.helpers import CHANNEL, GUILD, HOST, RecordingChat, user

ROOT = Path(__file__).resolve().parents[2]


def samples(exposition: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text exposition, keyed by name and labels."""
    out = {}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def free_port() -> int:
    """A local port nothing listens on (yet)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def client_for(app: web.Application) -> TestClient[web.Request, web.Application]:
    """A started test client of `app` on 127.0.0.1."""
    client = TestClient(TestServer(app))
    await client.start_server()
    return client


@pytest.fixture
async def migrated_url(tmp_path: Path) -> str:
    """A SQLite database migrated to the latest revision."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'metrics.db'}"
    upgrade(url)
    return url


def test_engine_events_are_counted_in_a_registry_of_their_own() -> None:
    metrics, other = Metrics(), Metrics()
    events = PrometheusEvents(metrics)
    events.answer_recorded("accepted")
    events.answer_recorded("accepted")
    events.answer_recorded("already_answered")
    events.round_closed()
    events.quiz_started()
    events.quiz_started()
    events.quiz_ended()
    events.error("background")
    metrics.observe_ack(0.02)

    got = samples(metrics.exposition().decode())
    assert got[("quizbot_answers_recorded_total", (("receipt", "accepted"),))] == 2
    assert got[("quizbot_answers_recorded_total", (("receipt", "already_answered"),))] == 1
    assert got[("quizbot_rounds_closed_total", ())] == 1
    assert got[("quizbot_quizzes_running", ())] == 1
    assert got[("quizbot_errors_total", (("kind", "background"),))] == 1
    assert got[("quizbot_ack_latency_seconds_count", ())] == 1
    assert got[("quizbot_ack_latency_seconds_bucket", (("le", "0.025"),))] == 1
    assert samples(other.exposition().decode())[("quizbot_rounds_closed_total", ())] == 0


async def test_a_quiz_shows_in_metrics_on_the_metrics_port(migrated_url: str) -> None:
    port = free_port()
    settings = Settings(
        database_url=migrated_url, questions_dir=ROOT / "questions", metrics_port=port
    )
    clock = ManualClock()
    base = f"http://127.0.0.1:{port}"
    async with (
        running(settings, RecordingChat(), platform="test", clock=clock) as runtime,
        aiohttp.ClientSession() as http,
    ):
        engine = runtime.engine
        quiz = await engine.start(
            GUILD, CHANNEL, HOST, StartRequest(decks=("deep-learning",), questions=2, seconds=10)
        )
        rnd = await runtime.store.open_round(quiz.id)
        assert rnd is not None
        await engine.record_answer(rnd.id, user(1), [0])
        await engine.record_answer(rnd.id, user(1), [1])
        clock.advance(11)
        assert await engine.close_due_rounds() == 1

        async with http.get(f"{base}/metrics") as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/plain")
            got = samples(await response.text())
        async with http.get(f"{base}/healthz") as response:
            assert response.status == 200
            assert await response.json() == {"status": "ok", "database": "ok"}

    assert got[("quizbot_answers_recorded_total", (("receipt", "accepted"),))] == 1
    assert got[("quizbot_answers_recorded_total", (("receipt", "already_answered"),))] == 1
    assert got[("quizbot_rounds_closed_total", ())] == 1
    assert got[("quizbot_quizzes_running", ())] == 1  # round 2 is open: the quiz runs on
    with pytest.raises(aiohttp.ClientConnectionError):  # the server ended with the runtime
        async with aiohttp.ClientSession() as http, http.get(f"{base}/healthz"):
            pass


async def test_quizzes_running_is_read_from_the_database(migrated_url: str) -> None:
    metrics = Metrics()
    PrometheusEvents(metrics).quiz_ended()  # a quiz started by another process ended here
    engine = create_engine(migrated_url, poolclass=NullPool)
    app = web.Application()
    add_ops_routes(app, metrics, DatabaseHealth(engine), platform="test")
    client = await client_for(app)
    try:
        response = await client.get("/metrics")
        got = samples(await response.text())
    finally:
        await client.close()
        await engine.dispose()

    assert got[("quizbot_quizzes_running", ())] == 0


async def test_healthz_is_503_when_the_database_is_away() -> None:
    url = f"postgresql+asyncpg://quizbot:hunter22secret@127.0.0.1:{free_port()}/quizbot"
    engine = create_engine(url, poolclass=NullPool)
    metrics = Metrics()
    app = web.Application()
    add_ops_routes(app, metrics, DatabaseHealth(engine))
    client = await client_for(app)
    try:
        response = await client.get("/healthz")
        body = await response.text()
        scrape = await (await client.get("/metrics")).text()
    finally:
        await client.close()
        await engine.dispose()

    assert response.status == 503
    assert "unreachable" in body and "hunter22secret" not in body
    got = samples(scrape)
    assert got[("quizbot_errors_total", (("kind", "health"),))] == 1
    assert got[("quizbot_errors_total", (("kind", "metrics_query"),))] == 1


async def test_ack_latency_times_each_post_to_the_events_path() -> None:
    metrics = Metrics()

    async def events(_: web.Request) -> web.Response:
        return web.Response(text="")

    app = web.Application()
    app.router.add_post("/slack/events", events)
    add_ops_routes(app, metrics, None, ack_path="/slack/events")
    client = await client_for(app)
    try:
        for _ in range(3):
            assert (await client.post("/slack/events", data=b"x")).status == 200
        health = await client.get("/healthz")
        got = samples(await (await client.get("/metrics")).text())
    finally:
        await client.close()

    assert health.status == 200
    assert got[("quizbot_ack_latency_seconds_count", ())] == 3
    assert got[("quizbot_ack_latency_seconds_bucket", (("le", "3.0"),))] == 3


def test_metrics_port_flag_overrides_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.adapters.discord.client as discord_adapter
    from bot.cli.main import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("METRICS_PORT", "9100")
    seen: list[Settings] = []

    def fake_run(settings: Settings) -> int:
        seen.append(settings)
        return 0

    monkeypatch.setattr(discord_adapter, "run_discord", fake_run)

    assert main(["serve", "discord", "--metrics-port", "9200"]) == 0
    assert main(["serve", "discord"]) == 0
    assert [s.metrics_port for s in seen] == [9200, 9100]
