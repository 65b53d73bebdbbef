"""Example questions: questions people asked of a knowledge base, each with the sentence that answers it (or
none, when the sources do not answer it). A new question like an example is likely asked about the same thing.

A knowledge base's examples live in ``examples.yaml`` beside its sources, which its maintainers edit::

    examples:
    - question: "When did the assembly approve the pact?"
      answers: ["approved the pact on 3 May"]   # short exact runs of words of the answering sentence(s)
    - question: "Where is the secretariat based?"
      answers: []                               # the sources do not answer it

The selector weighs how close a question comes to the examples of each candidate sentence (features.py); a
knowledge base without examples answers from the sentences alone, as it was trained to do too. An example asked
again in its very words (case, spacing and punctuation aside) gets the example's answer, however unsure the
selector is of it, or no answer when the example has none (pipeline.py): so a maintainer who adds a question
people asked, with its answer, has that question answered from the next reload on.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from . import yamltext
from .index import TfidfIndex
from .text import is_concept_term

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
FEW = 16  # rows left to read when resolving an answer: its words' postings are intersected until this few
MANY = 1000  # more rows than this left to read: every sentence is folded once and kept for the other answers
WORD = re.compile(r"\w+")


class ExampleError(ValueError):
    """An examples file that cannot be used: not YAML, or not the shape above."""


class Example(NamedTuple):
    question: str
    answers: tuple[str, ...]  # exact runs of words of the answering sentences; empty: not answered
    group: str = ""  # who wrote it (a question set): training leaves a writer's own examples out


class Grouped(NamedTuple):
    """The examples answered by each sentence, laid end to end: the best score of every sentence's examples is
    one np.maximum.reduceat over them."""

    order: np.ndarray  # example numbers, those of one sentence together
    starts: np.ndarray  # where each sentence's run begins in order
    position: dict[int, int]  # unit row -> its run

    @classmethod
    def of(cls, of_row: dict[int, list[int]]) -> Grouped:
        rows = sorted(of_row)
        sizes = [len(of_row[row]) for row in rows]
        order = np.array([i for row in rows for i in of_row[row]], np.int64)
        starts = np.cumsum([0, *sizes[:-1]], dtype=np.int64) if rows else np.zeros(0, np.int64)
        return cls(order, starts, {row: run for run, row in enumerate(rows)})

    def best(self, scores: np.ndarray, rows: Sequence[int]) -> np.ndarray:
        """Per row, the best score of its examples (0 for a row answering none)."""
        if not self.position:
            return np.zeros(len(rows))
        best = np.maximum.reduceat(scores[self.order], self.starts).tolist()
        position = self.position
        return np.array([best[position[row]] if row in position else 0.0 for row in rows])


class Near(NamedTuple):
    """How close a question comes to the examples."""

    by_row: dict[int, float]  # per answering sentence (unit row): the best cosine of its examples
    unanswered: float  # the best cosine of an example the sources do not answer
    votes: dict[int, float]  # per sentence: the cosines of those of the VOTERS nearest examples it answers, / VOTERS
    unanswered_votes: float  # ... of those the sources do not answer
    best: np.ndarray  # per candidate sentence asked about: the best cosine of all the examples it answers


@dataclass(frozen=True, slots=True)
class Examples:
    """The examples of a knowledge base, indexed by their questions' terms."""

    examples: tuple[Example, ...]
    rows: tuple[frozenset[int], ...]  # per example: the unit rows holding one of its answers
    terms: tuple[tuple[str, ...], ...]  # per example: its question's terms, as the retriever reads them
    index: TfidfIndex | None  # the examples by their terms (None: no examples)
    answered: dict[int, int]  # per unit row answering one example or more: how many it answers
    asked: dict[str, int]  # per example question, folded (asked_key): the first example asking it
    weights: tuple[tuple[tuple[str, float], ...], ...]  # per unanswered example: its distinct terms' idf², summing to 1
    grouped: Grouped  # the examples of each sentence answering one or more, for the best of them at once
    answered_terms: frozenset[str]  # the terms of the example questions that the sources answer
    # What they were resolved for (resolved.load_examples: the sources' digest, the examples file's sha256; empty
    # when built otherwise), and how many examples of the file no sentence answers: what a saved set keeps.
    resolved_for: tuple[str, str] = ("", "")
    left_out: int = 0

    @classmethod
    def build(cls, retriever: Retriever, examples: Iterable[Example]) -> Examples:
        """Resolve each example's answers to sentences; an example whose answers no sentence holds is left out
        (one warning line counts them)."""
        resolved, left_out = cls.resolved(retriever, examples)
        warn_left_out(left_out)
        return resolved

    @classmethod
    def resolved(cls, retriever: Retriever, examples: Iterable[Example]) -> tuple[Examples, int]:
        """build's examples, and how many it left out."""
        examples = tuple(examples)
        if not examples:
            return cls.empty(), 0
        holding = _Holding(retriever)
        kept, rows, terms = [], [], []
        unresolved = 0
        for example in examples:
            found = frozenset(row for answer in example.answers for row in holding(answer))
            if example.answers and not found:
                unresolved += 1
                continue
            kept.append(example)
            rows.append(found)
            terms.append(tuple(retriever.read(example.question).terms))
        return cls.of(kept, rows, terms), unresolved

    @classmethod
    def of(
        cls,
        examples: Sequence[Example],
        rows: Sequence[frozenset[int]],
        terms: Sequence[tuple[str, ...]],
    ) -> Examples:
        index = TfidfIndex.from_terms(terms) if any(terms) else None
        asked: dict[str, int] = {}
        for i, example in enumerate(examples):
            asked.setdefault(asked_key(example.question), i)
        weights = tuple(
            () if found or index is None else _weights(index, t) for found, t in zip(rows, terms, strict=True)
        )
        of_row: dict[int, list[int]] = {}
        for i, found in enumerate(rows):
            for row in found:
                of_row.setdefault(row, []).append(i)
        answered = {row: len(found) for row, found in of_row.items()}
        answered_terms = frozenset(t for found, ts in zip(rows, terms, strict=True) if found for t in ts)
        return cls(
            tuple(examples),
            tuple(rows),
            tuple(terms),
            index,
            answered,
            asked,
            weights,
            Grouped.of(of_row),
            answered_terms,
        )

    @classmethod
    def empty(cls) -> Examples:
        return cls.of((), (), ())

    def __len__(self) -> int:
        return len(self.examples)

    def without(self, groups: frozenset[str] = frozenset(), rows: frozenset[int] = frozenset()) -> Examples:
        """These examples less those of groups and those answered by rows (training holds them out)."""
        keep = [
            i for i, example in enumerate(self.examples) if example.group not in groups and not (self.rows[i] & rows)
        ]
        return self.of(
            [self.examples[i] for i in keep],
            [self.rows[i] for i in keep],
            [self.terms[i] for i in keep],
        )

    def recall(self, question: str) -> frozenset[int] | None:
        """The sentences answering an example asked in these very words (case, spacing and punctuation aside):
        empty when the sources do not answer it; None when no example asks it."""
        example = self.asked.get(asked_key(question))
        return None if example is None else self.rows[example]

    def asks(self, term: str) -> bool:
        """Whether an example question that the sources answer has this term."""
        return term in self.answered_terms

    def nearest(self, terms: Sequence[str]) -> dict[int, float]:
        """The NEAREST examples to a question's terms by TF-IDF cosine, nearest first (ties: the earlier first).
        (Adding character n-grams, as the sentences have, changed nothing on the validation side and cost
        0.3 ms an answer: docs/answer-path.md.)"""
        if self.index is None or not terms:
            return {}
        return dict(self.index.search(terms, NEAREST))

    def near(self, terms: Sequence[str], rows: Sequence[int] = ()) -> Near:
        """How close the question comes to the examples of each sentence (the best of its NEAREST examples; and
        of all its examples for rows, the candidates) and to the unanswered ones. Closeness to an unanswered
        example is the cosine times the share of its weight the question holds: a question without the
        example's rarest word ("When did the league join the pact?" beside an unanswered "When did Norway join
        the league?") is not asking what the example asks, however many words it shares. (Only for unanswered
        examples: for those a sentence answers it cost paraphrases more than it saved.) Every example is scored
        once; the nearest are taken from those scores as index.search takes them (best first, ties to the
        lower row, none scoring 0)."""
        if self.index is None or not terms:
            return Near({}, 0.0, {}, 0.0, np.zeros(len(rows)))
        scores = self.index.scores(terms)
        nearest = self.index.scorer.best_rows(scores, NEAREST)
        asked = set(terms)
        by_row: dict[int, float] = {}
        votes: dict[int, float] = {}
        unanswered = unanswered_votes = 0.0
        for rank, (example, cosine) in enumerate(zip(nearest.tolist(), scores[nearest].tolist(), strict=True)):
            answering = self.rows[example]
            voter = rank < VOTERS
            if not answering:
                score = cosine * sum(weight for term, weight in self.weights[example] if term in asked)
                unanswered = max(unanswered, score)
                if voter:
                    unanswered_votes += score / VOTERS
            for row in answering:
                by_row.setdefault(row, cosine)
                if voter:
                    votes[row] = votes.get(row, 0.0) + cosine / VOTERS
        return Near(by_row, unanswered, votes, unanswered_votes, self.grouped.best(scores, rows))


