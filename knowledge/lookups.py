"""CitedArticles: the (instrument, article) pairs the sources cite, indexed once for lookups by prefix.

Built with the knowledge base (off the event loop); a lookup costs O(instruments x log n + its output), never a pass
over every cited article: what `/article` and its autocomplete need per keystroke at any corpus size.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from .glossary import GlossaryFile
from .labels import instrument_label


class CitedArticle(NamedTuple):
    instrument: str | None
    number: str


class _Numbers:
    """One instrument's cited numbers: in citation order, and bucketed by digit count, each bucket sorted."""

    def __init__(self, numbers: list[str]) -> None:
        self.ordered = numbers  # sorted by (int(digits), number), as KnowledgeBase.cited_articles
        buckets: dict[int, list[tuple[str, int]]] = {}
        for rank, number in enumerate(numbers):
            buckets.setdefault(_digits(number), []).append((number.lower(), rank))
        # Within one digit count, the text order of "\d+[a-z]*" numbers is their numeric order.
        self.buckets = [sorted(bucket) for _, bucket in sorted(buckets.items())]

    def starting_with(self, typed: str, limit: int) -> list[str]:
        """The first limit numbers (in citation order) that start with typed (lower case)."""
        if not typed:
            return self.ordered[:limit]
        ranks: list[int] = []
        for bucket in self.buckets:
            start = bisect.bisect_left(bucket, (typed, -1))
            for key, rank in bucket[start : start + limit]:
                if not key.startswith(typed):
                    break
                ranks.append(rank)
        return [self.ordered[rank] for rank in sorted(ranks)[:limit]]


def _digits(number: str) -> int:
    return sum(ch.isdigit() for ch in number)


class CitedArticles:
    """The cited (instrument, article) pairs, sorted by instrument and number, with each instrument's label."""

    def __init__(self, pairs: Iterable[tuple[str | None, str]], glossary: GlossaryFile) -> None:
        self.pairs = tuple(CitedArticle(*pair) for pair in pairs)  # sorted already (KnowledgeBase.cited_articles)
        by_instrument: dict[str | None, list[str]] = {}
        for symbol, number in self.pairs:
            by_instrument.setdefault(symbol, []).append(number)
        self._numbers = {symbol: _Numbers(numbers) for symbol, numbers in by_instrument.items()}
        self.symbols = tuple(symbol for symbol in by_instrument if symbol)  # the instruments cited, in order
        self._labels = {symbol: instrument_label(symbol, glossary) for symbol in self.symbols}
        self._by_casefold = {symbol.casefold(): symbol for symbol in reversed(self.symbols)}  # the first one wins

    def __len__(self) -> int:
        return len(self.pairs)

    def __iter__(self) -> Iterator[CitedArticle]:
        return iter(self.pairs)

    def label(self, symbol: str) -> str:
        """ "2001 Pact (A/1/2)": the glossary's name and the symbol, or the symbol alone."""
        return self._labels[symbol]

    def symbol(self, name: str) -> str | None:
        """The cited instrument whose symbol is name, ignoring case; None when none is."""
        return self._by_casefold.get(name.casefold())

    def numbers(self, symbol: str | None) -> list[str]:
        """The article numbers cited of symbol (None: those cited without an instrument), in order."""
        numbers = self._numbers.get(symbol)
        return list(numbers.ordered) if numbers is not None else []

    def instruments(self) -> list[str | None]:
        """Every instrument cited, None for articles cited without one, in order."""
        return list(self._numbers)

    def starting_with(self, typed: str, instrument: str | None = None, *, limit: int = 25) -> list[CitedArticle]:
        """The first limit pairs, in order, whose number starts with typed (any case); of instrument when given."""
        typed = typed.lower()
        symbols = [instrument] if instrument else list(self._numbers)
        found: list[CitedArticle] = []
        for symbol in symbols:
            numbers = self._numbers.get(symbol)
            if numbers is None or len(found) >= limit:
                continue
            found += (CitedArticle(symbol, n) for n in numbers.starting_with(typed, limit - len(found)))
        return found
