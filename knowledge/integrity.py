"""What a saved index must satisfy before the compiled scorer may read it, and the checksums of its files.

The scorer (knowledge/_kernel.py) has no bounds checks: an index whose arrays have the right dtype and size but
out-of-range values would make it read or write outside its arrays (a segfault, or a corrupted heap). Every
array is therefore checked here, in numpy, when an index is loaded: cheap (a few passes over the arrays) next
to reading them, and the one place that stands between a damaged disk and a crash.
"""

from __future__ import annotations

import hashlib
import itertools
import operator
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

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
        rising = indices[1:] > indices[:-1]
        starts = np.asarray(indptr[1:-1], np.int64)
        starts = starts[(starts > 0) & (starts < nnz)]
        rising[starts - 1] = True  # a new column may start anywhere
        if not rising.all():
            raise IntegrityError("the rows of a column must be strictly increasing")
    # min and max are NaN when a weight is, and then neither comparison holds: no separate pass for finiteness.
    if nnz and not (data.min() > 0 and data.max() <= 1 + WEIGHT_SLACK):
        raise IntegrityError("weights must be finite and in (0, 1]")
    if n_terms and not (np.isfinite(idf).all() and idf.min() >= 1):
        raise IntegrityError("idf values must be finite and at least 1")
    expected = np.zeros(n_terms, np.float32)
    nonempty = np.flatnonzero(np.diff(indptr) > 0)
    if nonempty.size:
        expected[nonempty] = np.maximum.reduceat(data, indptr[nonempty])
    if not np.array_equal(expected, col_max):
        raise IntegrityError("col_max does not hold each column's largest weight")
    if not all(map(operator.lt, terms, itertools.islice(terms, 1, None))):
        raise IntegrityError("the terms are not in strictly increasing order")


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def check_tables(tables: Mapping[str, Any], rows: Mapping[str, int], terms: Mapping[str, int]) -> None:
    """Raise IntegrityError unless a saved set's tables (knowledge.saved) fit together and fit its indexes: every
    position in range, every offset list rising from 0 to its end, the units exactly the passages' sentences (and
    captions) with their kinds, one row per passage and unit in each index. rows and terms: each index's counts."""
    documents, sections, references = (_list(tables, name) for name in ("documents", "sections", "references"))
    ids = _list(tables, "passage_ids")
    n = len(ids)
    doc, section, kind = (_array(tables, f"passage_{name}", dtype, n) for name, dtype in _PASSAGE_ARRAYS)
    start, end = _array(tables, "passage_start", np.int64, n), _array(tables, "passage_end", np.int64, n)
    _in_range("passage_doc", doc, 0, len(documents))
    _in_range("passage_section", section, -1, len(sections))
    _in_range("passage_kind", kind, 0, 2)
    if n and (start.min() < 0 or np.any(start > end)):
        raise IntegrityError("a passage ends before it starts")
    sentence_indptr = _offsets(tables, "sentence_indptr", n)
    n_sentences = int(sentence_indptr[-1])
    s_start, s_end = (
        _array(tables, "sentence_start", np.int64, n_sentences),
        _array(tables, "sentence_end", np.int64, n_sentences),
    )
    flags = _array(tables, "sentence_flags", np.uint8, n_sentences)
    _in_range("sentence_flags", flags, 0, 4)
    if n_sentences and (np.any(s_start > s_end) or np.any(s_start < np.repeat(start, np.diff(sentence_indptr)))):
        raise IntegrityError("a sentence starts before its passage or ends before it starts")
    reference_indptr = _offsets(tables, "reference_indptr", n_sentences)
    _in_range("reference_ids", _array(tables, "reference_ids", np.int32, int(reference_indptr[-1])), 0, len(references))
    block_indptr = _offsets(tables, "block_indptr", len(documents))
    n_blocks = int(block_indptr[-1])
    _in_range("block_start", _array(tables, "block_start", np.int64, n_blocks), 0, MAX_ROWS**2)
    _in_range("block_length", _array(tables, "block_length", np.int64, n_blocks), 0, MAX_ROWS**2)
    _in_range("block_section", _array(tables, "block_section", np.int32, n_blocks), -1, len(sections))
    _in_range("block_kind", _array(tables, "block_kind", np.int8, n_blocks), 0, 2)
    # The units: each passage's sentences in order, or its caption whole; their kinds follow from the passages.
    caption = kind == 1
    per_passage = np.where(caption, 1, np.diff(sentence_indptr))
    owner = np.repeat(np.arange(n, dtype=np.int32), np.diff(sentence_indptr))
    keep = ~caption[owner]
    expected_passage = np.concatenate([owner[keep], np.flatnonzero(caption).astype(np.int32)])
    expected_kind = np.concatenate([(flags[keep] & 1).astype(np.int8), np.full(int(caption.sum()), 2, np.int8)])
    order = np.argsort(expected_passage, kind="stable")
    n_units = int(per_passage.sum())
    if rows != {"units": n_units, "passages": n, "chars": n_units}:
        raise IntegrityError(f"the indexes' rows {dict(rows)} are not one per unit ({n_units}) and passage ({n})")
    if not np.array_equal(_array(tables, "unit_passage", np.int32, n_units), expected_passage[order]):
        raise IntegrityError("the units are not the passages' sentences")
    if not np.array_equal(_array(tables, "unit_kind", np.int8, n_units), expected_kind[order]):
        raise IntegrityError("a unit's kind is not its sentence's")
    _in_range("unit_facts", _array(tables, "unit_facts", np.int32, n_units), 0, 64)
    for name, count, width in (("unit_terms", n_units, terms["units"]), ("passage_terms", n, terms["passages"])):
        indptr = _offsets(tables, f"{name}_indptr", count)
        _in_range(name, _array(tables, name, np.int32, int(indptr[-1])), 0, width)
    _check_speller(tables)
    pairs = _list(tables, "citation_pairs")
    citation_indptr = _offsets(tables, "citation_indptr", len(pairs))
    _in_range("citation_rows", _array(tables, "citation_rows", np.int32, int(citation_indptr[-1])), 0, n_units)
    _in_range("citation_counts", _array(tables, "citation_counts", np.int32, int(citation_indptr[-1])), 1, MAX_ROWS)
    _in_range("citation_direct", _array(tables, "citation_direct", np.uint8, n_units), 0, 2)
    _in_range("citation_count", _array(tables, "citation_count", np.int32, n_units), 0, MAX_ROWS)
    claim_indptr = _offsets(tables, "claim_indptr", len(_list(tables, "claim_numbers")))
    places = tables.get("claim_places")
    if not isinstance(places, np.ndarray) or places.dtype != np.int32 or places.shape != (int(claim_indptr[-1]), 2):
        raise IntegrityError("claim_places: not an int32 array of (passage, sentence) pairs")
    _in_range("claim_places", places[:, 0], 0, n)
    if places.shape[0]:
        _in_range("claim_places", places[:, 1], 0, np.diff(sentence_indptr)[places[:, 0]])


