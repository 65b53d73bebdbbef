"""The knowledge base's life in a server, end to end: checks gate a reload, force and rollback, named changes,
answers that know their version, buttons that survive a restart, "Why this answer?", /kb status and versions,
and message-menu answers that link back. The module has its own bot process (its sources directory is edited);
every test leaves the sources and the serving version as it found them."""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from fake_discord import EPHEMERAL, Sent
from harness import Harness, start_bot

pytestmark = pytest.mark.asyncio(loop_scope="module")

SOURCE_FILE = "iom-joins-un-system.md"
LAISSEZ_PASSER = "Can IOM staff travel on a UN laissez-passer?"
ART_11_SENTENCE = "It also affords IOM staff members entitlement to use a UN laissez-passer as a valid travel document."
ART_10_CITATION = " See id. at art. 10."
LOREM = "Lorem ipsum\n\nLorem ipsum dolor sit amet, consectetur adipiscing elit.\n"
IJRC_URL = "https://ijrcenter.org/2016/08/09/international-organization-for-migration-to-join-united-nations-system/"
ABSTENTION = "I couldn't find that in my sources"


def field(sent: Sent, name: str) -> str:
    for embed in sent.embeds:
        for item in embed.get("fields") or []:
            if item["name"] == name:
                return item["value"]
    raise AssertionError(f"no embed field {name!r} in {sent}")


@pytest_asyncio.fixture(loop_scope="module")
async def sources(e2e: Harness) -> AsyncIterator[Path]:
    """The bot's sources directory; afterwards it is put back and the original version serves again."""
    directory = e2e.bot.sources
    saved = {path.name: path.read_bytes() for path in directory.iterdir()}
    serving = (await status(e2e))["Version"]
    yield directory
    for path in directory.iterdir():
        if path.name not in saved:
            path.unlink()
    for name, data in saved.items():
        (directory / name).write_bytes(data)
    if (await status(e2e))["Version"] != serving:
        content, _ = await kb(e2e, "kb reload")
        assert serving.strip("`") in content, content


async def kb(e2e: Harness, command: str, **options: object) -> tuple[str, Sent]:
    """Run a /kb command as a fresh admin: the ephemeral text they see, and the whole message."""
    fake = e2e.fake
    interaction = await fake.send_command(command, user=e2e.new_member(admin=True), **options)
    answer = await fake.wait_for_answer(interaction, timeout=30.0)
    assert answer.ephemeral, answer
    return answer.content, answer


async def status(e2e: Harness) -> dict[str, str]:
    _, sent = await kb(e2e, "kb status")
    return {item["name"]: item["value"] for item in sent.embeds[0]["fields"]}


async def ask(e2e: Harness, question: str = LAISSEZ_PASSER) -> Sent:
    fake = e2e.fake
    message = await fake.send_message(fake.mention_bot(question), author=e2e.new_member())
    return await fake.wait_for_reply(int(message["id"]))


def lorem(directory: Path) -> None:
    (directory / SOURCE_FILE).unlink()
    (directory / "lorem.txt").write_text(LOREM, encoding="utf-8")


def edit_article(directory: Path, old: str, new: str) -> None:
    """An admin's own edit of the article (its body_sha256 no longer applies, so it goes)."""
    path = directory / SOURCE_FILE
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(re.sub(r"(?m)^body_sha256: .*\n", "", text.replace(old, new)), encoding="utf-8")


async def test_a_lorem_reload_is_refused_with_the_failing_checks_named(e2e: Harness, sources: Path) -> None:
    before = await ask(e2e)
    lorem(sources)

    content, sent = await kb(e2e, "kb reload")

    assert content.startswith("Reload failed: the new version failed its checks"), content
    assert "answers none of the" in content
    assert sent.embeds[0]["title"] == "Refused: the new version failed its checks"
    assert LAISSEZ_PASSER in field(sent, "Failing checks")
    after = await ask(e2e)
    assert f"> {ART_11_SENTENCE}" in after.embeds[0]["description"]
    assert after.embeds[0]["footer"]["text"] == before.embeds[0]["footer"]["text"]  # the same version answers


async def test_a_forced_reload_goes_through_and_rollback_restores_answers(e2e: Harness, sources: Path) -> None:
    good = (await status(e2e))["Version"].strip("`")
    lorem(sources)

    forced, sent = await kb(e2e, "kb reload", force=True)
    during = await ask(e2e)
    rolled, _ = await kb(e2e, "kb rollback")
    after = await ask(e2e)

    assert forced.startswith("Reloaded the knowledge base"), forced
    assert "Forced past the checks" in sent.embeds[0]["description"]
    assert during.embeds[0]["title"] == ABSTENTION
    assert rolled.startswith(f"Rolled back the knowledge base: version `{good}`"), rolled
    assert f"> {ART_11_SENTENCE}" in after.embeds[0]["description"]
    assert after.embeds[0]["footer"]["text"].endswith(f"knowledge base {good}")
    line = await e2e.bot.wait_for_log(r"forced past the checks")
    assert "/kb reload force:true by " in line and "(#" in line  # who forced it, by name and a hashed id


