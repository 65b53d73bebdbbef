"""Select, part two: a logistic-regression model's probability that a candidate sentence answers its part.

The model is plain data (selector.json beside this file: feature names, the scaler's mean and scale, the
coefficients, the intercept, and the decision thresholds chosen on validation), written by eval/train.py with
scikit-learn and read here with numpy alone: no pickle, no scikit-learn at answer time.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .examples import DENSE
from .features import FEATURES

SELECTOR_FILE = Path(__file__).with_name("selector.json")
SELECTOR_FORMAT = "iom-bot/selector"
SELECTOR_VERSION = 2  # 2: the examples model (with_examples)


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
class Selector:
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    thresholds: Thresholds
    # The model for questions like the knowledge base's example questions (examples.py), or None.
    examples: Selector | None = None

    used: frozenset[str] = field(init=False, repr=False, compare=False)  # the features it (or examples) weighs

    def __post_init__(self) -> None:
        weighed = frozenset(name for name, weight in zip(FEATURES, self.coef.tolist(), strict=True) if weight != 0)
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
            arrays = [np.asarray(data[key], np.float64) for key in ("mean", "scale", "coef")]
            thresholds = Thresholds(**{k: float(v) for k, v in data["thresholds"].items()})
            intercept = float(data["intercept"])
        except (KeyError, TypeError, ValueError) as error:
            raise SelectorError(f"malformed: {error}") from None
        if any(a.shape != (len(FEATURES),) or not np.isfinite(a).all() for a in arrays) or (arrays[1] <= 0).any():
            raise SelectorError("mean, scale and coef must be finite, one per feature, scales positive")
        if not np.isfinite(intercept):
            raise SelectorError("the intercept must be finite")
        return cls(*arrays, intercept, thresholds, examples)


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
