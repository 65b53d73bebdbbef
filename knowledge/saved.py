"""A knowledge base as its saved set holds it, and a start from that set without reading or chunking the sources.

The set holds, beside the three indexes: the documents (their bodies are cut from the source files' bytes, which
a start reads anyway to hash them), the passages and sentences as offsets into the bodies, the units' passages,
kinds and facts (the arrays the scorer reads), each row's terms, the proper names, the speller's words, counts
and delete table, which claims cite which article, and the knowledge base's catalogue. Every value is checked on
load (knowledge.integrity.check_tables): a damaged or forged table is refused, never trusted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .articles import ArticleIndex, CitingRows
from .chunking import Passage
from .citations import Pinpoint, Reference
from .documents import Block, Document, read_source, source_paths, source_text
from .fingerprints import source_key
from .glossary import GlossaryFile
from .index import TfidfIndex
from .indexing import answerable
from .integrity import IntegrityError, check_tables
from .resolved import saved_data
from .spelling import DeleteTable, Speller
from .tables import (
    CITATION_FLAG,
    DIRECT_FLAG,
    PASSAGE_KINDS,
    Catalogue,
    PassageColumns,
    PassageTable,
    TermRows,
    UnitTable,
    row_columns,
)
from .text import Analyzer
from .units import FACT_SETS, KIND_NAMES, RetrieverTables, Unit, heading_terms

if TYPE_CHECKING:
    from .base import KnowledgeBase

BLOCK_KINDS = ("text", "caption")
Files = list[tuple[Path, bytes]]


def read_files(directory: Path) -> Files:
    """The source files of directory and their bytes, in load order (SourceError as loading says it)."""
    return [(path, read_source(path)) for path in source_paths(directory)]


def files_key(files: Files, glossary: GlossaryFile) -> dict[str, Any]:
    """The key (fingerprints.source_key) of source files read by read_files."""
    return source_key([(path.name, hashlib.sha256(raw).hexdigest()) for path, raw in files], glossary)


def tables_of(knowledge: KnowledgeBase) -> dict[str, Any]:
    """What a start needs beyond the indexes, as tables; ValueError if a source file changed since it was read."""
    tables = _source_tables(knowledge)
    examples = saved_data(knowledge.retriever.examples)
    if examples is not None:  # kept with the key they were resolved for: a start checks it (knowledge.resolved)
        tables["examples"] = examples
    return tables


def _source_tables(knowledge: KnowledgeBase) -> dict[str, Any]:
    documents = knowledge.documents
    sections: dict[str, int] = {}
    references: dict[Reference, int] = {}
    tables: dict[str, Any] = {"documents": [_document_entry(d) for d in documents]}
    blocks = [block for document in documents for block in document.blocks]
    tables |= {
        "block_indptr": np.cumsum([0, *(len(d.blocks) for d in documents)], dtype=np.int64),
        "block_start": np.array([b.start for b in blocks], np.int64),
        "block_length": np.array([len(b.text) for b in blocks], np.int64),
        "block_section": np.array([_number(sections, b.section) for b in blocks], np.int32),
        "block_kind": np.array([BLOCK_KINDS.index(b.kind) for b in blocks], np.int8),
    }
    passages = knowledge.passages
    position = {d.id: n for n, d in enumerate(documents)}
    sentences = [s for p in passages for s in p.sentences]
    tables |= {
        "passage_ids": [p.id for p in passages],
        "passage_doc": np.array([position[p.doc_id] for p in passages], np.int32),
        "passage_section": np.array([_number(sections, p.section) for p in passages], np.int32),
        "passage_kind": np.array([PASSAGE_KINDS.index(p.kind) for p in passages], np.int8),
        "passage_start": np.array([p.start for p in passages], np.int64),
        "passage_end": np.array([p.end for p in passages], np.int64),
        "sentence_indptr": np.cumsum([0, *(len(p.sentences) for p in passages)], dtype=np.int64),
        "sentence_start": np.array([s.start for s in sentences], np.int64),
        "sentence_end": np.array([s.end for s in sentences], np.int64),
        "sentence_flags": np.array(
            [CITATION_FLAG * s.is_citation + DIRECT_FLAG * s.cited_directly for s in sentences], np.uint8
        ),
        "reference_indptr": np.cumsum([0, *(len(s.references) for s in sentences)], dtype=np.int64),
        "reference_ids": np.array([_number(references, r) for s in sentences for r in s.references], np.int32),
        "sections": list(sections),
        "references": [[r.label, r.instrument, list(r.articles)] for r in references],
    }
    bodies = {d.id: d.body for d in documents}
    for row, passage in enumerate(passages):
        body = bodies[passage.doc_id]
        if passage.ordinal != row or passage.text != body[passage.start : passage.end]:
            raise ValueError(f"passage {passage.id!r} is not a slice of its document's body")
        if any(s.text != body[s.start : s.end] for s in passage.sentences):
            raise ValueError(f"a sentence of passage {passage.id!r} is not a slice of its document's body")
    return tables | _retriever_tables(knowledge) | knowledge.catalogue.to_tables()


def _retriever_tables(knowledge: KnowledgeBase) -> dict[str, Any]:
    r = knowledge.retriever
    speller = r.speller
    table = speller.table()
    citations = r.citations
    pairs = list(citations.pairs)
    return {
        "unit_passage": r.sentences.passage,
        "unit_kind": r.sentences.kind,
        "unit_facts": r.sentences.facts,
        **_row_columns("unit_terms", r.unit_index, r.unit_terms),
        **_row_columns("passage_terms", r.passage_index, r.passage_terms),
        "entities": sorted(r.entities),
        "speller_words": list(speller.counts),
        "speller_counts": np.array(list(speller.counts.values()), np.int64),
        "speller_keys": table.keys,
        "speller_ids": table.ids,
        "citation_pairs": [list(pair) for pair in pairs],
        "citation_indptr": np.cumsum([0, *(len(citations.pairs[p].rows) for p in pairs)], dtype=np.int64),
        "citation_rows": np.concatenate([np.zeros(0, np.int32), *(citations.pairs[p].rows for p in pairs)]),
        "citation_counts": np.concatenate([np.zeros(0, np.int32), *(citations.pairs[p].counts for p in pairs)]),
        "citation_direct": citations.cited_directly.astype(np.uint8),
        "citation_count": citations.count,
    }


def _row_columns(name: str, index: TfidfIndex, terms: Sequence[frozenset[str]]) -> dict[str, np.ndarray]:
    """The columns of each row of an index (CSR, columns ascending in a row): its row terms' when they are kept
    so (TermRows, made from the same index), else from its CSC arrays."""
    indptr, columns = terms.columns() if isinstance(terms, TermRows) else row_columns(index)
    return {f"{name}_indptr": indptr, f"{name}": columns}


def _document_entry(document: Document) -> dict[str, Any]:
    raw = read_source(document.path)
    if hashlib.sha256(raw).hexdigest() != document.file_sha256:
        raise ValueError(f"{document.path.name} changed since it was read")
    text = source_text(raw)
    if not text.endswith(document.body):
        raise ValueError(f"{document.path.name}: the body is not the end of the file")
    return {
        "id": document.id,
        "title": document.title,
        "name": document.path.name,
        "sha256": document.sha256,
        "file_sha256": document.file_sha256,
        "publisher": document.publisher,
        "url": document.url,
        "date": document.date,
        "body_at": len(text) - len(document.body),
    }


def _number(numbers: dict[Any, int], value: Any) -> int:
    if value is None:
        return -1
    return numbers.setdefault(value, len(numbers))


class Restored:
    """A knowledge base's parts read back from its saved set: what KnowledgeBase.assemble takes."""

    def __init__(
        self,
        directory: Path,
        glossary: GlossaryFile,
        files: Files,
        tables: Mapping[str, Any],
        indexes: Mapping[str, TfidfIndex],
    ) -> None:
        """Raise IntegrityError (a ValueError) when the tables do not fit the files, the indexes or themselves."""
        try:
            check_tables(tables, {name: index.n_rows for name, index in indexes.items()}, _vocabularies(indexes))
            self.documents = _documents(directory, files, tables)
            columns = _columns(tables)
            _check_spans(self.documents, columns)
            self.passages = PassageTable(self.documents, columns)
            self.retriever = _retriever(self.passages, columns, tables, indexes, Analyzer(glossary.synonyms))
            self.catalogue = _catalogue(self.documents, columns, tables)
            self.examples = tables.get("examples")  # checked when the examples are loaded (knowledge.resolved)
        except (AttributeError, KeyError, TypeError, IndexError) as error:
            raise IntegrityError(f"a table is missing or malformed ({type(error).__name__}: {error})") from None


