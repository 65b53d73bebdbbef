"""Example questions (knowledge/examples.py): read from examples.yaml, refused in one line when broken, resolved to
the sentences that answer them, and weighed by the examples model only where they are dense enough.

The end-to-end tests use the fictional knowledge base (tests/data/fictional), which the selector never saw in
training, with example questions written here for it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from knowledge.base import KnowledgeBase, read_sources
from knowledge.decide import Reason
from knowledge.documents import SourceError
from knowledge.evaluation import load_eval_set
from knowledge.examples import (
    DENSE,
    EXAMPLES_FILE,
    NEAREST,
    VOTERS,
    Example,
    ExampleError,
    Examples,
    _Holding,
    parse_examples,
    read_example_text,
    text_sha256,
)
from knowledge.features import EXAMPLE_FEATURES, INDEX
from knowledge.pipeline import prepare, retrieve
from knowledge.selector import Selector, Thresholds, load_selector

DATA = Path(__file__).resolve().parents[1] / "data" / "fictional"
AGENDA = "The two leaders may propose agenda items to each other"
# Six ways of asking whether the two leaders may propose agenda items to each other (written for this test).
AGENDA_EXAMPLES = (
    "Can the two heads put topics on each other's agendas?",
    "are the leaders allowed to suggest items for the other side's governing body?",
    "Who can propose agenda items to the other organisation's governing body?",
    "can the chiefs suggest agenda points to one another",
    "Do the heads of the two bodies get to propose matters for each other's governing bodies?",
    "may each leader put forward items for discussion by the other's governing body?",
)
# A question from the fictional blind set that the bare pipeline abstains on (none of the examples above).
AGENDA_QUESTION = (
    "May the leaders of the two organizations suggest matters for discussion by each other's governing bodies?"
)


def write_examples(directory: Path, body: str) -> Path:
    sources = directory / "sources"
    shutil.copytree(DATA / "sources", sources)
    (sources / EXAMPLES_FILE).write_text(body, encoding="utf-8")
    return sources


def agenda_yaml(questions: tuple[str, ...] = AGENDA_EXAMPLES) -> str:
    lines = ["examples:"]
    for question in questions:
        lines += [f'- question: "{question}"', f'  answers: ["{AGENDA}"]']
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def fictional() -> KnowledgeBase:
    return KnowledgeBase.load(DATA / "sources")


# -- reading the file ------------------------------------------------------------------------------------------


def test_no_file_means_no_examples(tmp_path: Path) -> None:
    assert read_example_text(tmp_path) is None
    assert read_example_text(None) is None


def test_a_well_formed_file_is_read(tmp_path: Path) -> None:
    (tmp_path / EXAMPLES_FILE).write_text(
        'examples:\n- question: " When? "\n  answers: ["on 3 May"]\n- question: "Where?"\n  answers: []\n',
        encoding="utf-8",
    )
    text = read_example_text(tmp_path)
    assert text is not None
    assert parse_examples(text) == (Example("When?", ("on 3 May",)), Example("Where?", ()))
    assert text_sha256(text) == hashlib.sha256((tmp_path / EXAMPLES_FILE).read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("examples: [unclosed\n", "bad YAML"),
        ("- just a list\n", "a list under 'examples'"),
        ("examples:\n- question: 3\n  answers: []\n", "example 1 needs"),
        ("examples:\n- question: ok\n  answers: not a list\n", "example 1 needs"),
        ("examples:\n- question: ok\n  answers: ['']\n", "example 1 needs"),
        ("a: &x [1]\nexamples: *x\n", "aliases"),
    ],
)
def test_a_broken_file_is_one_line(tmp_path: Path, body: str, problem: str) -> None:
    (tmp_path / EXAMPLES_FILE).write_text(body, encoding="utf-8")
    with pytest.raises(ExampleError) as raised:
        parse_examples(read_example_text(tmp_path) or "")
    assert problem in str(raised.value)
    assert "\n" not in str(raised.value)


def test_a_knowledge_base_with_a_broken_examples_file_is_refused(tmp_path: Path) -> None:
    sources = write_examples(tmp_path, "examples: {question: 1}\n")
    with pytest.raises(SourceError) as raised:
        KnowledgeBase.load(sources)
    assert EXAMPLES_FILE in str(raised.value)


def test_the_examples_are_part_of_the_version(tmp_path: Path, fictional: KnowledgeBase) -> None:
    with_examples = KnowledgeBase.load(write_examples(tmp_path, agenda_yaml()))
    assert with_examples.version != fictional.version
    assert len(with_examples.retriever.examples) == len(AGENDA_EXAMPLES)
    assert len(fictional.retriever.examples) == 0


# -- resolving and searching -----------------------------------------------------------------------------------


def test_answers_resolve_to_the_sentences_holding_them(fictional: KnowledgeBase, caplog) -> None:
    r = fictional.retriever
    with caplog.at_level(logging.WARNING, logger="knowledge.examples"):
        examples = Examples.build(
            r,
            [
                Example("q one", (AGENDA.upper(),), "a"),  # case and spacing do not matter
                Example("q two", (), "b"),
                Example("q three", ("words no sentence holds",), "a"),
            ],
        )
    assert [e.question for e in examples.examples] == ["q one", "q two"]
    (row,) = examples.rows[0]
    assert AGENDA in r.units[row].sentence.text
    assert examples.rows[1] == frozenset()
    assert examples.answered == {row: 1}
    assert "1 example question(s) left out" in caplog.text


def test_without_leaves_out_groups_and_rows(fictional: KnowledgeBase) -> None:
    r = fictional.retriever
    examples = Examples.build(
        r, [Example(q, (AGENDA,), "mine") for q in AGENDA_EXAMPLES] + [Example("x y", (), "other")]
    )
    (row,) = examples.rows[0]
    assert [e.group for e in examples.without(frozenset({"mine"})).examples] == ["other"]
    assert [e.group for e in examples.without(rows=frozenset({row})).examples] == ["other"]
    assert len(examples.without(frozenset({"nobody"}))) == len(examples)


def test_near_finds_the_sentence_of_a_like_question(fictional: KnowledgeBase) -> None:
    r = fictional.retriever
    examples = Examples.build(
        r, [Example(q, (AGENDA,)) for q in AGENDA_EXAMPLES] + [Example("Who paints the towers?", ())]
    )
    (row,) = examples.rows[0]
    reading = prepare(r, AGENDA_EXAMPLES[0]).readings[0]
    near = examples.near(reading.terms)
    assert near.by_row[row] == pytest.approx(1.0, abs=1e-3)  # the example itself
    assert near.votes[row] >= 1 / VOTERS  # the example itself votes, with its cosine of 1
    assert set(near.votes) == {row}
    painted = prepare(r, "Who paints the towers?").readings[0]
    assert examples.near(painted.terms).unanswered == pytest.approx(1.0, abs=1e-3)


def test_without_examples_the_example_features_are_zero(fictional: KnowledgeBase) -> None:
    prepared = prepare(fictional.retriever, AGENDA_QUESTION)
    _, features = retrieve(fictional.retriever, prepared.readings[0])
    assert not features[:, [INDEX[name] for name in EXAMPLE_FEATURES]].any()


# -- choosing the model ----------------------------------------------------------------------------------------


def test_the_examples_model_answers_only_where_examples_are_dense() -> None:
    n = len(INDEX)
    plain = Selector(np.zeros(n), np.ones(n), np.zeros(n), 0.0, Thresholds(0.9, 0.8, 0.4))
    pair = dataclasses.replace(plain, examples=dataclasses.replace(plain, intercept=1.0))
    probabilities = np.array([0.2, 0.7, 0.1])
    rows = [10, 11, 12]  # the first model ranks row 11 first
    assert pair.choose({11: DENSE}, rows, probabilities) is pair.examples
    assert pair.choose({11: DENSE - 1, 10: 50}, rows, probabilities) is pair
    assert pair.choose({}, rows, probabilities) is pair
    assert plain.choose({11: DENSE}, rows, probabilities) is plain


def test_the_shipped_selector_has_an_examples_model_that_weighs_them() -> None:
    shipped = load_selector()
    assert shipped.examples is not None
    assert EXAMPLE_FEATURES & shipped.examples.used
    assert not EXAMPLE_FEATURES & {name for name in shipped.used if shipped.coef[INDEX[name]] != 0}


# -- end to end on a knowledge base the selector never saw ------------------------------------------------------


def test_dense_examples_teach_the_fictional_knowledge_base_a_paraphrase(
    tmp_path: Path, fictional: KnowledgeBase
) -> None:
    assert fictional.answer(AGENDA_QUESTION).abstained  # the bare pipeline does not dare
    taught = KnowledgeBase.load(write_examples(tmp_path, agenda_yaml()))
    got = taught.answer(AGENDA_QUESTION)
    assert not got.abstained
    assert AGENDA in got.parts[0].text


def test_sparse_examples_change_nothing(tmp_path: Path, fictional: KnowledgeBase) -> None:
    taught = KnowledgeBase.load(write_examples(tmp_path, agenda_yaml(AGENDA_EXAMPLES[: DENSE - 1])))
    for item in load_eval_set(DATA / "eval" / "blind-plain.yaml").items[:25]:
        assert taught.answer(item.question).to_dict() == fictional.answer(item.question).to_dict()


PASS_QUESTION = "Can union members on duty carry an MSA signal pass?"  # the bare pipeline answers it


def test_an_example_asked_again_in_its_words_gets_its_answer(tmp_path: Path, fictional: KnowledgeBase) -> None:
    # One example (fewer than DENSE: the examples model never weighs it) that the bare pipeline abstains on, and
    # one it answers, marked as not answered by the sources.
    body = f'examples:\n- question: "{AGENDA_QUESTION}"\n  answers: ["{AGENDA}"]\n'
    body += f'- question: "{PASS_QUESTION}"\n  answers: []\n'
    taught = KnowledgeBase.load(write_examples(tmp_path, body))
    assert fictional.answer(AGENDA_QUESTION).abstained and not fictional.answer(PASS_QUESTION).abstained
    again = taught.answer("  " + AGENDA_QUESTION.upper().replace("?", " ??"))  # case, spacing, punctuation aside
    assert not again.abstained and AGENDA in again.text
    refused = taught.answer(PASS_QUESTION.lower())
    assert refused.abstained and refused.reason_code == "asked_unanswered"
    # Other words are answered as before: the recall is of the very question, not of like ones.
    other = AGENDA_QUESTION.replace("suggest", "put forward")
    assert taught.answer(other).to_dict() == fictional.answer(other).to_dict()
    assert taught.answer(PASS_QUESTION + " today").to_dict() == fictional.answer(PASS_QUESTION + " today").to_dict()


def test_the_bundled_knowledge_base_ships_examples() -> None:
    sources = read_sources()
    assert (sources.directory / EXAMPLES_FILE).is_file()
    kb = KnowledgeBase.assemble(sources)
    assert len(kb.retriever.examples) > 1000
    assert max(kb.retriever.examples.answered.values()) >= DENSE


def test_answers_resolve_as_by_reading_every_sentence(fictional: KnowledgeBase) -> None:
    # Only the sentences indexed under an answer's rarest inner word are read; that must find exactly what a
    # scan of every sentence finds, also for runs of words cut mid-word at either end.
    holding = _Holding(fictional.retriever)
    texts = [" ".join(unit.sentence.text.lower().split()) for unit in fictional.retriever.units]
    runs = set()
    for text in texts:
        words = text.split()
        for start in range(0, len(words), 3):
            run = " ".join(words[start : start + 4])
            runs |= {run, run[2:], run[:-2], run.upper()}
    assert len(runs) > 500
    for run in runs:
        folded = " ".join(run.lower().split())
        assert sorted(holding(run)) == [row for row, text in enumerate(texts) if folded and folded in text], run


def test_a_sentence_s_closeness_is_over_all_its_examples(fictional: KnowledgeBase) -> None:
    # More examples than NEAREST share the question's one word and answer one sentence: the nearest are all
    # theirs, yet the other sentence's example is as close as it is, not nothing.
    r = fictional.retriever
    crowd = [Example(f"keepers {n}", (AGENDA,)) for n in range(NEAREST + 6)]
    examples = Examples.build(r, [*crowd, Example("keepers and their signal pass", ("signal pass, which opens",))])
    (agenda,), (passes,) = examples.rows[0], examples.rows[-1]
    terms = prepare(r, "keepers?").readings[0].terms
    assert passes not in examples.near(terms).by_row  # beyond the nearest
    scores = examples.index.scores(terms)
    best = examples.near(terms, [agenda, passes, -1]).best
    assert best[1] == pytest.approx(float(scores[-1])) and best[1] > 0
    assert best[0] == pytest.approx(float(scores[: len(crowd)].max())) and best[2] == 0.0


def test_an_unanswered_example_without_the_question_s_rarer_word_is_not_near(fictional: KnowledgeBase) -> None:
    # "When did the union join the accord?" is not what an unanswered "When did Norway join the union?" asks: its
    # closeness is the cosine less the share of the example's weight that the question lacks (Norway's, the
    # rarest word of the examples: the others, answered, all have "join" and "union").
    r = fictional.retriever
    others = ("Who may join the union?", "How does a keeper join the union?", "Can a union keeper join twice?")
    examples = Examples.build(
        r, [Example("When did Norway join the union?", ()), *(Example(q, (AGENDA,)) for q in others)]
    )
    weights = dict(examples.weights[0])
    assert weights["norway"] == max(weights.values()) > 1 / len(weights)
    asked = prepare(r, "When did the union join the accord?").readings[0].terms
    cosine = examples.nearest(asked)[0]
    assert examples.near(asked).unanswered == pytest.approx(cosine * (1 - weights["norway"]))
    same = prepare(r, "When did Norway join the union?").readings[0].terms
    assert examples.near(same).unanswered == pytest.approx(1.0, abs=1e-3)


def test_an_example_asked_again_gets_its_sentence_however_far_retrieval_puts_it(fictional: KnowledgeBase) -> None:
    r = fictional.retriever
    (row,) = Examples.build(r, [Example("x", (AGENDA,))]).rows[0]
    reading = prepare(r, "What colour are the harbour towers painted?").readings[0]
    assert row not in retrieve(r, reading)[0].rows
    found, features = retrieve(r, reading, known=frozenset({row}))
    assert row in found.rows and features.shape[0] == len(found.rows)


def test_near_takes_the_nearest_examples_as_the_index_searches_them() -> None:
    # near() scores every example once and takes the NEAREST from those scores: the same examples, in the same
    # order (ties to the lower row), as index.search gives, on the bundled knowledge base's examples.
    kb = KnowledgeBase.load()
    examples, r = kb.retriever.examples, kb.retriever
    for question in ("What is IOM?", "when did china join", "Can IOM staff use the UN laissez-passer?"):
        terms = prepare(r, question).readings[0].terms
        first: dict[int, float] = {}
        for example, cosine in examples.index.search(terms, NEAREST):
            for row in examples.rows[example]:
                first.setdefault(row, cosine)
        near = examples.near(terms)
        assert near.by_row == first and list(near.by_row) == list(first)


def test_a_later_part_in_words_people_asked_with_is_on_the_topic(tmp_path: Path) -> None:
    # "gizmo", "colour" and "flag" are in no sentence of the fictional sources; an example question the sources
    # answer asks with "gizmo", one they do not answer with "flag": a word of an unanswered question is no sign
    # that a part asks about the sources.
    body = agenda_yaml((*AGENDA_EXAMPLES, "Can the leaders put gizmo items on each other's agendas?"))
    body += '- question: "What colour is the flag of the accord?"\n  answers: []\n'
    r = KnowledgeBase.load(write_examples(tmp_path, body)).retriever
    assert r.examples.asks("gizmo") and not r.examples.asks("flag") and r.examples.index is not None
    assert "flag" in r.examples.index.vocabulary
    asked = prepare(r, "Can the leaders propose agenda items to each other, and which gizmo do they wear?")
    unheard = prepare(r, "Can the leaders propose agenda items to each other, and what colour is their flag?")
    assert not isinstance(asked, Reason) and not isinstance(unheard, Reason)
    assert [p.on_topic for p in asked.readings] == [True, True]
    assert [p.on_topic for p in unheard.readings] == [True, False]


def test_examples_of_the_same_files_are_built_once_and_new_ones_when_a_file_changes(tmp_path: Path) -> None:
    sources = write_examples(tmp_path / "a", agenda_yaml())
    first, again = KnowledgeBase.load(sources), KnowledgeBase.load(sources)
    assert again.retriever.examples is first.retriever.examples  # resolved and read once
    copy = write_examples(tmp_path / "b", agenda_yaml())  # the same files elsewhere: the same rows
    assert KnowledgeBase.load(copy).retriever.examples is first.retriever.examples
    (sources / EXAMPLES_FILE).write_text(agenda_yaml(AGENDA_EXAMPLES[:3]), encoding="utf-8")
    changed = KnowledgeBase.load(sources).retriever.examples
    assert changed is not first.retriever.examples and len(changed) == 3
    (sources / "glossary.yaml").write_text(
        (sources / "glossary.yaml").read_text(encoding="utf-8") + "\n", encoding="utf-8"
    )
    assert KnowledgeBase.load(sources).retriever.examples is not changed  # another glossary: built anew


def test_every_load_warns_of_the_examples_left_out_built_once_or_not(tmp_path: Path, caplog) -> None:
    body = agenda_yaml() + '- question: "What is the pension age?"\n  answers: ["words no sentence holds"]\n'
    sources = write_examples(tmp_path, body)
    for _ in range(2):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="knowledge.examples"):
            assert len(KnowledgeBase.load(sources).retriever.examples) == len(AGENDA_EXAMPLES)
        assert "1 example question(s) left out" in caplog.text
