"""Operating the real bot process: it waits out an outage at start, /healthz follows the gateway, /metrics counts.

Each test starts its own fake Discord and bot (they change the fake's state: refused connections, a refused
gateway), so they share nothing with the other e2e modules.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import shutil
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from fake_discord import FakeDiscord
from harness import BUNDLED_SOURCES, START_TIMEOUT_S, BotProcess, launch, spawn
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.asyncio(loop_scope="function")

OUTAGE_S = 5.0  # the fake refuses every connection this long after the bot starts
ANSWERED = "Can IOM staff travel on a UN laissez-passer?"
ART_11_SENTENCE = "It also affords IOM staff members entitlement to use a UN laissez-passer as a valid travel document."
ABSTAINED = "How many staff did IOM have in 1975?"
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) +[\w.]+: ")
POLL_S = 0.05  # between two /healthz requests while waiting for a state


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def ask(fake: FakeDiscord, question: str) -> str:
    message = await fake.send_message(fake.mention_bot(question), author=fake.world.new_member("asker"))
    reply = await fake.wait_for_reply(int(message["id"]), timeout=START_TIMEOUT_S)
    return reply.embeds[0]["description"] if reply.embeds else reply.content


async def test_start_up_waits_out_an_outage_then_answers(tmp_path: Path) -> None:
    fake = FakeDiscord()
    fake.port = free_port()  # nothing listens there yet: every connection is refused
    sources = tmp_path / "sources"
    shutil.copytree(BUNDLED_SOURCES, sources)
    bot = await spawn(fake, tmp_path, sources)
    try:
        await bot.wait_for_log(r"cannot log in to Discord \(.+\); retrying in [\d.]+ s \(attempt 1\)", START_TIMEOUT_S)
        await asyncio.sleep(OUTAGE_S)  # the outage itself, not a wait for the bot
        assert bot.running, bot.log_tail()
        await fake.start()
        await fake.wait_for_commands(fake.world.guild_id, timeout=START_TIMEOUT_S)
        await fake.wait_for_ready(1, timeout=START_TIMEOUT_S)

        assert ART_11_SENTENCE in await ask(fake, ANSWERED)
        code = await bot.terminate()
    finally:
        if bot.running:
            bot.process.kill()
        await fake.close()

    assert code == 0, bot.log_tail()
    retries = [line for line in bot.lines if "retrying in" in line]
    assert len(retries) >= 2, bot.log()  # the outage outlasted the first two delays (1 s, then 2 s at most)
    assert all(" WARNING " in line and "bot.backoff: cannot log in to Discord" in line for line in retries)
    assert "Traceback" not in bot.log()
    assert all(LOG_LINE.match(line) for line in bot.lines), bot.log()  # one line per event, nothing else
    assert "voice will NOT be supported" not in bot.log()


async def test_a_gateway_refused_at_start_is_retried_then_answers(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    shutil.copytree(BUNDLED_SOURCES, sources)
    async with FakeDiscord() as fake:
        fake.refuse_gateway = True  # REST answers, the gateway does not: the first connection fails
        bot = await spawn(fake, tmp_path, sources)
        try:
            await bot.wait_for_log(r"cannot connect to the Discord gateway \(.+\); retrying in", START_TIMEOUT_S)
            fake.refuse_gateway = False
            await fake.wait_for_ready(1, timeout=START_TIMEOUT_S)

            assert ART_11_SENTENCE in await ask(fake, ANSWERED)
            code = await bot.terminate()
        finally:
            if bot.running:
                bot.process.kill()

    assert code == 0, bot.log_tail()
    assert "Traceback" not in bot.log()
    assert all(LOG_LINE.match(line) for line in bot.lines), bot.log()
    failed = [line for line in bot.lines if "WSServerHandshakeError" in line]
    assert failed and all("bot.client: cannot connect to the Discord gateway" in line for line in failed)


@contextlib.asynccontextmanager
async def endpoints(bot: BotProcess) -> AsyncIterator[tuple[aiohttp.ClientSession, str]]:
    line = await bot.wait_for_log(r"health and metrics on http://127\.0\.0\.1:\d+", START_TIMEOUT_S)
    url = re.search(r"http://127\.0\.0\.1:\d+", line)
    assert url is not None
    async with aiohttp.ClientSession() as http:
        yield http, url.group(0)


async def health_becomes(http: aiohttp.ClientSession, url: str, status: int) -> dict[str, str]:
    """Poll /healthz until it answers status (bounded); its JSON body."""
    deadline = asyncio.get_running_loop().time() + START_TIMEOUT_S
    seen: list[int] = []
    while asyncio.get_running_loop().time() < deadline:
        async with http.get(f"{url}/healthz") as response:
            assert response.content_type == "application/json"
            body = json.loads(await response.text())
            if response.status == status:
                return body
            seen.append(response.status)
        await asyncio.sleep(POLL_S)
    raise AssertionError(f"/healthz never answered {status} within {START_TIMEOUT_S} s (saw {sorted(set(seen))})")


async def test_healthz_follows_a_gateway_drop_and_metrics_count_answers(tmp_path: Path) -> None:
    async with launch(tmp_path, metrics={"listen": "127.0.0.1:0"}) as e2e, endpoints(e2e.bot) as (http, url):
        fake = e2e.fake
        ok = await health_becomes(http, url, 200)
        fake.refuse_gateway = True  # Discord unreachable: the bot keeps trying to resume
        resumed = fake.resumed_count
        await fake.drop_gateway(4000)
        down = await health_becomes(http, url, 503)
        fake.refuse_gateway = False
        await fake.wait_for_resume(resumed + 1, timeout=START_TIMEOUT_S)
        again = await health_becomes(http, url, 200)

        assert ART_11_SENTENCE in await ask(fake, ANSWERED)
        assert "in my sources, so I won't guess" in await ask(fake, ABSTAINED)
        async with http.get(f"{url}/metrics") as response:
            assert response.status == 200
            exposition = await response.text()
        code = await e2e.bot.terminate()

    assert ok == {"gateway": "connected", "knowledge_base": ok["knowledge_base"], "status": "ok"}
    assert down["status"] == "unavailable" and down["reason"] == "gateway disconnected"
    assert again["status"] == "ok"
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }
    assert samples[("iom_bot_answers_total", (("via", "mention"),))] == 1
    assert samples[("iom_bot_abstentions_total", (("via", "mention"),))] == 1
    assert samples[("iom_bot_questions_total", (("via", "mention"),))] == 2
    assert samples[("iom_bot_answer_latency_seconds_count", (("via", "mention"),))] == 2
    assert samples[("iom_bot_healthy", ())] == 1
    assert samples[("iom_bot_knowledge_base_info", (("documents", "1"), ("version", ok["knowledge_base"])))] == 1
    assert samples[("iom_bot_gateway_latency_seconds", (("shard", "0"),))] >= 0
    assert code == 0 and "Traceback" not in e2e.bot.log()