def _vocabularies(indexes: Mapping[str, TfidfIndex]) -> dict[str, int]:
    return {name: len(index.vocabulary) for name, index in indexes.items()}


def _documents(directory: Path, files: Files, tables: Mapping[str, Any]) -> tuple[Document, ...]:
    entries = tables["documents"]
    if not isinstance(entries, list) or len(entries) != len(files):
        raise IntegrityError("the saved documents are not the source files")
    sections = tables["sections"]
    indptr = tables["block_indptr"].tolist()
    starts, lengths = tables["block_start"].tolist(), tables["block_length"].tolist()
    kinds, in_section = tables["block_kind"].tolist(), tables["block_section"].tolist()
    documents = []
    for number, (entry, (path, raw)) in enumerate(zip(entries, files, strict=True)):
        if entry["name"] != path.name or not isinstance(entry["body_at"], int) or entry["body_at"] < 0:
            raise IntegrityError(f"the saved documents are not the source files ({path.name})")
        body = source_text(raw)[entry["body_at"] :]
        if hashlib.sha256(body.encode("utf-8")).hexdigest() != entry["sha256"]:
            raise IntegrityError(f"the saved body of {path.name} does not match its file")
        blocks = []
        for b in range(indptr[number], indptr[number + 1]):
            start, section = starts[b], in_section[b]
            if start + lengths[b] > len(body):
                raise IntegrityError(f"a block of {path.name} runs past its body")
            text = body[start : start + lengths[b]]
            blocks.append(Block(text, start, sections[section] if section >= 0 else None, BLOCK_KINDS[kinds[b]]))
        documents.append(
            Document(
                id=entry["id"],
                title=entry["title"],
                body=body,
                path=directory / path.name,
                sha256=entry["sha256"],
                publisher=entry["publisher"],
                url=entry["url"],
                date=entry["date"],
                blocks=tuple(blocks),
                file_sha256=entry["file_sha256"],
            )
        )
    return tuple(documents)


