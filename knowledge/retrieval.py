"""Retriever: sentences and passages indexed with TF-IDF; questions -> hits and extractive, cited answers.

An answer is the best sentence for each part of the question, chosen by sentence and passage similarity
and by the kind of fact the question wants. It abstains on evidence, not on one threshold: an article
the sources never cite, a year the sentence does not mention, or too little of the question's meaning
covered by the sentence.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from .answer import Answer, AnswerPart, Citation, Hit
from .candidates import Sentences, Weights, score_candidates
from .chunking import Passage, Sentence
from .glossary import GlossaryFile
from .index import TfidfIndex
from .question import (
    MONTHS,
    WANTS_ARTICLE,
    WANTS_DATE,
    WANTS_DEFINITION,
    WANTS_NAME,
    WANTS_NUMBER,
    WANTS_PERSON,
    YEAR,
    Question,
    has_date,
    has_number,
    read_question,
    strip_mentions,
)
from .spelling import Speller
from .text import STOPWORDS, TOKEN_PATTERN, Analyzer, Glossary, is_article_term, is_concept_term, normalize, stem, words

CitationsFor = Callable[[Passage, Sentence | None], tuple[Citation, ...]]

# Weights of the sentence score; calibrated on the dev set (see README, "Answer quality").
SENTENCE_WEIGHT = 0.45
PASSAGE_WEIGHT = 0.25
COVERAGE_WEIGHT = 0.3
OWN_COVERAGE_SHARE = 0.6
PASSAGE_COVERAGE_FACTOR = 0.85  # the passage around a sentence vouches for it, a little less than itself
DISTINCT_RATIO = 0.7  # a second part takes another sentence if it scores at least this share of the best
CITATION_FACTOR = 0.0  # citation-only sentences are provenance, not content
CITATION_FACTOR_FACT = 0.85  # ... such as a document's date or number
CAPTION_FACTOR = 0.35  # the photo caption answers questions about the photo, not about the world
WANT_BONUS = 0.08  # the sentence carries the kind of fact asked for (a date, a number, an article)
MIN_SCORE = 0.12
MIN_COVERAGE = 0.4  # idf-weighted share of the question's meaning the answer sentence must carry
CANDIDATES = 40
HITS = 5  # nearest passages listed with every answer
WEIGHTS = Weights(
    SENTENCE_WEIGHT, PASSAGE_WEIGHT, COVERAGE_WEIGHT, OWN_COVERAGE_SHARE, PASSAGE_COVERAGE_FACTOR, WANT_BONUS
)
# Capitalised in titles and citations but not names of anything a question could be about.
NOT_NAMES = frozenset({"see", "doc", "credit", "photo", "today", "recent", "additionally", "although"})
FACT_RATIO = 0.6  # a sentence carrying the fact asked for may score this much lower than the best
FACT_WANTS = {
    WANTS_DATE: "the sources give no date for this",
    WANTS_NUMBER: "the sources give no number for this",
    WANTS_NAME: "the sources do not name who that is",
}
DEFINITION = re.compile(r"\b(?:is|are) (?:defined as|an?|the) |\brefers? to\b|\bmeans\b")
# A person's name: "Ban Ki-moon", "Isaac Billy". Capitalised words of institutions do not count.
INSTITUTION_WORDS = (
    "UN|United|Nations|General|Assembly|Secretary|Director|Council|Committee|Commissioner|High|Special|Rapporteur|"
    "Human|Rights|International|Organization|Migration|Member|States?|Summit|Refugees|Migrants|Agreement|"
    "Economic|Social|Security|Department|Affairs|Office|Executive|Board|Chief|Group|Global|Agency|Standing|"
    "Inter|System|Systems|Agenda|Sustainable|Development|Convention|Protection|Workers|Families|News|Centre|"
    "Photo|Credit|Humanitarian|Resolution|Doc|Dialogue|Level|Syrian|South|Sudan|Civil|Society|World|War"
)
PERSON_NAME = re.compile(
    rf"(?<![.\w])(?!(?:{INSTITUTION_WORDS})\b)[A-Z][a-z]+(?:-[a-z]+)?"
    rf"(?:[ ](?!(?:{INSTITUTION_WORDS})\b)[A-Z][a-z]+(?:-[a-z]+)?)+"
)
FIX_MEMO_SIZE = 1 << 14
UNKNOWN: str = "\0not looked up"  # not a word: the speller's memo has not seen it
MENDED = ("\0mended", False)  # in the token memo: a token the speller mends
LETTERS = re.compile(r"[^\W\d_]+")  # a word as the speller sees it
PHOTO_CONCEPT = "≡photo"
DOCUMENT_CONCEPT = "≡document"
# Stems that frame a question rather than say what it is about ("what does art. 8 provide?").
FRAME_TERMS = frozenset(
    "what which who whom whose when where whi how provid say address cover concern deal regard explain describ talk "
    "mention happen do anyth someth thing stuff articl date year day number mani much".split()
)
# Modifiers that pick one instance of a thing ("the first Director General"): the answer must carry one
# of the same group ("originally set up" is answered by "first established").
MODIFIER_GROUPS = tuple(
    frozenset(stem(word) for word in group.split())
    for group in (
        "first original originally initial initially earliest",
        "last final",
        "latest newest recent recently",
        "current currently present",
        "former previous",
        "next upcoming",
        "largest biggest greatest",
        "smallest fewest least",
        "oldest",
        "second",
        "third",
        "founder founded founding",
    )
)
KEY_MODIFIERS = {term: group for group in MODIFIER_GROUPS for term in group}
# Unit kinds and facts as small integers, in arrays over all units: a question's candidates are scored at once.
KIND_CODES = {"claim": 0, "citation": 1, "caption": 2}
KIND_CLAIM = KIND_CODES["claim"]
KIND_CITATION = KIND_CODES["citation"]
KIND_CAPTION = KIND_CODES["caption"]
FACT_BITS = {
    want: 1 << bit
    for bit, want in enumerate((WANTS_DATE, WANTS_NUMBER, WANTS_ARTICLE, WANTS_PERSON, WANTS_DEFINITION, WANTS_NAME))
}


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
class Unit:
    """A sentence that can answer: a claim, a citation sentence or a caption line."""

    passage_row: int
    sentence: Sentence
    kind: str  # "claim", "citation" or "caption"
    facts: frozenset[str] = frozenset()  # the kinds of fact it carries (WANTS_*): worked out once, at build


def facts_of(text: str, kind: str, cites_articles: bool) -> frozenset[str]:
    """The kinds of fact a sentence carries: a date, a number, an article, a person, a definition, a name."""
    found = set()
    if has_date(text):
        found.add(WANTS_DATE)
    if has_number(text):
        found.add(WANTS_NUMBER)
    if kind == "claim" and cites_articles:
        found.add(WANTS_ARTICLE)
    if re.search(r"\b(?:[A-Z][a-z]+(?:[- ][A-Z][a-z]+)+)\b", text):
        found.add(WANTS_PERSON)
    if DEFINITION.search(text):
        found.add(WANTS_DEFINITION)
    if kind != "citation" and PERSON_NAME.search(text):
        found.add(WANTS_NAME)
    return frozenset(found)


@dataclass(frozen=True, slots=True)
class ArticleIndex:
    """Which claims cite which article: (instrument, number) -> rows and how often each row cites it."""

    pairs: dict[tuple[str | None, str], tuple[np.ndarray, np.ndarray]]  # rows ascending, int32; counts
    cited_directly: np.ndarray  # per unit: the claim right before its citation
    count: np.ndarray  # per unit: how many (instrument, article) pairs it rests on

    @classmethod
    def build(cls, units: Sequence[Unit]) -> ArticleIndex:
        pairs: dict[tuple[str | None, str], dict[int, int]] = {}
        for row, unit in enumerate(units):
            if unit.kind == "claim":
                for pair in unit.sentence.articles:
                    counts = pairs.setdefault(pair, {})
                    counts[row] = counts.get(row, 0) + 1
        return cls(
            {
                pair: (np.array(list(counts), np.int32), np.array(list(counts.values()), np.int32))
                for pair, counts in pairs.items()
            },
            np.array([u.sentence.cited_directly for u in units], bool),
            np.array([len(u.sentence.articles) for u in units], np.int32),
        )

    def cited(self, numbers: Iterable[str]) -> list[tuple[str | None, str]]:
        """The (instrument, number) pairs cited for these numbers, by the first claim citing each."""
        wanted = set(numbers)
        found = [pair for pair in self.pairs if pair[1] in wanted]
        return sorted(found, key=lambda pair: int(self.pairs[pair][0][0]))

    def rows(self, instrument: str | None, numbers: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
        """The claims citing any of these numbers of instrument (ascending), and how many of them each cites."""
        found = [self.pairs[(instrument, n)] for n in set(numbers) if (instrument, n) in self.pairs]
        if not found:
            return np.zeros(0, np.int32), np.zeros(0, np.int32)
        if len(found) == 1:
            return found[0]
        rows, inverse = np.unique(np.concatenate([r for r, _ in found]), return_inverse=True)
        return rows, np.bincount(inverse, weights=np.concatenate([c for _, c in found])).astype(np.int32)


# A candidate answer sentence: (unit row, score, coverage). Plain tuples: a question ranks dozens of them.
Choice = tuple[int, float, float]
ROW, SCORE, COVERAGE = 0, 1, 2
Nearest = list[tuple[int, float]] | None  # (passage row, score) best first, or not looked for


@dataclass(frozen=True, slots=True)
class Retriever:
    passages: tuple[Passage, ...]
    units: tuple[Unit, ...]
    unit_terms: tuple[frozenset[str], ...]
    passage_terms: tuple[frozenset[str], ...]
    analyzer: Analyzer
    speller: Speller
    passage_index: TfidfIndex
    unit_index: TfidfIndex
    glossary: GlossaryFile
    oov_idf: float
    max_idf: float
    entities: frozenset[str]  # stems of proper names in the sources ("china", "syria"), glossary terms aside
    citations: ArticleIndex  # which claims cite which article of which instrument
    sentences: Sentences  # the units' rows with their passages, kinds and facts, for scoring candidates
    related: dict[str, frozenset[str]] = field(default_factory=dict, repr=False, compare=False)  # entity -> terms
    fixes: dict[str, str | None] = field(default_factory=dict, repr=False, compare=False)  # word -> its mend
    token_memo: dict[str, tuple[str, bool] | None] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def build(
        cls, passages: Sequence[Passage], glossary: GlossaryFile, indexes: Mapping[str, TfidfIndex] | None = None
    ) -> Retriever:
        """Index the passages, or take indexes saved for exactly these passages ("units", "passages")."""
        analyzer = Analyzer(glossary.glossary)
        units = tuple(
            Unit(row, sentence, kind, facts_of(sentence.text, kind, bool(sentence.articles)))
            for row, passage in enumerate(passages)
            for sentence in _answerable(passage)
            for kind in (_kind(passage, sentence),)
        )
        unit_texts = [unit.sentence.text for unit in units]
        # Passages are indexed by their claims only: citation sentences are provenance, not content.
        passage_texts = [" ".join(s.text for s in p.claims) or p.text for p in passages]
        if indexes is not None:
            unit_index, passage_index = indexes["units"], indexes["passages"]
            unit_terms: Sequence[Iterable[str]] = row_terms(unit_index)
            passage_terms: Sequence[Iterable[str]] = row_terms(passage_index)
        else:
            # Each text is analysed once: the terms feed its index row and its coverage set.
            unit_terms = [analyzer(text) for text in unit_texts]
            passage_terms = [analyzer(text) for text in passage_texts]
            unit_index = TfidfIndex.from_terms(unit_terms)
            passage_index = TfidfIndex.from_terms(passage_terms)
        # A generator, not a list of every word of the sources: freeing ten million strings at once when build
        # returns would be one long C call holding the GIL (the event loop would stall).
        vocabulary = itertools.chain(
            (w for text in unit_texts for w in words(text)), (w for w in glossary.glossary.vocabulary if len(w) >= 5)
        )
        retriever = cls(
            passages=tuple(passages),
            citations=ArticleIndex.build(units),
            units=units,
            # Comprehensions, not map(): a loop of bytecode lets the GIL change hands; map() over 500k rows holds it.
            unit_terms=tuple([frozenset(terms) for terms in unit_terms]),
            passage_terms=tuple([frozenset(terms) for terms in passage_terms]),
            analyzer=analyzer,
            speller=Speller.build(vocabulary),
            passage_index=passage_index,
            unit_index=unit_index,
            glossary=glossary,
            oov_idf=float(np.median(unit_index.idf)) if unit_index.idf.size else 1.0,
            max_idf=float(unit_index.idf.max()) if unit_index.idf.size else 1.0,
            # Titles in citation sentences are capitalised throughout: only claims tell names apart.
            entities=proper_names([u.sentence.text for u in units if u.kind == "claim"], glossary.glossary.vocabulary),
            sentences=Sentences(
                index=unit_index,
                passage_index=passage_index,
                passage=np.array([u.passage_row for u in units], np.int32),
                kind=np.array([KIND_CODES[u.kind] for u in units], np.int8),
                facts=np.array([sum(FACT_BITS[f] for f in u.facts) for u in units], np.int32),
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
            self._candidates(terms, terms, "")

    def indexes(self) -> dict[str, TfidfIndex]:
        """The indexes to save: what build(..., indexes=) takes back."""
        return {"units": self.unit_index, "passages": self.passage_index}

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
        memo = self.fixes
        if len(memo) >= FIX_MEMO_SIZE:
            memo.clear()  # people reuse words; a bounded memo keeps the common ones one lookup away
        memo[word] = fix
        return fix

    def read(self, text: str) -> tuple[list[str], list[str]]:
        """(query terms, units of meaning) of text: spelling corrected, analysed once, frame words left out."""
        normalized = normalize(strip_mentions(text))
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
        return [t for t in terms if t not in FRAME_TERMS], [u for u in units if u not in FRAME_TERMS]

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
        return self.read(text)[0]

    def units_of(self, text: str) -> list[str]:
        """Units of meaning of text (glossary phrases as one concept), question-frame words left out."""
        return self.read(text)[1]

    # -- lookups ----------------------------------------------------------------------------------

    def search(self, query: str, k: int = 5) -> list[Hit]:
        return [Hit(self.passages[row], s) for row, s in self.passage_index.search(self.terms(query), k)]

    # -- answers ----------------------------------------------------------------------------------

    def answer(self, question: str, citations_for: CitationsFor, *, max_words: int = 60) -> Answer:
        q = read_question(question, self.glossary.resolve_instrument)
        whole = self.read(q.text)
        terms = whole[0]
        if not terms:  # nothing to search with: no passage is near either
            return Answer(question, (), True, 0.0, (), reason="the question has no words the sources use")
        if q.articles:
            return self._answer_article(question, q, terms, citations_for, max_words)
        chosen: list[Choice] = []
        reason = None
        nearest = None
        for part, want in zip(q.parts, q.wants, strict=True):
            if len(q.parts) == 1:
                # A one-part question is the whole question: its reading is done, its nearest passages come
                # with its candidates.
                ranked, why, nearest = self._rank(part, want, whole)
            else:
                ranked, why, _ = self._rank(part, want, self.read(part))
            if not ranked:
                reason = reason or why
                continue
            # Each part of a two-part question gets its own sentence when a close second exists.
            used = {c[ROW] for c in chosen}
            fresh = [c for c in ranked if c[ROW] not in used and c[SCORE] >= ranked[0][SCORE] * DISTINCT_RATIO]
            choice = fresh[0] if fresh else ranked[0]
            if choice[ROW] not in used:
                chosen.append(choice)
        hits = self._hits(terms) if nearest is None else tuple(Hit(self.passages[row], s) for row, s in nearest)
        if not chosen:
            return Answer(question, (), True, 0.0, hits, reason=reason)
        parts = []
        for choice in chosen:
            unit = self.units[choice[ROW]]
            passage = self.passages[unit.passage_row]
            text = _clip(unit.sentence.text, max_words)
            parts.append(AnswerPart(text, passage, citations_for(passage, unit.sentence)))
        return Answer(question, tuple(parts), False, max(c[SCORE] for c in chosen), self._quoted_first(parts, hits))

    def _hits(self, terms: list[str]) -> tuple[Hit, ...]:
        """The passages nearest to the question's terms, best first."""
        return tuple(Hit(self.passages[row], s) for row, s in self.passage_index.search(terms, HITS))

    def _quoted_first(self, parts: Sequence[AnswerPart], hits: tuple[Hit, ...]) -> tuple[Hit, ...]:
        """The passages the answer quotes, then the other nearest passages: what a reader checks first."""
        if len(parts) == 1 and hits and hits[0].passage.ordinal == parts[0].passage.ordinal:
            return hits  # the usual case: the answer quotes the nearest passage
        # Passages are keyed by ordinal: hashing a passage would hash all of its sentences.
        quoted = list({part.passage.ordinal: part.passage for part in parts}.values())
        scores = {hit.passage.ordinal: hit.score for hit in hits}
        missing = [p.ordinal for p in quoted if p.ordinal not in scores]
        if missing:
            terms = self.terms(" ".join(part.text for part in parts))
            scores.update(zip(missing, self.passage_index.scores_of(terms, missing).tolist(), strict=True))
        quoted_rows = {p.ordinal for p in quoted}
        rest = [hit for hit in hits if hit.passage.ordinal not in quoted_rows]
        return tuple([Hit(p, scores[p.ordinal]) for p in quoted] + rest)[: max(len(hits), len(quoted))]

    def _rank(self, part: str, want: str, reading: tuple[list[str], list[str]]) -> tuple[list[Choice], str, Nearest]:
        """Candidate sentences for one part (read as (terms, units)), best first, passing every evidence check;
        why there are none; and the part's nearest passages (None when it did not get as far as looking)."""
        terms, units = reading
        if not terms:
            return [], "the question has no words the sources use", None
        unknown = [u for u in units if is_concept_term(u) and u not in self.unit_index.vocabulary]
        if unknown:
            # The question is about a domain notion ("headquarters") that no source mentions at all.
            return [], f"my sources say nothing about {unknown[0].lstrip('≡').replace('_', ' ')}", None
        ranked, nearest = self._candidates(terms, units, want)
        return (*self._check(part, want, terms, units, ranked), nearest)

    def _check(
        self, part: str, want: str, terms: list[str], units: list[str], candidates: list[Choice]
    ) -> tuple[list[Choice], str]:
        """The candidates that pass every evidence check, best first, or none and why."""
        if not candidates or candidates[0][SCORE] < MIN_SCORE:
            return [], "no sentence of the sources matches the question well"
        # Evidence checks: each keeps the candidates that carry what the question insists on.
        if want in FACT_WANTS:
            # "How many", "when" and "who is" want a number, a date or a name: a sentence without one is
            # no answer, however close its words; a close one that carries it is.
            floor = candidates[0][SCORE] * FACT_RATIO
            candidates = [c for c in candidates if c[SCORE] >= floor and self._carries(self.units[c[ROW]], want)]
            if want == WANTS_NUMBER:
                candidates = [c for c in candidates if self._number_fits(c[ROW], terms)]
            if not candidates:
                return [], FACT_WANTS[want]
        entities = [t for t in terms if t in self.entities]
        if entities:
            # A name the question gives ("China", "Syria") must be in the sentence, not only nearby.
            # ("syria vs south sudan" compares: one of several names suffices, more rank first.)
            named = [(sum(self._mentions(c[ROW], e) for e in entities), c) for c in candidates]
            needed = 1 if len(entities) > 1 else len(entities)
            candidates = [c for n, c in sorted(named, key=lambda nc: -nc[0]) if n >= needed]
            if not candidates:
                return [], f"the sources say nothing about {entities[0]} on this"
        modifiers = [KEY_MODIFIERS[u] for u in units if u in KEY_MODIFIERS]
        if modifiers:
            candidates = [c for c in candidates if all(group & self.unit_terms[c[ROW]] for group in modifiers)]
            if not candidates:
                return [], "the sources do not say which one that is"
        best = candidates[0]
        sentence = self.units[best[ROW]].sentence
        for year in YEAR.findall(part):
            if year not in sentence.text and not self.glossary.resolve_instrument(year):
                return [], f"the sources say nothing about {year} on this"
        if best[COVERAGE] < MIN_COVERAGE:
            return [], "the sources mention this topic but do not answer the question"
        return [c for c in candidates if c[COVERAGE] >= MIN_COVERAGE], ""

    def _candidates(
        self, terms: list[str], units: list[str], want: str
    ) -> tuple[list[Choice], list[tuple[int, float]]]:
        """The CANDIDATES best sentences by their own score, scored as answers to the part, best first; and the
        HITS nearest passages."""
        cover, total = self.weigh(units)
        found = score_candidates(
            self.sentences,
            terms,
            cover,
            total,
            CANDIDATES,
            KIND_FACTORS[want in (WANTS_DATE, WANTS_NUMBER), PHOTO_CONCEPT in terms, DOCUMENT_CONCEPT in terms],
            FACT_BITS.get(want, 0),
            WEIGHTS,
            HITS,
        )
        return list(zip(found.rows, found.scores, found.coverage, strict=True)), found.hits

    def _number_fits(self, row: int, terms: Sequence[str]) -> bool:
        """A number of the sentence stands near what the question counts (by word or by glossary concept)."""
        return number_near(self.units[row].sentence.text, terms, self.analyzer.glossary)

    @staticmethod
    def _carries(unit: Unit, want: str) -> bool:
        return want in unit.facts

    def _mentions(self, row: int, entity: str) -> bool:
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

    def _answer_article(
        self, question: str, q: Question, terms: list[str], citations_for: CitationsFor, max_words: int
    ) -> Answer:
        """The claims citing the articles asked for (of the instrument meant), best first by the other terms."""
        hits = self._hits(terms)
        wanted = set(q.articles)
        # The (instrument, article) pairs the claims cite for the articles asked, in the order they first appear.
        cited = self.citations.cited(wanted)
        instrument = q.instrument or self._instrument_named_by_year(q, cited)
        if instrument is None:
            # No instrument named: "the Agreement" is the default one, if the sources cite it for N.
            default = self.glossary.default_instrument
            instruments = {i for i, _ in cited}
            instrument = default if default in instruments or len(instruments) != 1 else instruments.pop()
        rows, exact = self.citations.rows(instrument, wanted)
        if not rows.size:
            names = ", ".join(f"art. {n}" for n in q.articles)
            where = self._instrument_name(instrument)
            return Answer(question, (), True, 0.0, hits, reason=f"my sources never cite {names} of {where}")
        terms = [t for t in terms if not is_article_term(t)]
        # Only the citing sentences and their passages are scored: no pass over the whole knowledge base.
        passage_rows = self.sentences.passage[rows]
        base = SENTENCE_WEIGHT * self.unit_index.scores_of(terms, rows) + PASSAGE_WEIGHT * (
            self.passage_index.scores_of(terms, passage_rows)
        )
        # The claim right before its citation is what the article is cited for; earlier claims of the run
        # lean on it less, and a sentence citing several articles is less about any one of them.
        direct = np.where(self.citations.cited_directly[rows], 0.1, 0.0)
        scores = base.astype(np.float64) + direct + 0.05 * exact / np.maximum(1, self.citations.count[rows])
        order = np.lexsort((rows, -scores))
        ranked = rows[order].tolist()
        chosen = [ranked[0]]
        missing = wanted - {n for i, n in self.units[ranked[0]].sentence.articles if i == instrument}
        for row in ranked[1:]:
            if not missing:
                break
            articles = self.units[row].sentence.articles
            if missing & {n for i, n in articles if i == instrument}:
                chosen.append(row)
                missing -= {n for _, n in articles}
        parts = []
        for row in chosen:
            unit = self.units[row]
            passage = self.passages[unit.passage_row]
            parts.append(
                AnswerPart(_clip(unit.sentence.text, max_words), passage, citations_for(passage, unit.sentence))
            )
        best = float(scores[order[0]])
        return Answer(question, tuple(parts), False, max(best, 1e-6), self._quoted_first(parts, hits))

    @staticmethod
    def _instrument_named_by_year(q: Question, cited: Sequence[tuple[str | None, str]]) -> str | None:
        """An instrument the glossary does not know, named by the year in its symbol ("B/1950/7" for 1950)."""
        for year in q.years:
            for instrument, _ in cited:
                if instrument and year in instrument.split("/"):
                    return instrument
        return None

    def _instrument_name(self, symbol: str | None) -> str:
        instrument = self.glossary.instrument(symbol)
        if instrument is None:
            return symbol or "any instrument"
        return f"the {instrument.name} ({instrument.symbol})"


