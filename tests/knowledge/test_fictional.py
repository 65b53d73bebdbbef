"""A second, fictional knowledge base: the same code answers it, cites its own instruments, abstains honestly.

tests/data/fictional holds a document written for the test suite (a fictional accord between two fictional
organisations, in the same law-review citation style), its glossary, and two blind question sets written by
helpers who saw only that document. No code knows anything of it: this proves the pipeline is not tuned to the
bundled article. The numbers asserted here are floors against regressions; docs/evaluation.md has the measured
quality and compares it with the bundled knowledge base's blind sets.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from knowledge.base import KnowledgeBase
from knowledge.evaluation import load_eval_set, run_eval
from knowledge.question import WANTS_DATE

DATA = Path(__file__).resolve().parents[1] / "data" / "fictional"
ROOT = Path(__file__).resolve().parents[2]
KNOWLEDGE = ROOT / "knowledge"


@pytest.fixture(scope="module")
def fictional() -> KnowledgeBase:
    return KnowledgeBase.load(DATA / "sources")


def test_it_is_fictional_and_nothing_in_the_code_knows_it() -> None:
    text = (DATA / "sources" / "lighthouse-accord.md").read_text(encoding="utf-8")
    assert "FICTIONAL" in text.split("---")[1]
    words = re.compile(r"lighthouse|keeper|clku|maritime signal|l/2031|l/2019", re.IGNORECASE)
    assert not [path.name for path in KNOWLEDGE.glob("*.py") if words.search(path.read_text(encoding="utf-8"))]


def test_it_cites_its_own_instruments(fictional: KnowledgeBase) -> None:
    answer = fictional.answer("Can union members on duty carry an MSA signal pass?")
    assert not answer.abstained, answer.reason
    assert "signal pass" in (answer.text or "")
    assert [(c.instrument, c.articles) for c in answer.citations] == [("L/2031/17", ("11",))]
    old = fictional.answer("What does art. 9 of the 2019 arrangement say?")
    assert "90 days" in (old.text or "") and old.citations[0].instrument == "L/2019/4"


def test_it_abstains_on_what_it_does_not_say(fictional: KnowledgeBase) -> None:
    for question in ("What is the capital of Peru?", "Where is the headquarters of the MSA?", "hello there!"):
        assert fictional.answer(question).abstained


@pytest.mark.parametrize("name", ["blind-plain.yaml", "blind-chat.yaml"])
def test_its_blind_sets_keep_their_floor(fictional: KnowledgeBase, name: str) -> None:
    report = run_eval(fictional, load_eval_set(DATA / "eval" / name).items, name=name)
    assert (report.overall.e2e.value or 0) >= 0.4
    assert (report.overall.wrong.value or 0) <= 0.1


def test_a_citation_states_its_documents_date_and_nothing_else(fictional: KnowledgeBase) -> None:
    r = fictional.retriever
    rows = [
        row for row, unit in enumerate(r.units) if unit.kind == "citation" and "2 October 2019" in unit.sentence.text
    ]
    assert rows
    stated = r.fact_terms(rows[0])
    assert set(stated) == {WANTS_DATE}
    assert {"2019", "octob"} <= stated[WANTS_DATE]


def test_its_own_example_questions_raise_its_blind_sets(tmp_path: Path, fictional: KnowledgeBase) -> None:
    # Eight sets written blind by other helpers (tests/data/fictional/examples) as its examples.yaml: the same
    # code and selector answer its blind sets better (python eval/fictional.py prints the table; docs/evaluation.md).
    sys.path.insert(0, str(ROOT / "eval"))
    import fictional as script

    assert len(script.EXAMPLE_SETS) == 8 and script.BLIND_SETS
    taught = KnowledgeBase.load(script.with_examples(tmp_path))
    assert len(taught.retriever.examples) > 500
    items = [item for path in script.BLIND_SETS for item in load_eval_set(path).items]
    questions = {e.question.lower() for e in taught.retriever.examples.examples}
    assert not [item.id for item in items if item.question.lower() in questions]  # none is recalled
    before, after = (run_eval(kb, items).overall for kb in (fictional, taught))
    assert (after.e2e.value or 0) >= 0.65
    assert (after.e2e.value or 0) > (before.e2e.value or 0)
    assert (after.wrong.value or 0) <= 0.12


@pytest.mark.parametrize(
    ("question", "asks_purpose"),
    [
        ("what is the CLKU even for?", True),
        ("whats the clku for lol", True),
        ("What is it that the CLKU is actually there for?", True),
        ("What is the CLKU responsible for?", False),
        ("What date is the conference set for?", False),
        ("What does MSA stand for?", False),
    ],
)
def test_what_is_x_for_asks_for_its_purpose(fictional: KnowledgeBase, question: str, asks_purpose: bool) -> None:
    # language.yaml's implied words: general English, the same for every knowledge base.
    terms = fictional.retriever.read(question).terms
    assert ("purpos" in terms) == asks_purpose
    if asks_purpose:  # and the passage stating the purpose comes first
        assert "purpose" in fictional.retriever.hits(terms)[0].passage.text
