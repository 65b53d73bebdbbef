"""knowledge.build: the one way to make a knowledge base; a child process is sent the texts once."""

from __future__ import annotations

from pathlib import Path

import pytest

import knowledge
from knowledge import builder, persist
from knowledge.base import KnowledgeBase
from knowledge.indexing import index_texts

QUESTION = "Can IOM staff use the UN laissez-passer?"


def test_build_is_the_public_way(kb: KnowledgeBase) -> None:
    built = knowledge.build()
    assert built.version == kb.version
    assert built.answer(QUESTION).to_dict() == kb.answer(QUESTION).to_dict()


def test_a_child_is_sent_the_rows_texts_and_answers_like_this_process(
    kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[tuple[object, ...]] = []
    real = persist.build_in_child

    def spy(*args: object, **kwargs: object) -> persist.Built:
        sent.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(persist, "build_in_child", spy)
    built = knowledge.build(isolate=True)

    assert len(sent) == 1
    function, unit_texts, passage_texts, *_ = sent[0]
    assert function is builder.index_in_child  # it indexes what it is given: no path, nothing read or chunked
    assert (unit_texts, passage_texts) == index_texts(kb.passages)
    assert built.retriever.unit_index.vocabulary == kb.retriever.unit_index.vocabulary
    assert built.answer(QUESTION).to_dict() == kb.answer(QUESTION).to_dict()


def test_isolate_false_never_starts_a_child(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> persist.Built:
        raise AssertionError("a child process")

    monkeypatch.setattr(persist, "build_in_child", refuse)
    monkeypatch.setattr(builder, "CHILD_BUILD_BYTES", 1)
    assert knowledge.build(isolate=False).answer(QUESTION).text


def test_progress_says_each_stage(tmp_path: Path) -> None:
    lines: list[str] = []
    knowledge.build(index_dir=tmp_path / "index", progress=lines.append)
    assert lines[0].startswith("reading ") and "indexing 23 passages in this process" in lines
    assert lines[-2:] == [f"saving the index to {tmp_path / 'index'}", lines[-1]]
    assert lines[-1].startswith("built 23 passages in ")

    lines.clear()
    knowledge.build(index_dir=tmp_path / "index", progress=lines.append)
    assert "assembling the knowledge base" in lines and not any(line.startswith("indexing") for line in lines)


def test_progress_is_quiet_by_default_when_stderr_is_no_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(builder, "CHILD_BUILD_BYTES", 1)  # large enough to report, were stderr a terminal
    monkeypatch.setattr(builder, "_build_in_child", lambda *args: None)
    knowledge.build()
    assert capsys.readouterr().err == ""


def test_load_never_writes_the_index(tmp_path: Path) -> None:
    KnowledgeBase.load(index_dir=tmp_path / "index")
    assert not (tmp_path / "index").exists()


def test_warm_false_leaves_the_first_questions_one_off_work_to_them(monkeypatch: pytest.MonkeyPatch) -> None:
    warmed: list[object] = []
    monkeypatch.setattr(KnowledgeBase, "warm", lambda self: warmed.append(self))
    cold = knowledge.build(None, isolate=False, save=False, warm=False)
    assert warmed == []
    warm = knowledge.build(None, isolate=False, save=False)
    assert warmed == [warm]
    assert (
        cold.answer("Can IOM staff use the UN laissez-passer?").text
        == warm.answer("Can IOM staff use the UN laissez-passer?").text
    )