def warn_left_out(count: int) -> None:
    if count:
        log.warning("%d example question(s) left out: no sentence of the sources holds their answers", count)


def _weights(index: TfidfIndex, terms: Sequence[str]) -> tuple[tuple[str, float], ...]:
    """An example's distinct terms with their share of its idf² (what a question holding them covers of it)."""
    idf = index.idf_values
    squares = {term: idf[index.vocabulary[term]] ** 2 for term in terms}
    total = sum(squares.values())
    return tuple((term, square / total) for term, square in squares.items()) if total else ()


class _Holding:
    """The unit rows whose sentence holds a run of words. Only the rows indexed under the run's rarest inner
    word are read (its first and last words may be cut, and so are not looked up): a large knowledge base's
    examples resolve without reading every sentence once per answer."""

    def __init__(self, retriever: Retriever) -> None:
        self.retriever = retriever
        self.vocabulary = retriever.unit_index.vocabulary
        scorer = retriever.unit_index.scorer
        self.indptr, self.indices = scorer.indptr, scorer.indices
        self.folded: dict[int, str] = {}  # the sentences read so far, folded
        self.every: list[str] | None = None  # every sentence, folded, once an answer's words are common

    def __call__(self, answer: str) -> list[int]:
        answer = _fold(answer)
        if not answer:
            return []
        words = answer.split(" ")
        inner = " ".join(words[1:-1])
        terms = [term for term in (self.retriever.analyzer(inner) if inner else ()) if not is_concept_term(term)]
        columns = [self.vocabulary.get(term) for term in terms]
        if None in columns:
            return []  # a whole word of it that no sentence has
        if columns:
            # The rows holding every inner word: the postings intersected, rarest first, until few are left.
            indptr, indices = self.indptr, self.indices
            ordered = sorted(set(columns), key=lambda column: indptr[column + 1] - indptr[column])  # type: ignore[operator]
            found = indices[indptr[ordered[0]] : indptr[ordered[0] + 1]]
            for column in ordered[1:]:
                if len(found) <= FEW:
                    break
                found = np.intersect1d(found, indices[indptr[column] : indptr[column + 1]], assume_unique=True)
            candidates: Sequence[int] = found.tolist()
        else:
            candidates = range(len(self.retriever.units))
        if len(candidates) > MANY:  # type: ignore[arg-type]
            texts = self._every_text()
            return [row for row in candidates if answer in texts[row]]
        return [row for row in candidates if answer in self._text(row)]

    def _text(self, row: int) -> str:
        text = self.folded.get(row)
        if text is None:
            text = self.folded[row] = _fold(self.retriever.units[row].sentence.text)
        return text

    def _every_text(self) -> list[str]:
        if self.every is None:
            self.every = [_fold(unit.sentence.text) for unit in self.retriever.units]
        return self.every


