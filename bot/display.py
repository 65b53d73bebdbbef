"""AnswerDisplay: what is shown of an answer, built once from an Answer and rendered by the CLI and the embeds.

Plain data, no formatting and no discord: the answer's sentences, its cited sections (with their instruments and
articles merged per section), what it leaves unanswered, its alternatives, its confidence, and, when it abstains,
the distinct sections of the nearest passages. ``bot.cli_text`` turns it into text, ``bot.render`` into embeds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from knowledge import Answer, Citation, Hit

if TYPE_CHECKING:
    from knowledge import KnowledgeBase


@dataclass(frozen=True, slots=True)
class CitedSection:
    """One section of one source that an answer cites, with every citation of it."""

    title: str
    publisher: str | None
    section: str | None
    url: str | None
    citations: tuple[Citation, ...]

    @property
    def articles(self) -> list[tuple[str | None, list[str]]]:
        """(instrument, its articles) cited here, each instrument once, articles in order without repeats."""
        merged: dict[str | None, dict[str, None]] = {}
        for citation in self.citations:
            if citation.instrument or citation.articles:
                merged.setdefault(citation.instrument, {}).update(dict.fromkeys(citation.articles))
        return [(symbol, list(numbers)) for symbol, numbers in merged.items()]

    @property
    def others(self) -> list[str]:
        """The other authorities cited here (not instruments), in order without repeats."""
        return list(dict.fromkeys(other for c in self.citations for other in c.others))


@dataclass(frozen=True, slots=True)
class NearSection:
    """A section near the question (of a passage retrieved when abstaining), with its best score."""

    doc_id: str
    title: str
    publisher: str | None
    url: str | None
    section: str | None
    score: float


@dataclass(frozen=True, slots=True)
class Alternative:
    text: str
    citations: tuple[Citation, ...]
    sections: tuple[CitedSection, ...]


@dataclass(frozen=True, slots=True)
class AnswerDisplay:
    question: str
    answered: bool  # False: an honest "not in my sources" (abstained, or no sentence to quote)
    lines: tuple[str, ...]  # the answer's verbatim sentences, in order
    citations: tuple[Citation, ...]  # every citation of the answer, without repeats
    sections: tuple[CitedSection, ...]  # the same, grouped by cited section
    unanswered: tuple[str, ...]  # parts of the question the sources do not answer
    alternatives: tuple[Alternative, ...]
    confidence: float
    reason: str | None  # why it abstained, in words
    reason_code: str | None
    nearest: tuple[NearSection, ...]  # distinct (document, section) of the retrieved passages, best first


def cited_sections(citations: Iterable[Citation]) -> tuple[CitedSection, ...]:
    """Citations grouped by (source, section), in order of first citation."""
    groups: dict[tuple[str, str | None], list[Citation]] = {}
    for citation in citations:
        groups.setdefault((citation.source, citation.section), []).append(citation)
    return tuple(
        CitedSection(group[0].title, group[0].publisher, group[0].section, group[0].url, tuple(group))
        for group in groups.values()
    )


def near_sections(hits: Iterable[Hit], kb: KnowledgeBase) -> tuple[NearSection, ...]:
    """The distinct (document, section) of hits, best first."""
    near: dict[tuple[str, str | None], NearSection] = {}
    for hit in hits:
        key = (hit.passage.doc_id, hit.passage.section)
        if key not in near:
            document = kb.document(hit.passage.doc_id)
            near[key] = NearSection(
                document.id, document.title, document.publisher, document.url, hit.passage.section, hit.score
            )
    return tuple(near.values())


def display(answer: Answer, kb: KnowledgeBase) -> AnswerDisplay:
    """What to show of answer."""
    answered = not answer.abstained and bool(answer.parts)
    citations = answer.citations if answered else ()
    return AnswerDisplay(
        question=answer.question,
        answered=answered,
        lines=tuple(part.text for part in answer.parts) if answered else (),
        citations=citations,
        sections=cited_sections(citations),
        unanswered=answer.unanswered,
        alternatives=tuple(Alternative(a.text, a.citations, cited_sections(a.citations)) for a in answer.alternatives),
        confidence=answer.confidence,
        reason=answer.reason,
        reason_code=answer.reason_code,
        nearest=() if answered else near_sections(answer.hits, kb),
    )
