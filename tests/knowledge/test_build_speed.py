"""The build's fast paths give what the plain ones give: every text analysed on its own, its character n-grams
made from its words, the speller counting every word (knowledge/indexing.py)."""

from __future__ import annotations

import random
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from knowledge.base import read_sources
from knowledge.chunking import Sentence
from knowledge.facts import CAPITALISED_RUN, DEFINITION, facts_of, person_name_pattern, proper_names
from knowledge.features import char_grams
from knowledge.index import TfidfIndex
from knowledge.indexing import answerable, build_indexes, index_texts, passage_units
from knowledge.language import load_language
from knowledge.question import (
    WANTS_ARTICLE,
    WANTS_DATE,
    WANTS_DEFINITION,
    WANTS_NAME,
    WANTS_NUMBER,
    WANTS_PERSON,
    has_date,
    has_number,
)
from knowledge.spelling import Speller
from knowledge.tables import TermRows
from knowledge.text import ASCII_TOKEN_PATTERN, STOPWORDS, TOKEN_PATTERN, Analyzer, Synonyms, stem, words
from knowledge.units import KIND_CODES, unit_kind

ROOT = Path(__file__).resolve().parents[2]
FICTIONAL = ROOT / "tests" / "data" / "fictional" / "sources"
SYNONYMS = Synonyms.from_groups(
    [("iom", ["International Organization for Migration", "IOM"]), ("state", ["member states", "states parties"])]
)
# Claims whose joins hold what a text read on its own could read otherwise: an article list, a glossary phrase
# across the space between two claims; text that is not ASCII (NFKC ligatures, full-width letters, accents,
# quotes); chat spellings, apostrophes, numbers with separators, a run of letters too long to be a word.
TRICKY = [
    "IOM's Member",
    "States met under art. 5",
    "and 6 of the Agreement.",
    "The International Organization for",
    "Migration ﬁles reports in Genève.",
    "ＡＲＴ. 12 applies; see arts. 3–5 or article eight.",
    "wen did the 1,200.5 migrants' “rights” change? Not yet.",
    "x" * 41 + " lisbon_declaration a'b'c 3.14.15 ",
    "",
    "Straße ǅemal ﬃ İstanbul",
]


def assert_same_index(fast: TfidfIndex, plain: TfidfIndex) -> None:
    assert fast.vocabulary == plain.vocabulary and list(fast.vocabulary) == list(plain.vocabulary)
    assert fast.n_rows == plain.n_rows
    for name in ("indptr", "indices", "data", "col_max"):
        assert np.array_equal(getattr(fast.scorer, name), getattr(plain.scorer, name)), name
    assert fast.idf.tobytes() == plain.idf.tobytes()


def assert_builds_as_plain(unit_texts: list[str], passage_texts: list[str], claims: list[tuple[int, ...]]) -> None:
    analyzer = Analyzer(SYNONYMS)
    built = build_indexes(unit_texts, passage_texts, analyzer, claims)
    plain = Analyzer(SYNONYMS)
    for name, texts in (("units", unit_texts), ("passages", passage_texts)):
        terms = [plain(text) for text in texts]
        assert_same_index(built.indexes[name], TfidfIndex.from_terms(terms))
        assert tuple(TermRows.of_index(built.indexes[name])) == tuple(frozenset(t) for t in terms)
    grams = [char_grams(words(text), plain.stopwords) for text in unit_texts]
    assert_same_index(built.indexes["chars"], TfidfIndex.from_terms(grams))
    counted = Counter(word for text in unit_texts for word in words(text))
    assert built.word_counts == dict(counted) and list(built.word_counts) == list(counted)


def test_the_ascii_token_pattern_finds_the_tokens_of_ascii_text() -> None:
    rng = random.Random(13)
    alphabet = "abcXYZ019.,'_- \n\t\"()§"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60))) for _ in range(20_000)]
    texts += [path.read_text("utf-8") for path in sorted((ROOT / "knowledge" / "sources").glob("*.md"))]
    for text in texts:
        assert ASCII_TOKEN_PATTERN.findall(text) == TOKEN_PATTERN.findall(text), text


def test_claims_joined_and_texts_read_alone_give_the_plain_build() -> None:
    claims = [(0, 1, 2), (3, 4), (5,), (6, 7), (), (8, 9), (0, 2)]
    passage_texts = [" ".join(TRICKY[u] for u in units) or "a caption line\nanother" for units in claims]
    passage_texts[-1] = "a text that is not its claims joined"
    assert_builds_as_plain(TRICKY, passage_texts, claims)


