"""A large knowledge base is indexed in a child process; the result answers exactly like an in-process build."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import store
from knowledge import builder, persist
from knowledge.base import KnowledgeBase
from knowledge.documents import SourceError

QUESTION = "Can IOM staff use the UN laissez-passer?"


def test_large_sources_are_indexed_in_a_child_process(
    sources_copy: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[tuple[object, ...]] = []
    real = persist.build_in_child

    def spy(*args: object, **kwargs: object):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(builder, "CHILD_BUILD_BYTES", 1)
    monkeypatch.setattr(persist, "build_in_child", spy)
    knowledge = store.build_knowledge(sources_copy)
    assert len(calls) == 1  # the child built it ...
    assert "building here" not in caplog.text  # ... and its indexes were taken, not rebuilt after a failure
    expected = KnowledgeBase.load(sources_copy)
    assert knowledge.answer(QUESTION).to_dict() == expected.answer(QUESTION).to_dict()
    assert knowledge.version == expected.version


def test_broken_large_sources_still_name_the_file(sources_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(builder, "CHILD_BUILD_BYTES", 1)
    (sources_copy / "broken.md").write_text("---\ntitle: [\n---\nx\n", encoding="utf-8")
    with pytest.raises(SourceError, match="broken.md"):
        store.build_knowledge(sources_copy)


def test_small_sources_are_indexed_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object):
        raise AssertionError("a child process for the bundled sources")

    monkeypatch.setattr(persist, "build_in_child", refuse)
    assert store.build_knowledge(None).answer(QUESTION).text
