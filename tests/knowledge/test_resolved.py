"""Examples resolved ahead (knowledge/resolved.py): a start takes them from examples.resolved.json when it was
written for exactly these sources, examples and code, and resolves them as before when it was not, or when the
file is damaged or forged. The end-to-end tests use the fictional knowledge base."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest

from knowledge import persist, resolved
from knowledge.base import KnowledgeBase
from knowledge.builder import build
from knowledge.examples import EXAMPLES_FILE, Examples, parse_examples, read_example_text
from knowledge.resolved import RESOLVED_FILE, key_of, read_resolved, resolved_text
from knowledge.tablefiles import read_tables

DATA = Path(__file__).resolve().parents[1] / "data" / "fictional"
ROOT = Path(__file__).resolve().parents[2]
AGENDA = "The two leaders may propose agenda items to each other"
EXAMPLES_YAML = (
    "examples:\n"
    f'- question: "Can the two heads put topics on each other\'s agendas?"\n  answers: ["{AGENDA}"]\n'
    f'- question: "may each leader put forward items for the other\'s governing body?"\n  answers: ["{AGENDA}"]\n'
    '- question: "What is the pension age of the staff?"\n  answers: []\n'
    '- question: "Who won the 1998 football cup?"\n  answers: ["words no sentence holds"]\n'
)
QUESTIONS = (
    "Can the two heads put topics on each other's agendas?",
    "May the leaders suggest matters for each other's governing bodies?",
    "What is the pension age of the staff?",
)


@pytest.fixture(autouse=True)
def nothing_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test loads its examples afresh: none kept from another test's load of the same files."""
    monkeypatch.setattr(resolved, "_KEPT", {})


def sources_with_examples(directory: Path) -> Path:
    sources = directory / "sources"
    shutil.copytree(DATA / "sources", sources)
    (sources / EXAMPLES_FILE).write_text(EXAMPLES_YAML, encoding="utf-8")
    return sources


def write_resolved(sources: Path) -> tuple[KnowledgeBase, dict[str, str]]:
    """Resolve the examples as a start does, and write them beside examples.yaml as eval/train.py does."""
    kb = KnowledgeBase.load(sources)
    text = read_example_text(sources)
    assert text is not None
    examples, left_out = Examples.resolved(kb.retriever, parse_examples(text))
    key = key_of(kb.documents, kb.glossary.sha256, text)
    (sources / RESOLVED_FILE).write_text(resolved_text(examples, left_out, key), encoding="utf-8")
    return kb, key


def answers(kb: KnowledgeBase) -> list[dict]:
    return [kb.answer(question).to_dict() for question in QUESTIONS]


def same_examples(one: Examples, other: Examples) -> bool:
    return (one.examples, one.rows, one.terms) == (other.examples, other.rows, other.terms)


def test_a_start_takes_the_resolved_file_without_parsing_or_reading_the_examples(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    sources = sources_with_examples(tmp_path)
    fresh, _ = write_resolved(sources)
    monkeypatch.setattr(resolved, "_KEPT", {})

    def refuse(*_args: object) -> None:
        raise AssertionError("the examples were resolved again")

    monkeypatch.setattr(resolved, "parse_examples", refuse)
    monkeypatch.setattr(Examples, "resolved", classmethod(refuse))
    with caplog.at_level(logging.WARNING, logger="knowledge.examples"):
        started = KnowledgeBase.load(sources)
    assert same_examples(started.retriever.examples, fresh.retriever.examples)
    assert started.version == fresh.version
    assert answers(started) == answers(fresh)
    assert "1 example question(s) left out" in caplog.text  # the count is kept in the file, and still said


def test_a_file_written_for_other_examples_sources_or_code_is_passed_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = sources_with_examples(tmp_path)
    _, key = write_resolved(sources)
    units = len(KnowledgeBase.load(sources).retriever.units)
    path = sources / RESOLVED_FILE
    assert read_resolved(path, key, units) is not None
    for changed in ("sources", "examples", "code", "format"):
        assert read_resolved(path, {**key, changed: "0" * 64}, units) is None
    # examples.yaml edited after the file was written: the new examples are resolved, the file is not used.
    (sources / EXAMPLES_FILE).write_text(EXAMPLES_YAML.replace("pension age", "retirement age"), encoding="utf-8")
    monkeypatch.setattr(resolved, "_KEPT", {})
    edited = KnowledgeBase.load(sources).retriever.examples
    assert "What is the retirement age of the staff?" in [e.question for e in edited.examples]


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: "not json {",
        lambda data: json.dumps([1, 2]),
        lambda data: json.dumps({**data, "examples": "x"}),
        lambda data: json.dumps({**data, "left_out": -1}),
        lambda data: json.dumps({**data, "examples": [[*data["examples"][0][:2], [10**6], data["examples"][0][3]]]}),
        lambda data: json.dumps({**data, "examples": [[*data["examples"][0][:2], [True], data["examples"][0][3]]]}),
        lambda data: json.dumps({**data, "examples": [[*data["examples"][0][:2], [], data["examples"][0][3]]]}),
        lambda data: json.dumps({**data, "examples": [[data["examples"][0][0], [""], *data["examples"][0][2:]]]}),
        lambda data: json.dumps({**data, "examples": [[data["examples"][0][0], [3], *data["examples"][0][2:]]]}),
        lambda data: json.dumps({**data, "examples": [data["examples"][0][:3]]}),
        lambda data: json.dumps({**data, "examples": [["", *data["examples"][0][1:]]]}),
    ],
    ids=[
        "not-json",
        "not-a-mapping",
        "examples-not-a-list",
        "negative-count",
        "row-out-of-range",
        "row-not-a-number",
        "answers-without-rows",
        "empty-answer",
        "answer-not-text",
        "three-fields",
        "empty-question",
    ],
)
def test_a_damaged_or_forged_file_is_passed_over_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog, damage
) -> None:
    sources = sources_with_examples(tmp_path)
    fresh, _ = write_resolved(sources)
    path = sources / RESOLVED_FILE
    path.write_text(damage(json.loads(path.read_text(encoding="utf-8"))), encoding="utf-8")
    monkeypatch.setattr(resolved, "_KEPT", {})
    with caplog.at_level(logging.INFO, logger="knowledge.resolved"):
        started = KnowledgeBase.load(sources)
    assert same_examples(started.retriever.examples, fresh.retriever.examples)  # resolved as without the file
    assert answers(started) == answers(fresh)
    said = [record for record in caplog.records if record.name == "knowledge.resolved"]
    assert len(said) == 1 and "resolving the examples" in said[0].getMessage()
    assert "\n" not in said[0].getMessage()


