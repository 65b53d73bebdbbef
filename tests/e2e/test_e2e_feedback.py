"""Learning from use, end to end: 👍/👎 and abstentions reach /kb feedback and /kb unanswered; without
storage.record_questions no question text is in the database file; a locked database slows no answer and is
reported once. The module has its own bot process (storage beside its config file, record_questions off)."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from pathlib import Path

import pytest
from fake_discord import EPHEMERAL, Sent
from harness import Harness

pytestmark = pytest.mark.asyncio(loop_scope="module")

LAISSEZ_PASSER = "Can IOM staff travel on a UN laissez-passer?"
ART_11_SENTENCE = "It also affords IOM staff members entitlement to use a UN laissez-passer as a valid travel document."
NEAR_MISS = "Where is the headquarters of UNHCR located?"  # on the topic, not in the sources
DATABASE = "iom-bot.sqlite3"
LOCKED_QUESTIONS = 10


def database(e2e: Harness) -> Path:
    return e2e.bot.config_path.parent / DATABASE


async def ask(e2e: Harness, question: str) -> Sent:
    fake = e2e.fake
    message = await fake.send_message(fake.mention_bot(question), author=e2e.new_member())
    return await fake.wait_for_reply(int(message["id"]))


async def kb(e2e: Harness, command: str, **options: object) -> Sent:
    fake = e2e.fake
    interaction = await fake.send_command(command, user=e2e.new_member(admin=True), **options)
    answer = await fake.wait_for_answer(interaction, timeout=20.0)
    assert answer.ephemeral, answer
    return answer


async def test_a_thumbs_down_and_an_abstention_reach_the_admin_views(e2e: Harness) -> None:
    fake = e2e.fake
    answered = await ask(e2e, LAISSEZ_PASSER)
    voter = e2e.new_member("voter")
    down = await fake.wait_for_answer(await fake.click(answered, custom_id=_vote_id(answered, "down"), user=voter))
    assert down.flags & EPHEMERAL and down.content.startswith("Thanks: 👎 recorded")
    reason = await fake.choose(down, ["wrong_article"], user=voter)
    await fake.wait_for_callback(reason)
    abstained = await ask(e2e, NEAR_MISS)
    assert abstained.embeds[0]["title"] == "I couldn't find that in my sources"

    unanswered = await kb(e2e, "kb unanswered", days=1)
    feedback = await kb(e2e, "kb feedback", days=1, csv=True)

    description = unanswered.embeds[0]["description"]
    assert re.search(r"\*\*1×\*\* .*unhcr", description), description  # its analysed terms (record_questions off)
    [rated] = feedback.embeds[0]["fields"]
    assert rated["name"].startswith("👍 0 👎 1, 1 wrong article · ijrc-iom-joins-un-system#")
    assert ART_11_SENTENCE in rated["value"]
    assert feedback.request.files == ["feedback.csv"]


async def test_without_record_questions_no_question_text_is_in_the_database(e2e: Harness) -> None:
    question = "Does UNHCR run the refugee camps in Bangladesh?"
    abstained = await ask(e2e, question)
    assert abstained.embeds[0]["title"] == "I couldn't find that in my sources"
    unanswered = await kb(e2e, "kb unanswered", days=1)  # answered after the row was written
    assert "bangladesh" in unanswered.embeds[0]["description"].lower()

    stored = b"".join(path.read_bytes() for path in database(e2e).parent.glob(DATABASE + "*"))

    assert stored, "no database file"
    for text in (question, NEAR_MISS, LAISSEZ_PASSER, "Bangladesh"):
        assert text.encode() not in stored, text


async def test_a_locked_database_delays_no_answer_and_is_reported_once(e2e: Harness) -> None:
    locker = sqlite3.connect(database(e2e), isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
    try:
        replies = await asyncio.gather(*(ask(e2e, LAISSEZ_PASSER) for _ in range(LOCKED_QUESTIONS)))
        await e2e.bot.wait_for_log(r"storage degraded, answers go on without it: .*database is locked")
        status = await kb(e2e, "kb status")
    finally:
        locker.execute("ROLLBACK")
        locker.close()

    assert all(f"> {ART_11_SENTENCE}" in reply.embeds[0]["description"] for reply in replies)
    fields = {item["name"]: item["value"] for item in status.embeds[0]["fields"]}
    assert fields["Storage"].startswith("degraded:") and "database is locked" in fields["Storage"]
    assert len([line for line in e2e.bot.lines if "storage degraded" in line]) == 1  # once, not per question


def _vote_id(message: Sent, vote: str) -> str:
    ids = [b.get("custom_id", "") for b in message.buttons]
    [found] = [i for i in ids if i.startswith("iom:v:") and i.endswith(f":{vote}")]
    return found
