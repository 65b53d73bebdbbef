"""TfidfIndex: a scikit-learn TF-IDF matrix kept as CSC, scored by gathering only the query's columns."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

Terms = Sequence[str]


class TfidfIndex:
    """Rows are documents (passages or sentences), columns are terms; rows are L2-normalised."""

    def __init__(
        self, matrix: sparse.csc_matrix, vocabulary: dict[str, int], idf: np.ndarray, sublinear_tf: bool
    ) -> None:
        self.matrix = matrix
        self.vocabulary = vocabulary
        self.idf = idf
        self.sublinear_tf = sublinear_tf

    @property
    def n_rows(self) -> int:
        return self.matrix.shape[0]

    @classmethod
    def build(
        cls, texts: Sequence[str], analyzer: Callable[[str], list[str]], *, sublinear_tf: bool = True
    ) -> TfidfIndex:
        vectorizer = TfidfVectorizer(analyzer=analyzer, sublinear_tf=sublinear_tf, dtype=np.float32)
        matrix = vectorizer.fit_transform(texts).tocsc()
        matrix.sort_indices()
        vocabulary = {term: int(column) for term, column in vectorizer.vocabulary_.items()}
        return cls(matrix, vocabulary, vectorizer.idf_.astype(np.float32), sublinear_tf)

    def query_vector(self, terms: Terms) -> tuple[np.ndarray, np.ndarray]:
        """(columns, weights) of the query's L2-normalised TF-IDF vector; equals the vectoriser's transform."""
        counts = Counter(term for term in terms if term in self.vocabulary)
        if not counts:
            return np.empty(0, np.int32), np.empty(0, np.float32)
        columns = np.fromiter((self.vocabulary[t] for t in counts), np.int32, len(counts))
        tf = np.fromiter(counts.values(), np.float32, len(counts))
        if self.sublinear_tf:
            tf = np.log(tf) + 1
        weights = tf * self.idf[columns]
        norm = np.linalg.norm(weights)
        if norm > 0:
            weights /= norm
        order = np.argsort(columns)
        return columns[order], weights[order].astype(np.float32)

    def scores(self, terms: Terms) -> np.ndarray:
        """Cosine score of every row for the query terms (dense, one float per row)."""
        columns, weights = self.query_vector(terms)
        if columns.size == 0:
            return np.zeros(self.n_rows, np.float32)
        return np.asarray(self.matrix[:, columns] @ weights).ravel()

    def search(self, terms: Terms, k: int = 5) -> list[tuple[int, float]]:
        """Top k (row, score) by score, best first; ties go to the lower row; rows scoring 0 are left out."""
        scores = self.scores(terms)
        return top_k(scores, k)


def top_k(scores: np.ndarray, k: int) -> list[tuple[int, float]]:
    """Indices of the k largest positive scores, best first, ties broken by index."""
    n = scores.shape[0]
    if n == 0 or k <= 0:
        return []
    if k < n:
        candidates = np.argpartition(-scores, k - 1)[:k]
        # argpartition may cut inside a run of ties: take every index tied with the k-th score.
        kth = scores[candidates].min()
        candidates = np.flatnonzero(scores >= kth)
    else:
        candidates = np.arange(n)
    order = np.lexsort((candidates, -scores[candidates]))
    ranked = candidates[order][:k]
    return [(int(i), float(scores[i])) for i in ranked if scores[i] > 0]
