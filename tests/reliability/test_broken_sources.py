"""Broken knowledge bases: `check` names the problem, `/kb reload` refuses it, the previous knowledge base answers.

Each case breaks a copy of the bundled sources in one way. In process: `iom-bot check` exits 2 with one line that
names the file and the problem, and a reload through the KnowledgeStore fails with that line while the very same
KnowledgeBase object keeps answering. End to end: an admin's `/kb reload` shows the same, and the bot process
answers a question from the previous version. A reload that is still building, or that fails, is never visible.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
import rigs
from fake_discord import FakeDiscord
from harness import BotProcess

import knowledge.documents
from bot import cli, render
from bot.store import KnowledgeStore, build_knowledge
from knowledge.base import BUNDLED_SOURCES, KnowledgeBase

QUESTION = "Can IOM staff travel on a UN laissez-passer?"
ART_11_SENTENCE = "It also affords IOM staff members entitlement to use a UN laissez-passer as a valid travel document."
SOURCE_FILE = "iom-joins-un-system.md"
BIG_BYTES = 50 * 1024 * 1024
DEEP = 1200  # brackets: past the interpreter's recursion limit of 1000 frames


@dataclass(frozen=True)
class Case:
    """One way to break a sources directory, and what the error must say."""

    id: str
    breaks: Callable[[Path], None]  # breaks the directory in place
    file: str  # the file the error names ("a.md|b.md": either)
    problem: str  # words of the problem, as the error says it

    def where(self, *, shown: bool = False) -> str:
        """A regex for how the error starts: the file's path (its name in Discord), and the line when known."""
        names = "|".join(re.escape(render.safe(name) if shown else name) for name in self.file.split("|"))
        folder = "" if shown else r"(?:/[^:\n]*/)?"  # the CLI and the log give the whole path
        return rf"{folder}(?:{names})(?::\d+)?: "


def write(name: str, data: bytes) -> Callable[[Path], None]:
    return lambda directory: (directory / name).write_bytes(data)


def duplicate(directory: Path) -> None:
    shutil.copyfile(directory / SOURCE_FILE, directory / "copy.md")  # same front-matter id


def huge(directory: Path) -> None:
    with (directory / "huge.md").open("wb") as handle:
        handle.truncate(BIG_BYTES)  # sparse: 50 MB on paper, nothing on disk, nothing read


def symlink_loop(directory: Path) -> None:
    os.symlink(directory / "b.md", directory / "a.md")
    os.symlink(directory / "a.md", directory / "b.md")


