"""Select, part two: a logistic-regression model's probability that a candidate sentence answers its part; and
the verifier, a second one, that says how likely the part's best candidate answers it (what decide weighs).

The selector ranks sentences: trained on every candidate of every question, most of them easy to reject. The
verifier is trained on the best candidates alone, of questions the selector did not see (out of fold), from their
features and the selector's probabilities of the best two: it learns what tells a right best sentence from a
near-miss (a sentence on the topic that does not say what is asked), which is what answering or abstaining turns
on. Both are plain data (selector.json beside this file: feature names, the scalers' means and scales, the
coefficients, the intercepts, and the decision thresholds chosen on validation), written by eval/train.py with
scikit-learn and read here with numpy alone: no pickle, no scikit-learn at answer time.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .examples import DENSE
from .features import FEATURES

SELECTOR_FILE = Path(__file__).with_name("selector.json")
SELECTOR_FORMAT = "iom-bot/selector"
SELECTOR_VERSION = 3  # 2: the examples model (with_examples); 3: the verifier
# What the verifier weighs: the best candidate's features, then the selector's probability of it and of the
# second best, and their difference.
VERIFIER_INPUTS = (*FEATURES, "p_best", "p_second", "p_margin")


class SelectorError(ValueError):
    """A selector file that cannot be used; the message is one line."""


@dataclass(frozen=True, slots=True)
class Thresholds:
    answer: float  # a part whose best candidate reaches this is answered plainly
    alternative: float  # ... below answer but at least this: answered, with the runner-up as "also relevant"
    runner_up: float  # the runner-up is shown only when it reaches this
    later_parts: float = 1.0  # for a later part of a question whose first part is answered, these times as much
    named_article: float = 1.0  # for a question naming an article the sources cite, these times as much

    def scaled(self, factor: float) -> Thresholds:
        """These thresholds times factor (for a kind of question part that needs less evidence)."""
        return Thresholds(self.answer * factor, self.alternative * factor, self.runner_up * factor, 1.0, 1.0)


@dataclass(frozen=True, slots=True)
class Verifier:
    """P(a part's best candidate answers it), from VERIFIER_INPUTS: a logistic regression like the selector's."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def confidence(self, features: np.ndarray, probabilities: np.ndarray) -> float:
        """How likely the part's best candidate answers it."""
        z = float(((verifier_inputs(features, probabilities) - self.mean) / self.scale) @ self.coef) + self.intercept
        return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))

    @property
    def weighs(self) -> frozenset[str]:
        """The candidate features it weighs (a selector computes them, whether it weighs them or not)."""
        return frozenset(name for name, weight in zip(FEATURES, self.coef.tolist(), strict=False) if weight != 0)

    @classmethod
    def everything(cls) -> Verifier:
        """A verifier that weighs every input: a selector with it computes every feature (training does, before
        it knows which the verifier will weigh)."""
        n = len(VERIFIER_INPUTS)
        return cls(np.zeros(n), np.ones(n), np.ones(n), 0.0)

    @classmethod
    def from_dict(cls, data: Any) -> Verifier:
        if not isinstance(data, dict):
            raise SelectorError("verifier must be a model (a mapping)")
        mean, scale, coef, intercept = _arrays(data, len(VERIFIER_INPUTS))
        return cls(mean, scale, coef, intercept)


