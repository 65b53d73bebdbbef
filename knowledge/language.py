"""General English the answer path reads questions with, loaded from language.yaml (data, not code)."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from . import yamltext
from .text import normalize, stem, words

LANGUAGE_FILE = Path(__file__).with_name("language.yaml")
NOT_WORDS = re.compile(r"<[@#][!&]?\d+>|<a?:\w+:\d+>|@(?:everyone|here)\b|[^\w\s']+")


@dataclass(frozen=True, slots=True)
class Language:
    frame_terms: frozenset[str]  # stems that frame a question rather than say what it is about (and fillers)
    modifier_groups: dict[str, frozenset[str]]  # a modifier's stem -> the stems of its group
    not_names: frozenset[str]  # lower-case words that are capitalised without naming anything
    institution_words: frozenset[str]  # capitalised words of institutions' names, not of people's
    smalltalk: dict[str, tuple[tuple[str, ...], ...]]  # first word -> small-talk phrases as word tuples, longest first
    instrument_terms: frozenset[str]  # stems of the words that name a kind of instrument ("treaty")
    thanks: tuple[tuple[str, ...], ...] = ()  # phrases of thanks that close a conversation, as word tuples
    question_words: frozenset[str] = frozenset()
    follow_ups: frozenset[str] = frozenset()  # words that open a follow-up after thanks ("thanks, and ...")
    implied: tuple[tuple[str, re.Pattern[str]], ...] = ()  # (word, a pattern of questions asking for it unwritten)

    def implying(self, normalized: str) -> str:
        """The question with the words it asks for without writing them added ("what is X for?": purpose)."""
        if not self.implied:
            return normalized
        lowered = normalized.lower()
        extra = [word for word, pattern in self.implied if pattern.search(lowered)]
        return " ".join((normalized, *extra)) if extra else normalized

    def is_smalltalk(self, text: str) -> bool:
        """True when the message is made only of small-talk phrases (greetings, thanks, "are you a bot"), or opens
        with thanks and asks nothing (no question mark, no question word, no "and ..." after them)."""
        tokens = words(NOT_WORDS.sub(" ", normalize(text)).replace("'", ""))
        if "?" not in text and self._closing_thanks(tokens):
            return True
        position = 0
        while position < len(tokens):
            for phrase in self.smalltalk.get(tokens[position], ()):
                if tuple(tokens[position : position + len(phrase)]) == phrase:
                    position += len(phrase)
                    break
            else:
                return False
        return True

    def _closing_thanks(self, tokens: list[str]) -> bool:
        for phrase in self.thanks:
            if tuple(tokens[: len(phrase)]) == phrase:
                rest = tokens[len(phrase) :]
                return not (rest and rest[0] in self.follow_ups) and self.question_words.isdisjoint(rest)
        return False


def _by_first_word(phrases: set[tuple[str, ...]]) -> dict[str, tuple[tuple[str, ...], ...]]:
    table: dict[str, list[tuple[str, ...]]] = {}
    for phrase in sorted(phrases, key=lambda p: (-len(p), p)):
        table.setdefault(phrase[0], []).append(phrase)
    return {first: tuple(options) for first, options in table.items()}


@functools.lru_cache(maxsize=1)
def load_language(path: Path = LANGUAGE_FILE) -> Language:
    """The shipped language data (read once per process)."""
    data = yamltext.parse(path.read_text(encoding="utf-8"))
    groups = [frozenset(stem(w) for w in group.split()) for group in data["modifier_groups"]]
    phrases = {tuple(words(phrase.replace("'", ""))) for phrase in data["smalltalk"]}
    return Language(
        frame_terms=frozenset(stem(w) for w in (*data["frame_words"].split(), *data.get("fillers", "").split())),
        modifier_groups={term: group for group in groups for term in group},
        not_names=frozenset(data["not_names"].split()),
        institution_words=frozenset(data["institution_words"].split()),
        smalltalk=_by_first_word(phrases),
        instrument_terms=frozenset(stem(w) for w in data["instrument_words"].split()),
        thanks=tuple(sorted({tuple(words(t)) for t in data["thanks"]}, key=len, reverse=True)),
        question_words=frozenset(data["question_words"].split()),
        follow_ups=frozenset(data["follow_ups"].split()),
        implied=tuple(
            (word, re.compile(pattern)) for word, patterns in data.get("implied", {}).items() for pattern in patterns
        ),
    )
