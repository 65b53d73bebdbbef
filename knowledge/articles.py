"""Retrieve, for questions that name an article: the claims citing it, best first by the question's other terms."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from .citations import Pinpoint
from .decide import Reason, reason
from .labels import article_label, instrument_phrase
from .question import Question
from .text import is_article_term

if TYPE_CHECKING:
    from .retrieval import Retriever, Unit

SENTENCE_WEIGHT = 0.45
PASSAGE_WEIGHT = 0.25
DIRECT_BONUS = 0.1  # the claim right before its citation is what the article is cited for
EXACT_BONUS = 0.05  # ... and a sentence citing several articles is less about any one of them


class CitingRows(NamedTuple):
    rows: np.ndarray  # the claims citing an article, ascending (int32)
    counts: np.ndarray  # how many times each cites it (int32)


@dataclass(frozen=True, slots=True)
class ArticleIndex:
    """Which claims cite which article: (instrument, number) -> rows and how often each row cites it."""

    pairs: dict[Pinpoint, CitingRows]
    cited_directly: np.ndarray  # per unit: the claim right before its citation
    count: np.ndarray  # per unit: how many (instrument, article) pairs it rests on

    @classmethod
    def build(cls, units: Sequence[Unit]) -> ArticleIndex:
        pairs: dict[Pinpoint, dict[int, int]] = {}
        for row, unit in enumerate(units):
            if unit.kind == "claim":
                for pair in unit.sentence.articles:
                    counts = pairs.setdefault(pair, {})
                    counts[row] = counts.get(row, 0) + 1
        return cls(
            {
                pair: CitingRows(np.array(list(counts), np.int32), np.array(list(counts.values()), np.int32))
                for pair, counts in pairs.items()
            },
            np.array([u.sentence.cited_directly for u in units], bool),
            np.array([len(u.sentence.articles) for u in units], np.int32),
        )

    def cited(self, numbers: Iterable[str]) -> list[Pinpoint]:
        """The articles cited with these numbers (of any instrument), by the first claim citing each."""
        wanted = set(numbers)
        found = [pair for pair in self.pairs if pair.number in wanted]
        return sorted(found, key=lambda pair: int(self.pairs[pair].rows[0]))

    def rows(self, instrument: str | None, numbers: Iterable[str]) -> CitingRows:
        """The claims citing any of these numbers of instrument (ascending), and how many of them each cites."""
        found = [self.pairs[pair] for pair in (Pinpoint(instrument, n) for n in set(numbers)) if pair in self.pairs]
        if not found:
            return CitingRows(np.zeros(0, np.int32), np.zeros(0, np.int32))
        if len(found) == 1:
            return found[0]
        rows, inverse = np.unique(np.concatenate([f.rows for f in found]), return_inverse=True)
        counts = np.bincount(inverse, weights=np.concatenate([f.counts for f in found])).astype(np.int32)
        return CitingRows(rows, counts)


class ArticleChoice(NamedTuple):
    ranked: list[int]  # every claim citing an article asked for (of the instrument meant), best first
    scores: list[float]  # their scores, by the question's other terms and how directly they cite it
    covering: list[int]  # the best one, then any needed for asked articles it does not cite
    instrument: str | None
    asked: frozenset[str]  # the article numbers asked for


def choose_article_claims(r: Retriever, q: Question, terms: list[str]) -> ArticleChoice | Reason:
    """The claims citing the articles asked for (of the instrument meant), or why there are none."""
    wanted = set(q.articles)
    cited = r.citations.cited(wanted)
    instrument = q.instrument or _instrument_named_by_year(q, cited)
    if instrument is None:
        # No instrument named: "the Agreement" is the default one, if the sources cite it for N.
        default = r.glossary.default_instrument
        instruments = {pair.instrument for pair in cited}
        instrument = default if default in instruments or len(instruments) != 1 else instruments.pop()
    rows, exact = r.citations.rows(instrument, wanted)
    if not rows.size:
        names = ", ".join(map(article_label, q.articles))
        return reason("article_not_cited", articles=names, instrument=instrument_phrase(instrument, r.glossary))
    terms = [t for t in terms if not is_article_term(t)]
    # Only the citing sentences and their passages are scored: no pass over the whole knowledge base.
    base = SENTENCE_WEIGHT * r.unit_index.scores_of(terms, rows) + PASSAGE_WEIGHT * (
        r.passage_index.scores_of(terms, r.sentences.passage[rows])
    )
    direct = np.where(r.citations.cited_directly[rows], DIRECT_BONUS, 0.0)
    scores = base.astype(np.float64) + direct + EXACT_BONUS * exact / np.maximum(1, r.citations.count[rows])
    order = np.lexsort((rows, -scores))
    ranked = rows[order].tolist()
    chosen = [ranked[0]]
    missing = wanted - {n for i, n in r.units[ranked[0]].sentence.articles if i == instrument}
    for row in ranked[1:]:
        if not missing:
            break
        articles = r.units[row].sentence.articles
        if missing & {n for i, n in articles if i == instrument}:
            chosen.append(row)
            missing -= {n for _, n in articles}
    return ArticleChoice(ranked, scores[order].tolist(), chosen, instrument, frozenset(wanted))


def _instrument_named_by_year(q: Question, cited: Sequence[Pinpoint]) -> str | None:
    """An instrument the glossary does not know, named by the year in its symbol ("B/1950/7" for 1950)."""
    for year in q.years:
        for instrument, _ in cited:
            if instrument and year in instrument.split("/"):
                return instrument
    return None
