"""Training's view of the example questions (knowledge/examples.py): which examples each question may see, and
the answer path worked out once per question while training.

A question never sees the examples of its own question set (a new writer's questions are not among the
examples), nor those answered by held-out sentences: the validation side's, and for NO_EXAMPLES_SHARE of the
training side's sentences, any (so the examples model also learns what a sentence without examples looks
like). eval/train.py uses it; it is not shipped.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

from knowledge import pipeline
from knowledge.evaluation import EvalItem, load_eval_set
from knowledge.examples import Example, Examples
from knowledge.pipeline import prepare, retrieve
from knowledge.retrieval import Retriever

ROOT = Path(__file__).resolve().parents[1]


def bucket(key: str) -> int:
    return int(hashlib.sha256(key.encode("utf-8")).hexdigest()[:8], 16) % 100


def group_of(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def example_questions(paths: Sequence[Path]) -> list[Example]:
    """Every question of these sets as an example (its gold spans as answers), grouped by its set."""
    return [
        Example(item.question, tuple(dict.fromkeys((*item.gold_spans, *(s for g in item.gold_groups for s in g)))),
                group_of(path))
        for path in paths for item in load_eval_set(path).items if item.category != "smalltalk"
    ]  # fmt: skip


class Memory:
    """The example questions each training or evaluation question may see: never those of its own set (a new
    writer's questions are not in the examples), and never those answered by held-out sentences."""

    def __init__(self, r: Retriever, paths: Sequence[Path], hidden_rows: frozenset[int]) -> None:
        self.r = r
        self.examples = Examples.build(r, example_questions(paths))
        self.hidden_rows = hidden_rows
        self.group = {item.id: group_of(path) for path in paths for item in load_eval_set(path).items}
        self.cache: dict[str, Retriever] = {}

    def __call__(self, item: EvalItem) -> Retriever:
        group = self.group.get(item.id, "")
        if group not in self.cache:
            seen = self.examples.without(frozenset({group}), self.hidden_rows)
            self.cache[group] = replace(self.r, examples=seen)
        return self.cache[group]


def held_out_rows(r: Retriever, share: int, salt: str = "") -> frozenset[int]:
    """The unit rows whose sentence falls in the first share percent of buckets."""
    return frozenset(row for row, unit in enumerate(r.units) if bucket(salt + unit.sentence.text) < share)


@contextlib.contextmanager
def answer_path_once() -> Iterator[None]:
    """Within one training run a question's reading and its candidates' features do not depend on the model or
    the thresholds tried: each is worked out once per (retriever, question) and reused by every answer (all
    features: the same probabilities as with a selector's skips). Restored on exit."""
    read: dict[tuple[int, str], tuple[object, object]] = {}
    found: dict[tuple[int, int, int, frozenset[int] | None], tuple[object, object]] = {}

    def prepare_once(r: Retriever, question: str):
        key = (id(r), question)
        if key not in read:
            read[key] = (r, prepare(r, question))  # r kept alive: its id is not reused
        return read[key][1]

    def retrieve_once(r: Retriever, reading, articles=None, used=None, known=None):
        key = (id(r), id(reading), id(articles), known)
        if key not in found:
            found[key] = ((r, reading, articles), retrieve(r, reading, articles, None, known))
        return found[key][1]

    pipeline.prepare, pipeline.retrieve = prepare_once, retrieve_once
    try:
        yield
    finally:
        pipeline.prepare, pipeline.retrieve = prepare, retrieve
