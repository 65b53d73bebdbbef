"""A damaged saved index never reaches the compiled scorer: ignored with one warning, rebuilt, and answers go on.

Each case damages one array of a saved index and runs `ask` in its own process: a segfault or a corrupted heap
fails the test by its exit code. Damage comes in two forms: as a broken disk would leave it (the manifest's
checksums no longer match) and as a careful forger would (the checksums rewritten to match): the second is caught
by the arrays' invariants (knowledge.integrity).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from knowledge import persist
from knowledge.base import KnowledgeBase, unit_rows
from knowledge.integrity import file_sha256

QUESTION = "Can IOM staff use the UN laissez-passer?"
Damage = Callable[[Path], None]


def _edit_array(name: str, change: Callable[[np.ndarray], None], where: str = "units") -> Damage:
    def damage(index: Path) -> None:
        path = index / where / f"{name}.npy"
        values = np.load(path)
        change(values)
        np.save(path, values, allow_pickle=False)

    return damage


def _set(position: int, value: float) -> Callable[[np.ndarray], None]:
    def change(values: np.ndarray) -> None:
        values[position] = value

    return change


def _table(name: str, change: Callable[[np.ndarray], None]) -> Damage:
    return _edit_array(name, change, persist.TABLES)


def _move_a_body(index: Path) -> None:
    path = index / persist.TABLES / "documents.json"
    documents = json.loads(path.read_text("utf-8"))
    documents[0]["body_at"] += 1
    path.write_text(json.dumps(documents), "utf-8")


def _cut_passage_ids(index: Path) -> None:
    path = index / persist.TABLES / "passage_ids.txt"
    path.write_bytes(b"\n".join(path.read_bytes().split(b"\n")[:-1]))


def _drop_entities(index: Path) -> None:
    (index / persist.TABLES / "entities.txt").unlink()


def _reverse_terms(index: Path) -> None:
    path = index / "units" / "terms.txt"
    path.write_bytes(b"\n".join(reversed(path.read_bytes().split(b"\n"))))


def _foreign_arrays(index: Path) -> None:
    """Another knowledge base's units index under this one's manifest."""
    other = KnowledgeBase.load(_one_document_sources(index.parent / "other-sources"))
    other.retriever.unit_index.save(index / "units", {})


def _one_document_sources(directory: Path) -> Path:
    directory.mkdir()
    (directory / "a.txt").write_text("A title\n\nThe cat sat on the mat. Dogs bark at night.\n", "utf-8")
    return directory


DAMAGE: dict[str, Damage] = {
    "indices out of range": _edit_array("indices", _set(3, 1_000_000_000)),
    "indices negative": _edit_array("indices", _set(0, -7)),
    "indices unsorted": _edit_array("indices", lambda a: a.sort() or a.__setitem__(slice(None), a[::-1].copy())),
    "indptr past the end": _edit_array("indptr", _set(-1, 2**40)),
    "indptr decreasing": _edit_array("indptr", _set(5, 0)),
    "indptr negative start": _edit_array("indptr", _set(0, -100)),
    "data infinite": _edit_array("data", _set(2, np.inf)),
    "data nan": _edit_array("data", _set(2, np.nan)),
    "data negative": _edit_array("data", _set(2, -1.0)),
    "idf infinite": _edit_array("idf", _set(1, np.inf)),
    "col_max too small": _edit_array("col_max", _set(1, 0.0)),
    "terms reordered": _reverse_terms,
    "foreign arrays": _foreign_arrays,
    # The tables a start takes instead of reading and chunking the sources (knowledge/saved.py).
    "table: unit kind out of range": _table("unit_kind", _set(0, 7)),
    "table: unit kind changed": _table("unit_kind", _set(0, 1)),
    "table: unit passage out of range": _table("unit_passage", _set(0, 1_000_000)),
    "table: unit facts out of range": _table("unit_facts", _set(0, 1 << 20)),
    "table: sentence past its body": _table("sentence_end", _set(-1, 10**9)),
    "table: reference out of range": _table("reference_ids", _set(0, 1_000_000)),
    "table: speller word out of range": _table("speller_ids", _set(0, 1_000_000)),
    "table: speller keys unsorted": _table("speller_keys", lambda a: a.__setitem__(slice(None), a[::-1].copy())),
    "table: term column out of range": _table("unit_terms", _set(0, 1_000_000)),
    "table: claim sentence out of range": _table("claim_places", lambda a: a.__setitem__((0, 1), 999)),
    "table: body moved": _move_a_body,
    "table: passage ids cut": _cut_passage_ids,
    "table: names missing": _drop_entities,
}


def _rewrite_checksums(index: Path) -> None:
    manifest_path = index / persist.MANIFEST
    manifest = json.loads(manifest_path.read_text("utf-8"))
    manifest["files"] = {name: file_sha256(index / name) for name in manifest["files"] if (index / name).exists()}
    manifest_path.write_text(json.dumps(manifest), "utf-8")


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    index = tmp_path_factory.mktemp("saved") / "index"
    KnowledgeBase.load().save_index(index)
    return index


def _copy(saved: Path, target: Path) -> Path:
    for path in saved.rglob("*"):
        if path.is_file():
            (target / path.relative_to(saved)).parent.mkdir(parents=True, exist_ok=True)
            (target / path.relative_to(saved)).write_bytes(path.read_bytes())
    return target


def _ask(index: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "bot", "ask", "--index", str(index), "--json", QUESTION]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("forged", [False, True], ids=["checksum", "forged-checksum"])
@pytest.mark.parametrize("case", sorted(DAMAGE))
def test_damaged_index_is_ignored_with_one_warning_and_rebuilt(
    saved: Path, tmp_path: Path, case: str, forged: bool
) -> None:
    index = _copy(saved, tmp_path / "index")
    DAMAGE[case](index)
    if forged:
        _rewrite_checksums(index)
    result = _ask(index)
    assert result.returncode == 0, f"exit {result.returncode}: {result.stderr[-2000:]}"
    assert json.loads(result.stdout)["abstained"] is False
    warnings = [line for line in result.stderr.splitlines() if line.startswith("WARNING")]
    assert len(warnings) == 1 and "saved index" in warnings[0] and "rebuilding" in warnings[0], result.stderr
    assert "Traceback" not in result.stderr


def test_the_bot_rebuilds_a_damaged_index_and_saves_a_good_one(saved: Path, tmp_path: Path) -> None:
    index = _copy(saved, tmp_path / "index")
    DAMAGE["indices out of range"](index)
    script = "import sys, pathlib, bot.store; bot.store.build_knowledge(None, pathlib.Path(sys.argv[1]))"
    built = subprocess.run([sys.executable, "-c", script, str(index)], capture_output=True, text=True, timeout=120)
    assert built.returncode == 0, built.stderr[-2000:]
    kb = KnowledgeBase.load()
    assert persist.load_indexes(index, kb.key()) is not None


def test_manifest_has_a_checksum_of_every_file(saved: Path) -> None:
    manifest = json.loads((saved / persist.MANIFEST).read_text("utf-8"))
    files = {str(path.relative_to(saved)) for path in saved.rglob("*") if path.is_file()} - {persist.MANIFEST}
    assert set(manifest["files"]) == files
    assert all(manifest["files"][name] == file_sha256(saved / name) for name in files)


def test_unit_rows_counts_the_retrievers_units(kb: KnowledgeBase) -> None:
    assert unit_rows(kb.passages) == len(kb.retriever.units) == kb.retriever.unit_index.n_rows
