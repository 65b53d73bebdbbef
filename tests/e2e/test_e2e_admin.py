"""/kb reload, end to end: refused to members, a summary for admins, and a corrupt source never replaces the
knowledge base that is answering. The module has its own bot process (its sources directory is edited)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_discord import CALLBACK_DEFERRED_MESSAGE, EPHEMERAL
from harness import Harness

pytestmark = pytest.mark.asyncio(loop_scope="module")

SOURCE_FILE = "iom-joins-un-system.md"
LAISSEZ_PASSER = "Can IOM staff travel on a UN laissez-passer?"
ART_11_SENTENCE = "It also affords IOM staff members entitlement to use a UN laissez-passer as a valid travel document."
SUMMARY = re.compile(
    r"Reloaded the knowledge base: version `[0-9a-f]{12}` \((unchanged|was `[0-9a-f]{12}`)\)\.\n"
    r"(\d+) documents, (\d+) passages; since the previous version \d+ added, \d+ removed, \d+ changed\. "
    r"Built in \d+\.\d\d s\."
)


@pytest.fixture
def restore_sources(e2e: Harness) -> Iterator[Path]:
    """The bot's sources directory; whatever a test changes there is put back afterwards."""
    sources = e2e.bot.sources
    saved = {path.name: path.read_bytes() for path in sources.iterdir()}
    yield sources
    for path in sources.iterdir():
        if path.name not in saved:
            path.unlink()
    for name, data in saved.items():
        (sources / name).write_bytes(data)


async def reload_as(e2e: Harness, *, admin: bool) -> str:
    """Run /kb reload as a fresh admin or member; the ephemeral text they see."""
    fake = e2e.fake
    interaction = await fake.send_command("kb reload", user=e2e.new_member(admin=admin))
    answer = await fake.wait_for_answer(interaction)
    assert answer.ephemeral, answer
    return answer.content


async def test_member_cannot_reload(e2e: Harness) -> None:
    fake = e2e.fake
    interaction = await fake.send_command("kb reload", user=e2e.new_member())

    answer = await fake.wait_for_answer(interaction)

    assert answer.kind == "response"  # refused at once: a reload would have deferred ("thinking...") first
    assert answer.flags & EPHEMERAL
    assert answer.content == "Only admins can use this command."
    assert [c.json["type"] for c in interaction.callbacks] == [4]


async def test_admin_reload_succeeds_with_summary(e2e: Harness) -> None:
    fake = e2e.fake
    interaction = await fake.send_command("kb reload", user=e2e.new_member(admin=True))

    answer = await fake.wait_for_answer(interaction)

    callback = interaction.callbacks[0]
    assert callback.json["type"] == CALLBACK_DEFERRED_MESSAGE  # "thinking..." first: a reload may take a while
    assert callback.json["data"]["flags"] & EPHEMERAL
    assert answer.ephemeral
    match = SUMMARY.fullmatch(answer.content)
    assert match, answer.content
    assert int(match.group(2)) >= 1 and int(match.group(3)) >= 1


async def test_admin_reload_picks_up_a_new_document(e2e: Harness, restore_sources: Path) -> None:
    (restore_sources / "iom-headquarters.txt").write_text(
        "Where IOM works from\n\nThe headquarters of IOM are in the city of Geneva in Switzerland.\n", encoding="utf-8"
    )

    summary = await reload_as(e2e, admin=True)

    assert SUMMARY.fullmatch(summary), summary
    assert "2 documents" in summary
    fake = e2e.fake
    question = await fake.send_message(fake.mention_bot("Where are the headquarters of IOM?"), author=e2e.new_member())
    reply = await fake.wait_for_reply(int(question["id"]))
    assert "Geneva" in reply.embeds[0]["description"]


@pytest.mark.parametrize(
    "corrupt, problem",
    [
        (b"---\nid: broken\ntitle: [unclosed\n---\nbody\n", "bad YAML in front matter"),
        (b"\xff\xfe not text at all", "not UTF-8"),
    ],
    ids=["bad-front-matter", "not-utf8"],
)
async def test_corrupt_source_is_refused_and_old_knowledge_keeps_answering(
    e2e: Harness, restore_sources: Path, corrupt: bytes, problem: str
) -> None:
    (restore_sources / SOURCE_FILE).write_bytes(corrupt)

    summary = await reload_as(e2e, admin=True)

    assert summary.startswith("Reload failed: "), summary
    assert SOURCE_FILE in summary and problem in summary
    serving = re.search(r"The previous knowledge base \(version `([0-9a-f]{12})`\) is still answering\.", summary)
    assert serving, summary
    fake = e2e.fake
    question = await fake.send_message(fake.mention_bot(LAISSEZ_PASSER), author=e2e.new_member())
    reply = await fake.wait_for_reply(int(question["id"]))
    assert f"> {ART_11_SENTENCE}" in reply.embeds[0]["description"]
    assert reply.embeds[0]["footer"]["text"].endswith(f"knowledge base {serving.group(1)}")
    assert e2e.bot.running
