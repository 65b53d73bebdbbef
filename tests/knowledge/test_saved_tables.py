"""A start from a matching saved set takes the passages and tables from it (nothing is read but the files' bytes,
nothing chunked or analysed), and answers exactly as a knowledge base built fresh from the sources."""

from __future__ import annotations

import json
import logging
import random
import shutil
from pathlib import Path

import pytest

import knowledge
from knowledge import builder, compare, fingerprints, load_eval_set, persist
from knowledge.base import BUNDLED_SOURCES, KnowledgeBase, KnowledgeBaseDiff
from knowledge.spelling import DeleteTable, Speller, _deletes
from knowledge.tables import PassageTable

ROOT = Path(__file__).resolve().parents[2]
FICTIONAL = ROOT / "tests" / "data" / "fictional"
TYPOS = [
    "wat does the agrement say about privilges and imunities",
    "can iom staf use the un laisez-passer",
    "wen did iom joint the un systm",
    "wen r they actually signing it",
    "whcih artcle covers the lighthous keepers",
    "What does Article 15 provide?",
    "hello",
]


def _questions(*eval_sets: Path) -> list[str]:
    return [item.question for path in eval_sets for item in load_eval_set(path).items] + TYPOS


CASES = {
    "bundled": (BUNDLED_SOURCES, _questions(ROOT / "eval" / "dev.yaml", ROOT / "eval" / "chat.yaml")),
    "fictional": (
        FICTIONAL / "sources",
        _questions(FICTIONAL / "eval" / "blind-plain.yaml", FICTIONAL / "eval" / "blind-chat.yaml"),
    ),
}


def _fresh_and_saved(sources: Path, index: Path) -> tuple[KnowledgeBase, KnowledgeBase]:
    fresh = knowledge.build(sources, index_dir=index, isolate=False)  # no set there yet: built, then saved
    started = knowledge.build(sources, index_dir=index, isolate=False)
    assert isinstance(started.passages, PassageTable), "the second start did not take the saved set"
    return fresh, started


@pytest.mark.parametrize("case", sorted(CASES))
def test_answers_from_a_saved_set_are_the_fresh_ones(case: str, tmp_path: Path) -> None:
    sources, questions = CASES[case]
    fresh, started = _fresh_and_saved(sources, tmp_path / "index")
    assert len(questions) > 40
    for question in questions:
        assert json.dumps(started.answer(question).to_dict()) == json.dumps(fresh.answer(question).to_dict()), question


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_saved_set_gives_back_every_table_the_build_makes(case: str, tmp_path: Path) -> None:
    fresh, started = _fresh_and_saved(CASES[case][0], tmp_path / "index")
    old, new = fresh.retriever, started.retriever
    assert started.documents == fresh.documents
    assert tuple(started.passages) == fresh.passages
    assert tuple(new.units) == old.units
    assert tuple(new.unit_terms) == tuple(old.unit_terms) and tuple(new.passage_terms) == tuple(old.passage_terms)
    assert tuple(new.heading_terms) == tuple(old.heading_terms)
    assert new.entities == old.entities and new.glossary_instrument_terms == old.glossary_instrument_terms
    assert new.speller.counts == old.speller.counts
    assert (new.sentences.passage == old.sentences.passage).all() and (new.sentences.kind == old.sentences.kind).all()
    assert (new.sentences.facts == old.sentences.facts).all()
    assert {pair: rows.rows.tolist() for pair, rows in new.citations.pairs.items()} == {
        pair: rows.rows.tolist() for pair, rows in old.citations.pairs.items()
    }
    assert started.cited_articles() == fresh.cited_articles()
    assert (started.sentence_count, started.cited_sentence_count) == (fresh.sentence_count, fresh.cited_sentence_count)
    for pair in fresh.cited_articles():
        assert started.article(pair.number) == fresh.article(pair.number)
    for document in fresh.documents:
        assert started.passage_count(document.id) == fresh.passage_count(document.id)
    assert started.passage(fresh.passages[-1].id) == fresh.passages[-1]
    assert compare(fresh, started).empty and started.diff(fresh) == KnowledgeBaseDiff((), (), ())
    assert started.key() == fresh.key()


def test_a_matching_start_neither_reads_nor_chunks_the_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    knowledge.build(index_dir=tmp_path / "index", isolate=False)

    def refuse(*args: object) -> None:
        raise AssertionError("read and chunked the sources")

    monkeypatch.setattr(builder, "read_sources", refuse)
    monkeypatch.setattr("knowledge.units.compute_tables", refuse)
    monkeypatch.setattr("knowledge.retrieval.compute_tables", refuse)
    started = knowledge.build(index_dir=tmp_path / "index", isolate=False)
    assert started.answer("Can IOM staff use the UN laissez-passer?").abstained is False