_PASSAGE_ARRAYS = (("doc", np.int32), ("section", np.int32), ("kind", np.int8))


def _check_speller(tables: Mapping[str, Any]) -> None:
    words = _list(tables, "speller_words")
    _in_range("speller_counts", _array(tables, "speller_counts", np.int64, len(words)), 1, np.iinfo(np.int64).max)
    keys = tables.get("speller_keys")
    if not isinstance(keys, np.ndarray) or keys.dtype != np.uint64 or keys.ndim != 1:
        raise IntegrityError("speller_keys: not a uint64 array")
    if keys.shape[0] > 1 and np.any(keys[1:] < keys[:-1]):
        raise IntegrityError("speller_keys: not in ascending order")
    _in_range("speller_ids", _array(tables, "speller_ids", np.int32, keys.shape[0]), 0, len(words))


def _list(tables: Mapping[str, Any], name: str) -> list[Any]:
    value = tables.get(name)
    if not isinstance(value, list):
        raise IntegrityError(f"{name}: missing, or not a list")
    return value


def _array(tables: Mapping[str, Any], name: str, dtype: type, length: int) -> np.ndarray:
    value = tables.get(name)
    if not isinstance(value, np.ndarray) or value.dtype != dtype or value.shape != (length,):
        raise IntegrityError(f"{name}: not a {np.dtype(dtype).name} array of {length} values")
    return value


def _offsets(tables: Mapping[str, Any], name: str, count: int) -> np.ndarray:
    """An offsets array of count + 1 values rising from 0 (its last value is the length of what it indexes)."""
    value = _array(tables, name, np.int64, count + 1)
    if value[0] != 0 or (count and np.any(np.diff(value) < 0)):
        raise IntegrityError(f"{name}: offsets must start at 0 and never decrease")
    return value


def _in_range(name: str, values: np.ndarray, low: int, high: int | np.ndarray) -> None:
    """Every value in [low, high) (high: one bound, or one per value)."""
    if values.shape[0] and (values.min() < low or np.any(values >= high)):
        raise IntegrityError(f"{name}: a value outside {low}..{high if isinstance(high, int) else 'its bound'}")
