"""Decide: answer, answer with an alternative, or abstain, from the selector's probabilities; and why not.

Every reason the answer path can give for not answering is in REASONS, with the sentence a user is shown.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .selector import Thresholds

REASONS = {
    "empty": "the question has no words to look up",
    "smalltalk": "that is not a question about my sources",
    "off_topic": "my sources do not cover that topic",
    "unknown_concept": "my sources say nothing about {topic}",
    "article_not_cited": "my sources never cite {articles} of {instrument}",
    "no_fact": "my sources give no {fact} for this",
    "low_confidence": "no sentence of my sources answers this with confidence",
    "part_unanswered": "my sources do not answer every part of the question",
    "asked_unanswered": "this was asked before, and my sources do not answer it",
}
FACT_NAMES = {"date": "date", "number": "number", "name": "name", "person": "name"}


class Reason(NamedTuple):
    code: str  # a key of REASONS
    text: str  # its sentence, filled in


def reason(code: str, **details: str) -> Reason:
    return Reason(code, REASONS[code].format(**details))


class PartDecision(NamedTuple):
    """What to do with one part of a question."""

    best: int | None  # the candidate to quote (an index into the part's candidates), or None
    probability: float  # how likely the best candidate of the part answers it (the verifier's, or the selector's)
    runner_up: int | None  # a candidate to show as "also relevant" (a middling answer), or None
    covered: bool = False  # answered by a sentence another part already quotes


def decide_part(
    probabilities: np.ndarray,
    rows: list[int],
    taken: set[int],
    thresholds: Thresholds,
    confidence: float | None = None,
) -> PartDecision:
    """Quote the best candidate if it is probable enough, with a runner-up when it is only middling; a part whose
    best sentence another part quotes already is covered by it, unless another sentence is likely enough to be
    offered as an alternative: a two-part question is better answered in both parts. confidence: how likely the
    best candidate answers the part (the verifier's; None: its probability)."""
    if not probabilities.shape[0]:
        return PartDecision(None, 0.0, None)
    order = [int(i) for i in np.lexsort((np.arange(probabilities.shape[0]), -probabilities))]
    top = float(probabilities[order[0]]) if confidence is None else confidence
    fresh = [i for i in order if rows[i] not in taken]
    if rows[order[0]] in taken and top >= thresholds.alternative:
        if fresh and probabilities[fresh[0]] >= thresholds.alternative:
            return PartDecision(fresh[0], float(probabilities[fresh[0]]), None)
        return PartDecision(None, top, None, covered=True)
    if not fresh or top < thresholds.alternative:
        return PartDecision(None, top, None)
    best = fresh[0]
    runner_up = None
    if top < thresholds.answer and len(fresh) > 1 and probabilities[fresh[1]] >= thresholds.runner_up:
        runner_up = fresh[1]
    return PartDecision(best, top, runner_up)