def _columns(tables: Mapping[str, Any]) -> PassageColumns:
    references = tuple(
        Reference(label, instrument, tuple(articles)) for label, instrument, articles in tables["references"]
    )
    return PassageColumns(
        ids=tables["passage_ids"],
        doc=tables["passage_doc"],
        section=tables["passage_section"],
        kind=tables["passage_kind"],
        start=tables["passage_start"],
        end=tables["passage_end"],
        sentences=tables["sentence_indptr"],
        sentence_start=tables["sentence_start"],
        sentence_end=tables["sentence_end"],
        sentence_flags=tables["sentence_flags"],
        references=tables["reference_indptr"],
        reference_ids=tables["reference_ids"],
        sections=tables["sections"],
        reference_table=references,
    )


def _check_spans(documents: Sequence[Document], columns: PassageColumns) -> None:
    """Every passage and sentence lies within its document's body (the lengths only the documents know)."""
    lengths = np.array([len(d.body) for d in documents], np.int64)
    if columns.end.shape[0] and np.any(columns.end > lengths[columns.doc]):
        raise IntegrityError("a passage runs past its document's body")
    per_sentence = np.repeat(columns.end, np.diff(columns.sentences))
    if np.any(columns.sentence_end > per_sentence):
        raise IntegrityError("a sentence runs past its passage")


def _retriever(
    passages: PassageTable,
    columns: PassageColumns,
    tables: Mapping[str, Any],
    indexes: Mapping[str, TfidfIndex],
    analyzer: Analyzer,
) -> RetrieverTables:
    # Copied out of the memory map (a few MB): the compiled scorer then sees writable arrays, as after a fresh
    # build, and needs no second compilation for read-only ones.
    passage_rows, kinds, facts = (np.array(tables[name]) for name in ("unit_passage", "unit_kind", "unit_facts"))
    counts = np.where(columns.kind == PASSAGE_KINDS.index("caption"), 1, np.diff(columns.sentences))
    first = np.concatenate(([0], np.cumsum(counts)))

    def unit(row: int, passage_row: int, passage: Passage, index: int) -> Unit:
        return Unit(passage_row, answerable(passage)[index], KIND_NAMES[kinds[row]], FACT_SETS[facts[row]])

    words = tables["speller_words"]
    counted = dict(zip(words, tables["speller_counts"].tolist(), strict=True))
    pairs = [Pinpoint(instrument, number) for instrument, number in tables["citation_pairs"]]
    bounds = tables["citation_indptr"].tolist()
    citing_rows, citing_counts = tables["citation_rows"], tables["citation_counts"]
    sections = columns.sections
    return RetrieverTables(
        units=UnitTable(passages, passage_rows, first, unit),
        unit_terms=TermRows(list(indexes["units"].vocabulary), tables["unit_terms_indptr"], tables["unit_terms"]),
        passage_terms=TermRows(
            list(indexes["passages"].vocabulary), tables["passage_terms_indptr"], tables["passage_terms"]
        ),
        passage_rows=passage_rows,
        kinds=kinds,
        facts=facts,
        entities=frozenset(tables["entities"]),
        speller=Speller(counted, [DeleteTable(words, tables["speller_keys"], tables["speller_ids"])]),
        citations=ArticleIndex(
            {
                pair: CitingRows(citing_rows[bounds[n] : bounds[n + 1]], citing_counts[bounds[n] : bounds[n + 1]])
                for n, pair in enumerate(pairs)
            },
            tables["citation_direct"].astype(bool),
            tables["citation_count"],
        ),
        heading_terms=heading_terms([sections[n] if n >= 0 else None for n in columns.section.tolist()], analyzer),
    )


def _catalogue(documents: Sequence[Document], columns: PassageColumns, tables: Mapping[str, Any]) -> Catalogue:
    numbers = tables["claim_numbers"]
    bounds = tables["claim_indptr"].tolist()
    places = tables["claim_places"]
    counts = np.bincount(columns.doc, minlength=len(documents)).tolist()
    sentences, cited_sentences = tables["sentence_counts"]
    return Catalogue(
        rows=dict(zip(columns.ids, range(len(columns.ids)), strict=True)),
        cited=tuple(Pinpoint(instrument, number) for instrument, number in tables["cited"]),
        claims={number: places[bounds[n] : bounds[n + 1]] for n, number in enumerate(numbers)},
        passage_counts={d.id: count for d, count in zip(documents, counts, strict=True) if count},
        sentences=sentences,
        cited_sentences=cited_sentences,
    )
