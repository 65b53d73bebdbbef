"""Speller: folds a misspelt question word onto the nearest word the sources actually use."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

MAX_LENGTH = 40  # no word is longer; a longer run of letters is not a word to mend (and costs quadratic time)
MIN_LENGTH = 4  # shorter words have too many neighbours one edit away to correct safely
SHORT_WORD = 6  # below this length only a dropped or swapped letter is mended: "wrld", not "take" -> "make"
MEMO_SIZE = 4096
LONG_WORD = 10  # from this length two edits are allowed (keeping the first letter), below it one


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


@dataclass(frozen=True, slots=True)
class Speller:
    """Symmetric-delete lookup over the vocabulary of the sources (SymSpell's idea, in plain Python)."""

    counts: dict[str, int]
    deletes: dict[tuple[int, str], dict[str, list[str]]] = field(
        default_factory=dict, repr=False, compare=False
    )  # built on first use
    memo: dict[str, str | None] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def build(cls, words: Iterable[str]) -> Speller:
        return cls(dict(Counter(w for w in words if w.isalpha() and MIN_LENGTH - 1 <= len(w) <= MAX_LENGTH)))

    def _table(self) -> dict[tuple[int, str], dict[str, list[str]]]:
        """word-with-one-letter-deleted -> words; made when the first unknown word arrives, not at load.

        One delete on this side and up to two on the typo's side find every word one edit away and the
        long words a typo has two extra letters for, at a fraction of the memory of two deletes each.
        """
        if not self.deletes and self.counts:
            # Sharded by (length, first letter): no one dict grows to millions of keys, whose every resize (and a
            # final copy) would be one long C call holding the GIL.
            table: dict[tuple[int, str], dict[str, list[str]]] = {}
            for word in self.counts:
                for key in _deletes(word, 1):
                    table.setdefault((len(key), key[:1]), {}).setdefault(key, []).append(word)
            self.deletes.update(table)  # one C-level update of a few hundred shards: none or all of it is seen
        return self.deletes

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
        table = self._table()
        candidates = {c for key in _deletes(word, limit) for c in table.get((len(key), key[:1]), {}).get(key, ())}
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
