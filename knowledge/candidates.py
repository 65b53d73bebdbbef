"""A question part's candidate answer sentences: the best sentences by their own score, scored as answers.

Each of the k best sentences for the query terms (exact top k) gets

    score = (SENTENCE * its score + PASSAGE * its passage's score
             + COVERAGE * (OWN * own + (1 - OWN) * context)) * kind factor + WANT_BONUS * carries

where own and context are the idf-weighted shares of the question's units of meaning that the sentence and its
passage hold, the kind factor says how far a claim, citation or caption may answer, and carries is whether
the sentence holds the kind of fact asked for. The sums run in float32 in that order (the coverage shares in
float64), so that the compiled kernel (one call, when numba is installed) and numpy give bit-identical
results. Only the postings of the candidates are read: nothing here is proportional to the corpus.
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np

from .index import TfidfIndex
from .scoring import Scorer

# The compiled path reads a query whole, in one pass, when its posting lists hold at most this many postings;
# past that, MaxScore's skipping pays for its bookkeeping. Either way the results are the same.
DENSE_POSTINGS = 4096


class Weights(NamedTuple):
    sentence: float
    passage: float
    coverage: float
    own_share: float  # of the coverage term, the sentence's own; the rest is its passage's
    context_factor: float  # the passage vouches for a sentence this much (coverage = max(own, this * context))
    want_bonus: float


class Candidates(NamedTuple):
    """Best first, ties to the lower row: sentence rows, their scores as answers, their coverage; and the
    query's nearest passages (passage_index.search's (row, score) pairs), found in the same pass."""

    rows: list[int]
    scores: list[float]
    coverage: list[float]
    hits: list[tuple[int, float]]


class Sentences(NamedTuple):
    """What is known of every sentence (unit) beyond its index row, as arrays over the units."""

    index: TfidfIndex
    passage_index: TfidfIndex
    passage: np.ndarray  # int32: the row of its passage in passage_index
    kind: np.ndarray  # int8: kind code (factors are looked up at kind * 2 + carries)
    facts: np.ndarray  # int32: bit set of the facts it carries


def score_candidates(
    sentences: Sentences,
    terms: Sequence[str],
    cover: Mapping[str, float],
    total: float,
    k: int,
    factors: np.ndarray,
    want_bit: int,
    weights: Weights,
    hits: int = 5,
) -> Candidates:
    """The k best sentences for terms, scored as answers (see the module docstring), factor-0 kinds left out,
    and the hits best passages for terms.

    cover: each unit of meaning's weight (its terms among terms); total: the sum of all units' weights, those
    the sources lack included. factors: float32 by kind * 2 + carries. want_bit: the fact bit asked for (0: none).
    """
    units, passages = sentences.index, sentences.passage_index
    scorer = units.scorer
    if scorer.kernels is not None and passages.scorer.kernels is not None and units.n_rows:
        return _compiled(sentences, terms, cover, total, k, factors, want_bit, weights, hits)
    nearest = passages.search(terms, hits)
    rows, unit_scores, own = units.search_covered(terms, cover, k)
    if not rows.size:
        return Candidates([], [], [], nearest)
    passage_scores, context = passages.gather(terms, cover, sentences.passage[rows])
    if total:
        own /= total
        context /= total
    coverage = np.maximum(own, weights.context_factor * context)
    mixed = weights.coverage * (weights.own_share * own + (1 - weights.own_share) * context)
    score = (
        np.float32(weights.sentence) * unit_scores
        + np.float32(weights.passage) * passage_scores
        + mixed.astype(np.float32)
    )
    carries = (sentences.facts[rows] & want_bit) != 0
    factor = factors[sentences.kind[rows] * 2 + carries]
    score = score * factor + np.where(carries, np.float32(weights.want_bonus), np.float32(0))
    keep = np.flatnonzero(factor != 0)
    order = keep[np.lexsort((rows[keep], -score[keep]))]
    return Candidates(rows[order].tolist(), score[order].tolist(), coverage[order].tolist(), nearest)


def _compiled(
    sentences: Sentences,
    terms: Sequence[str],
    cover: Mapping[str, float],
    total: float,
    k: int,
    factors: np.ndarray,
    want_bit: int,
    weights: Weights,
    hits: int,
) -> Candidates:
    units, passages = sentences.index, sentences.passage_index
    u, p = units.scorer, passages.scorer
    cols, q, unit_cover = units.query(terms, cover)
    if not cols.size:  # no term any sentence holds; a passage may still hold one (a phrase across sentences)
        return Candidates([], [], [], passages.search(terms, hits))
    p_cols, p_q, p_cover = passages.query(terms, cover)
    k = min(k, units.n_rows)
    (acc, touched, covered, best_rows, best_scores, p_acc, p_touched, p_covered, out_rows, out_scores, out_coverage,
     hit_rows, hit_scores) = _workspace.get(u, p, k, min(hits, passages.n_rows))  # fmt: skip
    n, n_hits = u.kernels.candidates(
        u.indptr, u.indices, u.data, u.col_max, p.indptr, p.indices, p.data, p.col_max,
        sentences.passage, sentences.kind, sentences.facts, cols, q, unit_cover, p_cols, p_q, p_cover,
        k, acc, touched, covered, best_rows, best_scores, p_acc, p_touched, p_covered, hit_rows, hit_scores,
        factors, want_bit, _array(weights), total, DENSE_POSTINGS, out_rows, out_scores, out_coverage,
    )  # fmt: skip
    nearest = list(zip(hit_rows[:n_hits].tolist(), hit_scores[:n_hits].tolist(), strict=True))
    return Candidates(out_rows[:n].tolist(), out_scores[:n].tolist(), out_coverage[:n].tolist(), nearest)


class _Workspace(threading.local):
    """This thread's arrays for the compiled path: the scorers' accumulators and the outputs, looked up once
    per (scorers, k, hits) rather than per question. The scorers are held weakly: a reload frees them."""

    def __init__(self) -> None:
        self.key: tuple[weakref.ref[Scorer], weakref.ref[Scorer], int, int] | None = None
        self.arrays: tuple[np.ndarray, ...] = ()

    def get(self, u: Scorer, p: Scorer, k: int, hits: int) -> tuple[np.ndarray, ...]:
        key = self.key
        if key is None or key[0]() is not u or key[1]() is not p or key[2] != k or key[3] != hits:
            outputs = (np.empty(k, np.int64), np.empty(k, np.float32), np.empty(k))
            self.arrays = (*u.scratch(k), *p.accumulators(), *outputs, np.empty(hits, np.int64), np.empty(hits))
            self.key = (weakref.ref(u), weakref.ref(p), k, hits)
        return self.arrays


_workspace = _Workspace()


@functools.lru_cache(maxsize=8)
def _array(weights: Weights) -> np.ndarray:
    return np.array(weights, np.float64)
