"""The retriever's units (the sentences that can answer) and the tables it computes from the passages: each unit's
kind, facts and terms, the proper names of the sources, the speller's words, which claims cite which article.

Computed here when a knowledge base is built from its sources; read from the saved set when it starts from one
(knowledge.saved), so that Retriever.build takes them either way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .articles import ArticleIndex
from .chunking import Passage, Sentence
from .facts import facts_of, proper_names
from .forked import Forked
from .glossary import GlossaryFile
from .index import TfidfIndex
from .indexing import answerable, build_indexes, char_index, count_words, index_texts, passage_units
from .language import Language
from .question import WANTS_ARTICLE, WANTS_DATE, WANTS_DEFINITION, WANTS_NAME, WANTS_NUMBER, WANTS_PERSON
from .spelling import Speller
from .tables import TermRows
from .text import Analyzer

# Unit kinds and facts as small integers, in arrays over all units: a question's candidates are scored at once.
KIND_CODES = {"claim": 0, "citation": 1, "caption": 2}
KIND_NAMES = tuple(KIND_CODES)
FORK_UNITS = 10_000  # from this many units, a build works out their facts and names in a forked copy of itself
FACT_BITS = {
    want: 1 << bit
    for bit, want in enumerate((WANTS_DATE, WANTS_NUMBER, WANTS_ARTICLE, WANTS_PERSON, WANTS_DEFINITION, WANTS_NAME))
}
FACT_SETS = tuple(
    frozenset(want for want, bit in FACT_BITS.items() if bits & bit) for bits in range(1 << len(FACT_BITS))
)  # a unit's facts by its bit set


@dataclass(frozen=True, slots=True)
class Unit:
    """A sentence that can answer: a claim, a citation sentence or a caption line."""

    passage_row: int
    sentence: Sentence
    kind: str  # "claim", "citation" or "caption"
    facts: frozenset[str] = frozenset()  # the kinds of fact it carries (WANTS_*): worked out once, at build


@dataclass(frozen=True, slots=True)
class RetrieverTables:
    """What Retriever.build needs beyond the passages and the indexes, worked out from the passages."""

    units: Sequence[Unit]
    unit_terms: Sequence[frozenset[str]]
    passage_terms: Sequence[frozenset[str]]
    passage_rows: np.ndarray  # int32 per unit: its passage's row
    kinds: np.ndarray  # int8 per unit: KIND_CODES
    facts: np.ndarray  # int32 per unit: FACT_BITS
    entities: frozenset[str]  # stems of proper names in the sources ("lisbon"), glossary terms aside
    speller: Speller
    citations: ArticleIndex
    heading_terms: Sequence[frozenset[str]]  # per passage: the terms of its section heading


def compute_tables(
    passages: Sequence[Passage],
    glossary: GlossaryFile,
    indexes: Mapping[str, TfidfIndex] | None,
    analyzer: Analyzer,
    language: Language,
    person_name: re.Pattern[str],
) -> tuple[Mapping[str, TfidfIndex], RetrieverTables]:
    """The indexes (indexes, or built here when None) and the tables of the passages."""
    found = [
        (row, sentence, unit_kind(passage, sentence))
        for row, passage in enumerate(passages)
        for sentence in answerable(passage)
    ]
    texts = [sentence.text for _, sentence, _ in found]
    kinds = [kind for _, _, kind in found]
    cites = [bool(sentence.articles) for _, sentence, _ in found]
    known = glossary.synonyms.vocabulary | language.not_names
    # Titles in citation sentences are capitalised throughout: only claims tell names apart.
    claims = [text for text, kind in zip(texts, kinds, strict=True) if kind == "claim"]
    unit_texts, passage_texts = index_texts(passages)
    glossary_words = [w for w in glossary.synonyms.vocabulary if len(w) >= 5]
    # The facts and names read every sentence, as the indexes do: a large build works them out on a second core,
    # with the character n-grams' index and the speller when it builds the indexes (they need only the units).
    fork = len(texts) >= FORK_UNITS and Forked.possible() and Forked.spare_core()
    split = fork and indexes is None
    other = (unit_texts, analyzer.stopwords, glossary_words) if split else None
    with Forked(_sentence_tables, texts, kinds, cites, person_name, claims, known, other, fork=fork) as work:
        if indexes is None:
            built = build_indexes(unit_texts, passage_texts, analyzer, passage_units(passages), chars=not split)
            indexes, word_counts = dict(built.indexes), built.word_counts
        else:  # built in a child process, from the same texts
            word_counts = count_words(unit_texts)
        facts, entities, more = work.result()
    if more is None:
        speller = Speller.from_counts(word_counts, glossary_words)
    else:
        chars, speller = more
        indexes = {**indexes, "chars": _unpacked(chars)}
    units = tuple(Unit(row, sentence, kind, fact) for (row, sentence, kind), fact in zip(found, facts, strict=True))
    tables = RetrieverTables(
        units=units,
        # Made from the indexes' arrays when asked for: as a start from a saved set makes them.
        unit_terms=TermRows.of_index(indexes["units"]),
        passage_terms=TermRows.of_index(indexes["passages"]),
        passage_rows=np.array([u.passage_row for u in units], np.int32),
        kinds=np.array([KIND_CODES[u.kind] for u in units], np.int8),
        facts=np.array([sum(FACT_BITS[f] for f in u.facts) for u in units], np.int32),
        entities=entities,
        speller=speller,
        citations=ArticleIndex.build(units),
        heading_terms=heading_terms([p.section for p in passages], analyzer),
    )
    return indexes, tables


def _sentence_tables(
    texts: list[str],
    kinds: list[str],
    cites: list[bool],
    person_name: re.Pattern[str],
    claims: list[str],
    known: frozenset[str],
    units: tuple[list[str], frozenset[str], list[str]] | None,
) -> tuple[list[frozenset[str]], frozenset[str], tuple[Packed, Speller] | None]:
    """The facts of each sentence and the proper names of the claims (claims: their texts); with units (their
    texts, the stopwords and the glossary's words the speller knows), the character n-grams' index (as arrays,
    to send) and the speller, its delete table made."""
    more = None
    if units is not None:
        unit_texts, stopwords, glossary_words = units
        built = char_index(unit_texts, stopwords)
        speller = Speller.from_counts(built.word_counts, glossary_words)
        speller.table()
        more = (_packed(built.indexes["chars"]), speller)
    return facts_of(texts, kinds, cites, person_name), proper_names(claims, known), more


# A TfidfIndex as plain values, to send between processes (its scorer may hold compiled kernels): its rows,
# (indptr, indices, data), its terms by column, idf, sublinear_tf and col_max.
Packed = tuple[int, tuple[np.ndarray, np.ndarray, np.ndarray], list[str], np.ndarray, bool, np.ndarray]


def _packed(index: TfidfIndex) -> Packed:
    s = index.scorer
    return index.n_rows, (s.indptr, s.indices, s.data), list(index.vocabulary), index.idf, index.sublinear_tf, s.col_max


def _unpacked(packed: Packed) -> TfidfIndex:
    n_rows, csc, terms, idf, sublinear_tf, col_max = packed
    vocabulary = dict(zip(terms, range(len(terms)), strict=True))
    return TfidfIndex(n_rows, csc, vocabulary, idf, sublinear_tf, col_max=col_max)


def heading_terms(sections: Sequence[str | None], analyzer: Analyzer) -> tuple[frozenset[str], ...]:
    """Per passage, the terms of its section heading (each distinct heading analysed once)."""
    terms: dict[str | None, frozenset[str]] = {None: frozenset(), "": frozenset()}
    for section in sections:
        if section not in terms:
            terms[section] = frozenset(analyzer(section))
    return tuple([terms[section] for section in sections])


def unit_kind(passage: Passage, sentence: Sentence) -> str:
    if passage.kind == "caption":
        return "caption"
    return "citation" if sentence.is_citation else "claim"
