"""What a saved index must satisfy before the compiled scorer may read it, and the checksums of its files.

The scorer (knowledge/_kernel.py) has no bounds checks: an index whose arrays have the right dtype and size but
out-of-range values would make it read or write outside its arrays (a segfault, or a corrupted heap). Every
array is therefore checked here, in numpy, when an index is loaded: cheap (a few passes over the arrays) next
to reading them, and the one place that stands between a damaged disk and a crash.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

HASH_CHUNK_BYTES = 1 << 20
MAX_ROWS = np.iinfo(np.int32).max  # row numbers are int32 in the scorer
WEIGHT_SLACK = 1e-3  # rows are L2-normalised: no weight can be above 1 (float32 rounding aside)


class IntegrityError(ValueError):
    """The saved arrays break an invariant that the scorer relies on; the message says which."""


def file_sha256(path: Path) -> str:
    """sha256 (hex) of a file's bytes, read in chunks (hashlib releases the GIL on each)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def check_index(n_rows: object, n_terms: object, arrays: Mapping[str, np.ndarray], terms: Sequence[str]) -> None:
    """Raise IntegrityError unless the arrays are a CSC TF-IDF matrix the scorer can read without going astray.

    indptr: 0 first, never decreasing, nnz last; indices: rows in [0, n_rows), strictly increasing within each
    column; data: finite weights in (0, 1]; idf: finite, at least 1 (smooth idf); col_max: each column's largest
    weight; terms: strictly increasing (the columns are in sorted term order, so a reordered file is caught).
    """
    if not _count(n_rows) or not _count(n_terms) or n_rows > MAX_ROWS:
        raise IntegrityError(f"row and term counts must be whole numbers below {MAX_ROWS}: {n_rows!r}, {n_terms!r}")
    indptr, indices, data = arrays["indptr"], arrays["indices"], arrays["data"]
    idf, col_max = arrays["idf"], arrays["col_max"]
    nnz = indices.shape[0]
    if indptr.ndim != 1 or indptr.shape[0] != n_terms + 1 or data.shape != indices.shape:
        raise IntegrityError("indptr, indices and data do not have matching shapes")
    if idf.shape != (n_terms,) or col_max.shape != (n_terms,):
        raise IntegrityError("idf and col_max must hold one value per term")
    if indptr[0] != 0 or indptr[-1] != nnz or (n_terms and np.any(np.diff(indptr) < 0)):
        raise IntegrityError("indptr must start at 0, never decrease, and end at the number of postings")
    if nnz and (indices.min() < 0 or indices.max() >= n_rows):
        raise IntegrityError(f"a posting names a row outside 0..{n_rows - 1}")
    if nnz > 1:
        rising = np.diff(indices.astype(np.int64)) > 0
        starts = np.asarray(indptr[1:-1], np.int64)
        starts = starts[(starts > 0) & (starts < nnz)]
        rising[starts - 1] = True  # a new column may start anywhere
        if not rising.all():
            raise IntegrityError("the rows of a column must be strictly increasing")
    if nnz and not (np.isfinite(data).all() and data.min() > 0 and data.max() <= 1 + WEIGHT_SLACK):
        raise IntegrityError("weights must be finite and in (0, 1]")
    if n_terms and not (np.isfinite(idf).all() and idf.min() >= 1):
        raise IntegrityError("idf values must be finite and at least 1")
    expected = np.zeros(n_terms, np.float32)
    nonempty = np.flatnonzero(np.diff(indptr) > 0)
    if nonempty.size:
        expected[nonempty] = np.maximum.reduceat(data, indptr[nonempty])
    if not np.array_equal(expected, col_max):
        raise IntegrityError("col_max does not hold each column's largest weight")
    if any(a >= b for a, b in itertools.pairwise(terms)):
        raise IntegrityError("the terms are not in strictly increasing order")


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
