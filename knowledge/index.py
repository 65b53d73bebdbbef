"""TfidfIndex: scikit-learn's TF-IDF (same vocabulary, weights and cosine), built from token ids and searched
by reading only the postings a query needs; saved as plain arrays, loaded without pickle.

numpy alone builds, loads and searches it: scipy (a fifth of a second to import) is imported only when
something asks for the matrix as a scipy.sparse matrix (``TfidfIndex.matrix``), never to answer.
"""

from __future__ import annotations

import functools
import json
import math
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .integrity import IntegrityError, check_index
from .scoring import Scorer, column_max

if TYPE_CHECKING:
    from scipy import sparse

Terms = Sequence[str]

FORMAT = "iom-bot/tfidf-index"
FORMAT_VERSION = 1
HEADER_FILE = "index.json"
TERMS_FILE = "terms.txt"
ARRAYS = ("indptr", "indices", "data", "idf", "col_max")
NORMALISE_CHUNK = 1 << 22  # postings normalised per step, to bound the float64 temporaries
ID_CHUNK = 1 << 22  # token ids gathered in a Python list before moving to numpy
VOCABULARY_CHUNK = 1 << 16  # terms added to the vocabulary per C call when loading (~5 ms each)


class IndexFormatError(ValueError):
    """A saved index that this code cannot read: wrong format, version or shape."""


