"""Concurrency: ten reloads at once and questions during them. Reloads run one at a time; every answer comes from
one whole knowledge base (the old or the new version, never a mix); nothing fails.

Two versions of the sources tell apart by a document: "Archive notes A" says the archive is in Geneva, "Archive
notes B" says Lisbon. An answer is consistent when the sentence it quotes, the title it cites and the version in its
footer all belong to the same version.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
import rigs
from fake_discord import FakeDiscord, Sent
from harness import BotProcess

from bot.store import KnowledgeStore, build_knowledge
from knowledge.base import KnowledgeBase

pytestmark = pytest.mark.asyncio(loop_scope="module")

QUESTION = "Where is the IOM archive kept?"
RELOADS = 10
QUESTIONS = 200
RELOAD_LOG = re.compile(r"reload \(/kb reload by .*\): version ([0-9a-f]{12}) -> ([0-9a-f]{12}), ")
SUMMARY = re.compile(r"Reloaded the knowledge base: version `([0-9a-f]{12})` \((?:unchanged|was `([0-9a-f]{12})`)\)\.")


@dataclass(frozen=True)
class Variant:
    title: str
    sentence: str

    @property
    def text(self) -> str:
        return f"{self.title}\n\n{self.sentence}\n"


VARIANTS = (
    Variant("Archive notes A", "The IOM archive of the alpha edition is kept in Geneva, in the north wing."),
    Variant("Archive notes B", "The IOM archive of the beta edition is kept in Lisbon, in the harbour building."),
)


def put(sources: Path, variant: Variant) -> None:
    """Switch the sources to variant in one step (a reload reads the old file or the new one, never half)."""
    staged = sources.parent / "archive.txt.new"
    staged.write_text(variant.text, encoding="utf-8")
    os.replace(staged, sources / "archive.txt")


def versions(tmp_path: Path, *, bundled: bool = True) -> dict[str, Variant]:
    """The knowledge-base version of the sources (the bundled ones, or none) with each variant in place."""
    found = {}
    for variant in VARIANTS:
        sources = tmp_path / variant.title.replace(" ", "-")
        sources.mkdir()
        if bundled:
            rigs.copy_sources(sources)
        put(sources, variant)
        found[KnowledgeBase.load(sources).version] = variant
    assert len(found) == len(VARIANTS)
    return found


# -- the store, in process -----------------------------------------------------------------------------------------


async def test_reloads_run_one_at_a_time_and_readers_see_whole_versions(tmp_path: Path) -> None:
    by_version = versions(tmp_path, bundled=False)  # the variant alone: a build takes milliseconds
    sources = tmp_path / "sources"
    sources.mkdir()
    put(sources, VARIANTS[0])
    running, overlaps, builds = 0, 0, itertools.count()
    guard = threading.Lock()

    def build(directory: Path | None) -> KnowledgeBase:
        nonlocal running, overlaps
        with guard:
            running += 1
            overlaps += running > 1
        try:
            assert directory is not None
            put(directory, VARIANTS[(next(builds) + 1) % 2])  # B, A, B, ...: each build reads the other variant
            return build_knowledge(directory)
        finally:
            with guard:
                running -= 1

    store = KnowledgeStore(sources, knowledge=KnowledgeBase.load(sources), build=build)

    async def ask() -> tuple[str, str | None]:
        knowledge = store.current
        return knowledge.version, knowledge.answer(QUESTION).text

    reloads = asyncio.gather(*(store.reload(f"reload {n}") for n in range(RELOADS)))
    answers = []
    while not reloads.done() or len(answers) < QUESTIONS:
        answers.append(await ask())
        await asyncio.sleep(0)  # one question per turn of the loop: the reloads take theirs in between
    finished = sorted(reloads.result(), key=lambda result: result.finished_at)

    assert overlaps == 0
    assert all(result.ok for result in finished), [r.error for r in finished]
    for earlier, later in itertools.pairwise(finished):
        assert later.previous_version == earlier.version  # one after the other: each starts from the last swap
    assert {result.version for result in finished} == set(by_version)
    assert store.current.version == finished[-1].version and store.last_reload == finished[-1]
    for version, text in answers:
        assert text == by_version[version].sentence, (version, text)
    assert len({version for version, _ in answers}) >= 2, "no question was asked while reloads were running"


# -- the bot process -----------------------------------------------------------------------------------------------


@dataclass
class Rig:
    fake: FakeDiscord
    bot: BotProcess
    sources: Path
    by_version: dict[str, Variant]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def rig(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Rig]:
    directory = tmp_path_factory.mktemp("concurrency")
    by_version = versions(directory)
    sources = rigs.copy_sources(directory / "sources")
    put(sources, VARIANTS[0])
    async with FakeDiscord() as fake:
        bot = await rigs.start(fake, directory, sources)
        try:
            yield Rig(fake, bot, sources, by_version)
        finally:
            await rigs.stop(bot)


def check_consistent(reply: Sent, by_version: dict[str, Variant]) -> str:
    """The version that answered; fails unless the quote, the cited title and the footer agree on it."""
    embed = reply.embeds[0]
    version = embed["footer"]["text"].rsplit(" ", 1)[-1]
    assert version in by_version, embed["footer"]
    variant = by_version[version]
    assert f"> {variant.sentence}" in embed["description"], (version, embed["description"])
    source = next(f["value"] for f in embed["fields"] if f["name"] == "Source")
    assert variant.title in source, (version, source)
    others = [v for v in by_version.values() if v is not variant]
    assert not any(other.sentence in reply.text or other.title in reply.text for other in others), reply.text
    return version


async def test_ten_reloads_and_200_questions_at_once(rig: Rig) -> None:
    fake = rig.fake
    since = len(rig.bot.lines)
    initial = next(v for v, variant in rig.by_version.items() if variant is VARIANTS[0])
    put(rig.sources, VARIANTS[1])

    async def flip_after_each_reload() -> None:
        """Change the sources after every reload, so that the versions the reloads read keep changing."""
        for count in range(1, RELOADS):
            await rigs.wait_for_lines(rig.bot, RELOAD_LOG.pattern, since=since, count=count, timeout=60)
            put(rig.sources, VARIANTS[(count + 1) % 2])

    flipper = asyncio.ensure_future(flip_after_each_reload())
    reloads, questions = [], []
    per_reload = QUESTIONS // RELOADS
    for _ in range(RELOADS):  # interleaved, as they would arrive from a busy server
        reloads.append(await fake.send_command("kb reload", user=fake.world.new_member("admin", admin=True)))
        for _ in range(per_reload):
            questions.append(await fake.send_message(fake.mention_bot(QUESTION), author=fake.world.new_member("m")))

    summaries = await asyncio.gather(*(fake.wait_for_answer(i, timeout=60) for i in reloads))
    replies = await asyncio.gather(*(fake.wait_for_reply(int(q["id"]), timeout=60) for q in questions))
    await asyncio.wait_for(flipper, 30)

    for summary in summaries:
        assert summary.ephemeral and SUMMARY.match(summary.content), summary.content
    chain = [RELOAD_LOG.search(line) for line in rig.bot.lines[since:]]
    chain = [(m.group(1), m.group(2)) for m in chain if m]
    assert len(chain) == RELOADS
    assert chain[0][0] == initial
    for (_, after), (before, _) in itertools.pairwise(chain):
        assert before == after, f"two reloads started from the same version: {chain}"
    assert {v for pair in chain for v in pair} <= set(rig.by_version)

    answered_by = [check_consistent(reply, rig.by_version) for reply in replies]
    assert len(replies) == QUESTIONS
    last_reload_done = max(s.request.received_at for s in summaries)
    assert min(r.request.received_at for r in replies) < last_reload_done, "no question was answered mid-reload"
    assert set(answered_by) <= set(rig.by_version)
    assert rigs.problems(rig.bot, since) == []
    assert rig.bot.running
