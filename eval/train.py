"""Train the answer selector: logistic regression over general (question, candidate sentence) features.

Usage: python eval/train.py [--check] [--out knowledge/selector.json]

1. Every question of the training sets is read and retrieved as the bot does it (knowledge.pipeline): each
   part's candidate sentences with their features. A candidate is positive when it holds a gold span.
2. The blind sets are split into train and validation BY SOURCE SENTENCE: the sentences of the bundled source
   are split by a hash of their text, and an item goes to validation when any sentence holding one of its gold
   spans is a validation sentence (so paraphrases of one fact never straddle the split); unanswerable items
   are split by a hash of their id. dev.yaml and chat.yaml are training data whole.
3. scikit-learn fits a StandardScaler and a LogisticRegression (lbfgs: deterministic) on the train rows.
4. The thresholds of decide.py are chosen by cross-validation on the training split (FOLDS folds by source
   sentence; each fold's questions answered by a model trained without them): the "answer" threshold that
   answers most questions correctly while its wrong answers stay within WRONG_BUDGET of the questions (for the
   examples model, less EXAMPLES_WRONG_COST times the share answered wrongly); answers in the lower half of
   the range above it come with the runner-up as "also relevant"; then the factors for later parts of a
   question and for questions naming an article, the same way; then the threshold again given those factors,
   and so on until nothing changes (at most ROUNDS rounds). The validation split is used for nothing but the
   report (--report validation).
5. The model and thresholds are written as JSON (rounded: same data, same file), with the bundled knowledge
   base's examples.yaml and its examples resolved ahead (examples.resolved.json: knowledge/resolved.py).
   --check compares instead and exits 1 when a shipped file is not what training gives.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NamedTuple

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from memory import Memory, answer_path_once, bucket, example_questions, held_out_rows  # noqa: E402

from knowledge import pipeline  # noqa: E402
from knowledge.answer import Answer  # noqa: E402
from knowledge.base import KnowledgeBase, read_sources  # noqa: E402
from knowledge.compose import CitationsFor  # noqa: E402
from knowledge.decide import PartDecision, Reason  # noqa: E402
from knowledge.evaluation import (  # noqa: E402
    EvalItem,
    compute_metrics,
    instrument_symbol,
    load_eval_set,
    normalize_space,
    score_item,
)
from knowledge.examples import EXAMPLES_FILE, Examples, parse_examples  # noqa: E402
from knowledge.features import FEATURES, LOWERING, RAISING  # noqa: E402
from knowledge.pipeline import answer  # noqa: E402
from knowledge.resolved import RESOLVED_FILE, key_of, resolved_text  # noqa: E402
from knowledge.retrieval import Retriever  # noqa: E402
from knowledge.selector import (  # noqa: E402
    SELECTOR_FILE,
    SELECTOR_FORMAT,
    SELECTOR_VERSION,
    VERIFIER_INPUTS,
    Selector,
    Thresholds,
    Verifier,
    verifier_inputs,
)
from knowledge.units import Unit  # noqa: E402

EVAL = ROOT / "eval"
WHOLE_TRAINING_SETS = (EVAL / "dev.yaml", EVAL / "chat.yaml")
# The blind banks, and each final set once it was measured (docs/evaluation.md): split by source sentence.
SPLIT_FOLDERS = ("blind", *(f"blind{n}" for n in range(2, 6)), "final", *(f"final{n}" for n in range(2, 35)))
SPLIT_SETS = tuple(sorted(path for folder in SPLIT_FOLDERS for path in (EVAL / folder).glob("*.yaml")))
VALIDATION_SHARE = 30  # percent of source sentences (and of unanswerable items) held out
NO_EXAMPLES_SHARE = 30  # percent of the training sentences whose example questions training never shows
EXAMPLES_OUT = ROOT / "knowledge" / "sources" / EXAMPLES_FILE
RESOLVED_OUT = EXAMPLES_OUT.with_name(RESOLVED_FILE)
CHECKS_FILE = ROOT / "knowledge" / "sources" / "checks.yaml"
C = 1.0  # inverse regularisation strength of the logistic regression
VERIFIER_C = 0.1  # ... of the verifier's (fewer rows, one per part, and inputs that move together)
WRONG_BUDGET = 0.05  # at most this share of validation questions answered wrongly
# The examples model's thresholds weigh each wrong answer as this many right ones (within the same budget). Its
# out-of-fold wrong answers level off near 4 % (writers who disagree on what a sentence settles: a near-miss one
# marked unanswerable that another would quote), so a budget alone pushed its threshold to the top of the range,
# where it abstained on 0.91-likely paraphrases. With the fourth and fifth banks and the twelfth and thirteenth
# sets in training: cost 4 within 5 %, 0.85 / 0.055 (e2e / wrong) on the validation side's 673 questions of
# before; a 3.5 % budget alone, 0.77 / 0.037; the budget alone without those sets, 0.80 / 0.049.
EXAMPLES_WRONG_COST = 4.0
DECIMALS = 6
MAX_WORDS = 60  # words quoted per fact, as the bot's default config
FOLDS = 5  # thresholds are chosen on out-of-fold answers to the training split's blind questions
ROUNDS = 4  # at most this many rounds of choosing the threshold, then the factors, given the other
LOWS = tuple(round(float(t), 3) for t in np.arange(0.05, 0.96, 0.025))  # the answer thresholds tried
FACTORS = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4)  # the later_parts and named_article factors tried


@dataclass(frozen=True, slots=True)
class Split:
    train: tuple[EvalItem, ...]
    validation: tuple[EvalItem, ...]


def gold_rows(r: Retriever, item: EvalItem) -> set[int]:
    """The units (sentences) of the sources that hold one of the item's gold spans."""
    spans = [normalize_space(s) for s in (*item.gold_spans, *(s for g in item.gold_groups for s in g))]
    return {row for row, text in enumerate(_sentence_texts(r.units)) if any(s in text for s in spans)}