def test_no_claims_given_reads_every_passage_alone() -> None:
    assert_builds_as_plain(TRICKY, TRICKY[::-1], [])


@pytest.mark.parametrize(
    "sources", [None, ROOT / "tests" / "data" / "fictional" / "sources"], ids=["bundled", "fictional"]
)
def test_the_sources_build_as_plain(sources: Path | None) -> None:
    read = read_sources(sources)
    unit_texts, passage_texts = index_texts(read.passages)
    assert_builds_as_plain(unit_texts, passage_texts, passage_units(read.passages))


def test_the_speller_from_counts_is_the_speller_built_from_every_word() -> None:
    found = [w for text in TRICKY for w in words(text)] + ["the", "abc", "ab", "migration", "migration"]
    extra = ["migration", "organization", "ok", "x" * 41]
    counts = dict(Counter(found))
    built = Speller.build([*found, *extra])
    fast = Speller.from_counts(counts, extra)
    assert fast.counts == built.counts and list(fast.counts) == list(built.counts)


def facts_one_by_one(text: str, kind: str, cites_articles: bool, person_name: re.Pattern[str]) -> frozenset[str]:
    """What facts_of gave, sentence by sentence, before it read them all at once."""
    found = set()
    if has_date(text):
        found.add(WANTS_DATE)
    if has_number(text):
        found.add(WANTS_NUMBER)
    if kind == "claim" and cites_articles:
        found.add(WANTS_ARTICLE)
    if CAPITALISED_RUN.search(text):
        found.add(WANTS_PERSON)
    if DEFINITION.search(text):
        found.add(WANTS_DEFINITION)
    if kind != "citation" and person_name.search(text):
        found.add(WANTS_NAME)
    return frozenset(found)


def names_one_by_one(texts: list[str], known_words: frozenset[str]) -> frozenset[str]:
    """What proper_names gave when it read word by word."""
    capitalised: dict[str, int] = {}
    seen: dict[str, int] = {}
    for text in texts:
        for index, match in enumerate(re.finditer(r"[^\W\d_]+", text)):
            word = match.group(0)
            lowered = word.lower()
            if index == 0 or len(word) < 3 or lowered in known_words or lowered in STOPWORDS:
                continue
            seen[lowered] = seen.get(lowered, 0) + 1
            if word[0].isupper() and not word.isupper():
                capitalised[lowered] = capitalised.get(lowered, 0) + 1
    return frozenset(stem(w) for w, n in capitalised.items() if n >= 0.8 * seen[w])


FACT_SENTENCES = [
    "In May 2016 Ada Lovelace said it.",
    "Ada\nLovelace met Grace Hopper in 1999",  # a newline inside a sentence, as a caption's lines have
    "2016",
    "",
    "The Agreement is defined as binding.",
    "It means three things. Twenty states, 1,200.5 people, December",
    "See id. at art. 5, Organization Council.",
    "Σ ΣΑΣ İstanbul Straße, in may",
    "ends with is the",
]


@pytest.mark.parametrize("sources", [None, FICTIONAL], ids=["bundled", "fictional"])
def test_facts_and_names_read_at_once_are_those_read_one_by_one(sources: Path | None) -> None:
    read = read_sources(sources)
    language = load_language()
    person_name = person_name_pattern(language.institution_words | read.glossary.not_people)
    found = [(s, unit_kind(p, s)) for p in read.passages for s in answerable(p)]
    found += [(Sentence(text, 0, len(text), False, ()), kind) for text in FACT_SENTENCES for kind in KIND_CODES]
    texts = [s.text for s, _ in found]
    kinds = [kind for _, kind in found]
    cites = [bool(s.articles) or n % 2 == 0 for n, (s, _) in enumerate(found)]
    assert facts_of(texts, kinds, cites, person_name) == [
        facts_one_by_one(text, kind, cite, person_name) for text, kind, cite in zip(texts, kinds, cites, strict=True)
    ]
    known = read.glossary.synonyms.vocabulary | language.not_names
    claims = [text for text, kind in zip(texts, kinds, strict=True) if kind == "claim"]
    assert proper_names(claims, known) == names_one_by_one(claims, known)
    assert proper_names(claims, known)  # the sources do name people and places


def test_a_term_with_a_newline_is_not_saved(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="newline"):
        TfidfIndex.from_terms([["a\nb", "c"]]).save(tmp_path)
    TfidfIndex.from_terms([[]]).save(tmp_path / "empty")  # no terms: an empty terms file
