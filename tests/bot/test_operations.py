"""Operating the bot: backoff, quiet discord.py logs, metrics the cogs feed, health, and the persona from config."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import aiohttp
import discord
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot import render
from bot.backoff import Backoff, retry
from bot.client import QuietDiscordFilter
from bot.config import Config, CooldownConfig, PersonaConfig
from bot.exts.ask import Ask
from bot.metrics import Metrics, health
from bot.store import KnowledgeStore

from .conftest import BOT_ID, BOT_ROLE_ID, FakeBot, FakeGuild, FakeInteraction, FakeMessage, FakeRole, invoke

ANSWERED = "Can IOM staff travel on a UN laissez-passer?"
ABSTAINED = "What is the best recipe for chocolate cake?"


def samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = metrics.exposition().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


# -- backoff --------------------------------------------------------------------------------------------------------


def test_backoff_doubles_up_to_the_cap_with_jitter_below_each_step() -> None:
    no_jitter = Backoff(1.0, 8.0, rng=lambda: 0.0)
    full_jitter = Backoff(1.0, 8.0, rng=lambda: 1.0)

    assert [no_jitter.next() for _ in range(6)] == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert [full_jitter.next() for _ in range(4)] == [0.5, 1.0, 2.0, 4.0]


async def test_retry_logs_one_line_per_failed_attempt_then_succeeds(caplog: pytest.LogCaptureFixture) -> None:
    failures = [aiohttp.ClientConnectionError("Cannot connect to host 127.0.0.1:1"), ConnectionRefusedError(111, "no")]
    slept: list[float] = []
    reset: list[bool] = []

    async def attempt() -> None:
        if failures:
            raise failures.pop(0)

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async def before_retry() -> None:
        reset.append(True)

    with caplog.at_level(logging.WARNING, logger="bot.backoff"):
        await retry(
            attempt, "log in to Discord", backoff=Backoff(rng=lambda: 0.0), before_retry=before_retry, sleep=sleep
        )

    assert slept == [1.0, 2.0] and reset == [True, True]
    assert [r.getMessage() for r in caplog.records] == [
        "cannot log in to Discord (ClientConnectionError: Cannot connect to host 127.0.0.1:1); "
        "retrying in 1.0 s (attempt 1)",
        "cannot log in to Discord (ConnectionRefusedError: [Errno 111] no); retrying in 2.0 s (attempt 2)",
    ]
    assert all(r.exc_info is None for r in caplog.records)


@pytest.mark.parametrize(
    "error", [discord.LoginFailure("Improper token has been passed."), discord.PrivilegedIntentsRequired(None)]
)
async def test_retry_lets_what_a_retry_cannot_fix_through(error: Exception) -> None:
    async def attempt() -> None:
        raise error

    with pytest.raises(type(error)):
        await retry(attempt, "log in to Discord")


# -- discord.py's log lines -----------------------------------------------------------------------------------------


def record(name: str, msg: str, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, None) if exc is not None else None
    return logging.LogRecord(name, logging.ERROR, __file__, 1, msg, args, exc_info)


def test_voice_warnings_are_dropped() -> None:
    quiet = QuietDiscordFilter()

    assert not quiet.filter(record("discord.client", "PyNaCl is not installed, voice will NOT be supported"))
    assert not quiet.filter(record("discord.client", "davey is not installed, voice will NOT be supported"))
    assert quiet.filter(record("bot.client", "voice will NOT be supported"))  # only discord.py's own


@pytest.mark.parametrize(
    ("name", "msg", "args"),
    [
        ("discord.client", "Attempting a reconnect in %.2fs", (1.5,)),
        ("discord.shard", "Failed to connect for shard_id: %s. Retrying...", (1,)),
    ],
)
def test_reconnect_notices_are_one_warning_line_without_traceback(name: str, msg: str, args: tuple[Any, ...]) -> None:
    line = record(name, msg, *args, exc=ConnectionRefusedError(111, "Connect call failed"))

    assert QuietDiscordFilter().filter(line)

    assert line.exc_info is None and line.levelno == logging.WARNING
    assert line.getMessage() == (msg % args) + " (ConnectionRefusedError: [Errno 111] Connect call failed)"
    assert "\n" not in logging.Formatter().format(line)


# -- metrics fed by the cogs ----------------------------------------------------------------------------------------


def guild_message(content: str) -> FakeMessage:
    return FakeMessage(content, guild=FakeGuild(self_role=FakeRole(BOT_ROLE_ID)))


async def test_an_answer_and_an_abstention_are_counted(ask_cog: Ask, bot: FakeBot) -> None:
    for question in (ANSWERED, ABSTAINED):
        await ask_cog.on_message(guild_message(f"<@{BOT_ID}> {question}"))  # type: ignore[arg-type]

    counted = samples(bot.metrics)
    assert counted[("iom_bot_questions_total", (("via", "mention"),))] == 2
    assert counted[("iom_bot_answers_total", (("via", "mention"),))] == 1
    assert counted[("iom_bot_abstentions_total", (("via", "mention"),))] == 1
    assert counted[("iom_bot_answer_latency_seconds_count", (("via", "mention"),))] == 2


async def test_cooldown_hits_are_counted(make_bot: Callable[[Config], FakeBot], config: Config) -> None:
    bot = make_bot(dataclasses.replace(config, asking=dataclasses.replace(config.asking, cooldown=CooldownConfig(1))))
    cog = Ask(bot)  # type: ignore[arg-type]

    for _ in range(3):
        await cog.on_message(guild_message(f"<@{BOT_ID}> {ANSWERED}"))  # type: ignore[arg-type]

    assert samples(bot.metrics)[("iom_bot_cooldown_hits_total", ())] == 2


async def test_reloads_are_counted_by_result(store: KnowledgeStore) -> None:
    metrics = Metrics()
    store.on_reload.append(metrics.reloaded)

    await store.reload("test")
    broken = KnowledgeStore(None, knowledge=store.current, build=lambda _: (_ for _ in ()).throw(TimeoutError("slow")))
    broken.on_reload.append(metrics.reloaded)
    await broken.reload("test")

    counted = samples(metrics)
    assert counted[("iom_bot_reloads_total", (("result", "ok"),))] == 1
    assert counted[("iom_bot_reloads_total", (("result", "refused"),))] == 1


# -- health ---------------------------------------------------------------------------------------------------------


class FakeGateway(SimpleNamespace):
    def is_closed(self) -> bool:
        return self.closed

    def is_ready(self) -> bool:
        return self.ready


@pytest.mark.parametrize(
    ("ready", "ws_open", "healthy", "reason"),
    [
        (False, False, False, "not connected to the gateway yet"),
        (True, True, True, None),
        (True, False, False, "gateway disconnected"),
    ],
)
def test_health_follows_the_gateway(
    store: KnowledgeStore, ready: bool, ws_open: bool, healthy: bool, reason: str | None
) -> None:
    bot = FakeGateway(closed=False, ready=ready, ws=SimpleNamespace(open=ws_open), store=store)

    ok, body = health(bot)

    assert ok is healthy
    assert body.get("reason") == reason
    assert body["knowledge_base"] == store.current.version


def test_health_needs_a_knowledge_base() -> None:
    bot = FakeGateway(closed=False, ready=True, ws=SimpleNamespace(open=True), store=KnowledgeStore(None))

    assert health(bot) == (
        False,
        {
            "gateway": "connected",
            "knowledge_base": None,
            "status": "unavailable",
            "reason": "no knowledge base loaded yet",
        },
    )


# -- the persona ----------------------------------------------------------------------------------------------------


async def test_the_persona_names_the_menu_the_help_and_the_how_to(
    make_bot: Callable[[Config], FakeBot], config: Config
) -> None:
    persona = PersonaConfig(name="Helper", menu_name="Ask Helper", examples=("Who runs IOM?", "What is IOM?"))
    bot = make_bot(dataclasses.replace(config, persona=persona))
    cog = Ask(bot)  # type: ignore[arg-type]
    await bot.add_cog(cog)  # /help lists the commands in the tree
    empty = guild_message(f"<@{BOT_ID}>")

    await cog.on_message(empty)  # type: ignore[arg-type]
    [sent] = await invoke(cog, cog.help_, FakeInteraction(bot, command=cog.help_))

    assert cog.ask_message_menu.name == "Ask Helper"
    assert empty.outbox[0].content == render.how_to_ask("Helper", "Who runs IOM?")
    asking = sent.embed.fields[0].value
    assert "`@Helper Who runs IOM?`" in asking and "`@Helper What is IOM?`" in asking
    assert "**Apps → Ask Helper**" in asking


async def test_thumbs_down_votes_are_counted_and_thumbs_up_votes_are_not(
    make_bot: Callable[[Config], FakeBot], config: Config
) -> None:
    from bot.views import VoteButton

    bot = make_bot(config)
    recorded: list[Any] = []
    bot.storage = SimpleNamespace(record_vote=recorded.append)  # type: ignore[attr-defined]

    for vote in ("down", "up", "down"):
        await VoteButton("0123456789abcdef", vote).callback(FakeInteraction(bot))  # type: ignore[arg-type]

    assert [row.vote for row in recorded] == [-1, 1, -1]
    assert samples(bot.metrics)[("iom_bot_wrong_answer_votes_total", ())] == 2