def _sentence_texts(units: Sequence[Unit]) -> list[str]:
    """Each unit's sentence, spaces normalised: worked out once per run (every retriever shares the units)."""
    if id(units) not in _SENTENCE_TEXTS:
        _SENTENCE_TEXTS[id(units)] = (units, [normalize_space(unit.sentence.text) for unit in units])
    return _SENTENCE_TEXTS[id(units)][1]


_SENTENCE_TEXTS: dict[int, tuple[Sequence[Unit], list[str]]] = {}  # by id of the units, kept alive with them


def split(r: Retriever, items: Iterable[EvalItem]) -> Split:
    train, validation = [], []
    for item in items:
        rows = gold_rows(r, item)
        if rows:
            held_out = any(bucket(r.units[row].sentence.text) < VALIDATION_SHARE for row in rows)
        else:
            held_out = bucket(item.id) < VALIDATION_SHARE
        (validation if held_out else train).append(item)
    return Split(tuple(train), tuple(validation))


def load_items(paths: Sequence[Path]) -> list[EvalItem]:
    return [item for path in paths for item in load_eval_set(path).items]


def training_rows(memory: Memory, items: Iterable[EvalItem]) -> tuple[np.ndarray, np.ndarray]:
    """Features and labels of every candidate of every part that reaches the selector."""
    features, labels = [], []
    for item in items:
        r = memory(item)
        prepared = pipeline.prepare(r, item.question)
        if isinstance(prepared, Reason):
            continue  # decided before the selector: small talk, off the topic, an article never cited
        positive = gold_rows(r, item) if not item.abstain else set()
        for reading in prepared.readings:
            found, x = pipeline.retrieve(r, reading, prepared.articles)
            if not found.rows:
                continue
            features.append(x)
            labels.append(np.array([row in positive for row in found.rows], np.int8))
    return np.vstack(features), np.concatenate(labels)


