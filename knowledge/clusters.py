"""Group similar short texts (unanswered questions, or their analysed terms) by TF-IDF cosine similarity."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import numpy as np
from scipy import sparse

WORD = re.compile(r"\w+")
SIMILARITY_MIN = 0.5  # cosine similarity to a cluster's first text for a text to join it


@dataclass(frozen=True, slots=True)
class Cluster:
    count: int  # texts in the cluster, repeats included
    example: str  # its most frequent text
    texts: tuple[str, ...]  # its distinct texts, most frequent first


def cluster(texts: list[str], similarity_min: float = SIMILARITY_MIN) -> list[Cluster]:
    """Clusters of texts, most frequent first: each distinct text, most frequent first, joins the first cluster
    whose leader it is at least similarity_min similar to (TF-IDF of words, cosine), or leads a new one."""
    counts = Counter(text.strip() for text in texts if text and text.strip())
    if not counts:
        return []
    distinct = [text for text, _ in counts.most_common()]
    matrix = tfidf(distinct)
    if matrix.nnz == 0:  # no word at all in any text
        return [Cluster(counts[t], t, (t,)) for t in distinct]
    leaders: list[int] = []
    members: dict[int, list[int]] = {}
    for row in range(len(distinct)):
        if leaders:
            similarity = (matrix[leaders] @ matrix[row].T).toarray().ravel()
            best = int(np.argmax(similarity))
            if similarity[best] >= similarity_min:
                members[leaders[best]].append(row)
                continue
        leaders.append(row)
        members[row] = [row]
    clusters = [
        Cluster(sum(counts[distinct[i]] for i in rows), distinct[rows[0]], tuple(distinct[i] for i in rows))
        for rows in members.values()
    ]
    return sorted(clusters, key=lambda c: -c.count)


def tfidf(texts: list[str]) -> sparse.csr_matrix:
    """Rows of L2-normalised TF-IDF weights of each text's words (smoothed idf: ln((1 + n) / (1 + df)) + 1)."""
    vocabulary: dict[str, int] = {}
    rows, cols, values = [], [], []
    for row, text in enumerate(texts):
        for word, count in Counter(WORD.findall(text.lower())).items():
            rows.append(row)
            cols.append(vocabulary.setdefault(word, len(vocabulary)))
            values.append(float(count))
    counts = sparse.csr_matrix((values, (rows, cols)), shape=(len(texts), len(vocabulary)), dtype=np.float64)
    df = np.bincount(counts.indices, minlength=len(vocabulary))
    weights = counts.multiply(np.log((1 + len(texts)) / (1 + df)) + 1).tocsr()
    norms = np.sqrt(np.asarray(weights.multiply(weights).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.csr_matrix(weights.multiply(1 / norms[:, None]))