def verifier_inputs(features: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """VERIFIER_INPUTS of the best candidate of a part (probabilities not empty; ties: the first)."""
    best = int(np.argmax(probabilities))
    p_best = float(probabilities[best])
    p_second = float(np.partition(probabilities, -2)[-2]) if probabilities.shape[0] > 1 else 0.0
    return np.concatenate([features[best], [p_best, p_second, p_best - p_second]])


@dataclass(frozen=True, slots=True)
class Selector:
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    thresholds: Thresholds
    # The model for questions like the knowledge base's example questions (examples.py), or None.
    examples: Selector | None = None
    verifier: Verifier | None = None  # what decides on a part's best candidate (None: its probability does)

    used: frozenset[str] = field(init=False, repr=False, compare=False)  # the features it (or examples) weighs

    def __post_init__(self) -> None:
        weighed = frozenset(name for name, weight in zip(FEATURES, self.coef.tolist(), strict=True) if weight != 0)
        if self.verifier is not None:
            weighed |= self.verifier.weighs
        object.__setattr__(self, "used", weighed | (self.examples.used if self.examples else frozenset()))

    def choose(self, answered: Mapping[int, int], rows: Sequence[int], probabilities: np.ndarray) -> Selector:
        """The model for a question: the examples model when the sentence this one ranks first answers
        examples.DENSE example questions or more (the question is about what people have asked before); this
        one otherwise (a source without examples is answered as if there were none anywhere). answered: the
        number of examples each sentence answers."""
        if self.examples is None or not answered or not len(rows):
            return self
        return self.examples if answered.get(rows[int(np.argmax(probabilities))], 0) >= DENSE else self

    def model_for(self, answered: Mapping[int, int], rows: Sequence[int], features: np.ndarray) -> Selector:
        """choose() for a question whose first part has these candidates (rows) and features."""
        return self.choose(answered, rows, self.probabilities(features)) if self.examples else self

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """P(candidate answers the part) for each row of features (FEATURES columns)."""
        z = ((features - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-z))

    @classmethod
    def neutral(cls) -> Selector:
        """A selector that weighs nothing (every probability 0.5): what training starts from."""
        n = len(FEATURES)
        return cls(np.zeros(n), np.ones(n), np.zeros(n), 0.0, Thresholds(1.0, 1.0, 1.0))

    @classmethod
    def from_dict(cls, data: Any) -> Selector:
        if not isinstance(data, dict) or data.get("format") != SELECTOR_FORMAT:
            raise SelectorError(f"not a {SELECTOR_FORMAT} file")
        if data.get("version") != SELECTOR_VERSION:
            raise SelectorError(f"version {data.get('version')!r}, expected {SELECTOR_VERSION}")
        if tuple(data.get("features") or ()) != FEATURES:
            raise SelectorError("its features are not this version's: retrain it (eval/train.py)")
        examples = data.get("with_examples")
        if examples is not None and not isinstance(examples, dict):
            raise SelectorError("with_examples must be a model (a mapping)")
        return cls._model(data, cls._model(examples, None) if examples is not None else None)

    @classmethod
    def _model(cls, data: dict[str, Any], examples: Selector | None) -> Selector:
        try:
            thresholds = Thresholds(**{k: float(v) for k, v in data["thresholds"].items()})
        except (KeyError, TypeError, ValueError) as error:
            raise SelectorError(f"malformed: {error}") from None
        verifier = Verifier.from_dict(data["verifier"]) if data.get("verifier") is not None else None
        return cls(*_arrays(data, len(FEATURES)), thresholds, examples, verifier)


def _arrays(data: dict[str, Any], width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """A logistic regression's mean, scale, coef (width each) and intercept, checked."""
    try:
        arrays = [np.asarray(data[key], np.float64) for key in ("mean", "scale", "coef")]
        intercept = float(data["intercept"])
    except (KeyError, TypeError, ValueError) as error:
        raise SelectorError(f"malformed: {error}") from None
    if any(a.shape != (width,) or not np.isfinite(a).all() for a in arrays) or (arrays[1] <= 0).any():
        raise SelectorError("mean, scale and coef must be finite, one per input, scales positive")
    if not np.isfinite(intercept):
        raise SelectorError("the intercept must be finite")
    return arrays[0], arrays[1], arrays[2], intercept


@functools.lru_cache(maxsize=4)
def load_selector(path: Path = SELECTOR_FILE) -> Selector:
    """The selector in path (default: the one shipped with the package), read once per process."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SelectorError(f"{path}: cannot read: {error}") from None
    try:
        return Selector.from_dict(data)
    except SelectorError as error:
        raise SelectorError(f"{path}: {error}") from None