async def test_a_reload_names_the_changed_document_and_article(e2e: Harness, sources: Path) -> None:
    edit_article(sources, ART_10_CITATION, "")

    content, sent = await kb(e2e, "kb reload")

    assert content.startswith("Reloaded the knowledge base"), content
    changes = field(sent, "Changes")
    assert "Documents changed: ijrc\\-iom\\-joins\\-un\\-system" in changes or "ijrc-iom-joins-un-system" in changes
    assert "Sections changed:" in changes and "Details of the Agreement" in changes
    assert "art. 10 of 2016 Agreement (A/70/976): 1 -> 0 citing sentences" in changes
    assert "Answers to the checks that changed: 0" in changes


async def test_show_passage_on_an_answer_from_an_older_version_says_the_passage_changed(
    e2e: Harness, sources: Path
) -> None:
    fake = e2e.fake
    old = await ask(e2e)
    old_version = old.embeds[0]["footer"]["text"].rsplit(" ", 1)[-1]
    edit_article(sources, ART_10_CITATION, "")
    content, _ = await kb(e2e, "kb reload")
    assert content.startswith("Reloaded the knowledge base"), content

    click = await fake.click(old, "Show passage", user=e2e.new_member())
    shown = await fake.wait_for_answer(click)

    assert shown.ephemeral
    assert f"This answer came from knowledge-base version `{old_version}`" in shown.content
    assert "Its passage has changed since; this is the current text." in shown.content
    assert ART_11_SENTENCE in shown.embeds[0]["description"]
    assert "art. 10." not in shown.embeds[0]["description"]  # the current passage, not the old one
    edited = await fake.wait_until(
        lambda: fake.messages[old.id] if "Out of date" in fake.messages[old.id]["content"] else None,
        "the old answer to be marked out of date",
    )
    assert edited["embeds"] == old.embeds  # the answer itself stays; a line above it says it is out of date


async def test_why_this_answer_is_private_and_shows_the_evidence(e2e: Harness) -> None:
    fake = e2e.fake
    reply = await ask(e2e)

    click = await fake.click(reply, "Why this answer?", user=e2e.new_member())
    why = await fake.wait_for_answer(click)

    assert why.flags & EPHEMERAL
    embed = why.embeds[0]
    assert embed["title"] == "Why this answer?"
    assert re.search(r"Confidence that the quoted sentence answers it: \d+%", embed["description"])
    assert "laissez" in field(why, "Matched words") and "laissez passer" in field(why, "Glossary concepts")
    assert any(item["name"].startswith("Runner-up (") for item in embed["fields"])
    assert ART_11_SENTENCE in field(why, "Passage")
    assert field(why, "Asked before, answered with this sentence").startswith("• ")  # the bundled examples


async def test_links_to_the_article_and_the_instrument(e2e: Harness) -> None:
    reply = await ask(e2e)

    assert f"]({IJRC_URL})" in field(reply, "Source")
    assert "(https://undocs.org/A/70/976)" in field(reply, "Agreement article")


async def test_status_and_versions(e2e: Harness) -> None:
    await ask(e2e)

    fields = await status(e2e)
    _, versions = await kb(e2e, "kb versions")

    assert re.fullmatch(r"iom-bot \S+, up \d+h \d+m \d+s", fields["Bot"])
    assert re.fullmatch(r"\d+ \(\d+ abstentions\)", fields["Answers since start"])
    assert int(fields["Answers since start"].split()[0]) >= 1
    assert re.fullmatch(r"p50 \d+\.\d ms, p95 \d+\.\d ms", fields["Answer latency"])
    assert re.fullmatch(r"\d+ ms|unknown", fields["Gateway latency"])
    assert fields["Scorer"] in ("compiled (numba)", "numpy")
    assert fields["Saved index"].startswith("not configured")
    assert re.fullmatch(r"\d+/\d+ checks passed", fields["Checks of the serving version"])
    serving = fields["Version"].strip("`")
    names = [item["name"] for item in versions.embeds[0]["fields"]]
    assert f"{serving} (serving)" in names
    assert "checks passed" in versions.embeds[0]["fields"][names.index(f"{serving} (serving)")]["value"]


async def test_a_message_menu_answer_links_back_to_the_message(e2e: Harness) -> None:
    fake = e2e.fake
    target = await fake.send_message(LAISSEZ_PASSER, author=e2e.new_member("asker"))

    interaction = await fake.send_message_command("Ask IOM bot", target, user=e2e.new_member("helper"))
    answer = await fake.wait_for_answer(interaction)

    link = f"https://discord.com/channels/{fake.world.guild_id}/{target['channel_id']}/{target['id']}"
    assert field(answer, "Answering") == f"[this message]({link})"


async def test_a_click_after_a_restart_still_works(tmp_path: Path) -> None:
    from fake_discord import FakeDiscord

    async with FakeDiscord() as fake:
        first = await start_bot(fake, tmp_path / "first")
        e2e = Harness(fake, first)
        try:
            reply = await ask(e2e)
        finally:
            assert await first.terminate() == 0
        sources = tmp_path / "sources"
        shutil.copytree(first.sources, sources)
        second = await start_bot(fake, tmp_path / "second", sources)
        try:
            click = await fake.click(reply, "Show passage", user=e2e.new_member())
            shown = await fake.wait_for_answer(click)
            why = await fake.wait_for_answer(await fake.click(reply, "Why this answer?", user=e2e.new_member()))
        finally:
            await second.terminate()

    assert shown.ephemeral and ART_11_SENTENCE in shown.embeds[0]["description"]
    assert "This answer came from" not in shown.content  # same sources, same version: nothing to warn about
    assert why.embeds[0]["title"] == "Why this answer?"
