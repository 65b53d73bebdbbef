"""Facts a sentence states, worked out once at build: dates, numbers, names of people, definitions, and the
numbers of a sentence next to what they count; and which words of the sources are proper names."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache

import numpy as np

from .question import (
    MONTH,
    MONTHS,
    NUMBER_WORD_OR_DIGITS,
    WANTS_ARTICLE,
    WANTS_DATE,
    WANTS_DEFINITION,
    WANTS_NAME,
    WANTS_NUMBER,
    WANTS_PERSON,
    YEAR,
)
from .text import STOPWORDS, Synonyms, is_concept_term, stem, words

DEFINITION = re.compile(r"\b(?:is|are) (?:defined as|an?|the) |\brefers? to\b|\bmeans\b")
CAPITALISED = r"[A-Z][a-z]+(?:-[a-z]+)?"
LETTERS = re.compile(r"[^\W\d_]+")


def person_name_pattern(not_people: Iterable[str]) -> re.Pattern[str]:
    """A person's name ("Ada Lovelace"): two or more capitalised words, none of them one that names an
    institution, a place or an event (language.yaml's institution words and the glossary's not_people)."""
    words_ = "|".join(sorted(map(re.escape, set(not_people)), key=len, reverse=True)) or "(?!)"
    word = rf"(?!(?:{words_})\b){CAPITALISED}"
    return re.compile(rf"(?<![.\w]){word}(?:[ ]{word})+")


CAPITALISED_RUN = re.compile(r"\b(?:[A-Z][a-z]+(?:[- ][A-Z][a-z]+)+)\b")
CAPITALISED_PAIR = re.compile(r"[a-z][- ][A-Z]")  # in every match of CAPITALISED_RUN and of person_name_pattern


def fact_terms_of(text: str, person_name: re.Pattern[str]) -> dict[str, frozenset[str]]:
    """The stems that state each kind of fact in a sentence: its dates, numbers, capitalised names, people."""
    lowered = text.lower()

    def stems(pieces: Iterable[str]) -> frozenset[str]:
        return frozenset(stem(w) for piece in pieces for w in words(piece))

    return {
        WANTS_DATE: stems([*YEAR.findall(lowered), *MONTH.findall(lowered)]),
        # finditer, not findall: the pattern's word group would make findall return "" for every digit run.
        WANTS_NUMBER: stems(m.group(0) for m in NUMBER_WORD_OR_DIGITS.finditer(lowered)),
        WANTS_PERSON: stems(CAPITALISED_RUN.findall(text)),
        WANTS_NAME: stems(m.group(0) for m in person_name.finditer(text)),
    }


def facts_of(
    texts: Sequence[str], kinds: Sequence[str], cite_articles: Sequence[bool], person_name: re.Pattern[str]
) -> list[frozenset[str]]:
    """The kinds of fact each sentence carries (its kind "claim", "citation" or "caption", and whether it cites
    articles given): a date, a number, an article, a person, a definition, a name (person_name_pattern's).

    Each pattern runs once over all the sentences joined by newlines: none reads a newline, and each reads one
    (a boundary) as it reads a sentence's start or end, so a sentence holds a match of the whole exactly when it
    holds one of its own. 56k sentences: 6 C calls, not 340k.
    """
    lowered = [text.lower() for text in texts]  # each on its own, as a question's are lowered
    dates = _holding(YEAR, lowered) | _holding(MONTH, lowered)
    numbers = _holding(NUMBER_WORD_OR_DIGITS, lowered)
    definitions = _holding(DEFINITION, texts)
    # Two capitalised words hold a small letter, then a space or hyphen, then a capital: only the sentences that
    # do are read for them (these patterns try every position of a sentence, slowly).
    pairs = sorted(_holding(CAPITALISED_PAIR, texts))
    people = {pairs[n] for n in _holding(CAPITALISED_RUN, [texts[n] for n in pairs])}
    names = {pairs[n] for n in _holding(person_name, [texts[n] for n in pairs])}
    facts = []
    for n, (kind, cites) in enumerate(zip(kinds, cite_articles, strict=True)):
        found = set()
        if n in dates:
            found.add(WANTS_DATE)
        if n in numbers:
            found.add(WANTS_NUMBER)
        if kind == "claim" and cites:
            found.add(WANTS_ARTICLE)
        if n in people:
            found.add(WANTS_PERSON)
        if n in definitions:
            found.add(WANTS_DEFINITION)
        if kind != "citation" and n in names:
            found.add(WANTS_NAME)
        facts.append(frozenset(found))
    return facts


def _holding(pattern: re.Pattern[str], texts: Sequence[str]) -> set[int]:
    """The positions of the texts that hold a match of pattern (which never reads a newline)."""
    ends = np.cumsum([len(text) + 1 for text in texts])  # where each text's newline ends
    starts = np.array([m.start() for m in pattern.finditer("\n".join(texts))], np.int64)
    return set(np.searchsorted(ends, starts, "right").tolist())


NUMBER_TOKEN = re.compile(
    r"^(?:\d[\d.,/]*|one|two|three|four|five|six|seven|eight|nine|ten|dozens?|hundreds?|thousands?)$"
)
MONTH_STEMS = frozenset(stem(m) for m in MONTHS)
SCALE_WORDS = frozenset({"million", "millions", "billion", "thousand", "hundred", "nearly", "over", "about", "some"})


def number_near(sentence: str, terms: Sequence[str], synonyms: Synonyms | None = None) -> bool:
    """True when a number in the sentence counts or labels something the question names.

    "how many Member States" fits "165 Member States" but not "the two bodies will consult": the
    number must stand within a few words of a question term (stems compared by common prefix).
    """
    stems = [t for t in terms if len(t) >= 3 and t[0].isalpha() and not is_concept_term(t)]
    asked = {t for t in terms if t[0].isdigit()}  # numbers the question gives are not its answer
    concepts = {t for t in terms if is_concept_term(t)} if synonyms is not None else set()
    # A word is related to a stem when they are equal, or one starts with the other and is 4 letters or more.
    exact = set(stems)
    prefixes = {t[:n] for t in stems for n in range(4, len(t) + 1)}  # words a stem starts with
    heads = tuple(t for t in stems if len(t) >= 4)  # stems a word may start with
    for token, window in number_sites(sentence):
        if token in asked:
            continue
        if any(w in exact or w in prefixes or w.startswith(heads) for w in window):
            return True
        if concepts and concepts & set(synonyms.concepts(window)):  # "countries" counts "Member States"
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
        after = index + 1
        while after < len(tokens) and tokens[after] in SCALE_WORDS:  # "five million people": what it counts follows
            after += 1
        sites.append((token, tuple(tokens[max(0, index - 6) : index] + tokens[after : after + 6])))
    return tuple(sites)


def proper_names(texts: Sequence[str], known_words: frozenset[str]) -> frozenset[str]:
    """Stems of words written with a capital inside sentences nearly every time they occur, known_words (the
    glossary's, and language.yaml's capitalised non-names) aside."""
    # Each spelling's occurrences, a sentence's first word aside, counted in C; then each spelling looked at once.
    spellings = Counter(itertools.chain.from_iterable(LETTERS.findall(text)[1:] for text in texts))
    capitalised: dict[str, int] = {}
    seen: dict[str, int] = {}
    for word, count in spellings.items():
        lowered = word.lower()
        if len(word) < 3 or lowered in known_words or lowered in STOPWORDS:
            continue
        seen[lowered] = seen.get(lowered, 0) + count
        if word[0].isupper() and not word.isupper():
            capitalised[lowered] = capitalised.get(lowered, 0) + count
    return frozenset(stem(w) for w, n in capitalised.items() if n >= 0.8 * seen[w])