def _fold(text: str) -> str:
    return " ".join(text.split()).lower()


def asked_key(question: str) -> str:
    """A question's words, lowercased: two questions with the same key were asked in the same words."""
    return " ".join(WORD.findall(question.lower()))


def read_example_text(directory: Path | str | None) -> str | None:
    """The text of a sources directory's examples.yaml (None when it has none); ExampleError when it cannot be
    read, in one line."""
    if directory is None:
        return None
    path = Path(directory) / EXAMPLES_FILE
    if not path.is_file():
        return None
    try:
        return yamltext.read_text(path, MAX_EXAMPLES_BYTES)
    except yamltext.YamlError as error:
        raise ExampleError(str(error)) from None


def text_sha256(text: str) -> str:
    """The sha256 of an examples file's text (part of a knowledge base's version)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@functools.lru_cache(maxsize=2)
def parse_examples(text: str) -> tuple[Example, ...]:
    """The examples of a file's text (kept for the next load of the same text: a start, a reload, a test);
    ExampleError when it is broken, in one line."""
    try:
        data = yamltext.parse(text)
    except yamltext.YamlError as error:
        raise ExampleError(str(error)) from None
    items = data.get("examples") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ExampleError("expected a mapping with a list under 'examples'")
    examples = []
    for number, item in enumerate(items, 1):
        question = item.get("question") if isinstance(item, dict) else None
        answers = item.get("answers", []) if isinstance(item, dict) else None
        if (
            not isinstance(question, str)
            or not question.strip()
            or not isinstance(answers, list)
            or not all(isinstance(a, str) and a.strip() for a in answers)
        ):
            raise ExampleError(f"example {number} needs a 'question' (text) and 'answers' (a list of texts)")
        examples.append(Example(question.strip(), tuple(answers)))
    return tuple(examples)