def fit(
    x: np.ndarray, y: np.ndarray, dropped: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Scaler and logistic regression; a feature whose weight contradicts its known direction (features.RAISING,
    LOWERING) is dropped, the largest first, and the model fitted again, until every weight agrees. dropped: the
    features to leave out from the start (a fold starts from those its whole model dropped: one or two fits
    instead of some twenty)."""
    mean, scale = standard_scale(x)
    keep = np.ones(len(FEATURES), bool) if dropped is None else ~dropped
    coef, intercept = signed_fit((x - mean) / scale, y, FEATURES, C, keep)
    return mean, scale, coef, intercept


def standard_scale(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's StandardScaler's mean and scale of x (a constant column: scale 1)."""
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(x)
    return scaler.mean_, np.where(scaler.scale_ > 0, scaler.scale_, 1.0)


def signed_fit(
    z: np.ndarray,
    y: np.ndarray,
    names: Sequence[str],
    c: float,
    keep: np.ndarray,
    raising: frozenset[str] = RAISING,
    lowering: frozenset[str] = LOWERING,
) -> tuple[np.ndarray, float]:
    """A logistic regression over the kept columns of z (scaled), refitted without the column whose weight most
    contradicts its name's known direction (raising, lowering) until none does: (coef, 0 where dropped; intercept)."""
    from sklearn.linear_model import LogisticRegression

    keep = keep.copy()
    while True:
        model = LogisticRegression(C=c, max_iter=5000).fit(z[:, keep], y)
        coef = np.zeros(len(names))
        coef[keep] = model.coef_[0]
        wrong = [
            column
            for column, name in enumerate(names)
            if (name in raising and coef[column] < 0) or (name in lowering and coef[column] > 0)
        ]
        if not wrong:
            return coef, float(model.intercept_[0])
        keep[max(wrong, key=lambda column: abs(coef[column]))] = False


class Fold(NamedTuple):
    selector: Selector  # trained without the fold's items
    items: tuple[EvalItem, ...]


def folds(memory: Memory, whole: Sequence[EvalItem], items: Sequence[EvalItem], model: Selector) -> list[Fold]:
    """FOLDS models, each trained on the whole sets and the items outside its fold (folds by source sentence),
    leaving out from the start the features model (trained on all of them) left out."""
    r = memory.r
    assigned: list[list[EvalItem]] = [[] for _ in range(FOLDS)]
    for item in items:
        rows = sorted(gold_rows(r, item))
        key = r.units[rows[0]].sentence.text if rows else item.id
        assigned[bucket("fold:" + key) % FOLDS].append(item)
    out = []
    for number, held_out in enumerate(assigned):
        rest = [item for other, group in enumerate(assigned) if other != number for item in group]
        out.append(Fold(_selector(*fit(*training_rows(memory, [*whole, *rest]), model.coef == 0)), tuple(held_out)))
    return out


class Rehearsal:
    """Every fold's items answered out of fold, staged once (pipeline.stage: read, retrieved, scored); an item is
    then decided under each thresholds tried, and answered and scored once per distinct decision. A first part the
    examples model scores is decided by its fold's verifier (set before the first metrics: trained without the
    fold's items)."""

    def __init__(self, memory: Memory, fold_list: Sequence[Fold], citations_for: CitationsFor) -> None:
        self.citations_for = citations_for
        self.verifiers: list[Verifier] = []  # the examples model's, per fold
        self.items = []  # (item, its retriever, its fold's selector, staged or answered, results by decision, fold)
        for number, fold in enumerate(fold_list):
            # Every feature computed (the verifier may weigh any): the fold's probabilities are the same.
            selector = replace(fold.selector, verifier=Verifier.everything())
            for item in fold.items:
                r = memory(item)
                staged = pipeline.stage(r, selector, item.question, citations_for, MAX_WORDS)
                if not isinstance(staged, Answer) and staged.model is selector:
                    staged = staged._replace(model=fold.selector)  # decided as the fold's model decides
                self.items.append((item, r, fold.selector, staged, {}, number))

    def verifier_rows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The verifier's inputs for the best candidate of the first part of each staged item, whether it answers
        the part (a sentence holding a gold span of the item; never for an unanswerable item), the item's fold,
        and whether the examples model scored it."""
        inputs, labels, fold_of, by_examples = [], [], [], []
        for item, r, selector, staged, _, number in self.items:
            if isinstance(staged, Answer):
                continue
            first = staged.scored[0]  # the verifier weighs first parts (pipeline.decisions)
            if not first.probabilities.shape[0]:
                continue
            positive = gold_rows(r, item) if not item.abstain else set()
            inputs.append(verifier_inputs(first.features, first.probabilities))
            labels.append(first.found.rows[int(np.argmax(first.probabilities))] in positive)
            fold_of.append(number)
            by_examples.append(staged.model is selector.examples)
        return np.array(inputs), np.array(labels, np.int8), np.array(fold_of), np.array(by_examples, bool)

    def metrics(self, thresholds: Thresholds, fixed: Thresholds | None = None):
        """The metrics of every fold's items answered under thresholds by the model that did not see them (fixed:
        the thresholds of the model without examples, when the examples model's are tried)."""
        results = []
        for item, r, selector, staged, seen, number in self.items:
            key: tuple[PartDecision, ...] = ()
            if not isinstance(staged, Answer):  # the examples model's thresholds vary when there is one
                varied = selector.examples is None or staged.model is selector.examples
                use = thresholds if varied else (fixed or staged.model.thresholds)
                # The fold's verifier for the examples model once set; else the model's own (when it has one).
                verifier = self.verifiers[number] if self.verifiers and staged.model is selector.examples else None
                key = tuple(pipeline.decisions(staged, use, verifier))
            if key not in seen:
                got = (
                    staged
                    if isinstance(staged, Answer)
                    else pipeline.respond(r, staged, key, self.citations_for, MAX_WORDS)
                )
                seen[key] = score_item(item, got, instrument_symbol(r.glossary, item.article_source))
            results.append(seen[key])
        return compute_metrics(results)


def fit_verifier(x: np.ndarray, y: np.ndarray) -> Verifier:
    """The verifier (scaler and logistic regression, its weights agreeing with the known directions as the
    selector's do), rounded as the selector is."""
    mean, scale = standard_scale(x)
    every = np.ones(len(VERIFIER_INPUTS), bool)
    raising, lowering = RAISING | {"p_best", "p_margin"}, LOWERING | {"p_second"}
    coef, intercept = signed_fit((x - mean) / scale, y, VERIFIER_INPUTS, VERIFIER_C, every, raising, lowering)
    return Verifier(
        np.round(mean, DECIMALS),
        np.round(scale, DECIMALS),
        np.round(coef, DECIMALS),
        round(intercept, DECIMALS),
    )


def verifiers(rehearsal: Rehearsal) -> Verifier:
    """Train the examples model's verifier on the best candidates it scored out of fold in the rehearsal; give the
    rehearsal, per fold, the verifier trained without that fold's items (for choosing thresholds); return the one
    trained on them all. The model without examples has none: one trained for it (without the example features)
    answered more on the validation side, but more of them wrongly (docs/answer-path.md)."""
    x, y, fold_of, by_examples = rehearsal.verifier_rows()
    rehearsal.verifiers = [
        fit_verifier(x[by_examples & (fold_of != n)], y[by_examples & (fold_of != n)]) for n in range(FOLDS)
    ]
    return fit_verifier(x[by_examples], y[by_examples])


def choose_thresholds(
    rehearsal: Rehearsal, budget: float = WRONG_BUDGET, cost: float = 0.0, fixed: Thresholds | None = None
) -> Thresholds:
    """The answer threshold that answers most questions correctly out of fold (less cost times the share answered
    wrongly) within the wrong-answer budget; then the factor for later parts and for questions naming an
    article, the same way; then the threshold again with those factors, and so on until nothing changes."""
    thresholds = _band(0.95)
    for _ in range(ROUNDS):
        before = thresholds
        factors = {"later_parts": before.later_parts, "named_article": before.named_article}
        bands = [replace(_band(low), **factors) for low in (*LOWS, 0.95)]  # the last: none within the budget
        thresholds = _best_within_budget(rehearsal, bands, budget, cost, fixed)
        for field in ("later_parts", "named_article"):
            options = [replace(thresholds, **{field: factor}) for factor in (*FACTORS, 1.0)]
            thresholds = _best_within_budget(rehearsal, options, budget, cost, fixed)
        if thresholds == before:
            break
    return thresholds


def _best_within_budget(
    rehearsal: Rehearsal,
    options: Sequence[Thresholds],
    budget: float = WRONG_BUDGET,
    cost: float = 0.0,
    fixed: Thresholds | None = None,
) -> Thresholds:
    """Of options[:-1], the thresholds that answer most questions correctly out of fold, less cost times those
    answered wrongly, while the wrong answers stay within budget (the first of equals); when none stays within
    it, the one with the fewest wrong answers (then the most right). Not the most cautious option: a higher
    factor for later parts leaves more two-part questions half answered, which the scorer counts wrong."""
    best: tuple[Thresholds, float] | None = None
    fewest: tuple[float, float, Thresholds] | None = None
    for option in options[:-1]:
        metrics = rehearsal.metrics(option, fixed)
        wrong, e2e = metrics.wrong.value or 0.0, metrics.e2e.value or 0.0
        value = e2e - cost * wrong
        if wrong <= budget and (best is None or value > best[1]):
            best = (option, value)
        if fewest is None or (wrong, -e2e) < fewest[:2]:
            fewest = (wrong, -e2e, option)
    if best is not None:
        return best[0]
    return fewest[2] if fewest is not None else options[-1]


def _band(low: float) -> Thresholds:
    """The middle band (answered with the runner-up beside it) is the lower half of the answered range."""
    return Thresholds(answer=round((1 + low) / 2, 3), alternative=low, runner_up=round(low / 2, 3))


def _selector(mean: np.ndarray, scale: np.ndarray, coef: np.ndarray, intercept: float) -> Selector:
    """The model as it is written out: rounded, so that the same data always gives the same file."""
    return Selector(
        np.round(mean, DECIMALS), np.round(scale, DECIMALS), np.round(coef, DECIMALS), round(intercept, DECIMALS),
        Thresholds(1.0, 1.0, 1.0),
    )  # fmt: skip


def train() -> dict[str, object]:
    with answer_path_once():
        return _train()


def _train() -> dict[str, object]:
    """Two models: one for questions on sentences no example question is about (trained as if there were no
    examples), and one that also weighs the example questions (trained with those of the other sets, and with
    none for NO_EXAMPLES_SHARE of the sentences); its thresholds are chosen with the pair answering together."""
    kb = KnowledgeBase.assemble(read_sources(), selector=Selector.neutral())
    r = replace(kb.retriever, examples=Examples.empty())
    whole = load_items(WHOLE_TRAINING_SETS)
    parts = split(r, load_items(SPLIT_SETS))
    train_items = [*whole, *parts.train]
    none = Memory(r, [], frozenset())
    x, y = training_rows(none, train_items)
    base = _selector(*fit(x, y))
    base_folds = folds(none, whole, parts.train, base)
    hidden = held_out_rows(r, VALIDATION_SHARE) | held_out_rows(r, NO_EXAMPLES_SHARE, "examples:")
    memory = Memory(r, [*WHOLE_TRAINING_SETS, *SPLIT_SETS], hidden)
    ex_x, ex_y = training_rows(memory, train_items)
    examples = _selector(*fit(ex_x, ex_y))
    pairs = [
        Fold(replace(b.selector, examples=e.selector), e.items)
        for b, e in zip(base_folds, folds(memory, whole, parts.train, examples), strict=True)
    ]
    alone, together = Rehearsal(none, base_folds, kb.citations_for), Rehearsal(memory, pairs, kb.citations_for)
    verifier = verifiers(together)
    thresholds = choose_thresholds(alone)
    ex_thresholds = choose_thresholds(together, cost=EXAMPLES_WRONG_COST, fixed=thresholds)
    return {
        "format": SELECTOR_FORMAT,
        "version": SELECTOR_VERSION,
        "features": list(FEATURES),
        **_model(base, thresholds),
        "with_examples": {**_model(examples, ex_thresholds), "verifier": _verifier(verifier)},
        "training": {
            "sets": [str(p.relative_to(ROOT)) for p in (*WHOLE_TRAINING_SETS, *SPLIT_SETS)],
            "items": len(train_items),
            "validation_items": len(parts.validation),
            "rows": int(y.shape[0]),
            "positives": int(y.sum()),
            "example_questions": len(memory.examples),
            "C": C,
            "no_examples_share": NO_EXAMPLES_SHARE,
            "folds": FOLDS,
            "wrong_budget": WRONG_BUDGET,
            "examples_wrong_cost": EXAMPLES_WRONG_COST,
        },
    }


def _verifier(verifier: Verifier) -> dict[str, object]:
    return {
        "inputs": list(VERIFIER_INPUTS),
        "mean": verifier.mean.tolist(),
        "scale": verifier.scale.tolist(),
        "coef": verifier.coef.tolist(),
        "intercept": verifier.intercept,
        "C": VERIFIER_C,
    }


def _model(selector: Selector, thresholds: Thresholds) -> dict[str, object]:
    return {
        "mean": selector.mean.tolist(),
        "scale": selector.scale.tolist(),
        "coef": selector.coef.tolist(),
        "intercept": selector.intercept,
        "thresholds": {
            "answer": thresholds.answer,
            "alternative": thresholds.alternative,
            "runner_up": thresholds.runner_up,
            "later_parts": thresholds.later_parts,
            "named_article": thresholds.named_article,
        },
    }


def report(split_name: str) -> str:
    """Per-style metrics of the shipped selector on one side of the split ("validation" or "train"): answered
    with the example questions of the other sets (as a new writer's questions are), then with none for the
    side's own sentences (as a new source's are)."""
    kb = KnowledgeBase.assemble(read_sources())
    r = replace(kb.retriever, examples=Examples.empty())
    parts = split(r, load_items(SPLIT_SETS))
    items = parts.validation if split_name == "validation" else parts.train
    paths = [*WHOLE_TRAINING_SETS, *SPLIT_SETS]
    side = held_out_rows(r, VALIDATION_SHARE)
    if split_name == "train":
        side = frozenset(range(len(r.units))) - side
    tables = []
    for title, memory in (
        ("with the example questions of the other sets", Memory(r, paths, frozenset())),
        ("with no example questions for these sentences", Memory(r, paths, side)),
    ):
        by_style: dict[str, list] = {}
        for item in items:
            got = answer(memory(item), kb.selector, item.question, kb.citations_for, MAX_WORDS)
            result = score_item(item, got, instrument_symbol(r.glossary, item.article_source))
            by_style.setdefault(item.style or "-", []).append(result)
            by_style.setdefault("all", []).append(result)
        lines = [title, f"{'style':<12} {'n':>4} {'e2e':>6} {'wrong':>6} {'abst-F1':>8} {'ans-hit':>8} {'hit@3':>6}"]
        for style, results in sorted(by_style.items(), key=lambda kv: (kv[0] == "all", kv[0])):
            m = compute_metrics(results)
            cells = (m.e2e.value, m.wrong.value, m.abstain_f1, m.answer_hit.value, m.hit_at_3.value)
            lines.append(f"{style:<12} {m.n:>4} " + " ".join(f"{'-' if v is None else f'{v:.2f}':>6}" for v in cells))
        tables.append("\n".join(lines))
    return "\n\n".join(tables)


def examples_text() -> str:
    """The bundled knowledge base's examples.yaml: every training question with its gold spans, then the
    knowledge base's own checks (a check names what answers its question: an example). Same sets, same file."""
    import yaml

    examples = example_questions([*WHOLE_TRAINING_SETS, *SPLIT_SETS])
    body = [{"question": e.question, "answers": list(e.answers)} for e in examples]
    checks = yaml.safe_load((CHECKS_FILE).read_text(encoding="utf-8"))["checks"]
    body += [{"question": c["question"], "answers": [] if c.get("abstain") else [c["expect"]]} for c in checks]
    header = (
        "# Questions people asked of these sources, with the words of the sentence that answers each (answers: []\n"
        "# when the sources do not answer it). Written by eval/train.py from the question sets it trains on and\n"
        "# from checks.yaml; maintainers may add their own. See knowledge/examples.py.\n"
    )
    return header + yaml.safe_dump({"examples": body}, sort_keys=False, allow_unicode=True, width=1000)


def resolved_file(text: str) -> str:
    """The bundled knowledge base's examples.resolved.json for its examples.yaml text (knowledge/resolved.py)."""
    # Its sentences and its reading of questions (not the examples it took, nor the shipped selector).
    kb = KnowledgeBase.assemble(read_sources(), selector=Selector.neutral())
    examples, left_out = Examples.resolved(kb.retriever, parse_examples(text))
    return resolved_text(examples, left_out, key_of(kb.documents, kb.glossary.sha256, text))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=SELECTOR_FILE, help="where to write the selector (JSON)")
    parser.add_argument("--check", action="store_true", help="compare with --out instead of writing it")
    parser.add_argument("--report", choices=("validation", "train"), help="print the shipped selector's metrics")
    args = parser.parse_args(argv)
    if args.report:
        print(report(args.report))
        return 0
    examples = examples_text()
    outputs = {
        EXAMPLES_OUT: examples,
        RESOLVED_OUT: resolved_file(examples),
        args.out: json.dumps(train(), indent=1) + "\n",
    }
    if args.check:
        stale = [path for path, text in outputs.items() if not path.exists() or path.read_text("utf-8") != text]
        for path in outputs:
            print(f"{path}: {'differs from what training gives' if path in stale else 'up to date'}")
        return 1 if stale else 0
    for path, text in outputs.items():
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