NUMBER_TOKEN = re.compile(
    r"^(?:\d[\d.,/]*|one|two|three|four|five|six|seven|eight|nine|ten|dozens?|hundreds?|thousands?)$"
)
MONTH_STEMS = frozenset(stem(m) for m in MONTHS)
SCALE_WORDS = frozenset({"million", "millions", "billion", "thousand", "hundred", "nearly", "over", "about", "some"})


def number_near(sentence: str, terms: Sequence[str], glossary: Glossary | None = None) -> bool:
    """True when a number in the sentence counts or labels something the question names.

    "how many Member States" fits "165 Member States" but not "the two bodies will consult": the
    number must stand within a few words of a question term (stems compared by common prefix).
    """
    stems = [t for t in terms if len(t) >= 3 and t[0].isalpha() and not is_concept_term(t)]
    asked = {t for t in terms if t[0].isdigit()}  # numbers the question gives are not its answer
    concepts = {t for t in terms if is_concept_term(t)} if glossary is not None else set()
    # A word is related to a stem when they are equal, or one starts with the other and is 4 letters or more.
    exact = set(stems)
    prefixes = {t[:n] for t in stems for n in range(4, len(t) + 1)}  # words a stem starts with
    heads = tuple(t for t in stems if len(t) >= 4)  # stems a word may start with
    for token, window in number_sites(sentence):
        if token in asked:
            continue
        if any(w in exact or w in prefixes or w.startswith(heads) for w in window):
            return True
        if concepts and concepts & set(glossary.concepts(window)):  # "countries" counts "Member States"
            return True
    return False