def alias_bomb(key: bytes) -> bytes:
    """A "billion laughs": nine levels of nine aliases, under 500 bytes, 9**8 strings once expanded."""
    levels = [b'&a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for name, previous in zip(b"bcdefgh", b"abcdefg", strict=True):
        levels.append(b"&%c [%s]" % (name, b",".join([b"*%c" % previous] * 9)))
    return key + b": [" + b", ".join(levels) + b"]\n"


def fifo(name: str) -> Callable[[Path], None]:
    def breaks(directory: Path) -> None:
        (directory / name).unlink(missing_ok=True)
        os.mkfifo(directory / name)

    return breaks


def link(name: str, target: str) -> Callable[[Path], None]:
    def breaks(directory: Path) -> None:
        (directory / name).unlink(missing_ok=True)
        os.symlink(target, directory / name)

    return breaks


def sparse(name: str, size: int) -> Callable[[Path], None]:
    def breaks(directory: Path) -> None:
        with (directory / name).open("wb") as handle:
            handle.truncate(size)

    return breaks


CASES = [
    Case("bad-front-matter", write("broken.md", b"---\nid: broken\ntitle: [unclosed\n---\nBody.\n"), "broken.md",
         "bad YAML in front matter"),
    Case("deep-front-matter", write("deep.md", b"---\ntitle: " + b"[" * DEEP + b"\n---\nBody.\n"), "deep.md",
         "nested too deeply"),
    Case("empty-file", write("empty.txt", b""), "empty.txt", "empty body"),
    Case("empty-markdown", write("empty.md", b""), "empty.md", "empty body"),
    Case("binary-file", write("photo.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "photo.md", "binary file"),
    Case("not-utf8", write("latin1.txt", "Titre\n\nL'OIM a été créée.\n".encode("latin-1")), "latin1.txt",
         "not UTF-8"),
    Case("duplicate-id", duplicate, SOURCE_FILE, "duplicate id 'ijrc-iom-joins-un-system' (also in copy.md)"),
    Case("50-MB-file", huge, "huge.md", f"too large ({BIG_BYTES:,} bytes"),
    Case("symlink-loop", symlink_loop, "a.md|b.md", "link"),  # whichever the directory lists first
    Case("no-sources-left", lambda d: (d / SOURCE_FILE).unlink(), "sources", "no source files"),
    Case("alias-bomb-id", write("bomb.md", b"---\n" + alias_bomb(b"id") + b"title: T\n---\nBody.\n"), "bomb.md",
         "anchors and aliases"),
    Case("alias-bomb-glossary", write("glossary.yaml", alias_bomb(b"terms")), "glossary.yaml",
         "anchors and aliases"),
    Case("fifo-glossary", fifo("glossary.yaml"), "glossary.yaml", "not a regular file"),
    Case("dev-zero-glossary", link("glossary.yaml", "/dev/zero"), "glossary.yaml", "leads out of the sources"),
    Case("200-MB-glossary", sparse("glossary.yaml", 200 * 1024 * 1024), "glossary.yaml", "too large"),
    Case("link-out", link("leak.txt", "/etc/passwd"), "leak.txt", "leads out of the sources directory"),
    Case("cr-only", write("mac.md", b"---\rid: mac\rtitle: Mac\r---\rBody.\r"), "mac.md", "carriage return"),
    Case("date", write("dated.md", b"---\nid: dated\ntitle: D\ndate: [2016-07-08]\n---\nBody.\n"), "dated.md",
         "'date' must be"),
]  # fmt: skip
IDS = [case.id for case in CASES]


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    return rigs.copy_sources(tmp_path / "sources")


def run_check(directory: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(["check", "--sources", str(directory)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# -- in process: check and the store -------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_check_names_the_file_and_the_problem_in_one_line(
    sources: Path, case: Case, capsys: pytest.CaptureFixture[str]
) -> None:
    case.breaks(sources)

    code, out, err = run_check(sources, capsys)

    assert code == 2, out
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert re.match(f"error: {case.where()}", err), err
    assert case.problem in err, err


@pytest.mark.parametrize("case", CASES, ids=IDS)
async def test_reload_refuses_and_the_same_knowledge_base_keeps_answering(sources: Path, case: Case) -> None:
    previous = KnowledgeBase.load(sources)
    store = KnowledgeStore(sources, knowledge=previous)
    case.breaks(sources)

    result = await store.reload("/kb reload by test")

    assert not result.ok
    assert result.error is not None and re.match(case.where(), result.error) and case.problem in result.error
    assert store.current is previous  # not a rebuilt copy, not a half-built one: the very object
    summary = render.reload_summary(result)
    assert re.match(f"Reload failed: {case.where(shown=True)}", summary), summary
    assert summary.endswith(f"The previous knowledge base (version `{previous.version}`) is still answering.")
    assert ART_11_SENTENCE in (store.current.answer(QUESTION).text or "")


def vanishing_listing(directory: Path, name: str) -> Callable[[Path], list[Path]]:
    """The loader's listing, with the file `name` deleted just after it was listed (a concurrent `rm` or editor)."""
    listing = knowledge.documents._source_paths

    def listed_then_deleted(path: Path) -> list[Path]:
        paths = list(listing(path))
        (directory / name).unlink()
        return paths

    return listed_then_deleted


async def test_a_file_that_disappears_mid_reload_is_named_and_the_old_version_answers(
    sources: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (sources / "extra.txt").write_text("Extra notes\n\nIOM has an office in Geneva.\n", encoding="utf-8")
    previous = KnowledgeBase.load(sources)
    store = KnowledgeStore(sources, knowledge=previous)
    monkeypatch.setattr(knowledge.documents, "_source_paths", vanishing_listing(sources, "extra.txt"))

    result = await store.reload("SIGHUP")

    assert not result.ok and result.error == "extra.txt: disappeared while loading"
    assert store.current is previous
    (sources / "extra.txt").write_text("Extra notes\n\nIOM has an office in Geneva.\n", encoding="utf-8")
    code, _, err = run_check(sources, capsys)
    assert code == 2 and err == f"error: {sources / 'extra.txt'}: disappeared while loading\n"


def test_a_deeply_nested_glossary_is_named(sources: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (sources / "glossary.yaml").write_bytes(b"terms: " + b"[" * DEEP + b"\n")

    code, _, err = run_check(sources, capsys)

    assert code == 2 and err.startswith(f"error: {sources / 'glossary.yaml'}: "), err


async def test_no_half_built_knowledge_base_is_ever_visible(sources: Path) -> None:
    """While a reload builds (held open here), and after it fails or succeeds, readers see one whole version."""
    previous = KnowledgeBase.load(sources)
    building, release = threading.Event(), threading.Event()

    def gated_build(directory: Path | None) -> KnowledgeBase:
        building.set()
        assert release.wait(10), "the test never released the build"
        return build_knowledge(directory)

    store = KnowledgeStore(sources, knowledge=previous, build=gated_build)
    seen: set[int] = set()

    async def read_until(done: asyncio.Future[object]) -> None:
        while not done.done():
            current = store.current
            seen.add(id(current))
            assert current.answer(QUESTION).text and current.passages[-1].doc_id in {d.id for d in current.documents}
            await asyncio.sleep(0)  # yield to the reload (the readers are the thing under test, not a wait)

    (sources / "extra.txt").write_text("Extra notes\n\nIOM has an office in Geneva.\n", encoding="utf-8")
    reload = asyncio.ensure_future(store.reload("first"))
    reader = asyncio.ensure_future(read_until(reload))
    await asyncio.to_thread(building.wait, 10)
    assert store.current is previous and store.reloading
    release.set()
    first = await reload
    await reader
    assert first.ok and store.current is not previous and len(store.current.documents) == 2
    assert seen <= {id(previous), id(store.current)}

    good = store.current
    building.clear()
    release.clear()
    (sources / "broken.md").write_bytes(b"---\ntitle: [unclosed\n---\nBody.\n")
    reload = asyncio.ensure_future(store.reload("second"))
    reader = asyncio.ensure_future(read_until(reload))
    await asyncio.to_thread(building.wait, 10)
    release.set()
    second = await reload
    await reader
    assert not second.ok and store.current is good and second.version == good.version


# -- end to end: /kb reload against the bot process ----------------------------------------------------------------


@dataclass
class Rig:
    fake: FakeDiscord
    bot: BotProcess
    sources: Path


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def rig(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Rig]:
    directory = tmp_path_factory.mktemp("broken")
    sources = rigs.copy_sources(directory / "sources")
    async with FakeDiscord() as fake:
        bot = await rigs.start(fake, directory, sources)
        try:
            yield Rig(fake, bot, sources)
        finally:
            await rigs.stop(bot)


@pytest.fixture
def restored(rig: Rig) -> Iterator[Path]:
    """The bot's sources directory, put back as bundled after the test."""
    yield rig.sources
    for path in rig.sources.iterdir():
        path.unlink()
    rigs.copy_sources(rig.sources)


async def reload_as_admin(rig: Rig) -> str:
    interaction = await rig.fake.send_command("kb reload", user=rig.fake.world.new_member("admin", admin=True))
    answer = await rig.fake.wait_for_answer(interaction)
    assert answer.ephemeral
    return answer.content


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("case", [c for c in CASES if c.id != "no-sources-left"], ids=lambda c: c.id)
async def test_kb_reload_refuses_broken_sources_and_the_bot_answers_from_the_previous_version(
    rig: Rig, restored: Path, case: Case
) -> None:
    serving = KnowledgeBase.load(BUNDLED_SOURCES).version
    case.breaks(restored)
    lines = len(rig.bot.lines)

    summary = await reload_as_admin(rig)

    assert re.match(f"Reload failed: {case.where(shown=True)}", summary), summary
    assert render.safe(case.problem) in summary, summary
    assert summary.endswith(f"The previous knowledge base (version `{serving}`) is still answering."), summary
    question = await rig.fake.send_message(rig.fake.mention_bot(QUESTION), author=rig.fake.world.new_member("asker"))
    reply = await rig.fake.wait_for_reply(int(question["id"]))
    assert f"> {ART_11_SENTENCE}" in reply.embeds[0]["description"]
    assert reply.embeds[0]["footer"]["text"].endswith(f"knowledge base {serving}")
    warning = await rigs.wait_for_line(rig.bot, r"WARNING +bot\.store: reload \(/kb reload by ", since=lines)
    assert re.search(f"still serving {serving}: {case.where()}", warning), warning
    assert "Traceback" not in "\n".join(rig.bot.lines[lines:])
    assert rig.bot.running


@pytest.mark.asyncio(loop_scope="module")
async def test_after_the_failures_a_good_reload_still_works(rig: Rig) -> None:
    summary = await reload_as_admin(rig)

    assert re.match(r"Reloaded the knowledge base: version `[0-9a-f]{12}` \(unchanged\)\.", summary), summary
    assert not [line for line in rig.bot.lines if "Traceback" in line]
