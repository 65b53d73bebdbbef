"""Compose and cite: chosen sentences -> quoted answer parts with their citations, and the passages to list."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from .answer import AnswerPart, Citation, Hit
from .chunking import Passage, Sentence

if TYPE_CHECKING:
    from .retrieval import Retriever

CitationsFor = Callable[[Passage, Sentence | None], tuple[Citation, ...]]


def quote(r: Retriever, row: int, citations_for: CitationsFor, max_words: int, confidence: float) -> AnswerPart:
    """One sentence of the sources, whole (or cut at max_words with an ellipsis), with its citations."""
    unit = r.units[row]
    passage = r.passages[unit.passage_row]
    return AnswerPart(clip(unit.sentence.text, max_words), passage, citations_for(passage, unit.sentence), confidence)


def clip(text: str, max_words: int) -> str:
    """The sentence, cut at max_words (at least one) with an ellipsis when longer (still a verbatim prefix)."""
    max_words = max(1, max_words)
    pieces = text.split(" ")
    if len(pieces) <= max_words:
        return text
    return " ".join(pieces[:max_words]).rstrip(",;:") + " …"


def nearest(r: Retriever, found: Sequence[tuple[int, float]]) -> tuple[Hit, ...]:
    return tuple(Hit(r.passages[row], score) for row, score in found)


def quoted_first(r: Retriever, parts: Sequence[AnswerPart], hits: tuple[Hit, ...]) -> tuple[Hit, ...]:
    """The passages the answer quotes, then the other nearest passages: what a reader checks first."""
    if len(parts) == 1 and hits and hits[0].passage.ordinal == parts[0].passage.ordinal:
        return hits  # the usual case: the answer quotes the nearest passage
    # Passages are keyed by ordinal: hashing a passage would hash all of its sentences.
    quoted = list({part.passage.ordinal: part.passage for part in parts}.values())
    scores = {hit.passage.ordinal: hit.score for hit in hits}
    missing = [p.ordinal for p in quoted if p.ordinal not in scores]
    if missing:
        terms = r.terms(" ".join(part.text for part in parts))
        scores.update(zip(missing, r.passage_index.scores_of(terms, missing).tolist(), strict=True))
    quoted_rows = {p.ordinal for p in quoted}
    rest = [hit for hit in hits if hit.passage.ordinal not in quoted_rows]
    return tuple([Hit(p, scores[p.ordinal]) for p in quoted] + rest)[: max(len(hits), len(quoted))]
