"""Passages, units and row terms kept as arrays and made into objects only when asked for (a start from a saved
set: making a million sentence objects up front would take longer than the whole start may); and the catalogue of
a knowledge base's lookups (passage ids, cited articles and the claims citing them, counts).

The objects these sequences give are equal to the ones reading and chunking the sources makes: a knowledge base
started from a saved set answers exactly as a fresh one (tests/knowledge/test_saved_tables.py).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar, overload

import numpy as np

from .chunking import Passage, Sentence
from .citations import Pinpoint, Reference
from .documents import Document

if TYPE_CHECKING:
    from .index import TfidfIndex

T = TypeVar("T")
PASSAGE_KINDS = ("text", "caption")
CITATION_FLAG = 1  # of a sentence's flags: it only cites
DIRECT_FLAG = 2  # ... it is the claim right before its citation


class _Lazy(Sequence[T]):
    """A sequence whose items are made on first access and kept."""

    def __init__(self, length: int) -> None:
        self._items: list[T | None] = [None] * length

    def __len__(self) -> int:
        return len(self._items)

    @overload
    def __getitem__(self, row: int) -> T: ...

    @overload
    def __getitem__(self, row: slice) -> tuple[T, ...]: ...

    def __getitem__(self, row: int | slice) -> T | tuple[T, ...]:
        if isinstance(row, slice):
            return tuple(self[i] for i in range(*row.indices(len(self._items))))
        row = operator.index(row)
        if row < 0:
            row += len(self._items)
        if not 0 <= row < len(self._items):
            raise IndexError("row out of range")
        item = self._items[row]
        if item is None:
            item = self._items[row] = self._make(row)
        return item

    def __iter__(self) -> Iterator[T]:
        return (self[row] for row in range(len(self._items)))

    def _make(self, row: int) -> T:
        raise NotImplementedError


class PassageColumns(NamedTuple):
    """The passages of a knowledge base as arrays over passages and over sentences (offsets into the bodies)."""

    ids: Sequence[str]
    doc: np.ndarray  # int32 per passage: its document's position
    section: np.ndarray  # int32 per passage: its section's position in sections (-1: none)
    kind: np.ndarray  # int8 per passage: its position in PASSAGE_KINDS
    start: np.ndarray  # int64 per passage: offsets into its document's body
    end: np.ndarray
    sentences: np.ndarray  # int64, passages + 1: where each passage's sentences start
    sentence_start: np.ndarray  # int64 per sentence
    sentence_end: np.ndarray
    sentence_flags: np.ndarray  # uint8 per sentence: CITATION_FLAG | DIRECT_FLAG
    references: np.ndarray  # int64, sentences + 1: where each sentence's references start in reference_ids
    reference_ids: np.ndarray  # int32: positions in the reference table
    sections: Sequence[str]
    reference_table: Sequence[Reference]


class PassageTable(_Lazy[Passage]):
    """The passages of a knowledge base, each made (with its sentences) from the columns when first asked for."""

    def __init__(self, documents: Sequence[Document], columns: PassageColumns) -> None:
        super().__init__(len(columns.ids))
        self.documents = documents
        self.columns = columns

    def _make(self, row: int) -> Passage:
        c = self.columns
        document = self.documents[int(c.doc[row])]
        body = document.body
        first, last = int(c.sentences[row]), int(c.sentences[row + 1])
        starts = c.sentence_start[first:last].tolist()
        ends = c.sentence_end[first:last].tolist()
        flags = c.sentence_flags[first:last].tolist()
        bounds = c.references[first : last + 1].tolist()
        ids = c.reference_ids[bounds[0] : bounds[-1]].tolist()
        table = c.reference_table
        sentences = tuple(
            Sentence(
                body[starts[i] : ends[i]],
                starts[i],
                ends[i],
                bool(flags[i] & CITATION_FLAG),
                tuple(table[n] for n in ids[bounds[i] - bounds[0] : bounds[i + 1] - bounds[0]]),
                bool(flags[i] & DIRECT_FLAG),
            )
            for i in range(last - first)
        )
        section = int(c.section[row])
        start, end = int(c.start[row]), int(c.end[row])
        return Passage(
            id=c.ids[row],
            doc_id=document.id,
            section=c.sections[section] if section >= 0 else None,
            kind=PASSAGE_KINDS[int(c.kind[row])],
            sentences=sentences,
            text=body[start:end],
            start=start,
            end=end,
            ordinal=row,
        )

    def fields(self) -> Iterator[tuple[str, str, str | None, str]]:
        """(id, doc id, section, text) of every passage, without making the passages."""
        c = self.columns
        doc_ids = [d.id for d in self.documents]
        bodies = [d.body for d in self.documents]
        rows = zip(c.doc.tolist(), c.section.tolist(), c.start.tolist(), c.end.tolist(), strict=True)
        for passage_id, (doc, section, start, end) in zip(c.ids, rows, strict=True):
            yield passage_id, doc_ids[doc], c.sections[section] if section >= 0 else None, bodies[doc][start:end]


def passage_fields(passages: Sequence[Passage]) -> Iterator[tuple[str, str, str | None, str]]:
    """(id, doc id, section, text) of every passage; a PassageTable gives them without making its passages."""
    if isinstance(passages, PassageTable):
        return passages.fields()
    return ((p.id, p.doc_id, p.section, p.text) for p in passages)


class UnitTable(_Lazy[T]):
    """The retriever's units, each made from its passage (a sentence, or a caption whole) when first asked for:
    make(unit row, passage row, passage, position among the passage's units)."""

    def __init__(
        self,
        passages: Sequence[Passage],
        passage_rows: np.ndarray,
        first_units: np.ndarray,
        make: Callable[[int, int, Passage, int], T],
    ) -> None:
        super().__init__(len(passage_rows))
        self._passages = passages
        self._passage_rows = passage_rows
        self._first = first_units
        self._unit = make

    def _make(self, row: int) -> T:
        passage_row = int(self._passage_rows[row])
        return self._unit(row, passage_row, self._passages[passage_row], row - int(self._first[passage_row]))


class TermRows(_Lazy[frozenset[str]]):
    """The distinct terms of each row of an index, from its rows' columns (CSR) and the terms by column."""

    def __init__(self, names: Sequence[str], indptr: np.ndarray, columns: np.ndarray) -> None:
        super().__init__(len(indptr) - 1)
        self._names = names
        self._indptr = indptr
        self._columns = columns

    @classmethod
    def of_index(cls, index: TfidfIndex) -> TermRows:
        """The terms of each row of a built index, read from its arrays when asked for (no text analysed again)."""
        indptr, columns = row_columns(index)
        return cls(list(index.vocabulary), indptr, columns)

    def columns(self) -> tuple[np.ndarray, np.ndarray]:
        """(indptr, columns): each row's columns, as row_columns gives them."""
        return self._indptr, self._columns

    def _make(self, row: int) -> frozenset[str]:
        names = self._names
        start, stop = int(self._indptr[row]), int(self._indptr[row + 1])
        return frozenset([names[j] for j in self._columns[start:stop].tolist()])


def row_columns(index: TfidfIndex) -> tuple[np.ndarray, np.ndarray]:
    """(indptr, columns) of each row of an index (CSR, columns ascending in a row), from its CSC arrays."""
    scorer = index.scorer
    indptr, rows = np.asarray(scorer.indptr), np.asarray(scorer.indices)
    columns = np.repeat(np.arange(indptr.shape[0] - 1, dtype=np.int32), np.diff(indptr))
    order = np.argsort(rows, kind="stable")
    counts = np.bincount(rows, minlength=index.n_rows)
    return np.concatenate(([0], np.cumsum(counts))).astype(np.int64), columns[order]


@dataclass(frozen=True, slots=True)
class Catalogue:
    """A knowledge base's lookups over all its passages, made once (or read from a saved set)."""

    rows: Mapping[str, int]  # passage id -> its row
    cited: tuple[Pinpoint, ...]  # every article some sentence cites, in Pinpoint.order
    claims: Mapping[str, Sequence[tuple[int, int]]]  # article number -> (passage row, sentence) of claims citing it
    passage_counts: Mapping[str, int]  # document id -> its passages
    sentences: int  # claims (sentences that are not citations)
    cited_sentences: int  # claims resting on a reference

    @classmethod
    def of(cls, passages: Sequence[Passage]) -> Catalogue:
        pairs = {pair for passage in passages for s in passage.sentences for pair in s.articles}
        claims: dict[str, list[tuple[int, int]]] = {}
        counts: dict[str, int] = {}
        sentences = cited = 0
        for row, passage in enumerate(passages):
            counts[passage.doc_id] = counts.get(passage.doc_id, 0) + 1
            for index, sentence in enumerate(passage.sentences):
                if sentence.is_citation:
                    continue
                sentences += 1
                cited += bool(sentence.references)
                for number in dict.fromkeys(n for _, n in sentence.articles):
                    claims.setdefault(number, []).append((row, index))
        return cls(
            {passage.id: row for row, passage in enumerate(passages)},
            tuple(sorted(pairs, key=Pinpoint.order)),
            claims,
            counts,
            sentences,
            cited,
        )

    def to_tables(self) -> dict[str, Any]:
        """The catalogue as saved tables (the rows and counts are made again from the passage columns)."""
        numbers = list(self.claims)
        places = [place for number in numbers for place in self.claims[number]]
        return {
            "cited": [list(pair) for pair in self.cited],
            "claim_numbers": numbers,
            "claim_indptr": np.cumsum([0, *(len(self.claims[n]) for n in numbers)], dtype=np.int64),
            "claim_places": np.array(places, np.int32).reshape(len(places), 2),
            "sentence_counts": [self.sentences, self.cited_sentences],
        }
