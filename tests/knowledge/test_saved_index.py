"""A saved index is used only for the sources it was built from; anything else is indexed anew."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from knowledge import persist
from knowledge.base import KnowledgeBase

QUESTIONS = ["Can IOM staff use the UN laissez-passer?", "What does Article 15 provide?", "wen is the summit"]


def test_saved_index_answers_exactly_like_a_fresh_build(kb: KnowledgeBase, tmp_path: Path) -> None:
    kb.save_index(tmp_path / "index")
    loaded = KnowledgeBase.load(index_dir=tmp_path / "index")
    assert persist.read_metadata(tmp_path / "index") == kb.key()
    assert loaded.retriever.unit_index.vocabulary == kb.retriever.unit_index.vocabulary
    assert tuple(loaded.retriever.unit_terms) == tuple(kb.retriever.unit_terms)  # read back from the saved rows
    for question in QUESTIONS:
        assert loaded.answer(question).to_dict() == kb.answer(question).to_dict()


def test_index_of_other_sources_is_not_used(kb: KnowledgeBase, sources_copy: Path, tmp_path: Path) -> None:
    kb.save_index(tmp_path / "index")
    path = sources_copy / "iom-joins-un-system.md"
    text = path.read_text(encoding="utf-8").replace(
        "body_sha256: ac5634dfee5f0c5115aeaae4bb850dec3070f466c02eebd334f2fc18f80bcc1c\n", ""
    )
    path.write_text(text.replace("laissez-passer", "passport"), encoding="utf-8")
    assert persist.load_indexes(tmp_path / "index", KnowledgeBase.load(sources_copy).key()) is None
    edited = KnowledgeBase.load(sources_copy, index_dir=tmp_path / "index")
    assert "passport" in (edited.answer("Can IOM staff use a UN passport?").text or "")


@pytest.mark.parametrize("command", [["build-index"], ["build-index", "--index", "/proc/forbidden/index"]])
def test_build_index_errors_are_one_line(command: list[str]) -> None:
    result = subprocess.run([sys.executable, "-m", "bot", *command], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1


def test_build_index_then_ask_with_it(tmp_path: Path) -> None:
    index = tmp_path / "index"
    built = subprocess.run(
        [sys.executable, "-m", "bot", "build-index", "--index", str(index)], capture_output=True, text=True, timeout=60
    )
    assert built.returncode == 0 and built.stdout.startswith("ok: indexed 23 passages")
    asked = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--index", str(index), "-v", QUESTIONS[0]],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert asked.returncode == 0 and "art. 11" in asked.stdout
    assert "rebuilding" not in asked.stderr


def test_saving_never_replaces_a_directory_that_is_not_an_index(kb: KnowledgeBase, tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "keep-me.txt").write_text("precious", encoding="utf-8")

    with pytest.raises(FileExistsError, match="not a saved index"):
        kb.save_index(notes)
    assert [path.name for path in notes.iterdir()] == ["keep-me.txt"]
    assert not [path for path in tmp_path.iterdir() if path.name.startswith(".")]  # no staging left behind


def test_saving_replaces_an_empty_directory_or_a_saved_index(kb: KnowledgeBase, tmp_path: Path) -> None:
    index = tmp_path / "index"
    index.mkdir()
    kb.save_index(index)
    (index / persist.MANIFEST).write_text("damaged", encoding="utf-8")  # still recognisably a saved index
    kb.save_index(index)
    assert kb.saved_index_matches(index) is True