class TfidfIndex:
    """Rows are documents (passages or sentences), columns are terms; rows are L2-normalised.

    Equal to ``TfidfVectorizer(analyzer=analyzer, sublinear_tf=sublinear_tf, dtype=np.float32)``: columns in
    sorted term order, smooth idf, sublinear tf, l2 rows. Scores are cosine similarities.
    """

    def __init__(
        self,
        n_rows: int,
        csc: tuple[np.ndarray, np.ndarray, np.ndarray],
        vocabulary: dict[str, int],
        idf: np.ndarray,
        sublinear_tf: bool,
        *,
        col_max: np.ndarray | None = None,
        engine: str | None = None,
    ) -> None:
        """csc: (indptr, indices, data) of the rows x terms matrix, rows sorted within each column."""
        indptr, indices, data = csc
        self.vocabulary = vocabulary
        self.idf = np.asarray(idf, np.float32)
        self.sublinear_tf = sublinear_tf
        indptr = np.asarray(indptr, np.int64)
        data = np.asarray(data, np.float32)
        if col_max is None:
            col_max = column_max(indptr, data)
        self._scorer = Scorer(n_rows, indptr, indices, data, col_max, engine)
        self._idf = self.idf.tolist()

    @property
    def n_rows(self) -> int:
        return self._scorer.n_rows

    @functools.cached_property
    def matrix(self) -> sparse.csc_matrix:
        """The matrix as scipy's CSC (rows x terms), made on first use (tests, clustering; answers never need it)."""
        from scipy import sparse

        scorer = self._scorer
        shape = (scorer.n_rows, len(self.vocabulary))
        matrix = sparse.csc_matrix((scorer.data, scorer.indices, scorer.indptr), shape=shape)
        matrix.has_sorted_indices = True
        return matrix

    @functools.cached_property
    def sorted_terms(self) -> list[str]:
        """The vocabulary in sorted order (for prefix lookups by bisection); made on first use."""
        return sorted(self.vocabulary)

    @classmethod
    def build(
        cls,
        texts: Iterable[str],
        analyzer: Callable[[str], list[str]],
        *,
        sublinear_tf: bool = True,
        engine: str | None = None,
    ) -> TfidfIndex:
        """Index texts, analysed with analyzer (one pass; the analysed terms are not kept)."""
        return cls.from_terms(map(analyzer, texts), sublinear_tf=sublinear_tf, engine=engine)

    @classmethod
    def from_terms(
        cls, documents: Iterable[Terms], *, sublinear_tf: bool = True, engine: str | None = None
    ) -> TfidfIndex:
        """Index already analysed documents (one sequence of terms per row)."""
        seen: defaultdict[str, int] = defaultdict()
        seen.default_factory = seen.__len__  # a new term gets the next id
        lookup = seen.__getitem__
        parts: list[np.ndarray] = []
        chunk: list[int] = []
        lengths: list[int] = []
        for terms in documents:
            lengths.append(len(terms))
            chunk += map(lookup, terms)  # list.extend over map: a C loop, ~70 ns per term
            if len(chunk) >= ID_CHUNK:
                parts.append(np.array(chunk, np.int32))
                chunk = []
        parts.append(np.array(chunk, np.int32))
        del chunk
        terms_seen = list(seen)
        del seen, lookup
        columns = parts[0] if len(parts) == 1 else np.concatenate(parts)
        parts.clear()
        rows = np.repeat(np.arange(len(lengths), dtype=np.int32), lengths)
        return cls.from_postings(columns, rows, len(lengths), terms_seen, sublinear_tf=sublinear_tf, engine=engine)

    @classmethod
    def from_postings(
        cls,
        columns: np.ndarray,
        rows: np.ndarray,
        n_rows: int,
        terms: Sequence[str],
        *,
        sublinear_tf: bool = True,
        engine: str | None = None,
    ) -> TfidfIndex:
        """Index one posting per occurrence of a term in a row, in any order: columns (int32, renumbered in place)
        index terms (distinct, each in some row), rows the row it occurs in."""
        # Columns in sorted term order, as the vectoriser has them: map the given ids to ranks, in place.
        vocabulary = dict(zip(sorted(terms), range(len(terms)), strict=True))
        rank = np.fromiter(map(vocabulary.__getitem__, terms), np.int32, len(terms))
        np.take(rank, columns, out=columns)
        counts = _count_matrix(columns, rows, n_rows, len(vocabulary))
        return cls._from_counts(n_rows, counts, vocabulary, sublinear_tf, engine)

    @classmethod
    def _from_counts(
        cls,
        n_rows: int,
        counts: tuple[np.ndarray, np.ndarray, np.ndarray],
        vocabulary: dict[str, int],
        sublinear_tf: bool,
        engine: str | None,
    ) -> TfidfIndex:
        """The index of a term-count matrix (CSC arrays), turned into TF-IDF in place as TfidfTransformer does it."""
        indptr, indices, data = counts
        df = np.diff(indptr)
        idf = smooth_idf(df, n_rows)
        if sublinear_tf:
            np.log(data, out=data)
            data += np.float32(1)
        data *= np.repeat(idf, df)
        # Row norms as sklearn's normalize computes them: float32 squares summed in float64.
        squares = np.zeros(n_rows)
        for start in range(0, data.shape[0], NORMALISE_CHUNK):
            part = data[start : start + NORMALISE_CHUNK]
            squares += np.bincount(indices[start : start + NORMALISE_CHUNK], weights=part * part, minlength=n_rows)
        norms = np.sqrt(squares)
        for start in range(0, data.shape[0], NORMALISE_CHUNK):
            stop = start + NORMALISE_CHUNK
            # float32 / float64 -> float32, rounded once, exactly as sklearn's normalize does it.
            data[start:stop] = data[start:stop] / norms[indices[start:stop]]
        return cls(n_rows, (indptr, indices, data), vocabulary, idf, sublinear_tf, engine=engine)

    def query_vector(self, terms: Terms) -> tuple[np.ndarray, np.ndarray]:
        """(columns, weights) of the query's L2-normalised TF-IDF vector; equals the vectoriser's transform."""
        columns, weights = self._vector(terms)
        order = sorted(range(len(columns)), key=columns.__getitem__)
        return (
            np.array([columns[i] for i in order], np.int32),
            np.array([weights[i] for i in order], np.float32),
        )

    def _vector(self, terms: Terms) -> tuple[list[int], list[float]]:
        """Distinct columns (first-seen order) and float64 weights of the query vector, in plain Python."""
        found = [c for c in map(self.vocabulary.get, terms) if c is not None]
        if not found:
            return [], []
        idf = self._idf
        distinct = set(found)
        if len(distinct) == len(found):  # every term once: tf = 1, weight = idf
            columns = found
            weights = [idf[c] for c in found]
        else:
            counts = dict.fromkeys(found, 0)
            for c in found:
                counts[c] += 1
            columns = list(counts)
            if self.sublinear_tf:
                weights = [(math.log(n) + 1.0) * idf[c] for c, n in counts.items()]
            else:
                weights = [n * idf[c] for c, n in counts.items()]
        norm = math.hypot(*weights)
        return columns, [w / norm for w in weights]

    def scores(self, terms: Terms) -> np.ndarray:
        """Cosine score of every row for the query terms (dense, one float per row)."""
        columns, weights = self._vector(terms)
        return self._scorer.scores(columns, weights)

    def scores_of(self, terms: Terms, rows: Sequence[int] | np.ndarray) -> np.ndarray:
        """Cosine scores of the given rows only (float32; each row looked up by binary search per term)."""
        columns, weights = self._vector(terms)
        return self._scorer.scores_of(columns, weights, np.asarray(rows))

    def gather(
        self, terms: Terms, cover: Mapping[str, float], rows: Sequence[int] | np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(scores, covered weight) of the given rows: cosine scores as scores() has them (float32), and the
        sum of cover[term] over the terms each row holds (float64; cover's terms should be among terms)."""
        columns, weights = self._vector(terms)
        return self._scorer.gather(columns, weights, self._cover(columns, cover), np.asarray(rows))

    def query(self, terms: Terms, cover: Mapping[str, float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The query as arrays: (columns int64, weights float64, cover's weight of each column float64)."""
        columns, weights = self._vector(terms)
        return (
            np.array(columns, np.int64),
            np.array(weights, np.float64),
            np.array(self._cover(columns, cover), np.float64),
        )

    @property
    def idf_values(self) -> list[float]:
        """idf as a list of Python floats (each exactly the float32 value): cheaper to index one at a time."""
        return self._idf

    @property
    def scorer(self) -> Scorer:
        return self._scorer

    def search_covered(
        self, terms: Terms, cover: Mapping[str, float], k: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """search() as arrays (rows, scores), with each row's covered weight as gather() has it."""
        columns, weights = self._vector(terms)
        rows, scores = self._scorer.top_k_arrays(columns, weights, k)
        _, covered = self._scorer.gather(columns, weights, self._cover(columns, cover), rows)
        return rows, scores, covered

    def _cover(self, columns: list[int], cover: Mapping[str, float]) -> list[float]:
        """cover's weights aligned with the query's columns (0 for a column it does not weigh)."""
        vocabulary = self.vocabulary
        by_column = {vocabulary.get(term): weight for term, weight in cover.items()}
        return [by_column.get(c, 0.0) for c in columns]

    def search(self, terms: Terms, k: int = 5) -> list[tuple[int, float]]:
        """Top k (row, score) by score, best first; ties go to the lower row; rows scoring 0 are left out."""
        columns, weights = self._vector(terms)
        return self._scorer.top_k(columns, weights, k)

    # Persistence: plain .npy arrays, the terms one per line, a JSON header with a format version.

    def save(self, directory: Path | str, metadata: dict[str, Any] | None = None) -> None:
        """Write the index to directory (created if needed); metadata (e.g. source hashes) goes in the header."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        terms = list(self.vocabulary)  # in column order as this module makes it; else sorted into it
        if list(self.vocabulary.values()) != list(range(len(terms))):
            terms = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        lines = "\n".join(terms)
        if lines.count("\n") != max(len(terms) - 1, 0):  # one C pass, not a test per term
            raise ValueError("a term contains a newline; the terms file is one term per line")
        scorer = self._scorer
        arrays = {
            "indptr": scorer.indptr,
            "indices": scorer.indices,
            "data": scorer.data,
            "idf": self.idf,
            "col_max": scorer.col_max,
        }
        header = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "n_rows": self.n_rows,
            "n_terms": len(terms),
            "nnz": int(scorer.indices.shape[0]),
            "sublinear_tf": self.sublinear_tf,
            "arrays": {name: {"dtype": a.dtype.str, "shape": list(a.shape)} for name, a in arrays.items()},
            "metadata": metadata or {},
        }
        (directory / HEADER_FILE).unlink(missing_ok=True)  # the header is written last: no header, no index
        for name, values in arrays.items():
            np.save(directory / f"{name}.npy", np.ascontiguousarray(values), allow_pickle=False)
        (directory / TERMS_FILE).write_bytes(lines.encode("utf-8"))
        tmp = directory / (HEADER_FILE + ".tmp")
        tmp.write_text(json.dumps(header, indent=1, ensure_ascii=False), "utf-8")
        os.replace(tmp, directory / HEADER_FILE)

    @staticmethod
    def read_header(directory: Path | str) -> dict[str, Any]:
        """The saved header (format, version, sizes, parameters, metadata); raise IndexFormatError if unusable."""
        path = Path(directory) / HEADER_FILE
        try:
            header = json.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            raise IndexFormatError(f"{path}: no saved index here") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise IndexFormatError(f"{path}: unreadable header: {error}") from None
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise IndexFormatError(f"{path}: not a {FORMAT} header")
        if header.get("version") != FORMAT_VERSION:
            raise IndexFormatError(
                f"{path}: format version {header.get('version')!r}, this code reads version {FORMAT_VERSION}"
            )
        return header

    @classmethod
    def load(cls, directory: Path | str, *, mmap: bool = False, engine: str | None = None) -> TfidfIndex:
        """Read an index written by save; raise IndexFormatError on another format version or a damaged one."""
        directory = Path(directory)
        header = cls.read_header(directory)
        try:
            return cls._load(directory, header, mmap, engine)
        except (AttributeError, KeyError, TypeError, UnicodeDecodeError) as error:
            raise IndexFormatError(f"{directory}: damaged index ({type(error).__name__}: {error})") from None

    @classmethod
    def _load(cls, directory: Path, header: dict[str, Any], mmap: bool, engine: str | None) -> TfidfIndex:
        arrays = {}
        for name in ARRAYS:
            path = directory / f"{name}.npy"
            try:
                values = np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
            except (OSError, ValueError) as error:
                raise IndexFormatError(f"{path}: {error}") from None
            expected = header["arrays"].get(name, {})
            if values.dtype.str != expected.get("dtype") or list(values.shape) != expected.get("shape"):
                raise IndexFormatError(f"{path}: {values.dtype.str} {values.shape}, the header says {expected}")
            arrays[name] = values
        terms = (directory / TERMS_FILE).read_bytes().decode("utf-8").split("\n") if header["n_terms"] else []
        n_rows, n_terms = header["n_rows"], header["n_terms"]
        if len(terms) != n_terms or arrays["indptr"].shape[0] != n_terms + 1:
            raise IndexFormatError(f"{directory}: {len(terms)} terms, the header says {n_terms}")
        try:
            check_index(n_rows, n_terms, arrays, terms)  # the compiled scorer trusts every value
        except IntegrityError as error:
            raise IndexFormatError(f"{directory}: damaged index: {error}") from None
        vocabulary: dict[str, int] = {}
        for start in range(0, n_terms, VOCABULARY_CHUNK):  # in steps: the GIL is free between them
            stop = start + VOCABULARY_CHUNK
            vocabulary.update(zip(terms[start:stop], range(start, min(stop, n_terms)), strict=True))
        return cls(
            n_rows,
            (arrays["indptr"], arrays["indices"], arrays["data"]),
            vocabulary,
            arrays["idf"],
            header["sublinear_tf"],
            col_max=arrays["col_max"],
            engine=engine,
        )


def _count_matrix(
    columns: np.ndarray, rows: np.ndarray, n_rows: int, n_terms: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Term counts as CSC arrays (indptr int64, row indices int32, float32 counts; rows ascending in each column)
    from one (column, row) posting per occurrence, in any order."""
    # One int64 key per (term, row) posting, column-major: sorting the keys orders the postings as CSC does,
    # and equal keys are one term's repeats in one row, counted once sorted.
    keys = columns.astype(np.int64)
    keys *= max(n_rows, 1)
    keys += rows
    keys.sort()
    if keys.shape[0]:
        starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
        counts = np.diff(np.append(starts, keys.shape[0])).astype(np.float32)
        keys = keys[starts]
    else:
        counts = np.zeros(0, np.float32)
    term, row = np.divmod(keys, max(n_rows, 1))
    indptr = np.zeros(n_terms + 1, np.int64)
    np.cumsum(np.bincount(term, minlength=n_terms), out=indptr[1:])
    return indptr, row.astype(np.int32), counts


def smooth_idf(df: np.ndarray, n_rows: int) -> np.ndarray:
    """ln((1 + n) / (1 + df)) + 1 in float32, computed as TfidfTransformer does it."""
    df = df.astype(np.float32) + np.float32(1)
    idf = np.full_like(df, n_rows + 1, dtype=np.float32)
    idf /= df
    np.log(idf, out=idf)
    idf += np.float32(1)
    return idf
