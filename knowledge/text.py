"""One normaliser and tokeniser, shared by indexing and querying so both sides see the same terms."""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

from .citations import article_numbers

# Removed before tokenising: marks people paste from other apps. Zero-width characters and the soft hyphen;
# bidi marks, embeddings, overrides and isolates.
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
BIDI = "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
INVISIBLE = dict.fromkeys(map(ord, ZERO_WIDTH + BIDI))
PUNCTUATION_MAP = str.maketrans({"‘": "'", "’": "'", "‚": "'", "′": "'", "“": '"', "”": '"', "„": '"', "\u00a0": " "})
TOKEN_PATTERN = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+(?:['][^\W\d_]+)?", re.UNICODE)
# TOKEN_PATTERN for ASCII text (in it, [^\W\d_] is [a-zA-Z] and \d is [0-9]): the same tokens in half the time, as a
# build reads every text of the sources (tests/knowledge/test_build_speed.py checks the two agree).
ASCII_TOKEN_PATTERN = re.compile(r"[a-zA-Z]+(?:'[a-zA-Z]+)?|[0-9]+(?:[.,][0-9]+)*")
MAX_TERM_LENGTH = 40  # a longer run of letters is no word (and would only bloat the vocabulary)
TERM_MEMO_SIZE = 1 << 20  # tokens whose term an analyser remembers (a build's distinct words; then it starts over)
ARTICLE_PREFIX = "art§"  # article terms cannot collide with words: § never survives tokenising

# Function words that carry no topic. Question words, numbers and negations are kept on purpose:
# "first", "three", "not" and "who" matter to questions about this domain.
STOPWORDS = frozenset(
    """a an the and or but if of at by for with about against between into through during before after above below
    to from up down in out on off over under again further then once here there all any both each few more most
    other some such only own same so than too very s t can will just should now i me my myself we our ours
    ourselves you your yours yourself he him his himself she her hers herself it its itself they them their
    theirs themselves this that these those am is are was were be been being have has had having do does did
    doing would could also may might must shall im youre hes shes its were theyre ive youve weve theyve id youd
    hed shed wed theyd ill youll hell shell well theyll isnt arent wasnt werent hasnt havent hadnt doesnt dont
    didnt wont wouldnt shant shouldnt cant couldnt mustnt lets thats whos whats heres theres whens wheres whys
    hows please tell know like get got gonna wanna go going
    according pls plz thanks thx hey hi hello yo ok okay r u ur ya yeah""".split()
)

# Chat spellings of common words, folded before stopword removal so they are treated like the word.
CHAT_WORDS = {
    "wat": "what", "wats": "what", "wut": "what", "whats": "what", "wen": "when", "whn": "when",
    "wher": "where", "y": "why", "hw": "how", "abt": "about", "bc": "because", "cuz": "because",
    "govt": "government", "govts": "governments", "info": "information", "ppl": "people", "thru": "through",
    "n": "and", "w": "with", "b4": "before", "intl": "international",
}  # fmt: skip

# One stemmer per thread: a Snowball stemmer keeps the word it is working on in itself, so two threads
# (a reload's worker and the event loop) sharing one corrupt each other's stems, and lru_cache keeps them.
_stemmers = threading.local()
STEMMER_CACHE = 0  # PyStemmer's own cache off: stem's lru_cache is in front of it


@lru_cache(maxsize=1 << 18)
def stem(word: str) -> str:
    """Snowball (Porter 2) stem of a lowercase word; numbers are left alone."""
    if word[0].isdigit():
        return word
    return _stemmer().stemWord(word)


def stem_all(words: list[str]) -> list[str]:
    """stem() of each word (none empty), in one call to the stemmer for all the words that are not numbers."""
    letters = [word for word in words if not word[0].isdigit()]
    stems = iter(_stemmer().stemWords(letters))
    return [word if word[0].isdigit() else next(stems) for word in words]


def _stemmer() -> Any:
    stemmer = getattr(_stemmers, "english", None)
    if stemmer is None:
        import Stemmer  # PyStemmer: the Snowball stemmers compiled from the same sources, in C; first use only

        stemmer = _stemmers.english = Stemmer.Stemmer("english", STEMMER_CACHE)
    return stemmer


def normalize(text: str) -> str:
    """Invisible marks removed, NFKC, typographic quotes and spaces folded, case folded.

    The marks go first: one between a letter and its accent would keep NFKC from composing them.
    """
    if text.isascii():  # most questions: NFKC and both tables leave ASCII alone, and casefold is lower
        return text.lower()
    text = unicodedata.normalize("NFKC", text.translate(INVISIBLE)).translate(PUNCTUATION_MAP)
    return text.casefold()


def words(text: str) -> list[str]:
    """Lowercase word and number tokens of text, before stemming and stopword removal."""
    return TOKEN_PATTERN.findall(normalize(text))


Phrase = tuple[str, ...]


class Analysis(NamedTuple):
    terms: list[str]  # index terms: content stems, article terms, concept terms
    units: list[str]  # units of meaning: content stems, a glossary phrase as its one concept, article terms


@dataclass(frozen=True, slots=True)
class Synonyms:
    """The glossary's synonym groups: any member phrase found in a text adds the group's concept term ("≡iom")."""

    groups: tuple[tuple[str, tuple[Phrase, ...]], ...] = ()  # (concept, stemmed phrases)
    vocabulary: frozenset[str] = frozenset()  # the words of its phrases, unstemmed (for spelling correction)
    # First term -> (phrase, its concept terms), longest phrase first: derived from groups.
    starts: dict[str, tuple[tuple[Phrase, tuple[str, ...]], ...]] = field(
        default_factory=dict, repr=False, compare=False, hash=False
    )

    @classmethod
    def from_groups(cls, groups: Iterable[tuple[str, Sequence[str]]]) -> Synonyms:
        """Build from (concept name, member phrases); a phrase matches its words in order, stopwords too."""
        built = []
        vocabulary: set[str] = set()
        for concept, phrases in groups:
            stemmed = []
            for phrase in phrases:
                vocabulary.update(words(phrase))
                terms = tuple(stem(w) for w in (_fold(w) for w in words(phrase)) if w)
                if terms:
                    stemmed.append(terms)
            built.append((concept, tuple(dict.fromkeys(stemmed))))
        return cls(tuple(built), frozenset(vocabulary), _phrase_starts(built))

    def concepts(self, terms: Sequence[str]) -> list[str]:
        """Concept terms ("≡iom") for every group with a member occurring in terms (in order, with repeats)."""
        return [concept for _, _, concepts in self.matches(terms) for concept in concepts]

    def matches(self, terms: Sequence[str]) -> list[tuple[int, int, tuple[str, ...]]]:
        """(start, end, concept terms) for each glossary phrase in terms, longest phrase first at each start."""
        starts = self.starts
        found: list[tuple[int, int, tuple[str, ...]]] = []
        if not starts or starts.keys().isdisjoint(terms):  # most texts hold no phrase: one C-level test
            return found
        for start, term in enumerate(terms):
            options = starts.get(term)
            if options is None:
                continue
            for phrase, concepts in options:
                end = start + len(phrase)
                if len(phrase) == 1 or tuple(terms[start:end]) == phrase:
                    found.append((start, end, concepts))
                    break
        return found


def _phrase_starts(
    groups: Iterable[tuple[str, Sequence[Phrase]]],
) -> dict[str, tuple[tuple[Phrase, tuple[str, ...]], ...]]:
    """First term -> (phrase, concept terms), longest first: a text position is tried only against its term."""
    table: dict[Phrase, list[str]] = {}
    for concept, phrases in groups:
        for phrase in phrases:
            table.setdefault(phrase, []).append("≡" + concept)
    starts: dict[str, list[tuple[Phrase, tuple[str, ...]]]] = {}
    for phrase, concepts in table.items():
        starts.setdefault(phrase[0], []).append((phrase, tuple(dict.fromkeys(concepts))))
    return {first: tuple(sorted(options, key=lambda o: -len(o[0]))) for first, options in starts.items()}


@dataclass(frozen=True, slots=True)
class Analyzer:
    """text -> index terms: stems without stopwords, article terms, glossary concept terms.

    Picklable and pure, so an index can be built in a child process and queried with the same analyser.
    """

    synonyms: Synonyms = Synonyms()
    stopwords: frozenset[str] = STOPWORDS
    # token -> its index term ("" for a stopword or no term), and -> its stem ("" for no term): read in C by
    # __call__, which analyses every text of a build, so that a token costs a dict lookup, not bytecode.
    terms_memo: dict[str, str] = field(default_factory=dict, repr=False, compare=False, hash=False)
    stems_memo: dict[str, str] = field(default_factory=dict, repr=False, compare=False, hash=False)

    def __call__(self, text: str) -> list[str]:
        """analyze(text).terms, faster: each token's term (and stem) comes from the memos in one C loop."""
        normalized = normalize(text)
        words = TOKEN_PATTERN.findall(normalized)
        phrases = bool(self.synonyms.starts)
        for attempt in range(2):
            try:
                terms = list(filter(None, map(self.terms_memo.__getitem__, words)))
                stems = list(filter(None, map(self.stems_memo.__getitem__, words))) if phrases else []
                break
            except KeyError:  # a token not seen yet (or the memos emptied by another thread meanwhile)
                if attempt:
                    return self.analyze(text).terms
                self._remember(words)
        terms.extend(self.article_terms(normalized))
        if phrases:
            terms.extend(self.concept_terms(stems))
        return terms

    def article_terms(self, normalized: str) -> list[str]:
        """The article terms of normalised text ("art§5"), in order and with repeats."""
        return [ARTICLE_PREFIX + number for number in article_numbers(normalized)]

    def concept_terms(self, stems: Sequence[str]) -> list[str]:
        """The glossary's concept terms of a text's stems (its words' stems that make a term, in order)."""
        return [concept for _, _, concepts in self.synonyms.matches(stems) for concept in concepts]

    def word_terms(self, words: list[str]) -> tuple[list[str], list[str]]:
        """(index term, stem) of each token, as __call__ reads them ("" for a stopword's term, and for both when
        the token makes no term): a build analyses each distinct word of the sources once, with these."""
        self._remember(words)
        return list(map(self.terms_memo.__getitem__, words)), list(map(self.stems_memo.__getitem__, words))

    def _remember(self, words: list[str]) -> None:
        """Put each new token's term and stem in the memos (emptied first when they are full)."""
        terms_memo, stems_memo = self.terms_memo, self.stems_memo
        if len(terms_memo) >= TERM_MEMO_SIZE:
            terms_memo.clear()
            stems_memo.clear()
        new = list(set(words).difference(terms_memo))  # the tokens not seen yet, found in C
        folded = [_fold(word) for word in new]
        kept = [i for i, word in enumerate(folded) if word and len(word) <= MAX_TERM_LENGTH]
        stems = dict(zip(kept, stem_all([folded[i] for i in kept]), strict=True))
        stopwords = self.stopwords
        for i, word in enumerate(new):  # as _fold_and_stem: "" for a token that makes no term
            stemmed = stems.get(i, "")
            stems_memo[word] = stemmed
            terms_memo[word] = stemmed if stemmed and folded[i] not in stopwords else ""

    def query_units(self, text: str) -> list[str]:
        """The question's units of meaning: content stems, with glossary phrases replaced by their concept."""
        return self.analyze(text).units

    def analyze(self, text: str, words: list[str] | None = None) -> Analysis:
        """(index terms, units of meaning) of text from one pass: what a question needs of both.

        words: TOKEN_PATTERN's tokens of the normalised text, when the caller has them already.
        """
        normalized = normalize(text)
        return self.analyze_tokens(normalized, self.tokens(normalized, words))

    def analyze_tokens(self, normalized: str, tokens: list[tuple[str, bool]]) -> Analysis:
        """analyze() of normalised text whose tokens() the caller has already."""
        stems = [term for term, _ in tokens]
        matches = self.synonyms.matches(stems)
        articles = [ARTICLE_PREFIX + number for number in article_numbers(normalized)]
        terms = [term for term, stop in tokens if not stop]
        terms.extend(articles)
        if not matches:  # no glossary phrase: the units of meaning are the terms
            return Analysis(terms, terms.copy())
        terms.extend(concept for _, _, concepts in matches for concept in concepts)
        units: list[str] = []
        covered = 0
        for start, end, concepts in matches:
            if start < covered:
                continue
            units.extend(term for term, stop in tokens[covered:start] if not stop)
            units.extend(concepts[:1])
            covered = end
        units.extend(term for term, stop in tokens[covered:] if not stop)
        units.extend(articles)
        return Analysis(terms, units)

    def tokens(self, normalized: str, words: list[str] | None = None) -> list[tuple[str, bool]]:
        """(stem, is stopword) for every word of normalised text, chat spellings folded."""
        stopwords = self.stopwords
        if words is None:
            words = TOKEN_PATTERN.findall(normalized)
        return [(stemmed, folded in stopwords) for folded, stemmed in map(_fold_and_stem, words) if stemmed]

    def token(self, word: str) -> tuple[str, bool] | None:
        """tokens()' (stem, is stopword) of one TOKEN_PATTERN token, or None when it makes no term."""
        folded, stemmed = _fold_and_stem(word)
        return (stemmed, folded in self.stopwords) if stemmed else None


@lru_cache(maxsize=1 << 16)
def _fold_and_stem(word: str) -> tuple[str, str]:
    """(folded word, its stem) of a token; ("", "") for one that is no term (empty once folded, or too long)."""
    folded = _fold(word)
    if not folded or len(folded) > MAX_TERM_LENGTH:
        return "", ""
    return folded, stem(folded)


def _fold(word: str) -> str:
    """A chat spelling's word ("wen" -> "when"), apostrophes dropped ("iom's" -> "ioms" stems to "iom")."""
    return CHAT_WORDS.get(word, word).replace("'", "")


def is_article_term(term: str) -> bool:
    return term.startswith(ARTICLE_PREFIX)


def is_concept_term(term: str) -> bool:
    return term.startswith("≡")
