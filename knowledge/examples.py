"""Example questions: questions people asked of a knowledge base, each with the sentence that answers it (or
none, when the sources do not answer it). A new question like an example is likely asked about the same thing.

A knowledge base's examples live in ``examples.yaml`` beside its sources, which its maintainers edit::

    examples:
    - question: "When did the assembly approve the pact?"
      answers: ["approved the pact on 3 May"]   # short exact runs of words of the answering sentence(s)
    - question: "Where is the secretariat based?"
      answers: []                               # the sources do not answer it

The selector weighs how close a question comes to the examples of each candidate sentence (features.py); a
knowledge base without examples answers from the sentences alone, as it was trained to do too.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import logging
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from . import yamltext
from .index import TfidfIndex

if TYPE_CHECKING:
    from .retrieval import Retriever

log = logging.getLogger(__name__)

EXAMPLES_FILE = "examples.yaml"
MAX_EXAMPLES_BYTES = 16 * 1024 * 1024
NEAREST = 64  # examples looked at per question
VOTERS = 8  # the nearest examples that vote for the sentences answering them
# The examples model (selector.py) answers a question only when the sentence it is about answers at least this
# many examples: it was trained where most sentences answer twenty or more, and a few examples mislead it.
DENSE = 5
SPACE = re.compile(r"\s+")


class ExampleError(ValueError):
    """An examples file that cannot be used: not YAML, or not the shape above."""


class Example(NamedTuple):
    question: str
    answers: tuple[str, ...]  # exact runs of words of the answering sentences; empty: not answered
    group: str = ""  # who wrote it (a question set): training leaves a writer's own examples out


class Near(NamedTuple):
    """How close a question comes to the examples."""

    by_row: dict[int, float]  # per answering sentence (unit row): the best cosine of its examples
    unanswered: float  # the best cosine of an example the sources do not answer
    votes: dict[int, float]  # per sentence: the cosines of those of the VOTERS nearest examples it answers, / VOTERS
    unanswered_votes: float  # ... of those the sources do not answer


NOTHING_NEAR = Near({}, 0.0, {}, 0.0)


@dataclass(frozen=True, slots=True)
class Examples:
    """The examples of a knowledge base, indexed by their questions' terms."""

    examples: tuple[Example, ...]
    rows: tuple[frozenset[int], ...]  # per example: the unit rows holding one of its answers
    terms: tuple[tuple[str, ...], ...]  # per example: its question's terms, as the retriever reads them
    index: TfidfIndex | None  # the examples by their terms (None: no examples)
    answered: dict[int, int]  # per unit row answering one example or more: how many it answers

    @classmethod
    def build(cls, retriever: Retriever, examples: Iterable[Example]) -> Examples:
        """Resolve each example's answers to sentences; an example whose answers no sentence holds is left out
        (one warning line counts them)."""
        examples = tuple(examples)
        if not examples:
            return cls.empty()
        # One text of every sentence, a line each: an answer is looked up with str.find, not sentence by sentence.
        folded = [_fold(unit.sentence.text) for unit in retriever.units]
        starts = list(itertools.accumulate((len(text) + 1 for text in folded), initial=0))
        whole = "\n".join(folded)
        kept, rows, terms = [], [], []
        unresolved = 0
        for example in examples:
            found = frozenset(
                bisect.bisect_right(starts, at) - 1
                for answer in map(_fold, example.answers)
                for at in _all(whole, answer)
            )
            if example.answers and not found:
                unresolved += 1
                continue
            kept.append(example)
            rows.append(found)
            terms.append(tuple(retriever.read(example.question).terms))
        if unresolved:
            log.warning("%d example question(s) left out: no sentence of the sources holds their answers", unresolved)
        return cls._of(kept, rows, terms)

    @classmethod
    def _of(
        cls,
        examples: Sequence[Example],
        rows: Sequence[frozenset[int]],
        terms: Sequence[tuple[str, ...]],
    ) -> Examples:
        index = TfidfIndex.from_terms(terms) if any(terms) else None
        answered = Counter(row for found in rows for row in found)
        return cls(tuple(examples), tuple(rows), tuple(terms), index, answered)

    @classmethod
    def empty(cls) -> Examples:
        return cls._of((), (), ())

    def __len__(self) -> int:
        return len(self.examples)

    def without(self, groups: frozenset[str] = frozenset(), rows: frozenset[int] = frozenset()) -> Examples:
        """These examples less those of groups and those answered by rows (training holds them out)."""
        keep = [
            i for i, example in enumerate(self.examples) if example.group not in groups and not (self.rows[i] & rows)
        ]
        return self._of(
            [self.examples[i] for i in keep],
            [self.rows[i] for i in keep],
            [self.terms[i] for i in keep],
        )

    def nearest(self, terms: Sequence[str]) -> dict[int, float]:
        """The NEAREST examples to a question's terms by TF-IDF cosine, nearest first (ties: the earlier first).
        (Adding character n-grams, as the sentences have, changed nothing on the validation side and cost
        0.3 ms an answer: docs/answer-path.md.)"""
        if self.index is None or not terms:
            return {}
        return dict(self.index.search(terms, NEAREST))

    def near(self, terms: Sequence[str]) -> Near:
        """How close the question comes to the examples of each sentence (the best of its examples) and to the
        unanswered ones. One pass, nearest first: the first score seen for a sentence is its best."""
        if self.index is None or not terms:
            return NOTHING_NEAR
        by_row: dict[int, float] = {}
        votes: dict[int, float] = {}
        unanswered = unanswered_votes = 0.0
        for rank, (example, score) in enumerate(self.index.search(terms, NEAREST)):
            answering = self.rows[example]
            voter = rank < VOTERS
            if not answering:
                unanswered = unanswered or score
                if voter:
                    unanswered_votes += score / VOTERS
            for row in answering:
                by_row.setdefault(row, score)
                if voter:
                    votes[row] = votes.get(row, 0.0) + score / VOTERS
        return Near(by_row, unanswered, votes, unanswered_votes)


