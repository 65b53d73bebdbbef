"""The answer path as stages: what each kind of question gets, the reasons, and no article content in code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from knowledge.base import KnowledgeBase
from knowledge.decide import REASONS, Reason
from knowledge.features import INDEX
from knowledge.language import load_language
from knowledge.pipeline import Staged, prepare, retrieve, stage
from knowledge.retrieval import CANDIDATES

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"
# Words of the bundled article that no code may name: they belong in glossary.yaml (or nowhere).
ARTICLE_WORDS = re.compile(
    r"sudan|syria|china|ban ki|laissez|unhcr|geneva|world war|rapporteur|ecosoc|a/70/976|e/1996/90", re.IGNORECASE
)


def test_knowledge_code_names_nothing_of_the_bundled_article() -> None:
    named = {
        path.name: sorted(set(ARTICLE_WORDS.findall(path.read_text(encoding="utf-8"))))
        for path in KNOWLEDGE.glob("*.py")
    }
    assert not {name: words for name, words in named.items() if words}


def test_every_reason_the_code_gives_is_in_the_table() -> None:
    used = set()
    for path in KNOWLEDGE.glob("*.py"):
        used.update(re.findall(r'reason\(\s*"(\w+)"', path.read_text(encoding="utf-8")))
    assert used and used <= set(REASONS)


@pytest.mark.parametrize(
    "text",
    [
        "hi",
        "thx bot 👍",
        "hey <@123> how are you?",
        "gm everyone",
        "are you a bot lol",
        "🌍🤔",
        "ok thanks!!",
        "Thanks, that's saved me an hour before the council meeting.",
        "thank you so much, the agreement section was exactly the part I needed",
    ],
)
def test_small_talk_is_recognised(text: str) -> None:
    assert load_language().is_smalltalk(text)


@pytest.mark.parametrize(
    "text",
    [
        "what is iom",
        "hi, when did iom join the un?",
        "thanks, and who signs it?",
        "thanks, and the signing date",
        "thanks! when was it signed",
        "thanks. now tell me about the council",
    ],
)
def test_a_question_is_not_small_talk(text: str) -> None:
    assert not load_language().is_smalltalk(text)


@pytest.mark.parametrize(
    ("question", "code"),
    [
        ("thanks!", "smalltalk"),
        ("What is the capital of Peru?", "off_topic"),
        ("?!", "smalltalk"),
        ("and the of it", "empty"),
        ("Where is the headquarters of UNHCR located?", "unknown_concept"),
        ("What does Article 15 of the Agreement provide?", "article_not_cited"),
    ],
)
def test_abstentions_carry_their_reason(kb: KnowledgeBase, question: str, code: str) -> None:
    answer = kb.answer(question)
    assert answer.abstained and answer.reason_code == code
    data = answer.to_dict()
    assert data["reason"] == code and data["reason_text"] == answer.reason and data["answer"] is None
    assert answer.smalltalk == (code in ("smalltalk", "off_topic"))
    if code in ("smalltalk", "empty"):
        assert not answer.hits  # nothing to look up: no nearest passages either


def test_an_answer_carries_its_confidence_and_an_alternative_only_when_middling(kb: KnowledgeBase) -> None:
    answer = kb.answer("Can IOM staff use a UN laissez-passer as a travel document?")
    assert not answer.abstained and answer.reason is None
    thresholds = kb.selector.thresholds
    assert answer.confidence >= thresholds.alternative
    if answer.confidence >= thresholds.answer:
        assert not answer.alternatives  # confident: no "also relevant"
    data = answer.to_dict()
    assert data["confidence"] == round(answer.confidence, 4)
    assert all({"text", "citations", "passage_id"} == set(a) for a in data["alternatives"])


def test_a_two_part_question_answers_each_part_or_names_the_one_it_cannot(kb: KnowledgeBase) -> None:
    answer = kb.answer("What does art 13 say, and what does art 2 say?")
    assert {a for c in answer.citations for a in c.articles} == {"2", "13"}
    spelled = kb.answer("what does article thirteen say, and what does article two say?")  # as dictated
    assert spelled.text == answer.text
    partial = kb.answer("How many Member States does IOM have, and what is the colour of its flag?")
    if not partial.abstained:  # the first part is answered; the second must be named, not guessed
        assert "165 Member States" in (partial.text or "")
        assert partial.unanswered and partial.reason_code == "part_unanswered"


def test_a_number_question_only_considers_sentences_with_a_number_near_what_it_counts(kb: KnowledgeBase) -> None:
    prepared = prepare(kb.retriever, "How many Member States does IOM have?")
    assert not isinstance(prepared, Reason)
    found, features = retrieve(kb.retriever, prepared.readings[0], prepared.articles)
    assert found.rows and features.shape[0] == len(found.rows)
    assert all(re.search(r"\d", kb.retriever.units[row].sentence.text) for row in found.rows)


def test_pasted_code_is_not_read_as_part_of_the_question(kb: KnowledgeBase) -> None:
    plain = kb.answer("Can IOM staff travel on a UN laissez-passer?")
    pasted = kb.answer("```py\nprint('hi')\n```\nCan IOM staff travel on a UN laissez-passer?")
    assert pasted.text == plain.text


def test_citations_crowding_a_short_question_leave_room_for_claims() -> None:
    # "See MSA, ..." citations are short, so nearest to a one-word question, and never answers: most of the
    # CANDIDATES nearest sentences are citations, yet the part still has CANDIDATES claims to weigh.
    fictional = KnowledgeBase.load(Path(__file__).resolve().parents[1] / "data" / "fictional" / "sources")
    r = fictional.retriever
    reading = prepare(r, "What is MSA?").readings[0]
    nearest = r.unit_index.search(reading.terms, CANDIDATES)
    assert sum(r.units[row].kind == "citation" for row, _ in nearest) > CANDIDATES / 2
    found = r.candidates(reading)
    assert len(found.rows) == CANDIDATES
    assert all(r.units[row].kind != "citation" for row in found.rows)


def test_instrument_ok_says_whether_a_sentence_is_about_the_other_instrument_a_question_names() -> None:
    # The fictional glossary's default instrument is the 2031 Accord; "the 2019 arrangement" names the other one.
    fictional = KnowledgeBase.load(Path(__file__).resolve().parents[1] / "data" / "fictional" / "sources")
    r = fictional.retriever
    old = prepare(r, "Could the two bodies attend each other's meetings under the 2019 arrangement?")
    assert not isinstance(old, Reason) and old.readings[0].instrument == "L/2019/4"
    found, features = retrieve(r, old.readings[0])
    ok = dict(zip(found.rows, features[:, INDEX["instrument_ok"]].tolist(), strict=True))
    about_2019 = [row for row in found.rows if "2019" in r.units[row].sentence.text]
    others = [
        row
        for row in found.rows
        if "2019" not in r.units[row].sentence.text.lower()
        and "old arrangement" not in r.units[row].sentence.text.lower()
        and all(reference.instrument != "L/2019/4" for reference in r.units[row].sentence.references)
    ]
    assert about_2019 and others
    assert all(ok[row] == 1.0 for row in about_2019) and all(ok[row] == 0.0 for row in others)
    plain = prepare(r, "Could the two bodies attend each other's meetings?")  # no instrument named: every one is
    assert not isinstance(plain, Reason) and plain.readings[0].instrument == ""
    assert (retrieve(r, plain.readings[0])[1][:, INDEX["instrument_ok"]] == 1.0).all()


def test_a_later_part_naming_something_of_its_own_asks_about_that(kb: KnowledgeBase) -> None:
    # "what does cmw do" says too little to stand alone by its words, so it is given the first part's subject;
    # but it names a concept the first part does not: it is read by its own words (the subject's concepts and
    # names still join it).
    named = prepare(kb.retriever, "who does UNHCR cover? + what does cmw do")
    assert not isinstance(named, Reason)
    assert named.q.parts[1] != named.q.own[1] == "what does cmw do"
    assert named.readings[1].text == "what does cmw do"
    pointing = prepare(kb.retriever, "who signs the agreement and when")  # "when" names nothing: it keeps the subject
    assert not isinstance(pointing, Reason)
    assert pointing.readings[1].text == "when signs the agreement"
    staged = stage(kb.retriever, kb.selector, "who does UNHCR cover? + what does cmw do", kb.citations_for, 60)
    assert isinstance(staged, Staged)
    second = staged.scored[1]
    best = second.found.rows[int(second.probabilities.argmax())]
    assert "Committee on Migrant Workers" in kb.retriever.units[best].sentence.text
