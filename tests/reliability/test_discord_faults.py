"""Discord faults from the fake: rate limits, server errors, slow answers, dropped connections, a revoked token.

The bot recovers (the user gets the answer, or the next user does), logs a fault once and without a traceback,
and never loops on IDENTIFY (Discord allows 1,000 a day): a connection Discord refuses for good ends the process
with exit code 2 and one line, which a service manager should not restart (see docs/readme/operating.md).

The fake's interaction window is 1 s here instead of Discord's 3 s, so that "past the window" costs less time;
nothing in the bot depends on the value (it answers in milliseconds, or defers at once).
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
import rigs
from fake_discord import CALLBACK_DEFERRED_MESSAGE, FakeDiscord, Sent
from harness import BotProcess

pytestmark = pytest.mark.asyncio(loop_scope="module")

WINDOW_S = 1.0
QUESTION = "Can IOM staff travel on a UN laissez-passer?"
ART_11_SENTENCE = "It also affords IOM staff members entitlement to use a UN laissez-passer as a valid travel document."
MESSAGES = r"^/channels/\d+/messages$"
TYPING = r"^/channels/\d+/typing$"
CALLBACK = r"^/interactions/\d+/[^/]+/callback$"
FOLLOW_UP = r"^/webhooks/\d+/[^/]+$"


@dataclass
class Rig:
    fake: rigs.LateDiscord
    bot: BotProcess

    async def ask(self, question: str = QUESTION) -> tuple[dict, Sent]:
        """A fresh member mentions the bot; (their message, the bot's reply)."""
        message = await self.fake.send_message(self.fake.mention_bot(question), author=self.fake.world.new_member("m"))
        return message, await self.fake.wait_for_reply(int(message["id"]))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def rig(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Rig]:
    directory = tmp_path_factory.mktemp("faults")
    async with rigs.LateDiscord(interaction_deadline_s=WINDOW_S) as fake:
        bot = await rigs.start(fake, directory, rigs.copy_sources(directory / "sources"))
        try:
            yield Rig(fake, bot)
        finally:
            await rigs.stop(bot)


@pytest.fixture(autouse=True)
def no_faults_left(rig: Rig) -> None:
    rig.fake.clear_faults()


def answers_art_11(sent: Sent) -> bool:
    return bool(sent.embeds) and f"> {ART_11_SENTENCE}" in sent.embeds[0].get("description", "")


# -- REST ----------------------------------------------------------------------------------------------------------


async def test_429_on_a_reply_is_waited_out_and_logged_once(rig: Rig) -> None:
    since = len(rig.bot.lines)
    fault = rig.fake.rate_limit(MESSAGES, retry_after_s=0.3, method="POST")

    _, reply = await rig.ask()

    assert answers_art_11(reply)
    assert fault.hits == 1
    assert [line.split(": ", 1)[0] for line in rigs.problems(rig.bot, since)] == ["WARNING discord.http"]
    assert sum("rate limited" in line for line in rig.bot.lines[since:]) == 1


async def test_429_on_an_interaction_response_is_waited_out_and_logged_once(rig: Rig) -> None:
    since = len(rig.bot.lines)
    rig.fake.rate_limit(CALLBACK, retry_after_s=0.3, method="POST")
    interaction = await rig.fake.send_command("ask", question=QUESTION, user=rig.fake.world.new_member("m"))

    answer = await rig.fake.wait_for_answer(interaction)

    assert answers_art_11(answer)
    assert [c.status for c in interaction.callbacks] == [200]  # the 429 was retried, within the window
    problems = rigs.problems(rig.bot, since)
    assert len(problems) == 1 and "rate limited" in problems[0], problems


async def test_a_500_is_retried_and_the_answer_arrives(rig: Rig) -> None:
    since = len(rig.bot.lines)
    rig.fake.fail(MESSAGES, 500, method="POST")

    _, reply = await rig.ask()

    assert answers_art_11(reply)
    posts = [r.status for r in rig.fake.requests if r.path == f"/channels/{reply.channel_id}/messages"]
    assert posts[-2:] == [500, 200]
    assert rigs.problems(rig.bot, since) == []


async def test_a_503_on_a_reply_is_retried_once_and_the_answer_arrives(rig: Rig) -> None:
    since = len(rig.bot.lines)
    rig.fake.fail(MESSAGES, 503, method="POST")

    _, reply = await rig.ask()

    assert answers_art_11(reply)
    posts = [r.status for r in rig.fake.requests if r.path == f"/channels/{reply.channel_id}/messages"]
    assert posts[-2:] == [503, 200]
    assert rigs.problems(rig.bot, since) == []


async def test_two_503s_cost_one_reply_and_one_log_line_and_the_next_question_is_answered(rig: Rig) -> None:
    since = len(rig.bot.lines)
    rig.fake.fail(MESSAGES, 503, method="POST", times=2)
    fake = rig.fake
    first = await fake.send_message(fake.mention_bot(QUESTION), author=fake.world.new_member("m"))
    warning = await rigs.wait_for_line(rig.bot, rf"could not reply to message {first['id']}", since=since)

    _, second_reply = await rig.ask()

    assert answers_art_11(second_reply)
    assert "503" in warning
    assert len(rigs.problems(rig.bot, since)) == 1, rigs.problems(rig.bot, since)
    assert not [s for s in fake.sent if s.reply_to == int(first["id"])]


@pytest.mark.parametrize("fault", ["503", "slow"])
async def test_a_failed_or_slow_typing_indicator_never_holds_back_the_answer(rig: Rig, fault: str) -> None:
    since = len(rig.bot.lines)
    if fault == "503":
        rig.fake.fail(TYPING, 503, method="POST", times=None)
    else:
        rig.fake.slow(TYPING, 4.0, method="POST", times=1)

    message = await rig.fake.send_message(rig.fake.mention_bot(QUESTION), author=rig.fake.world.new_member("m"))
    reply = await rig.fake.wait_for_reply(int(message["id"]), timeout=3.0)  # before the stalled typing ends

    assert answers_art_11(reply)
    assert rigs.problems(rig.bot, since) == []


async def test_a_reload_is_deferred_in_time_and_survives_a_slow_follow_up(rig: Rig) -> None:
    since = len(rig.bot.lines)
    rig.fake.slow(FOLLOW_UP, WINDOW_S + 0.3, method="POST")
    interaction = await rig.fake.send_command("kb reload", user=rig.fake.world.new_member("admin", admin=True))

    summary = await rig.fake.wait_for_answer(interaction)

    deferral = interaction.callbacks[0]
    assert deferral.json["type"] == CALLBACK_DEFERRED_MESSAGE and deferral.status == 200
    assert deferral.received_at - interaction.dispatched_at < WINDOW_S
    assert asyncio.get_running_loop().time() - interaction.dispatched_at > WINDOW_S  # it came after the window
    assert summary.content.startswith("Reloaded the knowledge base: version `")
    assert rigs.problems(rig.bot, since) == []


async def test_an_answer_that_misses_the_window_is_logged_once_and_others_are_served(rig: Rig) -> None:
    fake = rig.fake
    since = len(rig.bot.lines)
    fake.slow(CALLBACK, WINDOW_S + 0.3, method="POST", times=1)
    late_user, other_user = fake.world.new_member("late"), fake.world.new_member("other")
    late = await fake.send_command("ask", question=QUESTION, user=late_user)
    stalled = await fake.wait_until(
        lambda: next((r for r in fake.in_flight if re.match(CALLBACK, r.path)), None), "the stalled callback"
    )

    other = await fake.wait_for_answer(await fake.send_command("ask", question=QUESTION, user=other_user))

    assert answers_art_11(other)
    await fake.wait_until(lambda: late.callbacks, "the late callback's answer")
    assert other.request.received_at < stalled.received_at  # served while the late one was stalled
    line = await rigs.wait_for_line(rig.bot, rf"ask for user {late_user.id} not answered", since=since)
    assert "the interaction expired" in line
    _, reply = await rig.ask()  # and afterwards, as ever
    assert answers_art_11(reply)
    assert [(c.status, c.response["code"]) for c in late.callbacks] == [(404, 10062)]  # expired; not tried again
    assert len(rigs.problems(rig.bot, since)) == 1, rigs.problems(rig.bot, since)
    assert not any("Traceback" in text for text in rig.bot.lines[since:])


# -- the gateway ---------------------------------------------------------------------------------------------------


async def test_gateway_drops_are_resumed_without_identifying_again(rig: Rig) -> None:
    fake = rig.fake
    since = len(rig.bot.lines)
    identified, resumed = len(fake.identifies), fake.resumed_count

    for number, code in enumerate((4000, 1001, 1000, 4000), start=1):
        await fake.drop_gateway(code)
        await fake.wait_for_resume(resumed + number)
        _, reply = await rig.ask()
        assert answers_art_11(reply)

    assert len(fake.identifies) == identified, "the bot identified again instead of resuming"
    assert rigs.problems(rig.bot, since) == []
    resumed_lines = [line for line in rig.bot.lines[since:] if "RESUMED" in line]
    assert len(resumed_lines) <= 4  # at most one line per drop


# -- refused for good: exit, do not loop ---------------------------------------------------------------------------


async def wait_for_exit(bot: BotProcess) -> int:
    return await bot.wait(15.0)


def error_lines(bot: BotProcess) -> list[str]:
    return [f"{level} {logger}: {message}" for level, logger, message in rigs.log_records(bot) if level == "ERROR"]


async def test_a_token_reset_while_running_ends_the_process_with_one_line(tmp_path: Path) -> None:
    async with FakeDiscord(token=f"old-{secrets.token_hex(8)}") as fake:
        old_token = fake.token
        bot = await rigs.start(fake, tmp_path, rigs.copy_sources(tmp_path / "sources"))
        try:
            fake.token = "reset-in-the-developer-portal"  # the old token no longer works, for REST or the gateway
            await fake.drop_gateway(4000)

            code = await wait_for_exit(bot)
        finally:
            await rigs.stop(bot)

    assert code == 2, bot.log_tail()
    assert len(fake.identifies) == 1 and len(fake.resumes) == 1  # one RESUME refused with 4004, then nothing
    assert error_lines(bot) == [
        "ERROR bot.client: Discord closed the connection: authentication failed (the token was reset or revoked; "
        "check the variable named by discord.token_env) (close code 4004)"
    ]
    assert "Traceback" not in bot.log() and old_token not in bot.log()


async def test_an_identify_refused_at_start_ends_the_process_after_one_try(tmp_path: Path) -> None:
    async with rigs.IdentifyRefusingDiscord(token=f"refused-{secrets.token_hex(8)}") as fake:
        bot = await rigs.spawn(fake, tmp_path, rigs.copy_sources(tmp_path / "sources"))
        try:
            code = await wait_for_exit(bot)
        finally:
            await rigs.stop(bot)

    assert code == 2, bot.log_tail()
    assert len(fake.identifies) == 1
    assert len(error_lines(bot)) == 1 and "(close code 4004)" in error_lines(bot)[0], bot.log_tail()
    assert "Traceback" not in bot.log() and fake.token not in bot.log()
