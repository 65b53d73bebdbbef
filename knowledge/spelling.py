"""Speller: folds a misspelt question word onto the nearest word the sources actually use."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

MAX_LENGTH = 40  # no word is longer; a longer run of letters is not a word to mend (and costs quadratic time)
MIN_LENGTH = 4  # shorter words have too many neighbours one edit away to correct safely
SHORT_WORD = 6  # below this length only a dropped or swapped letter is mended: "wrld", not "take" -> "make"
MEMO_SIZE = 4096
LONG_WORD = 10  # from this length two edits are allowed (keeping the first letter), below it one
# The delete table's keys: a polynomial hash of a string's code points, mod 2**64, plus its length times LENGTH_KEY.
# Two strings that share a hash only make a word a candidate that the exact check (DeleteTable.candidates) drops.
HASH_BASE = 0x9E3779B97F4A7C15  # odd: it has an inverse mod 2**64
HASH_INVERSE = pow(HASH_BASE, -1, 1 << 64)
LENGTH_KEY = 0xC2B2AE3D27D4EB4F
MASK = (1 << 64) - 1


def _is_word(word: str) -> bool:
    """A word the speller knows: letters only, of a length it mends words to."""
    return word.isalpha() and MIN_LENGTH - 1 <= len(word) <= MAX_LENGTH


def _deletes(word: str, depth: int) -> set[str]:
    found = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        found |= frontier
    return found


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance (transpositions count one), or limit + 1 when it exceeds limit."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, start=1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def key_of(text: str) -> int:
    """The delete table's key of a string: what DeleteTable.build computes for it with numpy."""
    value = 0
    power = 1
    for char in text:
        value = (value + ord(char) * power) & MASK
        power = (power * HASH_BASE) & MASK
    return (value + len(text) * LENGTH_KEY) & MASK


@dataclass(frozen=True, slots=True)
class DeleteTable:
    """Each word's keys (itself and each one-letter delete of it, hashed) in sorted order, with the word's number.

    Plain arrays: built with numpy in a fraction of a second, saved as .npy, and looked up by binary search. A
    hash shared by two strings never changes a correction: candidates are checked against the real deletes.
    """

    words: Sequence[str]
    keys: np.ndarray  # uint64, ascending
    ids: np.ndarray  # int32: the word each key belongs to

    @classmethod
    def build(cls, words: Sequence[str]) -> DeleteTable:
        by_length: dict[int, list[int]] = {}
        for number, word in enumerate(words):
            by_length.setdefault(len(word), []).append(number)
        keys: list[np.ndarray] = [np.zeros(0, np.uint64)]
        ids: list[np.ndarray] = [np.zeros(0, np.int32)]
        for length, numbers in sorted(by_length.items()):
            group = np.array([words[n] for n in numbers], f"<U{length}")
            codes = group.view(np.uint32).reshape(len(numbers), length).astype(np.uint64)
            powers = np.array([pow(HASH_BASE, k, 1 << 64) for k in range(length)], np.uint64)
            prefix = np.cumsum(codes * powers, axis=1, dtype=np.uint64)
            total = prefix[:, -1]
            keys.append(total + np.uint64(length * LENGTH_KEY & MASK))
            shorter = np.uint64((length - 1) * LENGTH_KEY & MASK)
            for i in range(length):
                before = prefix[:, i - 1] if i else np.zeros_like(total)
                keys.append(before + (total - prefix[:, i]) * np.uint64(HASH_INVERSE) + shorter)
            ids.extend([np.array(numbers, np.int32)] * (length + 1))
        key_array = np.concatenate(keys)
        order = np.argsort(key_array, kind="stable")
        return cls(words, key_array[order], np.concatenate(ids)[order])

    def candidates(self, keys: set[str]) -> set[str]:
        """The words one of whose one-letter deletes (or the word itself) is among keys."""
        wanted = np.array(sorted({key_of(k) for k in keys}), np.uint64)
        starts = np.searchsorted(self.keys, wanted, "left").tolist()
        stops = np.searchsorted(self.keys, wanted, "right").tolist()
        numbers = {
            n for start, stop in zip(starts, stops, strict=True) if stop > start for n in self.ids[start:stop].tolist()
        }
        found = (self.words[n] for n in numbers)
        return {word for word in found if not keys.isdisjoint(_deletes(word, 1))}


@dataclass(frozen=True, slots=True)
class Speller:
    """Symmetric-delete lookup over the vocabulary of the sources (SymSpell's idea, in plain Python)."""

    counts: dict[str, int]
    # The delete table (a list of at most one): made when the first unknown word arrives, or given (a saved one).
    deletes: list[DeleteTable] = field(default_factory=list, repr=False, compare=False)
    memo: dict[str, str | None] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def build(cls, words: Iterable[str]) -> Speller:
        return cls(dict(Counter(w for w in words if _is_word(w))))

    @classmethod
    def from_counts(cls, counts: Mapping[str, int], words: Iterable[str] = ()) -> Speller:
        """build() of the words counted in counts (each as often as counted, in its order), then of words."""
        known = {word: n for word, n in counts.items() if _is_word(word)}
        for word in words:
            if _is_word(word):
                known[word] = known.get(word, 0) + 1
        return cls(known)

    def table(self) -> DeleteTable:
        """Every known word and its one-letter deletes, by key; made on first use.

        One delete on this side and up to two on the typo's side find every word one edit away and the
        long words a typo has two extra letters for, at a fraction of the memory of two deletes each.
        """
        if not self.deletes:
            self.deletes.append(DeleteTable.build(list(self.counts)))  # one append: none or all of it is seen
        return self.deletes[0]

    def correct(self, word: str) -> str | None:
        """The closest known word to an unknown one (most frequent on ties), or None."""
        if word in self.counts or not MIN_LENGTH <= len(word) <= MAX_LENGTH or not word.isalpha():
            return None
        if word in self.memo:
            return self.memo[word]
        if len(self.memo) >= MEMO_SIZE:
            self.memo.clear()  # people reuse words; a bounded memo keeps repeated typos free
        self.memo[word] = corrected = self._closest(word)
        return corrected

    def _closest(self, word: str) -> str | None:
        limit = 2 if len(word) >= LONG_WORD else 1
        candidates = self.table().candidates(_deletes(word, limit)) if self.counts else set()
        best: tuple[int, int, str] | None = None
        for candidate in candidates:
            distance = edit_distance(word, candidate, limit)
            if distance > limit or (distance > 1 and candidate[0] != word[0]):
                continue
            if len(word) < SHORT_WORD and len(candidate) == len(word) and sorted(candidate) != sorted(word):
                continue
            rank = (distance, -self.counts[candidate], candidate)
            if best is None or rank < best:
                best = rank
        return best[2] if best else None
