"""The learned selector: shipped as plain data, reproducible from the repo, sane, and how decide uses it."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from knowledge.base import KnowledgeBase
from knowledge.decide import REASONS, decide_part, reason
from knowledge.features import FEATURES, LOWERING, RAISING
from knowledge.selector import (
    SELECTOR_FILE,
    VERIFIER_INPUTS,
    Selector,
    SelectorError,
    Thresholds,
    Verifier,
    load_selector,
)

ROOT = Path(__file__).resolve().parents[2]
THRESHOLDS = Thresholds(answer=0.9, alternative=0.6, runner_up=0.3)


def shipped() -> dict:
    return json.loads(SELECTOR_FILE.read_text(encoding="utf-8"))


@pytest.mark.timeout(900)  # training decides every training question some 250 times: about a minute on 2 cores
def test_the_shipped_selector_is_what_training_gives() -> None:
    # Same data, same file: eval/train.py --check trains again and compares byte for byte.
    done = subprocess.run(
        [sys.executable, str(ROOT / "eval" / "train.py"), "--check"], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "up to date" in done.stdout


def test_the_shipped_selector_is_plain_json_for_these_features() -> None:
    data = shipped()
    assert data["features"] == list(FEATURES)
    assert {"mean", "scale", "coef", "intercept", "thresholds", "training"} <= set(data)
    selector = load_selector()
    assert 0 < selector.thresholds.alternative <= selector.thresholds.answer <= 1


def test_no_weight_contradicts_its_features_known_direction() -> None:
    weights = dict(zip(shipped()["features"], shipped()["coef"], strict=True))
    assert all(weights[name] >= 0 for name in RAISING), {n: weights[n] for n in RAISING if weights[n] < 0}
    assert all(weights[name] <= 0 for name in LOWERING), {n: weights[n] for n in LOWERING if weights[n] > 0}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": "pickle"}, "not a iom-bot/selector file"),
        ({"version": 99}, "version 99"),
        ({"features": ["sentence"]}, "retrain it"),
        ({"coef": [float("nan")] * len(FEATURES)}, "finite"),
        ({"scale": [0.0] * len(FEATURES)}, "scales positive"),
        ({"thresholds": {"answer": "high"}}, "malformed"),
    ],
)
def test_a_bad_selector_file_is_refused_in_one_line(tmp_path: Path, change: dict, message: str) -> None:
    path = tmp_path / "selector.json"
    path.write_text(json.dumps({**shipped(), **change}), encoding="utf-8")
    with pytest.raises(SelectorError, match=message) as caught:
        load_selector(path)
    assert "\n" not in str(caught.value)


def test_probabilities_rise_with_a_raising_feature() -> None:
    selector = load_selector()
    column = FEATURES.index("sentence")
    low, high = np.zeros((1, len(FEATURES))), np.zeros((1, len(FEATURES)))
    high[0, column] = 1.0
    assert selector.probabilities(high)[0] >= selector.probabilities(low)[0]
    assert Selector.neutral().probabilities(high)[0] == 0.5


# -- decide ----------------------------------------------------------------------------------------------------------


def test_a_confident_best_is_answered_plainly() -> None:
    decision = decide_part(np.array([0.2, 0.95, 0.5]), [10, 11, 12], set(), THRESHOLDS)
    assert (decision.best, decision.runner_up, decision.covered) == (1, None, False)


def test_a_middling_best_comes_with_its_runner_up() -> None:
    decision = decide_part(np.array([0.7, 0.4, 0.1]), [10, 11, 12], set(), THRESHOLDS)
    assert (decision.best, decision.runner_up) == (0, 1)
    decision = decide_part(np.array([0.7, 0.2, 0.1]), [10, 11, 12], set(), THRESHOLDS)
    assert (decision.best, decision.runner_up) == (0, None)  # a runner-up too weak to show


def test_a_weak_best_is_no_answer() -> None:
    decision = decide_part(np.array([0.5, 0.4]), [10, 11], set(), THRESHOLDS)
    assert decision.best is None and decision.probability == 0.5


def test_a_part_whose_best_sentence_is_quoted_already_is_covered() -> None:
    decision = decide_part(np.array([0.95, 0.5]), [10, 11], {10}, THRESHOLDS)
    assert decision.covered and decision.best is None
    decision = decide_part(np.array([0.95, 0.7]), [10, 11], {10}, THRESHOLDS)
    assert decision.best == 1 and not decision.covered  # another sentence is likely enough for an alternative


def test_scaled_thresholds_for_kinds_of_part() -> None:
    scaled = replace(THRESHOLDS, later_parts=0.5).scaled(0.5)
    assert (scaled.answer, scaled.alternative, scaled.runner_up) == (0.45, 0.3, 0.15)


def test_every_reason_has_its_sentence() -> None:
    assert reason("unknown_concept", topic="headquarters").text == "my sources say nothing about headquarters"
    assert all(text and not text.endswith(".") for text in REASONS.values())


WITH_FACTS = [
    "How many Member States does IOM have?",
    "When did the General Assembly adopt the resolution?",
    "Who hailed the move?",
    "What travel document can IOM staff use?",
    "how many states are observers and since when has IOM been an observer at the UN",
]


def test_features_the_selector_does_not_weigh_are_skipped_without_changing_a_probability(kb: KnowledgeBase) -> None:
    from knowledge.pipeline import prepare, retrieve

    r, selector = kb.retriever, kb.selector
    skipped = False
    for question in WITH_FACTS:
        prepared = prepare(r, question)
        for reading in prepared.readings:
            _, every = retrieve(r, reading, prepared.articles)
            _, weighed = retrieve(r, reading, prepared.articles, selector.used)
            assert np.array_equal(selector.probabilities(every), selector.probabilities(weighed)), question
            skipped |= not np.array_equal(every, weighed)
    assert skipped, "no feature was skipped: the questions no longer exercise the costly ones"


def test_a_selector_uses_exactly_its_weighed_features() -> None:
    coef = np.zeros(len(FEATURES))
    coef[[FEATURES.index("gap"), FEATURES.index("new_fact")]] = [1.0, -0.5]
    selector = Selector(np.zeros(len(FEATURES)), np.ones(len(FEATURES)), coef, 0.0, THRESHOLDS)
    assert selector.used == {"gap", "new_fact"}
    assert Selector.neutral().used == frozenset()


def test_thresholds_beyond_the_budget_fall_back_to_the_fewest_wrong_answers() -> None:
    sys.path.insert(0, str(ROOT / "eval"))
    import train

    options = [replace(THRESHOLDS, later_parts=factor) for factor in (0.4, 0.7, 1.0)]
    # (e2e, wrong) out of fold: the factor 1.0 leaves more two-part questions half answered (counted wrong).
    measured = {0.4: (0.66, 0.037), 0.7: (0.65, 0.039), 1.0: (0.66, 0.043)}

    class Rehearsal:  # the out-of-fold metrics of each option, as train.Rehearsal.metrics gives them
        def metrics(self, option, fixed=None):
            e2e, wrong = measured[option.later_parts]
            return SimpleNamespace(e2e=SimpleNamespace(value=e2e), wrong=SimpleNamespace(value=wrong))

    choose = train._best_within_budget
    assert choose(Rehearsal(), [*options, options[-1]], budget=0.04).later_parts == 0.4  # within: most right
    assert choose(Rehearsal(), [*options, options[-1]], budget=0.03).later_parts == 0.4  # none: fewest wrong
    measured[0.4] = (0.60, 0.037)
    assert choose(Rehearsal(), [*options, options[-1]], budget=0.038).later_parts == 0.4
    assert choose(Rehearsal(), [*options, options[-1]], budget=0.04).later_parts == 0.7  # within: most right
    # With a cost per wrong answer: most right less cost times wrong, within the budget.
    measured.update({0.4: (0.70, 0.045), 0.7: (0.66, 0.030)})
    assert choose(Rehearsal(), [*options, options[-1]], budget=0.05).later_parts == 0.4
    assert choose(Rehearsal(), [*options, options[-1]], budget=0.05, cost=4.0).later_parts == 0.7


def test_training_decides_a_staged_question_as_the_bot_answers_it() -> None:
    # Training stages each question once and decides it under every thresholds tried (eval/train.py Rehearsal):
    # the metrics must be those of answering it afresh with the selector carrying those thresholds.
    sys.path.insert(0, str(ROOT / "eval"))
    import train
    from memory import Memory

    from knowledge.evaluation import compute_metrics, instrument_symbol, load_eval_set, score_item
    from knowledge.pipeline import answer

    kb = KnowledgeBase.load()
    dev, chat = (load_eval_set(ROOT / "eval" / name).items for name in ("dev.yaml", "chat.yaml"))
    memory = Memory(kb.retriever, list(train.SPLIT_SETS), frozenset())
    selector = load_selector()
    base = replace(selector, examples=None)  # a fold of the first model; one of the pair, examples model and all
    folds = [train.Fold(base, tuple(dev)), train.Fold(selector, tuple(chat[:60]))]  # most of chat: the examples
    rehearsal = train.Rehearsal(memory, folds, kb.citations_for)
    # Then with a verifier per fold for the examples model, as training sets them: another than the shipped one.
    other = replace(selector.examples.verifier, intercept=selector.examples.verifier.intercept - 1.0)
    seen = []
    options = (train._band(0.3), replace(train._band(0.6), later_parts=0.5), train._band(0.95), *[train._band(0.8)] * 2)
    for number, option in enumerate(options):
        if number == 4:
            rehearsal.verifiers = [other, other]
        fresh = []
        for fold in folds:
            verifier = other if number == 4 else fold.selector.examples and fold.selector.examples.verifier
            carrying = (
                replace(fold.selector, thresholds=option)
                if fold.selector.examples is None
                else replace(
                    fold.selector, examples=replace(fold.selector.examples, thresholds=option, verifier=verifier)
                )
            )
            fresh += [
                score_item(
                    item,
                    answer(memory(item), carrying, item.question, kb.citations_for, train.MAX_WORDS),
                    instrument_symbol(kb.retriever.glossary, item.article_source),
                )
                for item in fold.items
            ]
        seen.append(rehearsal.metrics(option))
        assert seen[-1] == compute_metrics(fresh)
    assert len({(m.e2e.value, m.wrong.value) for m in seen[:3]}) == 3  # the thresholds made a difference
    assert (seen[3].e2e, seen[3].wrong) != (seen[4].e2e, seen[4].wrong)  # and so did the verifier


# -- the verifier ----------------------------------------------------------------------------------------------------


def test_the_examples_model_has_a_verifier_and_the_model_without_examples_none() -> None:
    data = shipped()
    assert data["with_examples"]["verifier"]["inputs"] == list(VERIFIER_INPUTS)
    assert "verifier" not in data
    selector = load_selector()
    assert selector.verifier is None and selector.examples.verifier is not None
    assert selector.examples.verifier.weighs <= selector.used  # a feature it weighs is always computed


def test_no_verifier_weight_contradicts_its_inputs_known_direction() -> None:
    weights = dict(zip(VERIFIER_INPUTS, shipped()["with_examples"]["verifier"]["coef"], strict=True))
    raising, lowering = RAISING | {"p_best", "p_margin"}, LOWERING | {"p_second"}
    assert all(weights[name] >= 0 for name in raising), {n: weights[n] for n in raising if weights[n] < 0}
    assert all(weights[name] <= 0 for name in lowering), {n: weights[n] for n in lowering if weights[n] > 0}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"coef": [1.0] * len(FEATURES)}, "one per input"),  # one per feature: the inputs are more
        ({"intercept": float("inf")}, "finite"),
        ({"mean": "zeros"}, "malformed"),
    ],
)
def test_a_bad_verifier_is_refused_in_one_line(tmp_path: Path, change: dict, message: str) -> None:
    data = shipped()
    data["with_examples"]["verifier"] = {**data["with_examples"]["verifier"], **change}
    path = tmp_path / "selector.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(SelectorError, match=message) as caught:
        load_selector(path)
    assert "\n" not in str(caught.value)


def test_the_verifier_is_a_logistic_regression_on_the_best_candidate_and_the_two_best_probabilities() -> None:
    n = len(VERIFIER_INPUTS)
    coef = np.zeros(n)
    coef[[FEATURES.index("gap"), n - 3, n - 2, n - 1]] = [1.0, 2.0, -1.0, 0.5]
    verifier = Verifier(np.zeros(n), np.full(n, 2.0), coef, -0.25)
    features = np.zeros((3, len(FEATURES)))
    features[:, FEATURES.index("gap")] = [0.1, 0.8, 0.3]
    probabilities = np.array([0.3, 0.9, 0.6])  # the best is the second candidate; the runner-up 0.6
    z = (0.8 * 1.0 + 0.9 * 2.0 - 0.6 * 1.0 + 0.3 * 0.5) / 2.0 - 0.25
    assert verifier.confidence(features, probabilities) == pytest.approx(1 / (1 + np.exp(-z)))
    assert verifier.confidence(features[:1], probabilities[:1]) == pytest.approx(
        1 / (1 + np.exp(-((0.1 + 0.3 * 2.0 + 0.3 * 0.5) / 2.0 - 0.25)))  # no runner-up: its probability is 0
    )


def test_decide_weighs_the_confidence_and_keeps_the_best_candidate() -> None:
    probabilities = np.array([0.2, 0.95, 0.5])
    unsure = decide_part(probabilities, [10, 11, 12], set(), THRESHOLDS, confidence=0.5)
    assert unsure.best is None and unsure.probability == 0.5  # the selector's 0.95 alone would answer
    sure = decide_part(np.array([0.2, 0.7, 0.1]), [10, 11, 12], set(), THRESHOLDS, confidence=0.97)
    assert (sure.best, sure.probability, sure.runner_up) == (1, 0.97, None)  # confident: no runner-up


def test_the_verifier_decides_the_first_part_and_later_parts_keep_their_probability(kb: KnowledgeBase) -> None:
    from knowledge.pipeline import Staged, decisions, stage

    question = "When did the General Assembly adopt the resolution, and what can IOM staff use to travel?"
    staged = stage(kb.retriever, kb.selector, question, kb.citations_for, 60)
    assert isinstance(staged, Staged) and len(staged.scored) == 2
    n = len(VERIFIER_INPUTS)
    doubting, trusting = (Verifier(np.zeros(n), np.ones(n), np.zeros(n), b) for b in (-20.0, 20.0))
    loose = Thresholds(answer=0.5, alternative=0.3, runner_up=0.2)
    assert decisions(staged, loose, doubting)[0].best is None  # the first part is not answered ...
    first, later = decisions(staged, loose, trusting)
    assert first.best is not None and first.probability == pytest.approx(1.0)  # ... or it is, on the verifier's word
    assert later.probability == pytest.approx(float(staged.scored[1].probabilities.max()))


def test_the_part_surest_of_a_shared_sentence_claims_it_and_the_other_takes_its_next() -> None:
    # "can the SG come to the Council? and can the DG come to the GA?": both parts rank the DG's sentence (row
    # 10) first; the second part is surer of it, so it quotes it, and the first part its next sentence (row 11,
    # relaxed as a later part once the other is answered), not "covered" by a sentence that answers the other.
    from knowledge.pipeline import Scored, Staged, decisions

    def part(rows: list[int], probabilities: list[float]) -> Scored:
        features = np.zeros((len(rows), len(FEATURES)))
        return Scored(SimpleNamespace(on_topic=True), SimpleNamespace(rows=rows), features, np.array(probabilities))

    staged = Staged(
        "q", SimpleNamespace(articles=None), [part([10, 11], [0.82, 0.62]), part([10, 12], [0.83, 0.18])],
        SimpleNamespace(verifier=None), None,
    )  # fmt: skip
    thresholds = Thresholds(answer=0.887, alternative=0.775, runner_up=0.388, later_parts=0.5)
    first, second = decisions(staged, thresholds)  # type: ignore[arg-type]
    assert (first.best, first.covered, second.best, second.covered) == (1, False, 0, False)