def _edit_source(sources: Path) -> None:
    path = sources / "iom-joins-un-system.md"
    path.write_text(path.read_text("utf-8").replace("title: ", "title: Revised -- ", 1), "utf-8")  # the body as it was


def _edit_glossary(sources: Path) -> None:
    path = sources / "glossary.yaml"
    path.write_text(path.read_text("utf-8") + "\n# a comment\n", "utf-8")


def _new_file(sources: Path) -> None:
    (sources / "zz-note.txt").write_text("A note\n\nThe cat sat on the mat.\n", "utf-8")


@pytest.mark.parametrize("edit", [_edit_source, _edit_glossary, _new_file], ids=["source", "glossary", "new file"])
def test_any_change_to_the_sources_rebuilds_with_one_line_saying_why(
    edit, sources_copy: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    index = tmp_path / "index"
    knowledge.build(sources_copy, index_dir=index, isolate=False)
    edit(sources_copy)
    caplog.clear()  # the first build's lines, when another test left the level at INFO
    with caplog.at_level(logging.INFO, logger="knowledge"):
        rebuilt = knowledge.build(sources_copy, index_dir=index, isolate=False)
    assert not isinstance(rebuilt.passages, PassageTable)
    said = [r.getMessage() for r in caplog.records if r.name == "knowledge.persist"]
    assert said == [f"saved index {index} was built from other sources or another analyser; rebuilding"]
    assert isinstance(knowledge.build(sources_copy, index_dir=index, isolate=False).passages, PassageTable)


def test_another_format_or_code_rebuilds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    index = tmp_path / "index"
    knowledge.build(index_dir=index, isolate=False)
    monkeypatch.setattr(fingerprints, "SAVED_FORMAT", fingerprints.SAVED_FORMAT + "+next")
    assert not isinstance(knowledge.build(index_dir=index, isolate=False).passages, PassageTable)
    assert persist.read_metadata(index)["code"] == fingerprints.code_fingerprint()
    monkeypatch.setattr(fingerprints, "code_fingerprint", lambda: "other code")
    assert not isinstance(knowledge.build(index_dir=index, isolate=False).passages, PassageTable)


def test_a_source_changed_between_reading_and_saving_is_not_saved(
    sources_copy: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fresh = KnowledgeBase.load(sources_copy)
    _edit_source(sources_copy)
    with pytest.raises(ValueError, match="changed since it was read"):
        fresh.save_index(tmp_path / "index")
    assert not (tmp_path / "index").exists()


def test_the_speller_table_finds_exactly_the_words_sharing_a_delete(kb: KnowledgeBase) -> None:
    words = [*list(kb.retriever.speller.counts), "café", "naïve", "straße", "𝔞𝔟𝔠𝔡"]
    table = DeleteTable.build(words)
    rng = random.Random(13)
    for word in [*rng.sample(words, 200), "café", "𝔞𝔟𝔠𝔡"]:
        chars = list(word)
        position = rng.randrange(len(chars))
        chars[position : position + 1] = rng.choice([[], ["é", chars[position]], ["x"]])
        for typo in (word, "".join(chars)):
            for limit in (1, 2):
                keys = _deletes(typo, limit)
                assert table.candidates(keys) == {w for w in words if not keys.isdisjoint(_deletes(w, 1))}


def test_a_saved_speller_corrects_as_a_fresh_one(kb: KnowledgeBase) -> None:
    fresh = Speller(dict(kb.retriever.speller.counts))
    table = fresh.table()
    saved = Speller(dict(fresh.counts), [DeleteTable(list(fresh.counts), table.keys.copy(), table.ids.copy())])
    for word in ["agrement", "privilges", "laisez", "migraton", "wrld", "organisaton", "xylophone"]:
        assert saved.correct(word) == fresh.correct(word)
    assert fresh.correct("agrement") == "agreement"


def test_the_fictional_sources_are_copied_whole(tmp_path: Path) -> None:
    """A start from a copy of the sources (another directory, same files) takes the saved set too."""
    index = tmp_path / "index"
    knowledge.build(FICTIONAL / "sources", index_dir=index, isolate=False)
    shutil.copytree(FICTIONAL / "sources", tmp_path / "copy")
    started = knowledge.build(tmp_path / "copy", index_dir=index, isolate=False)
    assert isinstance(started.passages, PassageTable)
    assert all(d.path.parent == tmp_path / "copy" for d in started.documents)
