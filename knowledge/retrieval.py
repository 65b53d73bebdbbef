"""Retrieve: sentences and passages indexed with TF-IDF (and sentences by character n-grams); a question part
-> its candidate answer sentences and nearest passages. Choosing among them is the selector's (pipeline.py).
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from .answer import Hit
from .articles import ArticleIndex
from .candidates import Candidates, Sentences, Weights, score_candidates
from .chunking import Passage
from .examples import Examples
from .facts import fact_terms_of, number_near, person_name_pattern
from .features import Reading
from .glossary import GlossaryFile
from .index import TfidfIndex
from .language import Language, load_language
from .question import (
    WANTS_DATE,
    WANTS_NUMBER,
    strip_mentions,
)
from .spelling import Speller
from .tables import PassageTable
from .text import TOKEN_PATTERN, Analysis, Analyzer, is_concept_term, normalize, stem, words
from .units import FACT_BITS, KIND_CODES, RetrieverTables, Unit, compute_tables
from .words import load_english

# Weights of the retriever's blend that ranks the candidates (one feature of the selector among many).
SENTENCE_WEIGHT = 0.45
PASSAGE_WEIGHT = 0.25
COVERAGE_WEIGHT = 0.3
OWN_COVERAGE_SHARE = 0.6
PASSAGE_COVERAGE_FACTOR = 0.85  # the passage around a sentence vouches for it, a little less than itself
CITATION_FACTOR = 0.0  # citation-only sentences are provenance, not content
CITATION_FACTOR_FACT = 0.85  # ... such as a document's date or number
CAPTION_FACTOR = 0.35  # the photo caption answers questions about the photo, not about the world
WANT_BONUS = 0.08  # the sentence carries the kind of fact asked for (a date, a number, an article)
CANDIDATES = 12  # sentences a part's selector weighs: 93 % of gold sentences are among them (40: 94 %)
# ... the best of this many by their own score: citation sentences ("See X, About X.") are short and so close to
# a question of one or two words, and are left out only after scoring (a factor of 0): with 12 alone, "What is
# X?" kept one candidate.
POOL = 3 * CANDIDATES
HITS = 5  # nearest passages listed with every answer
WEIGHTS = Weights(
    SENTENCE_WEIGHT, PASSAGE_WEIGHT, COVERAGE_WEIGHT, OWN_COVERAGE_SHARE, PASSAGE_COVERAGE_FACTOR, WANT_BONUS
)
FIX_MEMO_SIZE = 1 << 14
UNKNOWN: str = "\0not looked up"  # not a word: the speller's memo has not seen it
MENDED = ("\0mended", False)  # in the token memo: a token the speller mends
LETTERS = re.compile(r"[^\W\d_]+")  # a word as the speller sees it
PHOTO_CONCEPT = "≡photo"
DOCUMENT_CONCEPT = "≡document"
KIND_CLAIM = KIND_CODES["claim"]
KIND_CITATION = KIND_CODES["citation"]
KIND_CAPTION = KIND_CODES["caption"]


def kind_factors(fact_wanted: bool, photo: bool, document: bool) -> np.ndarray:
    """How far a sentence's kind lets it answer, by kind code * 2 + (it carries the fact asked for).

    fact_wanted: the question wants a date or a number; photo, document: it asks about the photo, the document.
    """
    caption = 1.0 if photo else CAPTION_FACTOR
    # A citation sentence answers only what it alone carries: a document's date or number.
    citation = CITATION_FACTOR_FACT if document else CITATION_FACTOR
    citation_with_fact = CITATION_FACTOR_FACT if fact_wanted or document else CITATION_FACTOR
    table = {KIND_CLAIM: (1.0, 1.0), KIND_CITATION: (citation, citation_with_fact), KIND_CAPTION: (caption, caption)}
    return np.array([table[code][carries] for code in range(len(KIND_CODES)) for carries in (0, 1)], np.float32)


KIND_FACTORS = {flags: kind_factors(*flags) for flags in itertools.product((False, True), repeat=3)}


@dataclass(frozen=True, slots=True)
class Retriever:
    passages: Sequence[Passage]  # a tuple, or a PassageTable (a start from a saved set)
    units: Sequence[Unit]
    unit_terms: Sequence[frozenset[str]]
    passage_terms: Sequence[frozenset[str]]
    analyzer: Analyzer
    speller: Speller
    passage_index: TfidfIndex
    unit_index: TfidfIndex
    glossary: GlossaryFile
    oov_idf: float
    max_idf: float
    entities: frozenset[str]  # stems of proper names in the sources ("lisbon"), glossary terms aside
    citations: ArticleIndex  # which claims cite which article of which instrument
    sentences: Sentences  # the units' rows with their passages, kinds and facts, for scoring candidates
    char_index: TfidfIndex  # the units by character n-grams of their content words
    heading_terms: Sequence[frozenset[str]]  # per passage: the terms of its section heading
    language: Language
    glossary_instrument_terms: frozenset[str]  # stems of the words of the glossary's instrument names and aliases
    related: dict[str, frozenset[str]] = field(default_factory=dict, repr=False, compare=False)  # entity -> terms
    fixes: dict[str, str | None] = field(default_factory=dict, repr=False, compare=False)  # word -> its mend
    token_memo: dict[str, tuple[str, bool] | None] = field(default_factory=dict, repr=False, compare=False)
    person_name: re.Pattern[str] | None = field(default=None, repr=False, compare=False)
    stated: dict[int, dict[str, frozenset[str]]] = field(default_factory=dict, repr=False, compare=False)
    examples: Examples = field(default_factory=Examples.empty, repr=False, compare=False)  # questions asked before

    @classmethod
    def build(
        cls,
        passages: Sequence[Passage],
        glossary: GlossaryFile,
        indexes: Mapping[str, TfidfIndex] | None = None,
        tables: RetrieverTables | None = None,
    ) -> Retriever:
        """Index the passages, or take indexes saved for exactly these passages ("units", "passages", "chars");
        and work out the tables (units, their terms and facts, names, the speller), or take saved ones."""
        analyzer = Analyzer(glossary.synonyms)
        language = load_language()
        person_name = person_name_pattern(language.institution_words | glossary.not_people)
        if tables is None or indexes is None:
            indexes, tables = compute_tables(passages, glossary, indexes, analyzer, language, person_name)
        unit_index, passage_index, char_index = indexes["units"], indexes["passages"], indexes["chars"]
        retriever = cls(
            # A PassageTable stays one: its passages are made when asked for.
            passages=passages if isinstance(passages, PassageTable) else tuple(passages),
            citations=tables.citations,
            units=tables.units,
            unit_terms=tables.unit_terms,
            passage_terms=tables.passage_terms,
            analyzer=analyzer,
            speller=tables.speller,
            passage_index=passage_index,
            unit_index=unit_index,
            glossary=glossary,
            oov_idf=float(np.median(unit_index.idf)) if unit_index.idf.size else 1.0,
            max_idf=float(unit_index.idf.max()) if unit_index.idf.size else 1.0,
            entities=tables.entities,
            sentences=Sentences(unit_index, passage_index, tables.passage_rows, tables.kinds, tables.facts),
            char_index=char_index,
            heading_terms=tables.heading_terms,
            language=language,
            person_name=person_name,
            glossary_instrument_terms=frozenset(
                stem(w)
                for instrument in glossary.instruments
                for name in (instrument.name, *instrument.aliases)
                for w in words(name)
            ),
        )
        retriever.warm_up()
        return retriever

    def warm_up(self) -> None:
        """Score one query now, where the knowledge base is built (off the event loop): the compiled scorer's
        machine code is loaded (or compiled, the first time ever) here, not on the first question."""
        probe = next((terms for terms in self.unit_terms if terms), None)
        if probe is not None:
            terms = sorted(probe)[:3]
            self.candidates(Reading("", terms, terms, "", (), []))

    def indexes(self) -> dict[str, TfidfIndex]:
        """The indexes to save: what build(..., indexes=) takes back."""
        return {"units": self.unit_index, "passages": self.passage_index, "chars": self.char_index}

    # -- reading the question ---------------------------------------------------------------------

    def correct(self, text: str) -> str:
        """The text with words unknown to the sources (after stemming) replaced by their nearest known word."""
        return self._corrected(normalize(strip_mentions(text)))[0]

    def _corrected(self, normalized: str) -> tuple[str, list[str] | None]:
        """(corrected text, its tokens): the tokens of the text as it came when nothing needed mending."""
        tokens = TOKEN_PATTERN.findall(normalized)
        fixes = {}
        memo = self.fixes
        for token in tokens:
            # The speller's words are runs of letters: a token is one, two joined by an apostrophe, or digits.
            for word in token.split("'") if "'" in token else (token,):
                fix = memo.get(word, UNKNOWN)
                if fix is UNKNOWN:
                    fix = self._fix(word)
                if fix:
                    fixes[word] = fix
        if not fixes:  # the usual case: nothing to rewrite
            return normalized, tokens
        return LETTERS.sub(lambda match: fixes.get(match.group(0), match.group(0)), normalized), None

    def _fix(self, word: str) -> str | None:
        """The known word an unknown word stands for, or None (known, a stopword, a number, or no close word);
        remembered in the memo that _corrected reads first."""
        fix = None
        if (
            not word[0].isdigit()
            and word not in self.analyzer.stopwords
            and stem(word) not in self.unit_index.vocabulary
        ):
            fix = self.speller.correct(word)
            if fix is not None and load_english().keeps(word, fix):
                fix = None  # a real word ("bank", "billion") is not a misspelt word of the sources ("ban")
        memo = self.fixes
        if len(memo) >= FIX_MEMO_SIZE:
            memo.clear()  # people reuse words; a bounded memo keeps the common ones one lookup away
        memo[word] = fix
        return fix

    def read(self, text: str) -> Analysis:
        """(query terms, units of meaning) of text: spelling corrected, analysed once, frame words left out."""
        normalized = self.language.implying(normalize(strip_mentions(text)))
        memo = self.token_memo
        tokens = []
        for word in TOKEN_PATTERN.findall(normalized):
            entry = memo.get(word, UNKNOWN)
            if entry is UNKNOWN:
                entry = self._token(word)
            if entry is MENDED:  # a word to mend: correct the text, then analyse what it has become
                terms, units = self.analyzer.analyze(*self._corrected(normalized))
                break
            if entry is not None:
                tokens.append(entry)
        else:
            terms, units = self.analyzer.analyze_tokens(normalized, tokens)
        frame = self.language.frame_terms
        return Analysis([t for t in terms if t not in frame], [u for u in units if u not in frame])

    def _token(self, word: str) -> tuple[str, bool] | None:
        """The analyser's (stem, is stopword) of a token (None: no term), or MENDED when the speller mends it;
        remembered in the memo that read() looks in first."""
        memo = self.fixes
        for piece in word.split("'") if "'" in word else (word,):
            fix = memo.get(piece, UNKNOWN)
            if fix is UNKNOWN:
                fix = self._fix(piece)
            if fix:
                entry: tuple[str, bool] | None = MENDED
                break
        else:
            entry = self.analyzer.token(word)
        if len(self.token_memo) >= FIX_MEMO_SIZE:
            self.token_memo.clear()
        self.token_memo[word] = entry
        return entry

    def terms(self, text: str) -> list[str]:
        """Query terms of text: spelling corrected, analysed, question-frame words left out."""
        return self.read(text).terms

    # -- lookups ----------------------------------------------------------------------------------

    def search(self, query: str, k: int = 5) -> list[Hit]:
        return [Hit(self.passages[row], s) for row, s in self.passage_index.search(self.terms(query), k)]

    def hits(self, terms: list[str]) -> tuple[Hit, ...]:
        """The passages nearest to the question's terms, best first."""
        return tuple(Hit(self.passages[row], s) for row, s in self.passage_index.search(terms, HITS))

    def candidates(self, reading: Reading) -> Candidates:
        """The CANDIDATES best sentences for a question part by their own score, best first by the blend of
        candidates.py; and the part's HITS nearest passages."""
        cover, total = self.weigh(reading.units)
        terms = reading.terms
        want = reading.want
        found = score_candidates(
            self.sentences,
            terms,
            cover,
            total,
            POOL,
            KIND_FACTORS[want in (WANTS_DATE, WANTS_NUMBER), PHOTO_CONCEPT in terms, DOCUMENT_CONCEPT in terms],
            FACT_BITS.get(want, 0),
            WEIGHTS,
            HITS,
        )
        return found._replace(
            rows=found.rows[:CANDIDATES], scores=found.scores[:CANDIDATES], coverage=found.coverage[:CANDIDATES]
        )

    def fact_terms(self, row: int) -> dict[str, frozenset[str]]:
        """The stems that state each kind of fact in a sentence (worked out on first use; a citation states only
        its document's date: "UN Doc. A/1/2, 8 July 2016")."""
        found = self.stated.get(row)
        if found is None:
            unit = self.units[row]
            found = fact_terms_of(unit.sentence.text, self.person_name) if self.person_name else {}
            if unit.kind == "citation":
                found = {WANTS_DATE: found[WANTS_DATE]} if found else {}
            self.stated[row] = found  # bounded by the sentences of the knowledge base
        return found

    def number_fits(self, row: int, terms: Sequence[str]) -> bool:
        """A number of the sentence stands near what the question counts (by word or by glossary concept)."""
        return number_near(self.units[row].sentence.text, terms, self.analyzer.synonyms)

    def mentions(self, row: int, entity: str) -> bool:
        return not self._related_terms(entity).isdisjoint(self.unit_terms[row])

    def _related_terms(self, entity: str) -> frozenset[str]:
        """The terms of the sources related to an entity's stem (equal, or one a prefix of the other)."""
        related = self.related.get(entity)
        if related is None:
            names = self.unit_index.sorted_terms
            related = {entity} & self.unit_index.vocabulary.keys()
            if len(entity) >= 4:
                # Longer terms starting with it: a range of the sorted terms. Shorter ones: its prefixes.
                start = bisect.bisect_left(names, entity)
                stop = bisect.bisect_left(names, entity[:-1] + chr(ord(entity[-1]) + 1))
                related.update(names[start:stop])
            related.update(p for n in range(4, len(entity)) if (p := entity[:n]) in self.unit_index.vocabulary)
            related = self.related[entity] = frozenset(related)  # entities are the sources' names: bounded
        return related

    def weigh(self, units: Sequence[str]) -> tuple[dict[str, float], float]:
        """Each distinct unit of meaning with its weight (its idf in the sources, or what its absence says;
        summed over its repeats), and the weight of all of them."""
        vocabulary = self.unit_index.vocabulary
        idf = self.unit_index.idf_values
        weights: dict[str, float] = {}
        total = 0.0
        for unit in units:
            column = vocabulary.get(unit)
            if column is not None:
                weight = idf[column]
            elif is_concept_term(unit):
                # A domain concept the sources never mention ("headquarters"): the question is about
                # something they do not cover, so its absence weighs as much as any term can.
                weight = self.max_idf
            else:
                weight = self.oov_idf
            weights[unit] = weights.get(unit, 0.0) + weight
            total += weight
        return weights, total
