"""The connection and the process: the bot resumes after Discord drops it, and SIGTERM ends it cleanly."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from harness import Harness, launch

pytestmark = pytest.mark.asyncio(loop_scope="module")

LAISSEZ_PASSER = "Can IOM staff travel on a UN laissez-passer?"
ART_11_SENTENCE = "It also affords IOM staff members entitlement to use a UN laissez-passer as a valid travel document."


async def ask(e2e: Harness) -> str:
    fake = e2e.fake
    question = await fake.send_message(fake.mention_bot(LAISSEZ_PASSER), author=e2e.new_member())
    reply = await fake.wait_for_reply(int(question["id"]))
    return reply.embeds[0]["description"]


async def test_resumes_after_gateway_drop_and_answers(e2e: Harness) -> None:
    fake = e2e.fake
    identified, resumed = len(fake.identifies), fake.resumed_count

    await fake.drop_gateway(4000)
    # Asked while the bot is away: Discord replays it when the session resumes.
    during = await fake.send_message(fake.mention_bot(LAISSEZ_PASSER), author=e2e.new_member())
    await fake.wait_for_resume(resumed + 1)

    assert ART_11_SENTENCE in (await fake.wait_for_reply(int(during["id"]))).embeds[0]["description"]
    assert ART_11_SENTENCE in await ask(e2e)
    assert len(fake.identifies) == identified, "the bot identified again instead of resuming"
    assert fake.resumes[-1]["seq"] >= 2  # it resumed from where it was, not from scratch


async def test_sigterm_exits_zero_within_5_seconds(tmp_path: Path) -> None:
    async with launch(tmp_path) as e2e:
        assert ART_11_SENTENCE in await ask(e2e)  # up and answering
        started = time.monotonic()

        code = await e2e.bot.terminate(timeout=5.0)

        assert code == 0, e2e.bot.log_tail()
        assert time.monotonic() - started < 5.0
        await e2e.fake.wait_until(lambda: not e2e.fake.connected, "the gateway connection to close")
        assert "Traceback" not in e2e.bot.log()
