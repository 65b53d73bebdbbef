"""What the retriever indexes: the rows' texts of a set of passages, and the three TF-IDF indexes built from them.

Apart from retrieval.py so that a build in a child process (knowledge.build) indexes the texts it is given
without making a Retriever.
"""

from __future__ import annotations

from collections.abc import Sequence

from .chunking import Passage, Sentence
from .features import char_grams
from .index import TfidfIndex
from .text import Analyzer, words

INDEX_NAMES = ("units", "passages", "chars")


def answerable(passage: Passage) -> tuple[Sentence, ...]:
    """The units a passage can answer with: its sentences, or a caption whole (its lines say one thing)."""
    if passage.kind == "caption":
        return (Sentence(passage.text, passage.start, passage.end, False, ()),)
    return passage.sentences


def index_texts(passages: Sequence[Passage]) -> tuple[list[str], list[str]]:
    """The texts of the units' rows and of the passages' rows (passages by their claims only: citation
    sentences are provenance, not content)."""
    units = [sentence.text for passage in passages for sentence in answerable(passage)]
    return units, [" ".join(s.text for s in p.claims) or p.text for p in passages]


def build_indexes(
    unit_texts: Sequence[str], passage_texts: Sequence[str], analyzer: Analyzer
) -> tuple[dict[str, TfidfIndex], list[list[str]], list[list[str]]]:
    """The indexes a Retriever is built with (INDEX_NAMES), and the terms of each unit and passage.

    Each text is analysed once: its terms feed its index row and its coverage set. By a copy of analyzer, whose
    memos of every token of the sources go when the build is done (not kept by the knowledge base's analyser).
    """
    analyzer = Analyzer(analyzer.synonyms, analyzer.stopwords)
    unit_terms = [analyzer(text) for text in unit_texts]
    passage_terms = [analyzer(text) for text in passage_texts]
    indexes = {
        "units": TfidfIndex.from_terms(unit_terms),
        "passages": TfidfIndex.from_terms(passage_terms),
        "chars": TfidfIndex.from_terms([char_grams(words(text), analyzer.stopwords) for text in unit_texts]),
    }
    return indexes, unit_terms, passage_terms
