"""What the retriever indexes: the rows' texts of a set of passages, and the three TF-IDF indexes built from them.

Apart from retrieval.py so that a build in a child process (knowledge.build) indexes the texts it is given
without making a Retriever.

A build reads each unit's text once: its tokens become word ids (one regex call and one dict lookup per token, both
in C), each distinct word is analysed once, and the three indexes and the units' word counts are worked out from the
ids with numpy. A passage's row, its claims joined, is made of its claims' ids, not read again. The rows' terms
are what Analyzer gives each text, and the character n-grams what features.char_grams gives its words (tested).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from .chunking import Passage, Sentence
from .features import CHAR_GRAM, char_grams
from .index import TfidfIndex
from .text import ASCII_TOKEN_PATTERN, TOKEN_PATTERN, Analyzer, normalize

INDEX_NAMES = ("units", "passages", "chars")
ID_CHUNK = 1 << 22  # word ids gathered in a Python list before moving to numpy
MAX_GRAM_WORD = 40  # features.char_grams leaves longer words out


def answerable(passage: Passage) -> tuple[Sentence, ...]:
    """The units a passage can answer with: its sentences, or a caption whole (its lines say one thing)."""
    if passage.kind == "caption":
        return (Sentence(passage.text, passage.start, passage.end, False, ()),)
    return passage.sentences


def index_texts(passages: Sequence[Passage]) -> tuple[list[str], list[str]]:
    """The texts of the units' rows and of the passages' rows (passages by their claims only: citation
    sentences are provenance, not content)."""
    units = [sentence.text for passage in passages for sentence in answerable(passage)]
    return units, [" ".join(s.text for s in p.claims) or p.text for p in passages]


def passage_units(passages: Sequence[Passage]) -> list[tuple[int, ...]]:
    """Per passage, the units' rows whose texts, joined by spaces, are its row's text (index_texts): its claims;
    none for a caption (one unit, the caption whole, while its row joins its lines) or a passage without claims."""
    found: list[tuple[int, ...]] = []
    first = 0
    for passage in passages:
        units = answerable(passage)
        claims = () if passage.kind == "caption" else (first + i for i, s in enumerate(units) if not s.is_citation)
        found.append(tuple(claims))
        first += len(units)
    return found


class Indexed(NamedTuple):
    """What build_indexes makes: the indexes, and each word of the units' texts with how often it occurs."""

    indexes: dict[str, TfidfIndex]
    word_counts: dict[str, int]  # in the order of the words' first occurrence


class _Tokens(NamedTuple):
    """Texts as word ids: every token's word id, text after text, and where each text's ids start."""

    ids: np.ndarray  # int32
    starts: np.ndarray  # int64, one more than the texts


def _read(texts: Sequence[str], seen: dict[str, int]) -> _Tokens:
    """The texts' tokens (Analyzer's) as word ids; seen gives a new word the next id (a defaultdict)."""
    lookup = seen.__getitem__
    parts: list[np.ndarray] = []
    chunk: list[int] = []
    starts = [0]
    read = 0  # tokens in the parts
    for text in texts:
        normalized = normalize(text)
        pattern = ASCII_TOKEN_PATTERN if normalized.isascii() else TOKEN_PATTERN
        chunk += map(lookup, pattern.findall(normalized))  # list.extend over map: a C loop
        starts.append(read + len(chunk))
        if len(chunk) >= ID_CHUNK:
            parts.append(np.array(chunk, np.int32))
            read += len(chunk)
            chunk = []
    parts.append(np.array(chunk, np.int32))
    return _Tokens(np.concatenate(parts), np.array(starts, np.int64))


