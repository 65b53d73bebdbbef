"""checks.yaml: loading and its errors, judging answers, the quality gate; named changes; explain()."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from knowledge.base import BUNDLED_SOURCES, KnowledgeBase
from knowledge.changes import compare
from knowledge.checks import Check, CheckReport, CheckResult, changed_answers, gate, load_checks, run_checks
from knowledge.documents import SourceError
from knowledge.explain import explain

LAISSEZ_PASSER = "Can IOM staff travel on a UN laissez-passer?"
ART_11_SENTENCE = "It also affords IOM staff members entitlement to use a UN laissez-passer as a valid travel document."
SOURCE = "iom-joins-un-system.md"


def test_the_bundled_knowledge_base_passes_its_own_checks(kb: KnowledgeBase) -> None:
    checks = load_checks(kb.sources_dir)
    report = run_checks(kb, checks)

    assert len(checks) >= 5 and any(c.abstain for c in checks)
    assert report.failed == () and report.summary() == f"{len(checks)}/{len(checks)} checks passed"


def test_a_directory_without_checks_has_none(tmp_path: Path) -> None:
    assert load_checks(tmp_path) == ()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("checks: [{question: q, expect: x, colour: red}]", "checks[0]: unknown key 'colour'"),
        ("checks: [{expect: x}]", "checks[0].question: expected a question"),
        ("checks: [{question: q}]", "checks[0]: give an expected span and/or article, or abstain: true"),
        ("checks: [{question: q, expect: x, abstain: true}]", "checks[0]: give an expected span"),
        ("checks: [{question: q, abstain: true}, {question: q, abstain: true}]", "checks[1]: the same question twice"),
        ("checks: [{question: q, instrument: A/1/2, expect: x}]", "checks[0].instrument: expected a document symbol"),
        ("questions: []", "expected a mapping with one key, 'checks'"),
        ("checks: [\n  {question: q, expect: [}", "bad YAML"),
    ],
)
def test_a_bad_checks_file_is_refused_with_the_entry_named(tmp_path: Path, text: str, problem: str) -> None:
    (tmp_path / "checks.yaml").write_text(text, encoding="utf-8")

    with pytest.raises(SourceError, match="checks.yaml") as raised:
        load_checks(tmp_path)

    assert problem in str(raised.value)


@pytest.mark.parametrize(
    ("check", "passes"),
    [
        (Check(LAISSEZ_PASSER, expect="a  VALID travel document"), True),  # case and spacing ignored
        (Check(LAISSEZ_PASSER, article="11", instrument="A/70/976"), True),
        (Check(LAISSEZ_PASSER, article="11", instrument="E/1996/90"), False),
        (Check(LAISSEZ_PASSER, article="12"), False),
        (Check(LAISSEZ_PASSER, expect="a diplomatic passport"), False),
        (Check(LAISSEZ_PASSER, abstain=True), False),
        (Check("What is the capital of Mongolia?", abstain=True), True),
        (Check("What is the capital of Mongolia?", expect="Ulaanbaatar"), False),
    ],
)
def test_a_check_judges_the_answer(kb: KnowledgeBase, check: Check, passes: bool) -> None:
    assert check.judge(kb.answer(check.question)) is passes


def result(question: str, passed: bool, *, answered: bool = True, abstain: bool = False, sig: str = "s") -> CheckResult:
    check = Check(question, abstain=True) if abstain else Check(question, expect="x")
    return CheckResult(check, passed, answered, sig)


def test_the_gate_refuses_a_version_that_loses_a_passing_check() -> None:
    serving = CheckReport((result("a", True), result("b", False)))
    worse = CheckReport((result("a", False), result("b", True)))
    same = CheckReport((result("a", True), result("b", False)))

    assert gate(worse, serving) == ["1 check(s) that passed on the serving version fail"]
    assert gate(same, serving) == []


def test_the_gate_refuses_a_version_that_answers_nothing() -> None:
    mute = CheckReport((result("a", False, answered=False), result("z", True, answered=False, abstain=True)))

    assert gate(mute, None) == ["it answers none of the 1 checks that expect an answer"]


def test_min_pass_replaces_the_regression_rule() -> None:
    serving = CheckReport((result("a", True), result("b", True), result("c", True), result("d", True)))
    three_of_four = CheckReport((result("a", True), result("b", True), result("c", True), result("d", False)))

    assert gate(three_of_four, serving, min_pass=0.75) == []
    assert gate(three_of_four, serving, min_pass=0.8) == ["3/4 checks passed (75%), below knowledge.min_check_pass 80%"]


def test_changed_answers_counts_the_checks_both_versions_ran() -> None:
    old = CheckReport((result("a", True, sig="1"), result("b", True, sig="2"), result("gone", True, sig="3")))
    new = CheckReport((result("a", True, sig="1"), result("b", True, sig="9"), result("new", True, sig="4")))

    assert changed_answers(old, new) == 1 and changed_answers(None, new) == 0


def test_changes_name_the_document_section_and_article(kb: KnowledgeBase, sources_copy: Path) -> None:
    path = sources_copy / SOURCE
    text = path.read_text(encoding="utf-8").replace(" See id. at art. 11.", "")
    path.write_text(re.sub(r"(?m)^body_sha256: .*\n", "", text), encoding="utf-8")  # an admin's own edit
    edited = KnowledgeBase.load(sources_copy)

    changes = compare(kb, edited)

    assert changes.documents_changed == ("ijrc-iom-joins-un-system",)
    assert changes.sections_changed == ("ijrc-iom-joins-un-system § Details of the Agreement",)
    assert [(a.instrument, a.number, a.before, a.after) for a in changes.articles] == [("A/70/976", "11", 1, 0)]
    lines = changes.lines(edited)
    assert "Documents changed: ijrc-iom-joins-un-system" in lines
    assert "Articles losing citing sentences: art. 11 of 2016 Agreement (A/70/976): 1 -> 0 citing sentences" in lines


def test_changes_name_added_and_removed_documents(kb: KnowledgeBase, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("Notes\n\nIOM has an office in Geneva.\n", encoding="utf-8")

    changes = compare(kb, KnowledgeBase.load(other))

    assert changes.documents_added == ("notes",) and changes.documents_removed == ("ijrc-iom-joins-un-system",)
    assert compare(kb, kb).empty


def test_explain_gives_the_probability_matches_and_runner_up(kb: KnowledgeBase) -> None:
    explanation = explain(kb, LAISSEZ_PASSER)

    assert explanation.probability == pytest.approx(kb.answer(LAISSEZ_PASSER).confidence)
    assert explanation.answer.parts[0].text == ART_11_SENTENCE
    assert {"staff", "travel"} <= set(explanation.matched_terms)
    assert "laissez_passer" in explanation.concepts
    assert explanation.runner_up is not None and explanation.runner_up != ART_11_SENTENCE
    assert 0 <= explanation.runner_up_probability <= explanation.probability
    assert explanation.passage is not None and ART_11_SENTENCE in explanation.passage.text
    # The bundled example questions: some, like this one, were answered with the same sentence.
    assert 1 <= len(explanation.asked_before) <= 3
    rows = {row for row, unit in enumerate(kb.retriever.units) if unit.sentence.text == ART_11_SENTENCE}
    examples = kb.retriever.examples
    for asked in explanation.asked_before:
        assert any(e.question == asked and examples.rows[i] & rows for i, e in enumerate(examples.examples))


def test_explain_of_an_abstention_has_no_passage(kb: KnowledgeBase) -> None:
    explanation = explain(kb, "What is the capital of Mongolia?")

    assert explanation.answer.abstained and explanation.passage is None and explanation.matched_terms == ()


def test_a_copy_of_the_bundled_sources_carries_the_checks(tmp_path: Path) -> None:
    shutil.copytree(BUNDLED_SOURCES, tmp_path / "s")

    assert load_checks(tmp_path / "s") == load_checks(BUNDLED_SOURCES)
