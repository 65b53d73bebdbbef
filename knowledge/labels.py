"""How instruments and articles are named to people, the same in the CLI and on Discord."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .glossary import GlossaryFile


def instrument_label(symbol: str, glossary: GlossaryFile) -> str:
    """ "2001 Pact (A/1/2)" when the glossary knows the symbol, else the symbol."""
    instrument = glossary.instrument(symbol)
    return f"{instrument.name} ({symbol})" if instrument is not None else symbol


def articles_label(articles: Sequence[str]) -> str:
    """("art. 4", "art. 5") -> "arts. 4, 5"; ("art. 11",) -> "art. 11"; () -> ""."""
    numbers = [label.removeprefix("art.").strip() for label in articles]
    if len(numbers) == 1:
        return f"art. {numbers[0]}"
    return f"arts. {', '.join(numbers)}" if numbers else ""


def citation_label(symbol: str | None, articles: Sequence[str], glossary: GlossaryFile) -> str:
    """ "2001 Pact (A/1/2) art. 11"; the articles alone when no instrument is known."""
    name = instrument_label(symbol, glossary) if symbol else ""
    return f"{name} {articles_label(articles)}".strip()