@lru_cache(maxsize=1 << 14)
def number_sites(sentence: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Each number of the sentence that may count something (not a year, a day or a scale word), with the
    stems of up to six words on either side of it. Made once per sentence: a question asks of dozens."""
    tokens = [stem(w) for w in words(sentence)]
    sites = []
    for index, token in enumerate(tokens):
        if not NUMBER_TOKEN.match(token) or token in SCALE_WORDS:
            continue
        neighbours = tokens[max(0, index - 1) : index] + tokens[index + 1 : index + 2]
        if YEAR.fullmatch(token) or any(n in MONTH_STEMS for n in neighbours):
            continue  # a year or a day of a month is a date, not a count
        sites.append((token, tuple(tokens[max(0, index - 6) : index] + tokens[index + 1 : index + 6])))
    return tuple(sites)


def row_terms(index: TfidfIndex) -> list[frozenset[str]]:
    """The terms of each row of a built index, read back from its matrix (no text is analysed again)."""
    names = sorted(index.vocabulary, key=index.vocabulary.__getitem__)
    rows = index.matrix.tocsr()
    # Sets at once: a list of 500k lists would be freed in one long C call when build returns.
    return [
        frozenset([names[j] for j in rows.indices[rows.indptr[i] : rows.indptr[i + 1]]]) for i in range(rows.shape[0])
    ]


def proper_names(texts: Sequence[str], glossary_words: frozenset[str]) -> frozenset[str]:
    """Stems of words written with a capital inside sentences nearly every time they occur."""
    capitalised: dict[str, int] = {}
    seen: dict[str, int] = {}
    for text in texts:
        for index, match in enumerate(re.finditer(r"[^\W\d_]+", text)):
            word = match.group(0)
            lowered = word.lower()
            if index == 0 or len(word) < 3 or lowered in glossary_words or lowered in STOPWORDS:
                continue
            seen[lowered] = seen.get(lowered, 0) + 1
            if word[0].isupper() and not word.isupper():
                capitalised[lowered] = capitalised.get(lowered, 0) + 1
    return frozenset(stem(w) for w, n in capitalised.items() if n >= 0.8 * seen[w] and w not in NOT_NAMES)


def _answerable(passage: Passage) -> tuple[Sentence, ...]:
    """The units a passage can answer with: its sentences, or a caption whole (its lines say one thing)."""
    if passage.kind == "caption":
        return (Sentence(passage.text, passage.start, passage.end, False, ()),)
    return passage.sentences


def _kind(passage: Passage, sentence: Sentence) -> str:
    if passage.kind == "caption":
        return "caption"
    return "citation" if sentence.is_citation else "claim"


def _clip(text: str, max_words: int) -> str:
    """The sentence, cut at max_words with an ellipsis when longer (still a verbatim prefix)."""
    pieces = text.split(" ")
    if len(pieces) <= max_words:
        return text
    return " ".join(pieces[:max_words]).rstrip(",;:") + " …"
