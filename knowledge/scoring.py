"""Exact top-k TF-IDF cosine scoring on raw CSC arrays, touching only the postings a query needs.

The score of row d for a query with normalised weights q_t is sum_t q_t * X[d, t] (X row-normalised
TF-IDF): scikit-learn's ``X @ transform(q).T``, to float32 precision. Search is term at a time with a
MaxScore bound (Turtle and Flood, 1995):

1. Terms are read rarest first (highest idf) into a per-thread float32 accumulator, zeroed again after
   each query: no array of one float per row is allocated per query, and no pass is made over all rows.
2. The k best rows are kept current as scores rise. Before each long posting list, theta is their exact
   final score (partial score + the remaining terms, looked up by binary search): a lower bound on the
   final k-th score. rest is the most the remaining terms can add to any row (sum of q_t * max_d X[d, t]).
   Once rest < theta, no row not yet touched can reach the top k: the remaining (common, low-idf) terms
   are only added to rows already touched, looked up one by one for the few rows whose partial score +
   rest still reaches theta. A stopword-like term costs a binary search per live row instead of a pass
   over a posting list as long as the corpus.
3. The k best rows come out best first; ties go to the lower row.

Every path (the compiled numba kernel in _kernel.py, optional, and the numpy fallback here) adds the same
float64 products in the same order (rarest term first) and rounds the sum to float32 after each term, so
they return bit-identical scores; equal rows always score exactly equal.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import threading
from collections.abc import Iterator
from types import ModuleType

import numpy as np

log = logging.getLogger(__name__)

# Up to this many rows, the numpy path sums into a fresh array of all rows, term by term (cheapest when small).
DENSE_MAX_ROWS = 32_768
# ... and then takes the top k by k argmax passes (each returns the first maximum: the lower row on ties).
ARGMAX_MAX_K = 16
# Slack on bounds (relative, absolute): float32 rounding (2**-24 per added term) can never drop a row that
# ties or wins, for queries of up to ~150 distinct terms.
BOUND_SLACK = 1e-5
BOUND_TINY = 1e-12
# A live row is binary-searched in a list instead of scanning the list when live * log2(len) * this < len.
SEARCH_COST = 4
# Theta (a lower bound on the k-th score) is worked out before any posting list longer than this.
LOOKUP_MIN = 64
# Listing the live rows (one pass over the rows touched, in random order) is worth it when
# rows touched * this < postings left to read.
PASS_COST = 4
# Zero the whole accumulator (a memset) rather than row by row when more than 1/this of the rows were touched.
RESET_SHARE = 16
ENGINE_ENV = "IOM_BOT_SCORER"  # "numba", "numpy" or "auto" (default: numba when it is installed)


class _Scratch(threading.local):
    """Per-thread buffers: the accumulator (zero between queries), touched rows, the k best."""

    def __init__(self) -> None:
        self.acc = np.zeros(0, np.float32)
        self.touched = np.zeros(0, np.int32)
        self.covered = np.zeros(0)
        self.k = 0
        self.out_rows = np.zeros(0, np.int64)
        self.out_scores = np.zeros(0)

    def rows(self, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
        if self.acc.shape[0] != n_rows:
            self.acc = np.zeros(n_rows, np.float32)
            self.touched = np.zeros(n_rows, np.int32)
            self.covered = np.zeros(n_rows)
        return self.acc, self.touched

    def best(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        if self.k != k:
            self.k = k
            self.out_rows = np.zeros(k, np.int64)
            self.out_scores = np.zeros(k)
        return self.out_rows, self.out_scores


def column_max(indptr: np.ndarray, data: np.ndarray) -> np.ndarray:
    """The largest weight of each column (0 for an empty one)."""
    out = np.zeros(indptr.shape[0] - 1, np.float32)
    nonempty = np.flatnonzero(np.diff(indptr) > 0)
    if nonempty.size:
        out[nonempty] = np.maximum.reduceat(data, indptr[nonempty])
    return out


class Scorer:
    """Top-k search over one CSC matrix's raw arrays (see the module docstring)."""

    def __init__(
        self,
        n_rows: int,
        indptr: np.ndarray,
        indices: np.ndarray,
        data: np.ndarray,
        col_max: np.ndarray,
        engine: str | None = None,
    ) -> None:
        self.n_rows = n_rows
        self.indptr = np.ascontiguousarray(indptr, np.int64)
        self.indices = np.ascontiguousarray(indices, np.int32)
        self.data = np.ascontiguousarray(data, np.float32)
        self.col_max = np.ascontiguousarray(col_max, np.float32)
        self.engine = resolve_engine(engine)
        kernels = _numba_kernels() if self.engine == "numba" else None
        self.kernels = kernels  # the compiled kernels' module, or None: the numpy paths
        self._kernel = kernels.top_k if kernels is not None else None
        self._scratch = _Scratch()
        if self._kernel is not None and n_rows and self.indices.size:
            # Compile (first run ever, seconds) or load numba's cached machine code now, where the index
            # is built or loaded (off the event loop), not on the first question.
            column = int(np.argmax(np.diff(self.indptr) > 0))
            self.top_k([column], [1.0], 1)
            self.gather([column], [1.0], [1.0], np.zeros(1, np.int32))
            self.best_rows(self.scores([column], [1.0]), 1)

    def top_k(self, columns: list[int], weights: list[float], k: int) -> list[tuple[int, float]]:
        """The k best (row, score), best first, ties to the lower row, zero scores left out."""
        if not columns or k <= 0 or self.n_rows == 0:
            return []
        if k > self.n_rows:
            k = self.n_rows
        if self._kernel is None:
            if self.n_rows <= DENSE_MAX_ROWS:
                return self._dense(columns, weights, k)
            return self._maxscore(columns, weights, k, self._scratch.rows(self.n_rows)[0])
        out_rows, out_scores = self._top_k_compiled(columns, weights, k)
        return list(zip(out_rows.tolist(), out_scores.tolist()))  # noqa: B905 - equal lengths

    def top_k_arrays(self, columns: list[int], weights: list[float], k: int) -> tuple[np.ndarray, np.ndarray]:
        """top_k as (rows int32, scores float32) arrays, for callers that go on computing with them."""
        if self._kernel is not None and columns and k > 0 and self.n_rows:
            rows, scores = self._top_k_compiled(columns, weights, min(k, self.n_rows))
            return rows.astype(np.int32), scores.astype(np.float32)
        found = self.top_k(columns, weights, k)
        return (
            np.fromiter((row for row, _ in found), np.int32, len(found)),
            np.fromiter((score for _, score in found), np.float32, len(found)),
        )

    def scratch(self, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """This thread's buffers for a compiled top-k of k rows: (accumulator, touched, covered, rows, scores).

        The accumulator and covered are zero between queries: whoever adds to them zeroes what it touched."""
        acc, touched = self._scratch.rows(self.n_rows)
        return (acc, touched, self._scratch.covered, *self._scratch.best(k))

    def accumulators(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """This thread's (accumulator, touched, covered): zero between queries, as scratch() says."""
        acc, touched = self._scratch.rows(self.n_rows)
        return acc, touched, self._scratch.covered

    def _top_k_compiled(self, columns: list[int], weights: list[float], k: int) -> tuple[np.ndarray, np.ndarray]:
        acc, touched, _, out_rows, out_scores = self.scratch(k)
        cols = np.array(columns, np.int64)
        q = np.array(weights, np.float64)
        n = self._kernel(
            self.indptr, self.indices, self.data, self.col_max, cols, q, k, acc, touched, out_rows, out_scores
        )
        return out_rows[:n], out_scores[:n]  # views of the per-thread buffers: copy before the next query

    def scores(self, columns: list[int], weights: list[float]) -> np.ndarray:
        """Every row's score (float32), summed in the same order and with the same roundings as top_k."""
        acc = np.zeros(self.n_rows, np.float32)
        if self.kernels is not None and columns:
            cols, q = np.array(columns, np.int64), np.array(weights, np.float64)
            self.kernels.scores(self.indptr, self.indices, self.data, cols, q, acc)
            return acc
        indices, data = self.indices, self.data
        for lo, hi, w in self._ordered(columns, weights):
            rows = indices[lo:hi]
            acc[rows] = acc[rows] + data[lo:hi] * w  # float64 sum, rounded to float32 once per term
        return acc

    def best_rows(self, acc: np.ndarray, k: int) -> np.ndarray:
        """The rows of the k best scores of acc (as scores() gives them), zeros left out, best first, ties to the
        lower row: top_k's order."""
        if k <= 0:
            return np.zeros(0, np.int64)
        if self.kernels is not None:
            rows = np.empty(k, np.int64)
            return rows[: self.kernels.best_rows(acc, rows, np.empty(k))]
        scored = np.flatnonzero(acc > 0)
        return _best_arrays(scored, acc[scored], k)[0]

    def scores_of(self, columns: list[int], weights: list[float], rows: np.ndarray) -> np.ndarray:
        """The scores of the given rows only (float32), by binary search in each term's postings."""
        return self.gather(columns, weights, [0.0] * len(columns), rows)[0]

    def gather(
        self, columns: list[int], weights: list[float], cover: list[float], rows: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(scores, covered) of the given rows: each score as scores() sums it (float32), and the sum of
        cover[t] over the query terms t the row holds (float64): what share of the query a row carries."""
        rows = np.ascontiguousarray(rows, np.int32)
        out_scores = np.zeros(rows.shape[0], np.float32)
        out_cover = np.zeros(rows.shape[0])
        if rows.size == 0 or not columns:
            return out_scores, out_cover
        if self.kernels is not None:
            cols, q, covers = np.array(columns, np.int64), np.array(weights, np.float64), np.array(cover, np.float64)
            self.kernels.gather(self.indptr, self.indices, self.data, cols, q, covers, rows, out_scores, out_cover)
            return out_scores, out_cover
        terms = [term for term in self._ordered_columns(columns, weights, cover) if term[1] > term[0]]
        if not terms:
            return out_scores, out_cover
        # One binary search per term; the rest at once over a (term x row) table, then summed term by term in
        # the kernel's order and roundings (a float64 sum rounded to float32 per term; a miss adds 0).
        indices = self.indices
        at = np.empty((len(terms), rows.shape[0]), np.int64)
        for j, (lo, hi, _, _, _) in enumerate(terms):
            at[j] = indices[lo:hi].searchsorted(rows)
        lo, hi, w, _, weight = (np.array(values) for values in zip(*terms, strict=True))
        at = np.minimum(at, (hi - lo - 1)[:, None]) + lo[:, None]
        hit = indices[at] == rows
        values = np.where(hit, self.data[at] * w[:, None], 0.0)
        covers = np.where(hit, weight[:, None], 0.0)
        for j in range(len(terms)):
            np.add(out_scores, values[j], out=out_scores, casting="same_kind")
            out_cover += covers[j]
        return out_scores, out_cover

    def _ordered(self, columns: list[int], weights: list[float]) -> list[tuple[int, int, np.float64]]:
        """(start, end, weight) of each term's postings, rarest first (ties: lower column): the summing order."""
        return [(lo, hi, w) for lo, hi, w, _, _ in self._ordered_columns(columns, weights)]

    def _ordered_columns(
        self, columns: list[int], weights: list[float], cover: list[float] | None = None
    ) -> list[tuple[int, int, np.float64, int, float]]:
        """(start, end, weight, column, cover) of each term, rarest first (ties: lower column)."""
        indptr = self.indptr
        extra = cover if cover is not None else [0.0] * len(columns)
        terms = [
            (int(indptr[c]), int(indptr[c + 1]), np.float64(w), c, v)
            for c, w, v in zip(columns, weights, extra, strict=True)
        ]
        terms.sort(key=lambda t: (t[1] - t[0], t[3]))
        return terms

    def _dense(self, columns: list[int], weights: list[float], k: int) -> list[tuple[int, float]]:
        acc = self.scores(columns, weights)
        if k > ARGMAX_MAX_K:
            rows = np.flatnonzero(acc > 0)
            return _best_of(rows, acc[rows], k)
        out = []
        for _ in range(k):
            row = int(acc.argmax())  # the first maximum: ties go to the lower row
            score = float(acc[row])
            if score <= 0:
                break
            out.append((row, score))
            acc[row] = -1.0
        return out

    def _maxscore(self, columns: list[int], weights: list[float], k: int, acc: np.ndarray) -> list[tuple[int, float]]:
        """The kernel's algorithm, vectorised per term: the same additions in the same order."""
        ordered = self._ordered_columns(columns, weights)
        terms = [(lo, hi, w) for lo, hi, w, _, _ in ordered]
        indices, data = self.indices, self.data
        maxc = [w * np.float64(self.col_max[c]) for _, _, w, c, _ in ordered]
        rest = [float(sum(maxc[j:])) for j in range(len(terms))] + [0.0]
        parts: list[np.ndarray] = []
        n = 0
        theta = 0.0
        j = 0
        try:
            # Phase 1: every posting of each term; any row may enter.
            while j < len(terms):
                lo, hi, w = terms[j]
                if n >= k and hi - lo > LOOKUP_MIN:
                    touched = np.concatenate(parts)
                    parts = [touched]
                    theta = max(theta, self._theta(terms[j:], acc, touched, k))
                    if (rest[j] + BOUND_TINY) * (1 + BOUND_SLACK) < theta:
                        break
                rows = indices[lo:hi]
                before = acc[rows]
                acc[rows] = before + data[lo:hi] * w
                new = rows[before == 0.0]
                parts.append(new)
                n += new.shape[0]
                j += 1
            touched = np.concatenate(parts) if parts else np.zeros(0, np.int32)
            # Phase 2: no row untouched so far can reach the top k, nor a touched one with partial + rest < theta.
            while j < len(terms):
                theta = max(theta, self._theta(terms[j:], acc, touched, k))
                keep = (acc[touched] + (rest[j] + BOUND_TINY)) * (1 + BOUND_SLACK) >= theta
                touched = touched[keep]
                lo, hi, w = terms[j]
                postings = indices[lo:hi]
                if touched.size * (math.log2(hi - lo) + 1) * SEARCH_COST < hi - lo:
                    at = np.minimum(postings.searchsorted(touched), hi - lo - 1)
                    hit = postings[at] == touched
                    rows, values = touched[hit], data[lo:hi][at[hit]]
                else:
                    live = acc[postings] > 0
                    rows, values = postings[live], data[lo:hi][live]
                acc[rows] = acc[rows] + values * w
                j += 1
            scores = acc[touched]
            return _best_of(touched, scores, k)
        finally:
            for part in parts:
                acc[part] = 0.0

    def _theta(self, terms: list[tuple[int, int, np.float64]], acc: np.ndarray, touched: np.ndarray, k: int) -> float:
        """A lower bound on the final k-th score: the exact scores of the k best rows by partial score."""
        partial = acc[touched]
        if partial.shape[0] < k:
            return 0.0
        rows = touched[np.argpartition(partial, partial.shape[0] - k)[-k:]]
        exact = acc[rows]
        for lo, hi, w in terms:
            postings = self.indices[lo:hi]
            at = np.minimum(postings.searchsorted(rows), hi - lo - 1)
            exact = (exact + np.where(postings[at] == rows, self.data[lo:hi][at] * w, 0.0)).astype(np.float32)
        return float(exact.min())


def _best_of(rows: np.ndarray, scores: np.ndarray, k: int) -> list[tuple[int, float]]:
    """Top k of (row, score) pairs with distinct rows, best first, ties to the lower row."""
    rows, scores = _best_arrays(rows, scores, k)
    return list(zip(rows.tolist(), scores.tolist(), strict=True))


def _best_arrays(rows: np.ndarray, scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """_best_of as arrays (rows, scores)."""
    n = rows.shape[0]
    if n > k:  # only those reaching the k-th score need sorting (ties kept)
        kth = np.partition(scores, n - k)[n - k]
        keep = scores >= kth
        rows, scores = rows[keep], scores[keep]
    order = np.lexsort((rows, -scores))[:k]
    return rows[order], scores[order]


@contextlib.contextmanager
def scorer_engine(engine: str) -> Iterator[None]:
    """Indexes made meanwhile score with engine, unless ENGINE_ENV names one (it is set while this lasts).

    For a command that builds and saves: the saved arrays are the same whichever engine scores, so numba's import
    and kernel load (about 0.9 s) buy build-index nothing. Not for threads: the environment is the process's.
    """
    if ENGINE_ENV in os.environ:
        yield
        return
    os.environ[ENGINE_ENV] = engine
    try:
        yield
    finally:
        os.environ.pop(ENGINE_ENV, None)


def resolve_engine(engine: str | None) -> str:
    """'numba' if asked for (or 'auto' and numba imports), else 'numpy'."""
    engine = engine or os.environ.get(ENGINE_ENV, "auto")
    if engine not in ("auto", "numba", "numpy"):
        raise ValueError(f"unknown scorer engine {engine!r}: use auto, numba or numpy")
    if engine == "numpy":
        return "numpy"
    if _numba_kernels() is None:
        if engine == "numba":
            raise ImportError("the numba scorer engine was asked for but numba is not installed")
        return "numpy"
    return "numba"


_kernel_lock = threading.Lock()
_kernel_cache: list[ModuleType | None] = []


def _numba_kernels() -> ModuleType | None:
    """The compiled kernels' module (compiled, or read from numba's cache, on first use), or None without numba."""
    if _kernel_cache:
        return _kernel_cache[0]
    with _kernel_lock:
        if not _kernel_cache:
            try:
                from . import _kernel
            except ImportError:
                _kernel_cache.append(None)
            except Exception as error:  # numba present but broken (e.g. built for another numpy)
                log.warning("numba cannot be used (%s); scoring with numpy", error)
                _kernel_cache.append(None)
            else:
                _kernel_cache.append(_kernel)
    return _kernel_cache[0]
