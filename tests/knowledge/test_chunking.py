"""Passages: stable ids, sections, sentence offsets, windows that keep claims with their citations."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.base import BUNDLED_SOURCES, KnowledgeBase
from knowledge.chunking import PASSAGE_MAX_WORDS, chunk, split_sentences
from knowledge.documents import load_documents


def test_same_text_gives_same_ids() -> None:
    first = chunk(load_documents(BUNDLED_SOURCES))
    second = chunk(load_documents(BUNDLED_SOURCES))
    assert [p.id for p in first] == [p.id for p in second]
    assert len({p.id for p in first}) == len(first)


def test_ids_name_document_and_section() -> None:
    passages = chunk(load_documents(BUNDLED_SOURCES))
    assert passages[0].id == "ijrc-iom-joins-un-system#photo-caption-1"
    assert passages[0].kind == "caption"
    details = [p for p in passages if p.section == "Details of the Agreement"]
    assert details[0].id == "ijrc-iom-joins-un-system#details-of-the-agreement-1"


def test_editing_one_section_keeps_other_ids(sources_copy: Path) -> None:
    before = KnowledgeBase.load(sources_copy)
    path = sources_copy / "iom-joins-un-system.md"
    text = path.read_text(encoding="utf-8")
    text = text.replace("body_sha256: ac5634dfee5f0c5115aeaae4bb850dec3070f466c02eebd334f2fc18f80bcc1c\n", "")
    path.write_text(text.replace("Nearly five million", "Nearly six million"), encoding="utf-8")
    after = KnowledgeBase.load(sources_copy)
    diff = after.diff(before)
    assert diff.changed == ("ijrc-iom-joins-un-system#developments-in-refugee-and-migration-is-1",)
    assert diff.added == () and diff.removed == ()
    assert after.version != before.version


def test_sentence_offsets_point_into_the_body() -> None:
    (document,) = load_documents(BUNDLED_SOURCES)
    for passage in chunk([document]):
        assert document.body[passage.start : passage.end] == passage.text
        for sentence in passage.sentences:
            assert document.body[sentence.start : sentence.end] == sentence.text


def test_passages_stay_small_and_claims_keep_their_citation() -> None:
    for passage in chunk(load_documents(BUNDLED_SOURCES)):
        words = sum(len(s.text.split()) for s in passage.sentences)
        assert words <= PASSAGE_MAX_WORDS + 40, passage.id
        if passage.kind == "text":
            assert not passage.sentences[0].is_citation, passage.id


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One claim. See id. at art. 3. Next claim.", ["One claim.", "See id. at art. 3.", "Next claim."]),
        ("A claim. See id. Both bodies agree.", ["A claim.", "See id.", "Both bodies agree."]),
        ("See UN Doc. A/70/976, 8 July 2016. Then.", ["See UN Doc. A/70/976, 8 July 2016.", "Then."]),
        ("A claim. [UN News Centre: IOM] The next.", ["A claim.", "[UN News Centre: IOM]", "The next."]),
        ("See, e.g., UN General Assembly, Res. 1. After.", ["See, e.g., UN General Assembly, Res. 1.", "After."]),
        ("It said “hello.” Then it left.", ["It said “hello.”", "Then it left."]),
    ],
)
def test_sentence_splitting_respects_citation_abbreviations(text: str, expected: list[str]) -> None:
    assert [sentence for sentence, _, _ in split_sentences(text)] == expected


def test_long_paragraph_is_windowed(write_source) -> None:
    claims = " ".join(
        f"Claim number {i} says something about migration policy and cooperation. See id." for i in range(30)
    )
    path = write_source("long.txt", f"Long Title\n\n{claims}\n")
    passages = chunk(load_documents(path.parent))
    assert len(passages) > 1
    assert [p.id for p in passages][:2] == ["long#lead-1", "long#lead-2"]
    for passage in passages:
        assert sum(len(s.text.split()) for s in passage.sentences) <= PASSAGE_MAX_WORDS
        assert not passage.sentences[0].is_citation


@pytest.mark.parametrize(
    "body",
    [
        " ".join(f"Claim number {n} says that the organization did something useful here." for n in range(100)),
        " ".join(["word"] * 30_000),  # no full stop at all
        " ".join(f"Claim {n} of the run is long enough to count for something." for n in range(90))
        + " See id. at art. 5.",
    ],
    ids=["uncited-paragraph", "one-sentence", "cited-at-the-end"],
)
def test_a_long_paragraph_is_cut_into_passages(tmp_path: Path, body: str) -> None:
    (tmp_path / "long.txt").write_text(f"A long source\n\n{body}\n", "utf-8")

    passages = chunk(load_documents(tmp_path))

    assert len(passages) > 1
    assert max(len(p.text.split()) for p in passages) <= 2 * PASSAGE_MAX_WORDS
    document = load_documents(tmp_path)[0]
    assert all(document.body[p.start : p.end] == p.text for p in passages)  # each verbatim
    assert " ".join(" ".join(p.text.split()) for p in passages) == " ".join(body.split())  # nothing lost