def test_a_file_that_is_not_a_regular_file_or_too_large_is_passed_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = sources_with_examples(tmp_path)
    fresh, key = write_resolved(sources)
    units = len(fresh.retriever.units)
    monkeypatch.setattr(resolved, "MAX_BYTES", 100)
    assert read_resolved(sources / RESOLVED_FILE, key, units) is None
    (sources / RESOLVED_FILE).unlink()
    (sources / RESOLVED_FILE).mkdir()
    assert read_resolved(sources / RESOLVED_FILE, key, units) is None
    assert read_resolved(tmp_path / "none.json", key, units) is None  # no file: nothing to say


def test_the_same_examples_make_the_same_file(tmp_path: Path) -> None:
    sources = sources_with_examples(tmp_path)
    write_resolved(sources)
    first = (sources / RESOLVED_FILE).read_bytes()
    write_resolved(sources)
    assert (sources / RESOLVED_FILE).read_bytes() == first
    assert first.count(b"\n") == 3 + 2  # the key, a line per example kept (one is left out), the end


def test_the_bundled_file_is_current_and_is_what_resolving_gives() -> None:
    # eval/train.py writes it; after a change to the code that reads questions, run it again.
    bundled = ROOT / "knowledge" / "sources"
    kb = KnowledgeBase.load(warm=False)
    text = read_example_text(bundled)
    assert text is not None
    key = key_of(kb.documents, kb.glossary.sha256, text)
    shipped = read_resolved(bundled / RESOLVED_FILE, key, len(kb.retriever.units))
    assert shipped is not None, "knowledge/sources/examples.resolved.json is stale: run python eval/train.py"
    fresh = Examples.resolved(kb.retriever, parse_examples(text))
    assert same_examples(shipped[0], fresh[0]) and shipped[1] == fresh[1]


def test_a_saved_index_keeps_the_examples_and_a_start_from_it_resolves_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources, index = sources_with_examples(tmp_path), tmp_path / "index"
    fresh = build(sources, index_dir=index)  # resolves the examples and saves them with the set
    assert (index / "tables" / "examples.json").is_file()
    monkeypatch.setattr(resolved, "_KEPT", {})

    def refuse(*_args: object) -> None:
        raise AssertionError("the examples were resolved again")

    with monkeypatch.context() as patched:
        patched.setattr(resolved, "parse_examples", refuse)
        patched.setattr(Examples, "resolved", classmethod(refuse))
        started = KnowledgeBase.load(sources, index_dir=index)
    assert started.source_key == fresh.key()  # started from the saved set
    assert same_examples(started.retriever.examples, fresh.retriever.examples)
    assert started.retriever.examples.left_out == 1
    assert answers(started) == answers(fresh)
    # examples.yaml edited: the set still fits the sources, its examples do not, so they are resolved anew.
    (sources / EXAMPLES_FILE).write_text(EXAMPLES_YAML.replace("pension age", "retirement age"), encoding="utf-8")
    monkeypatch.setattr(resolved, "_KEPT", {})
    edited = KnowledgeBase.load(sources, index_dir=index).retriever.examples
    assert "What is the retirement age of the staff?" in [e.question for e in edited.examples]


def test_a_saved_index_with_forged_examples_resolves_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sources, index = sources_with_examples(tmp_path), tmp_path / "index"
    fresh = build(sources, index_dir=index)
    units = len(fresh.retriever.units)
    tables = read_tables(index / "tables")
    data = tables["examples"]
    data["examples"][0][2] = [units + 5]  # a row no sentence has, checksums and all made to fit
    tables["examples"] = data
    persist.save_indexes(index, fresh.retriever.indexes(), fresh.key(), tables)
    monkeypatch.setattr(resolved, "_KEPT", {})
    started = KnowledgeBase.load(sources, index_dir=index)
    assert started.source_key == fresh.key()
    assert same_examples(started.retriever.examples, fresh.retriever.examples)  # resolved, not trusted
