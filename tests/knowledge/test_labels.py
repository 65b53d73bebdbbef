"""Article numbers and document symbols become words only in knowledge.labels, the same everywhere."""

from __future__ import annotations

import pytest

from knowledge.glossary import EMPTY_GLOSSARY, GlossaryFile, Instrument
from knowledge.labels import article_label, articles_label, citation_label, instrument_label, instrument_phrase
from knowledge.text import Synonyms

PACT = Instrument("A/1/2", "2001 Pact", 2001, ("pact",))
GLOSSARY = GlossaryFile(Synonyms(), (PACT,), "A/1/2", "")


@pytest.mark.parametrize(("numbers", "label"), [((), ""), (("11",), "art. 11"), (("4", "5"), "arts. 4, 5")])
def test_articles_label(numbers: tuple[str, ...], label: str) -> None:
    assert articles_label(numbers) == label
    assert article_label("11") == "art. 11"


def test_instrument_and_citation_labels() -> None:
    assert instrument_label("A/1/2", GLOSSARY) == "2001 Pact (A/1/2)"
    assert instrument_label("B/9/9", GLOSSARY) == "B/9/9"
    assert citation_label("A/1/2", ("4", "5"), GLOSSARY) == "2001 Pact (A/1/2) arts. 4, 5"
    assert citation_label(None, ("4",), EMPTY_GLOSSARY) == "art. 4"
    assert instrument_phrase("A/1/2", GLOSSARY) == "the 2001 Pact (A/1/2)"
    assert instrument_phrase(None, GLOSSARY) == "any instrument"
