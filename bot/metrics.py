"""Health and metrics: counters the cogs feed, and /healthz and /metrics served on the bot's own event loop.

Off unless ``metrics.listen`` is set. ``/healthz`` answers 200 while the gateway is connected (every shard this
process runs) and a knowledge base is serving, else 503; both with a small JSON body saying why.
``/metrics`` is the Prometheus text format (prometheus_client), from a registry of this bot's own: no global
state, so tests and several bots in one process never mix their numbers.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from .client import QABot
    from .store import ReloadResult

log = logging.getLogger(__name__)

PREFIX = "iom_bot"
# Answers take well under a millisecond in the knowledge base; a reply's wall time is Discord's round trip.
LATENCY_BUCKETS_S = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
JSON_TYPE = "application/json"


class Metrics:
    """The bot's counters. Every method is cheap and safe to call whether or not metrics are served."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.questions = Counter(
            f"{PREFIX}_questions", "Questions that reached the knowledge base, by how asked", ["via"], registry=registry
        )
        self.answers = Counter(f"{PREFIX}_answers", "Questions answered from the sources", ["via"], registry=registry)
        self.abstentions = Counter(
            f"{PREFIX}_abstentions", "Questions answered with 'not in my sources'", ["via"], registry=registry
        )
        self.wrong_answer_votes = Counter(
            f"{PREFIX}_wrong_answer_votes", "Users' votes that an answer was wrong", registry=registry
        )
        self.latency = Histogram(
            f"{PREFIX}_answer_latency_seconds",
            "Time from reading a question to the reply sent to Discord",
            ["via"],
            buckets=LATENCY_BUCKETS_S,
            registry=registry,
        )
        self.reloads = Counter(
            f"{PREFIX}_reloads", "Knowledge-base reloads, by result (ok, refused)", ["result"], registry=registry
        )
        self.cooldown_hits = Counter(
            f"{PREFIX}_cooldown_hits", "Requests refused by the per-user cooldown", registry=registry
        )
        for result in ("ok", "refused"):
            self.reloads.labels(result=result)  # both series exist from the start, at 0

    def answered(self, via: str, *, abstained: bool, seconds: float) -> None:
        self.questions.labels(via=via).inc()
        (self.abstentions if abstained else self.answers).labels(via=via).inc()
        self.latency.labels(via=via).observe(seconds)

    def reloaded(self, result: ReloadResult) -> None:
        self.reloads.labels(result="ok" if result.ok else "refused").inc()

    def voted_wrong(self) -> None:
        self.wrong_answer_votes.inc()

    def cooldown_hit(self) -> None:
        self.cooldown_hits.inc()

    def watch(self, bot: QABot) -> None:
        """Also report the bot's live state at each scrape: connection, gateway latency, knowledge base."""
        self.registry.register(_LiveState(bot))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class _LiveState(Collector):
    """Read at scrape time, never stored: the gateway's state and the knowledge base serving now."""

    def __init__(self, bot: QABot) -> None:
        self.bot = bot

    def collect(self) -> Iterable[Metric]:
        bot = self.bot
        healthy, _ = health(bot)
        up = GaugeMetricFamily(f"{PREFIX}_healthy", "1 while /healthz answers 200")
        up.add_metric([], 1.0 if healthy else 0.0)
        yield up
        latency = GaugeMetricFamily(
            f"{PREFIX}_gateway_latency_seconds", "Heartbeat round trip to the Discord gateway", labels=["shard"]
        )
        for shard, seconds in gateway_latencies(bot):
            if math.isfinite(seconds):
                latency.add_metric([str(shard)], seconds)
        yield latency
        if bot.store.loaded:
            knowledge = bot.store.current
            info = InfoMetricFamily(f"{PREFIX}_knowledge_base", "The knowledge base serving now")
            info.add_metric([], {"version": knowledge.version, "documents": str(len(knowledge.documents))})
            yield info
            passages = GaugeMetricFamily(f"{PREFIX}_knowledge_base_passages", "Passages in the knowledge base")
            passages.add_metric([], float(len(knowledge.passages)))
            yield passages


def gateway_latencies(bot: Any) -> list[tuple[int, float]]:
    """(shard id, seconds) for each shard this process runs; shard 0 for an unsharded bot."""
    shards = getattr(bot, "shards", None)
    if isinstance(shards, dict):
        return [(shard_id, info.latency) for shard_id, info in sorted(shards.items())]
    return [(0, bot.latency)]


def gateway_state(bot: Any) -> tuple[bool, str]:
    """(connected, why not): every gateway connection of this process is open and has been ready."""
    if bot.is_closed():
        return False, "the client is closed"
    if not bot.is_ready():
        return False, "not connected to the gateway yet"
    shards = getattr(bot, "shards", None)
    if isinstance(shards, dict):
        down = [shard_id for shard_id, info in sorted(shards.items()) if info.is_closed()]
        if down or not shards:
            return False, f"gateway disconnected (shards {', '.join(map(str, down))})"
        return True, "connected"
    ws = bot.ws
    if ws is None or not ws.open:
        return False, "gateway disconnected"
    return True, "connected"


def health(bot: Any) -> tuple[bool, dict[str, Any]]:
    """(healthy, body): connected to the gateway and a knowledge base serving."""
    connected, why = gateway_state(bot)
    body: dict[str, Any] = {"gateway": why}
    if bot.store.loaded:
        body["knowledge_base"] = bot.store.current.version
    else:
        body["knowledge_base"] = None
    healthy = connected and bot.store.loaded
    body["status"] = "ok" if healthy else "unavailable"
    if not bot.store.loaded:
        body["reason"] = "no knowledge base loaded yet"
    elif not connected:
        body["reason"] = why
    return healthy, body


class MetricsServer:
    """/healthz and /metrics over aiohttp, on the bot's event loop (no thread, no second server library)."""

    def __init__(self, bot: QABot, host: str, port: int) -> None:
        self.bot = bot
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]  # the real port when 0 asked for any free one
        log.info("health and metrics on http://%s:%d (/healthz, /metrics)", self.host, self.port)

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _healthz(self, request: web.Request) -> web.Response:
        healthy, body = health(self.bot)
        return web.Response(status=200 if healthy else 503, body=json.dumps(body), content_type=JSON_TYPE)

    async def _metrics(self, request: web.Request) -> web.Response:
        return web.Response(body=self.bot.metrics.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST})
