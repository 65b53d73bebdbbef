"""Answers: ranking on a small hand-made corpus, article routing, abstention from evidence, citations."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from knowledge.base import KnowledgeBase

CORPUS = """\
Fisheries Cooperation Pact

Whales

The pact protects whales in the northern ocean. See Ocean Council, Fisheries Pact, UN Doc. A/1/2, 1 May 2001.
Each party shall report its whale catch every year. See id. at art. 4.

Ports

Vessels of either party may enter the ports of the other for repairs. See id. at art. 6.
The harbour fees are waived for research vessels. See id.
The old treaty of 1950 only covered coastal waters. See River Board, Old Treaty, UN Doc. B/1950/7, 2 June 1950.
Under it, disputes went to a joint commission. See id. at art. 6.
"""


@pytest.fixture(scope="module")
def small_kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    directory: Path = tmp_path_factory.mktemp("small")
    (directory / "pact.txt").write_text(CORPUS, encoding="utf-8")
    return KnowledgeBase.load(directory)


def test_ranking_puts_the_matching_passage_first(small_kb: KnowledgeBase) -> None:
    hits = small_kb.search("repairs in ports", k=3)
    assert hits[0].passage.section == "Ports"
    assert "repairs" in hits[0].passage.text
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_answer_is_a_verbatim_sentence_with_its_article(small_kb: KnowledgeBase) -> None:
    answer = small_kb.answer("Can vessels enter ports for repairs?")
    assert not answer.abstained
    assert answer.text == "Vessels of either party may enter the ports of the other for repairs."
    (citation,) = answer.citations
    assert (citation.instrument, citation.articles, citation.section) == ("A/1/2", ("6",), "Ports")


def test_bare_id_carries_the_pinpoint_into_the_answer(small_kb: KnowledgeBase) -> None:
    answer = small_kb.answer("Are harbour fees waived for research vessels?")
    assert answer.text == "The harbour fees are waived for research vessels."
    assert [(c.instrument, c.articles) for c in answer.citations] == [("A/1/2", ("6",))]


def test_article_question_is_routed_to_the_citing_sentence(small_kb: KnowledgeBase) -> None:
    answer = small_kb.answer("What does Article 4 say?")
    assert answer.text == "Each party shall report its whale catch every year."


def test_article_of_the_other_instrument_by_year(small_kb: KnowledgeBase) -> None:
    # art. 6 is cited for both instruments; naming the year picks the old treaty's.
    answer = small_kb.answer("What did art. 6 of the 1950 treaty say?")
    assert answer.text == "Under it, disputes went to a joint commission."
    assert [(c.instrument, c.articles) for c in answer.citations] == [("B/1950/7", ("6",))]


def test_uncited_article_abstains_with_nearest_passages(small_kb: KnowledgeBase) -> None:
    answer = small_kb.answer("What does Article 15 provide about whales?")
    assert answer.abstained and answer.text is None
    assert "art. 15" in (answer.reason or "")
    assert answer.hits and "whales" in answer.hits[0].passage.text


@pytest.mark.parametrize(
    "question",
    ["What is the capital of Australia?", "", "   ", "?!", "how many whales were caught in 1999?"],
)
def test_off_topic_empty_and_wrong_year_abstain(small_kb: KnowledgeBase, question: str) -> None:
    assert small_kb.answer(question).abstained


def test_to_dict_keeps_passages_when_abstaining(small_kb: KnowledgeBase) -> None:
    data = small_kb.answer("Do whales sing in the ocean at night in 1999?").to_dict()
    assert data["abstained"] is True and data["answer"] is None and data["citations"] == []
    assert data["passages"] and set(data["passages"][0]) == {"id", "text", "score", "source", "section"}


# -- the bundled knowledge base -----------------------------------------------------------------


def test_laissez_passer_answer_cites_art_11_of_the_2016_agreement(kb: KnowledgeBase) -> None:
    answer = kb.answer("Can IOM staff use the UN laissez-passer?")
    assert "laissez-passer as a valid travel document" in (answer.text or "")
    assert [(c.instrument, c.articles) for c in answer.citations] == [("A/70/976", ("11",))]
    assert answer.citations[0].section == "Details of the Agreement"


def test_1996_article_2_is_not_the_2016_article_2(kb: KnowledgeBase) -> None:
    old = kb.answer("What did Article 2 of the 1996 agreement say about meetings?")
    new = kb.answer("What does Article 2 of the 2016 Agreement say?")
    assert "Under the old agreement" in (old.text or "")
    assert "existing mandates" in (new.text or "")


def test_never_cited_article_abstains(kb: KnowledgeBase) -> None:
    assert kb.answer("What does Article 15 of the Agreement provide?").abstained


def test_two_part_question_gets_two_sentences(kb: KnowledgeBase) -> None:
    answer = kb.answer("Which article covers administrative cooperation, and which covers the exchange of personnel?")
    assert len(answer.parts) == 2
    assert {a for c in answer.citations for a in c.articles} == {"8", "10"}


def test_answers_stay_short(kb: KnowledgeBase) -> None:
    for question in ["What is IOM?", "What does the agreement do?", "Tell me about UN mechanisms on migration"]:
        answer = kb.answer(question, max_words=60)
        for part in answer.parts:
            assert len(part.text.split()) <= 61


def test_caption_answers_only_about_the_photo(kb: KnowledgeBase) -> None:
    photo = kb.answer("Who took the photo?")
    assert photo.parts and photo.parts[0].passage.kind == "caption"
    assert "Isaac Billy" in (photo.text or "")
    for question in ("What does the photo show?", "Who receives aid from IOM?", "Does IOM give aid to families?"):
        assert all(p.passage.kind != "caption" for p in kb.answer(question).parts if "photo" not in question)


def test_answers_are_the_same_with_the_compiled_scorer_and_with_numpy(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("numba")
    eval_dir = Path(__file__).resolve().parents[2] / "eval"
    questions = [
        item["question"]
        for name in ("dev", "chat")
        for item in yaml.safe_load((eval_dir / f"{name}.yaml").read_text())["items"]
    ]
    monkeypatch.setenv("IOM_BOT_SCORER", "numba")
    fast = KnowledgeBase.load()
    monkeypatch.setenv("IOM_BOT_SCORER", "numpy")
    slow = KnowledgeBase.load()
    assert fast.retriever.unit_index.scorer.kernels is not None
    assert slow.retriever.unit_index.scorer.kernels is None
    for question in questions + [q.upper() + " and when?" for q in questions]:
        assert fast.answer(question) == slow.answer(question)