def _all(text: str, part: str) -> Iterable[int]:
    """Where part starts in text, every time."""
    at = text.find(part) if part else -1
    while at >= 0:
        yield at
        at = text.find(part, at + 1)


def _fold(text: str) -> str:
    return SPACE.sub(" ", text).strip().lower()


def read_examples(directory: Path | str | None) -> tuple[Example, ...]:
    """The examples of a sources directory (none when it has no examples.yaml); ExampleError when the file is
    broken, in one line."""
    if directory is None:
        return ()
    path = Path(directory) / EXAMPLES_FILE
    if not path.is_file():
        return ()
    try:
        data = yamltext.read(path, MAX_EXAMPLES_BYTES)
    except yamltext.YamlError as error:
        raise ExampleError(str(error)) from None
    items = data.get("examples") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ExampleError("expected a mapping with a list under 'examples'")
    examples = []
    for number, item in enumerate(items, 1):
        question = item.get("question") if isinstance(item, dict) else None
        answers = item.get("answers", []) if isinstance(item, dict) else None
        group = item.get("group", "") if isinstance(item, dict) else ""
        if (
            not isinstance(question, str)
            or not question.strip()
            or not isinstance(answers, list)
            or not all(isinstance(a, str) and a.strip() for a in answers)
            or not isinstance(group, str)
        ):
            raise ExampleError(f"example {number} needs a 'question' (text) and 'answers' (a list of texts)")
        examples.append(Example(question.strip(), tuple(answers), group))
    return tuple(examples)


def examples_digest(directory: Path | str | None) -> str:
    """sha256 of the examples file ("" when there is none): part of a knowledge base's version."""
    if directory is None:
        return ""
    path = Path(directory) / EXAMPLES_FILE
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
