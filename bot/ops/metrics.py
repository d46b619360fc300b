"""Prometheus metrics, /metrics and /healthz.

Slack HTTP mode mounts the two routes on its own server with `add_ops_routes`;
Discord and Socket Mode, which serve no HTTP, get a small server of their own on
METRICS_PORT (`ops_server`). Every metric lives in the registry of one `Metrics`
object, never the global one, so tests and several engines in one process do not
share counts.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager

from aiohttp import web
from aiohttp.typedefs import Middleware
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from bot.ops.health import OUTBOX_STALLED, DatabaseHealth

log = logging.getLogger(__name__)

# Discord and Slack drop an interaction not acknowledged within 3 s: the buckets are
# fine below that line and coarse above it.
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)
HEALTH_TIMEOUT = 2.0  # a probe that waits longer than this counts the database as away


class Metrics:
    """The bot's metrics, in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.answers = Counter(
            "quizbot_answers_recorded",
            "Clicks handled by the engine, by receipt (accepted, already_answered, ...)",
            ["receipt"],
            registry=self.registry,
        )
        self.ack_latency = Histogram(
            "quizbot_ack_latency_seconds",
            "Time from receiving an interaction to acknowledging it",
            buckets=ACK_BUCKETS,
            registry=self.registry,
        )
        self.rounds_closed = Counter(
            "quizbot_rounds_closed",
            "Rounds closed and scored by this process",
            registry=self.registry,
        )
        self.quizzes_running = Gauge(
            "quizbot_quizzes_running",
            "Quizzes running on this platform (read from the database at each scrape)",
            registry=self.registry,
        )
        self.errors = Counter(
            "quizbot_errors", "Failures, by kind", ["kind"], registry=self.registry
        )
        self.late_acks = Counter(
            "quizbot_late_acks",
            "Clicks acknowledged before their answer was committed (the write was slow)",
            ["platform"],
            registry=self.registry,
        )
        self.deliveries = Counter(
            "quizbot_outbox_deliveries",
            "Outbox delivery attempts by this process, by outcome (sent, retried, dropped, failed)",
            ["outcome"],
            registry=self.registry,
        )
        self.outbox_depth = Gauge(
            "quizbot_outbox_depth",
            "Outbox rows waiting to be delivered, pending or sending (read at each scrape)",
            registry=self.registry,
        )
        self.outbox_oldest_age = Gauge(
            "quizbot_outbox_oldest_age_seconds",
            "Age of the oldest undelivered outbox row (read at each scrape); 0 when none",
            registry=self.registry,
        )
        self._add_discord_metrics()

    def _add_discord_metrics(self) -> None:
        """Discord's own: the shards this process runs, the interactions each delivers."""
        self.shards = Gauge(
            "quizbot_discord_shard",
            "1 for each Discord shard this process runs, labelled with the shard count",
            ["shard_id", "shard_count"],
            registry=self.registry,
        )
        self.interactions = Counter(
            "quizbot_discord_interactions",
            "Discord interactions received, by the shard that delivered them",
            ["shard_id"],
            registry=self.registry,
        )

    def run_shards(self, count: int, ids: list[int]) -> None:
        """Record which Discord shards this process runs."""
        for shard in ids:
            self.shards.labels(shard_id=str(shard), shard_count=str(count)).set(1)

    def interaction_seen(self, shard: int) -> None:
        """Count one Discord interaction delivered on `shard`."""
        self.interactions.labels(shard_id=str(shard)).inc()

    def observe_ack(self, seconds: float) -> None:
        """Record how long one acknowledgement took."""
        self.ack_latency.observe(seconds)

    def late_ack(self, platform: str) -> Callable[[], None]:
        """A callback that counts one late acknowledgement on `platform`."""
        return self.late_acks.labels(platform=platform).inc

    @contextmanager
    def ack_timer(self) -> Iterator[None]:
        """Time the block as one acknowledgement (an adapter wraps its `ack()` call)."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.observe_ack(time.perf_counter() - started)

    def exposition(self) -> bytes:
        """The metrics in Prometheus text format."""
        return bytes(generate_latest(self.registry))


class PrometheusEvents:
    """The engine's events (bot.core.ports.EngineEvents) counted into `Metrics`."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def answer_recorded(self, receipt: str) -> None:
        """Count a handled click by its receipt kind."""
        self.metrics.answers.labels(receipt=receipt).inc()

    def round_closed(self) -> None:
        """Count a closed round."""
        self.metrics.rounds_closed.inc()

    def quiz_started(self) -> None:
        """One more quiz running (until the next scrape reads the true number)."""
        self.metrics.quizzes_running.inc()

    def quiz_ended(self) -> None:
        """One quiz fewer running (until the next scrape reads the true number)."""
        self.metrics.quizzes_running.dec()

    def error(self, kind: str) -> None:
        """Count a failure by kind."""
        self.metrics.errors.labels(kind=kind).inc()

    def delivered(self, outcome: str) -> None:
        """Count an outbox delivery attempt by its outcome."""
        self.metrics.deliveries.labels(outcome=outcome).inc()


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def ops_routes(
    metrics: Metrics, health: DatabaseHealth | None, *, platform: str | None = None
) -> tuple[Handler, Handler]:
    """The /metrics and /healthz handlers, for servers that add routes their own way."""

    async def metrics_handler(_: web.Request) -> web.Response:
        if health is not None:
            # quiz_started/quiz_ended only see this process; the database sees them all
            try:
                count = await asyncio.wait_for(health.running_quizzes(platform), HEALTH_TIMEOUT)
                outbox = await asyncio.wait_for(health.outbox(platform), HEALTH_TIMEOUT)
            except Exception:
                metrics.errors.labels(kind="metrics_query").inc()
            else:
                metrics.quizzes_running.set(count)
                metrics.outbox_depth.set(outbox.depth)
                metrics.outbox_oldest_age.set(outbox.oldest_age)
        return web.Response(
            body=metrics.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    async def healthz_handler(_: web.Request) -> web.Response:
        if health is None:
            return web.json_response({"status": "ok"})
        try:
            await asyncio.wait_for(health.ping(), HEALTH_TIMEOUT)
        except Exception as exc:
            # the reason goes to the log only: /healthz may be reachable from outside
            log.warning("health check failed: database unreachable (%s)", type(exc).__name__)
            metrics.errors.labels(kind="health").inc()
            return web.json_response({"status": "unhealthy", "database": "unreachable"}, status=503)
        try:
            outbox = await asyncio.wait_for(health.outbox(platform), HEALTH_TIMEOUT)
        except Exception as exc:
            log.warning("health check failed: outbox unreadable (%s)", type(exc).__name__)
            metrics.errors.labels(kind="health").inc()
            return web.json_response({"status": "unhealthy", "database": "unreachable"}, status=503)
        if outbox.oldest_age > OUTBOX_STALLED:
            log.warning(
                "health check failed: an outbox message waits for %.0f s", outbox.oldest_age
            )
            return web.json_response(
                {
                    "status": "unhealthy",
                    "database": "ok",
                    "outbox": "stalled",
                    "oldest_pending_seconds": round(outbox.oldest_age),
                },
                status=503,
            )
        return web.json_response({"status": "ok", "database": "ok"})

    return metrics_handler, healthz_handler


def add_ops_routes(
    app: web.Application,
    metrics: Metrics,
    health: DatabaseHealth | None,
    *,
    platform: str | None = None,
    ack_path: str | None = None,
) -> None:
    """Mount GET /metrics and GET /healthz on `app` (before it starts).

    With `ack_path` (Slack HTTP mode: /slack/events) every POST to it is timed into the
    ack latency histogram: Bolt answers the request as soon as the listener calls ack().
    """
    metrics_handler, healthz_handler = ops_routes(metrics, health, platform=platform)
    app.router.add_get("/metrics", metrics_handler)
    app.router.add_get("/healthz", healthz_handler)
    if ack_path is not None:
        app.middlewares.append(ack_timing(metrics, ack_path))


def ack_timing(metrics: Metrics, path: str) -> Middleware:
    """An aiohttp middleware that times each POST to `path` as one acknowledgement."""

    @web.middleware
    async def timed(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method != "POST" or request.path != path:
            return await handler(request)
        with metrics.ack_timer():
            return await handler(request)

    return timed


@asynccontextmanager
async def ops_server(
    metrics: Metrics,
    health: DatabaseHealth | None,
    *,
    port: int,
    host: str = "0.0.0.0",
    platform: str | None = None,
) -> AsyncIterator[int]:
    """Serve /metrics and /healthz on `host:port` for the block; yields the bound port."""
    app = web.Application()
    add_ops_routes(app, metrics, health, platform=platform)
    # a scrape in flight at shutdown gets one second, not aiohttp's default minute
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
        bound = runner.addresses[0][1] if runner.addresses else port
        log.info("serving /metrics and /healthz on %s:%d", host, bound)
        yield int(bound)
    finally:
        await runner.cleanup()
