"""knowledge.index: a saved index that matches the sources is loaded; any other is ignored, rebuilt and rewritten."""

from __future__ import annotations

import gc
import logging
import sys
import weakref
from pathlib import Path

import pytest

from bot import background
from bot.store import KnowledgeStore, build_knowledge
from knowledge import builder, persist
from knowledge.base import KnowledgeBase, Sources
from knowledge.index import TERMS_FILE

QUESTION = "Can IOM staff use the UN laissez-passer?"
EDITED_SOURCE = "Field notes\n\nIOM opened a new office in Geneva to coordinate its migration statistics work.\n"


@pytest.fixture
def assembled(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """For each knowledge base the store assembles: whether it was given ready indexes (True) or indexed them."""
    calls: list[bool] = []
    real = KnowledgeBase.assemble.__func__  # type: ignore[attr-defined]

    def spy(cls: type[KnowledgeBase], sources: Sources, indexes: object = None, **kwargs: object) -> KnowledgeBase:
        calls.append(indexes is not None)
        return real(cls, sources, indexes, **kwargs)

    monkeypatch.setattr(KnowledgeBase, "assemble", classmethod(spy))
    return calls


async def test_start_up_uses_a_saved_index_that_matches(
    sources_copy: Path, tmp_path: Path, assembled: list[bool], caplog: pytest.LogCaptureFixture
) -> None:
    index = tmp_path / "index"
    KnowledgeBase.load(sources_copy).save_index(index)
    written = {path.name: path.stat().st_mtime_ns for path in index.rglob("*")}
    caplog.set_level(logging.INFO, logger="knowledge.builder")
    assembled.clear()

    knowledge = await KnowledgeStore(sources_copy, index=index).load()

    assert assembled == [True]  # the saved indexes were taken, nothing was indexed
    assert "matches the sources" in caplog.text
    assert {path.name: path.stat().st_mtime_ns for path in index.rglob("*")} == written  # and not rewritten
    assert knowledge.answer(QUESTION).to_dict() == KnowledgeBase.load(sources_copy).answer(QUESTION).to_dict()


async def test_a_missing_index_directory_is_built_and_saved_at_start_up(
    sources_copy: Path, tmp_path: Path, assembled: list[bool], caplog: pytest.LogCaptureFixture
) -> None:
    index = tmp_path / "state" / "index"  # neither exists yet
    caplog.set_level(logging.INFO, logger="knowledge.builder")

    knowledge = await KnowledgeStore(sources_copy, index=index).load()
    again = await KnowledgeStore(sources_copy, index=index).load()

    assert assembled == [False, True]  # indexed once, then the saved index was used
    assert knowledge.saved_index_matches(index) is True
    assert f"saved the index to {index}" in caplog.text
    assert again.answer(QUESTION).text == knowledge.answer(QUESTION).text


async def test_an_index_of_other_sources_is_ignored_rebuilt_and_rewritten(
    sources_copy: Path, tmp_path: Path, assembled: list[bool], caplog: pytest.LogCaptureFixture
) -> None:
    index = tmp_path / "index"
    KnowledgeBase.load(sources_copy).save_index(index)
    (sources_copy / "field-notes.txt").write_text(EDITED_SOURCE, encoding="utf-8")
    caplog.set_level(logging.INFO)
    assembled.clear()

    knowledge = await KnowledgeStore(sources_copy, index=index).load()

    assert assembled == [False]
    assert "built from other sources" in caplog.text
    assert "Geneva" in (knowledge.answer("Where did IOM open a new office?").text or "")
    assert knowledge.saved_index_matches(index) is True  # rewritten for the sources as they are now


@pytest.mark.parametrize(
    ("damage", "warning"),
    [
        (lambda index: (index / persist.MANIFEST).write_text("{not json", encoding="utf-8"), "unreadable"),
        (lambda index: (index / "units" / "data.npy").write_bytes(b"\x93NUMPY garbage"), "is damaged"),
        (lambda index: (index / "passages" / TERMS_FILE).write_text("too\nfew\n", encoding="utf-8"), "is damaged"),
    ],
    ids=["manifest", "array", "terms"],
)
async def test_a_damaged_index_is_ignored_with_a_warning_and_replaced(
    sources_copy: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture, damage, warning: str
) -> None:
    index = tmp_path / "index"
    KnowledgeBase.load(sources_copy).save_index(index)
    damage(index)
    caplog.set_level(logging.INFO)

    knowledge = await KnowledgeStore(sources_copy, index=index).load()

    assert any(r.levelno == logging.WARNING and warning in r.getMessage() for r in caplog.records), caplog.text
    assert knowledge.answer(QUESTION).text and "laissez-passer" in knowledge.answer(QUESTION).text
    assert knowledge.saved_index_matches(index) is True


async def test_reload_rewrites_the_index_for_the_new_sources(sources_copy: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    holder = KnowledgeStore(sources_copy, index=index)
    await holder.load()
    (sources_copy / "field-notes.txt").write_text(EDITED_SOURCE, encoding="utf-8")

    result = await holder.reload("test")

    assert result.ok and result.added >= 1
    assert holder.current.saved_index_matches(index) is True
    assert "Geneva" in (holder.current.answer("Where did IOM open a new office?").text or "")


async def test_a_reload_with_unchanged_sources_loads_the_index(
    sources_copy: Path, tmp_path: Path, assembled: list[bool]
) -> None:
    holder = KnowledgeStore(sources_copy, index=tmp_path / "index")
    await holder.load()

    result = await holder.reload("test")

    assert result.ok and (result.added, result.removed, result.changed) == (0, 0, 0)
    assert assembled == [False, True]


@pytest.mark.parametrize("where", ["under a file", "over other files"])
async def test_an_index_that_cannot_be_written_is_a_warning_not_a_failure(
    sources_copy: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture, where: str
) -> None:
    if where == "under a file":
        (tmp_path / "plain-file").write_text("x", encoding="utf-8")
        index = tmp_path / "plain-file" / "index"
    else:
        index = tmp_path / "notes"
        index.mkdir()
        (index / "keep-me.txt").write_text("precious", encoding="utf-8")
    caplog.set_level(logging.INFO)

    knowledge = await KnowledgeStore(sources_copy, index=index).load()

    assert knowledge.answer(QUESTION).text
    assert any(r.levelno == logging.WARNING and "could not save the index" in r.getMessage() for r in caplog.records)
    if where == "over other files":
        assert (index / "keep-me.txt").read_text(encoding="utf-8") == "precious"  # never replaced


def test_a_large_build_saves_the_index_from_the_child_process(
    sources_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, assembled: list[bool]
) -> None:
    monkeypatch.setattr(builder, "CHILD_BUILD_BYTES", 1)
    index = tmp_path / "index"

    built = build_knowledge(sources_copy, index)
    monkeypatch.setattr(persist, "build_in_child", _refuse)
    loaded = build_knowledge(sources_copy, index)

    assert assembled == [True, True]  # the child's indexes, then the ones it saved
    assert loaded.answer(QUESTION).to_dict() == built.answer(QUESTION).to_dict()


def test_a_child_build_that_times_out_fails_instead_of_building_here(
    sources_copy: Path, monkeypatch: pytest.MonkeyPatch, assembled: list[bool]
) -> None:
    def too_slow(*args: object, timeout: float | None = None, **kwargs: object) -> persist.Built:
        raise TimeoutError(f"the index build took longer than {timeout:g} s")

    monkeypatch.setattr(builder, "CHILD_BUILD_BYTES", 1)
    monkeypatch.setattr(persist, "build_in_child", too_slow)

    with pytest.raises(TimeoutError, match=r"^the build took longer than \d+ s"):
        build_knowledge(sources_copy, timeout_s=30)
    assert assembled == []  # not indexed here after all: that would take longer still


def test_the_time_allowed_grows_with_the_sources() -> None:
    assert builder.timeout_for(0) == builder.BUILD_TIMEOUT_S
    assert builder.timeout_for(70_000_000) > builder.timeout_for(2_000_000) > builder.BUILD_TIMEOUT_S
    assert builder.build_timeout() == builder.timeout_for(builder.source_bytes(builder.BUNDLED_SOURCES))


def test_a_build_runs_without_collections_and_with_a_short_switch_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[bool, float]] = []
    real = KnowledgeBase.assemble.__func__  # type: ignore[attr-defined]

    def spy(cls: type[KnowledgeBase], *args: object, **kwargs: object) -> KnowledgeBase:
        seen.append((gc.isenabled(), sys.getswitchinterval()))
        return real(cls, *args, **kwargs)

    monkeypatch.setattr(KnowledgeBase, "assemble", classmethod(spy))
    interval = sys.getswitchinterval()

    build_knowledge(None)

    assert seen == [(False, background.SWITCH_INTERVAL_S)]
    assert gc.isenabled() and sys.getswitchinterval() == interval


@pytest.mark.parametrize("fails", [False, True])
def test_collections_and_the_switch_interval_are_back_after_a_build(sources_copy: Path, fails: bool) -> None:
    if fails:
        (sources_copy / "broken.md").write_text("---\ntitle: [\n---\nx\n", encoding="utf-8")
    interval = sys.getswitchinterval()
    try:
        build_knowledge(sources_copy)
    except ValueError:
        assert fails
    assert gc.isenabled() and sys.getswitchinterval() == interval


def _refuse(*args: object, **kwargs: object) -> persist.Built:
    raise AssertionError("indexed in a child process although a matching index was saved")


class Leaf:
    """Something a weak reference can watch."""

    def __init__(self, child: object = None) -> None:
        self.child = child


def test_release_gradually_frees_everything_only_it_holds() -> None:
    leaf = Leaf()
    watched = weakref.ref(leaf)
    big = {f"key {n}": [n, (n, str(n))] for n in range(3 * background.RELEASE_STEP)}
    box: list[object] = [{"big": big, "tuples": ((leaf,),) * 3, "set": frozenset(range(background.RELEASE_STEP + 1))}]
    del leaf, big

    background.release_gradually(box)

    assert box == [] and watched() is None


def test_release_gradually_leaves_what_others_hold_intact() -> None:
    shared = [1, 2, 3]
    kept = Leaf(child=Leaf(child=[shared]))
    box: list[object] = [(shared, [shared, kept], {"kept": kept})]

    background.release_gradually(box)

    assert shared == [1, 2, 3]
    assert isinstance(kept.child, Leaf) and kept.child.child == [[1, 2, 3]]


async def test_a_reload_frees_the_old_knowledge_base_without_harming_one_still_in_use(sources_copy: Path) -> None:
    holder = KnowledgeStore(sources_copy, knowledge=KnowledgeBase.load(sources_copy))
    in_use = holder.current  # as a question in flight holds it
    expected = in_use.answer(QUESTION).to_dict()
    released = KnowledgeStore(sources_copy, knowledge=KnowledgeBase.load(sources_copy))
    watched = weakref.ref(released.current.retriever.indexes()["units"].idf)

    assert (await holder.reload("test")).ok and (await released.reload("test")).ok
    await holder.wait_released()
    await released.wait_released()

    assert in_use.answer(QUESTION).to_dict() == expected  # let go of, never taken apart
    assert watched() is None  # freed: nothing else held it
