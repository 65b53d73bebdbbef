"""How instruments and articles are named to people, the same in the CLI, on Discord and in --json.

Citations and mentions carry article numbers ("11") and document symbols ("A/1/2") as data; the words around
them ("art. 11", "arts. 4, 5", "2001 Pact (A/1/2)") are made here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .glossary import GlossaryFile


def article_label(number: str) -> str:
    """ "11" -> "art. 11"."""
    return f"art. {number}"


def instrument_label(symbol: str, glossary: GlossaryFile) -> str:
    """ "2001 Pact (A/1/2)" when the glossary knows the symbol, else the symbol."""
    instrument = glossary.instrument(symbol)
    return f"{instrument.name} ({symbol})" if instrument is not None else symbol


def instrument_phrase(symbol: str | None, glossary: GlossaryFile) -> str:
    """ "the 2001 Pact (A/1/2)" in a sentence; the bare symbol when the glossary does not know it."""
    instrument = glossary.instrument(symbol)
    if instrument is None:
        return symbol or "any instrument"
    return f"the {instrument_label(instrument.symbol, glossary)}"


def articles_label(numbers: Sequence[str]) -> str:
    """("4", "5") -> "arts. 4, 5"; ("11",) -> "art. 11"; () -> ""."""
    if len(numbers) == 1:
        return article_label(numbers[0])
    return f"arts. {', '.join(numbers)}" if numbers else ""


def citation_label(symbol: str | None, numbers: Sequence[str], glossary: GlossaryFile) -> str:
    """ "2001 Pact (A/1/2) art. 11"; the articles alone when no instrument is known."""
    name = instrument_label(symbol, glossary) if symbol else ""
    return f"{name} {articles_label(numbers)}".strip()
