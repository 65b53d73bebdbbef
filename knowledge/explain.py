"""Why an answer is what it is: its confidence, the words and glossary concepts that matched, the
runner-up sentence. Read-only: it asks the same pipeline the answer came from and changes nothing in it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .pipeline import Prepared, prepare, retrieve
from .text import is_concept_term

if TYPE_CHECKING:
    from .answer import Answer
    from .base import KnowledgeBase
    from .chunking import Passage


@dataclass(frozen=True, slots=True)
class Explanation:
    """What lies behind one answer (or abstention)."""

    answer: Answer
    probability: float  # the answer's confidence (the verifier's, or the selector's probability of its sentence)
    matched_terms: tuple[str, ...]  # the question's words (stems) that the answer's sentence has too
    concepts: tuple[str, ...]  # glossary concepts both share (the glossary's group names)
    runner_up: str | None  # the best sentence the answer did not quote
    runner_up_probability: float  # the selector's probability of the runner-up
    passage: Passage | None  # the passage the answer quotes (None when abstaining)
    asked_before: tuple[str, ...] = ()  # the example questions nearest to it that the quoted sentence answers


def explain(knowledge: KnowledgeBase, question: str) -> Explanation:
    """The answer to question and the evidence behind it."""
    answer = knowledge.answer(question)
    retriever = knowledge.retriever
    passage = answer.parts[0].passage if answer.parts else None
    chosen = answer.parts[0].text if answer.parts else None
    asked = retriever.terms(question)
    shared: list[str] = []
    if chosen is not None:
        have = set(retriever.terms(chosen))
        shared = [term for term in dict.fromkeys(asked) if term in have]
    runner_up, runner_p = _runner_up(knowledge, question, {part.text for part in answer.parts})
    return Explanation(
        answer=answer,
        probability=float(answer.confidence),
        matched_terms=tuple(t for t in shared if not is_concept_term(t)),
        concepts=tuple(t.lstrip("≡") for t in shared if is_concept_term(t)),
        runner_up=runner_up,
        runner_up_probability=runner_p,
        passage=passage,
        asked_before=_asked_before(knowledge, question, chosen),
    )


def _runner_up(knowledge: KnowledgeBase, question: str, quoted: set[str]) -> tuple[str | None, float]:
    """The candidate sentence of the question's first part with the highest probability not quoted already."""
    retriever = knowledge.retriever
    prepared = prepare(retriever, question)
    if not isinstance(prepared, Prepared) or not prepared.readings:
        return None, 0.0
    found, features = retrieve(retriever, prepared.readings[0], prepared.articles)
    if not found.rows:
        return None, 0.0
    # The model that answered the question (the examples model, or not): its probabilities are the answer's.
    model = knowledge.selector.model_for(retriever.examples.answered, found.rows, features)
    probabilities = model.probabilities(features)
    for index in np.argsort(-probabilities, kind="stable"):
        text = retriever.units[found.rows[index]].sentence.text
        if text not in quoted:
            return text, float(probabilities[index])
    return None, 0.0


ASKED_BEFORE = 3  # example questions shown at most
ASKED_BEFORE_FLOOR = 0.3  # ... and only those at least this close to the question


def _asked_before(knowledge: KnowledgeBase, question: str, chosen: str | None) -> tuple[str, ...]:
    """The example questions nearest to question that the quoted sentence answers, nearest first."""
    retriever = knowledge.retriever
    examples = retriever.examples
    if chosen is None or not len(examples):
        return ()
    prepared = prepare(retriever, question)
    if not isinstance(prepared, Prepared) or not prepared.readings:
        return ()
    reading = prepared.readings[0]
    found = []
    for example, score in examples.nearest(reading.terms).items():
        if score < ASKED_BEFORE_FLOOR or len(found) == ASKED_BEFORE:
            break
        if any(retriever.units[row].sentence.text == chosen for row in examples.rows[example]):
            found.append(examples.examples[example].question)
    return tuple(found)