def _spread(
    starts: np.ndarray, sizes: np.ndarray, values: np.ndarray, keys: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """values[starts[k]:starts[k] + sizes[k]] for each key k in turn, one after another, and the position in keys
    of each value's key."""
    counts = sizes[keys]
    owner = np.repeat(np.arange(keys.shape[0], dtype=np.int64), counts)
    offsets = np.arange(owner.shape[0], dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    return values[np.repeat(starts[keys], counts) + offsets], owner


def build_indexes(
    unit_texts: Sequence[str],
    passage_texts: Sequence[str],
    analyzer: Analyzer,
    passage_claims: Sequence[Sequence[int]] = (),
    *,
    chars: bool = True,
) -> Indexed:
    """The indexes a Retriever is built with (INDEX_NAMES; chars False: the character n-grams' left to char_index),
    and the units' word counts (the speller's).

    passage_claims (passage_units): per passage, the units whose texts joined are its text, so that it is not
    read again; a passage whose text is not theirs, or none given, is read on its own. By a copy of analyzer,
    whose memos of every token of the sources go when the build is done (not kept by the knowledge base's).
    """
    analyzer = Analyzer(analyzer.synonyms, analyzer.stopwords)
    seen = _word_ids()
    units = _read(unit_texts, seen)
    unit_words = len(seen)
    # Each passage's row as pieces of text already read: its claims (units), or its own text (read here).
    pieces = [
        _claims_of(text, unit_texts, passage_claims[p] if passage_claims else ())
        for p, text in enumerate(passage_texts)
    ]
    alone = [p for p, found in enumerate(pieces) if not found]
    own = _read([passage_texts[p] for p in alone], seen)
    for number, p in enumerate(alone):
        pieces[p] = [len(unit_texts) + number]
    texts = _Tokens(
        np.concatenate([units.ids, own.ids]), np.concatenate([units.starts[:-1], own.starts + units.ids.shape[0]])
    )
    piece_rows = np.repeat(np.arange(len(pieces), dtype=np.int64), [len(found) for found in pieces])
    keys = np.array([u for found in pieces for u in found], np.int64)
    ids, owner = _spread(texts.starts[:-1], np.diff(texts.starts), texts.ids, keys)
    passages = _Tokens(ids, np.concatenate(([0], np.cumsum(np.bincount(piece_rows[owner], minlength=len(pieces))))))
    words = list(seen)
    terms, stems = analyzer.word_terms(words)
    term_ids = _TermIds(terms)
    indexes = {
        "units": _index(analyzer, units, unit_texts, term_ids, stems),
        "passages": _index(analyzer, passages, passage_texts, term_ids, stems),
    }
    if chars:
        indexes["chars"] = _char_index(units, words[:unit_words], analyzer.stopwords)
    return Indexed(indexes, _counts(units, words[:unit_words]))


def char_index(unit_texts: Sequence[str], stopwords: frozenset[str]) -> Indexed:
    """The character n-grams' index of the units alone and their word counts, as build_indexes makes them: for
    a second core, while the other two indexes are built (knowledge.units)."""
    seen = _word_ids()
    units = _read(unit_texts, seen)
    words = list(seen)
    return Indexed({"chars": _char_index(units, words, stopwords)}, _counts(units, words))


def count_words(texts: Sequence[str]) -> dict[str, int]:
    """Each word of texts (Analyzer's tokens) with how often it occurs, in the order of first occurrence."""
    seen = _word_ids()
    return _counts(_read(texts, seen), list(seen))


def _word_ids() -> defaultdict[str, int]:
    seen: defaultdict[str, int] = defaultdict()
    seen.default_factory = seen.__len__  # a new word gets the next id
    return seen


def _counts(tokens: _Tokens, words: list[str]) -> dict[str, int]:
    return dict(zip(words, np.bincount(tokens.ids, minlength=len(words)).tolist(), strict=True))


def _claims_of(text: str, unit_texts: Sequence[str], claims: Sequence[int]) -> list[int]:
    """claims, when their texts joined are the passage's text and read as it is; else none."""
    if not claims or " ".join([unit_texts[u] for u in claims]) != text:
        return []
    # No token spans the space between two claims, and normalising ASCII is lowering each character; other text
    # is checked (NFKC could join characters across the space).
    if not text.isascii() and normalize(text) != " ".join([normalize(unit_texts[u]) for u in claims]):
        return []
    return list(claims)


class _TermIds:
    """Ids of the terms of every index built from one set of words: each word's term's, and extra terms'."""

    def __init__(self, terms: list[str]) -> None:
        self.ids: dict[str, int] = {}
        self.of_words = np.array([self.ids.setdefault(t, len(self.ids)) if t else -1 for t in terms], np.int32)

    def of(self, terms: list[str]) -> list[int]:
        return [self.ids.setdefault(t, len(self.ids)) for t in terms]


def _index(analyzer: Analyzer, tokens: _Tokens, texts: Sequence[str], terms: _TermIds, stems: list[str]) -> TfidfIndex:
    """The index of texts read as tokens, each word's term and stem given: what TfidfIndex.build(texts, analyzer)
    makes, as the same terms are counted (in another order within a row)."""
    token_rows = np.repeat(np.arange(len(texts), dtype=np.int32), np.diff(tokens.starts))
    columns = terms.of_words[tokens.ids]
    kept = columns >= 0
    extra_columns: list[int] = []
    extra_rows: list[int] = []
    phrase_rows = _phrase_rows(analyzer, stems, tokens.ids, token_rows)
    for row, text in enumerate(texts):
        # An ASCII text normalises to its lower case: without "art" in it, it names no article.
        extra = analyzer.article_terms(normalize(text)) if "art" in text.lower() or not text.isascii() else []
        if row in phrase_rows:
            words = tokens.ids[tokens.starts[row] : tokens.starts[row + 1]].tolist()
            extra += analyzer.concept_terms(list(filter(None, map(stems.__getitem__, words))))
        extra_columns += terms.of(extra)
        extra_rows += [row] * len(extra)
    columns = np.concatenate([columns[kept], np.array(extra_columns, np.int32)])
    rows = np.concatenate([token_rows[kept], np.array(extra_rows, np.int32)])
    # This index's terms only, numbered in the order of their ids (from_postings ranks them).
    held = np.zeros(len(terms.ids), bool)
    held[columns] = True
    names = list(terms.ids)
    local = (np.cumsum(held, dtype=np.int32) - 1)[columns]
    return TfidfIndex.from_postings(local, rows, len(texts), [names[i] for i in np.flatnonzero(held).tolist()])


def _phrase_rows(analyzer: Analyzer, stems: list[str], ids: np.ndarray, rows: np.ndarray) -> set[int]:
    """The rows holding the first word of a glossary phrase: the only ones concept_terms can find one in."""
    starts = analyzer.synonyms.starts
    if not starts:
        return set()
    first = np.array([bool(s) and s in starts for s in stems], bool)
    return set(np.unique(rows[first[ids]]).tolist())


def _char_index(units: _Tokens, words: list[str], stopwords: frozenset[str]) -> TfidfIndex:
    """The character n-grams' index of the units: each token's grams (features.char_grams), each word's made once.
    words: the units' words by id (each in some unit)."""
    starts, sizes, found, grams = _word_grams(words, stopwords)
    columns, owner = _spread(starts, sizes, found, units.ids.astype(np.int64))
    n_rows = units.starts.shape[0] - 1
    rows = np.repeat(np.arange(n_rows, dtype=np.int32), np.diff(units.starts))[owner]
    return TfidfIndex.from_postings(columns, rows, n_rows, grams)


def _word_grams(words: list[str], stopwords: frozenset[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """features.char_grams([word]) of each word as (start, size) in an array of gram ids, and the grams by id.

    The ASCII words' grams are made at once, as 4-byte codes in a matrix of the words' letters, and numbered by
    np.unique; features.char_grams makes the others'. The rule is char_grams' (tests/knowledge/test_build_speed.py
    checks the index against it): a word not a stopword and at most MAX_GRAM_WORD letters long, padded with a
    space at each end, gives each CHAR_GRAM letters of it in turn (at least one gram).
    """
    n = len(words)
    starts, sizes = np.zeros(n, np.int64), np.zeros(n, np.int64)
    plain = [i for i, w in enumerate(words) if w.isascii() and w not in stopwords and len(w) <= MAX_GRAM_WORD]
    if CHAR_GRAM > 4:  # a gram's letters no longer fit the 4 bytes of a uint32 code: char_grams makes them all
        plain = []
    grams: list[str] = []
    found = np.zeros(0, np.int32)
    if plain:
        padded = np.array([f" {words[i]} " for i in plain], "S")
        width = padded.dtype.itemsize
        letters = np.zeros((len(plain), width + CHAR_GRAM - 1), np.uint32)
        letters[:, :width] = padded.view(np.uint8).reshape(len(plain), width)
        codes = np.zeros((len(plain), width), np.uint32)
        for k in range(CHAR_GRAM):  # big-endian: the codes sort as the grams do, and a short gram ends in NULs
            codes |= letters[:, k : k + width] << np.uint32(8 * (CHAR_GRAM - 1 - k))
        count = np.maximum(np.char.str_len(padded) - CHAR_GRAM + 1, 1)
        flat = codes[np.arange(width) < count[:, None]]
        distinct = np.unique(flat)  # a sort, then a binary search: faster than np.unique's inverse (an argsort)
        found = np.searchsorted(distinct, flat)
        grams = distinct.astype(">u4").view(f"S{CHAR_GRAM}").astype(f"U{CHAR_GRAM}").tolist()
        sizes[plain] = count
        starts[plain] = np.cumsum(count) - count
    ids = dict(zip(grams, range(len(grams)), strict=True))
    rest: list[int] = []
    others = np.ones(n, bool)
    others[plain] = False
    for i in np.flatnonzero(others).tolist():
        of_word = char_grams([words[i]], stopwords)
        starts[i], sizes[i] = found.shape[0] + len(rest), len(of_word)
        rest += [ids.setdefault(gram, len(ids)) for gram in of_word]
    return starts, sizes, np.concatenate([found.astype(np.int32), np.array(rest, np.int32)]), list(ids)
