"""Answer: what the knowledge base says to a question, extractive and cited, or an honest abstention."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .chunking import Passage
from .labels import article_label


@dataclass(frozen=True, slots=True)
class Citation:
    """Where one answer sentence comes from: the source document and the Agreement articles it rests on."""

    source: str  # document id
    title: str
    section: str | None
    url: str | None
    publisher: str | None
    passage_id: str
    articles: tuple[str, ...] = ()  # article numbers of the instrument: ("11",)
    instrument: str | None = None  # a document symbol ("A/1/2", "C/12/3") or None
    others: tuple[str, ...] = ()  # non-instrument authorities cited, e.g. "Harbour News: Board"

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "title": self.title,
            "section": self.section,
            "url": self.url,
            "articles": [article_label(number) for number in self.articles],
            "instrument": self.instrument,
            "passage_id": self.passage_id,
        }


@dataclass(frozen=True, slots=True)
class Hit:
    """A passage retrieved for a query, with its score (higher is better)."""

    passage: Passage
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.passage.id,
            "text": self.passage.text,
            "score": round(float(self.score), 4),
            "source": self.passage.doc_id,
            "section": self.passage.section,
        }


@dataclass(frozen=True, slots=True)
class AnswerPart:
    """One verbatim sentence of an answer with its own citations."""

    text: str
    passage: Passage
    citations: tuple[Citation, ...]
    confidence: float = 0.0  # the selector's probability that this sentence answers its part

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "citations": [c.to_dict() for c in self.citations], "passage_id": self.passage.id}


@dataclass(frozen=True, slots=True)
class Answer:
    question: str
    parts: tuple[AnswerPart, ...]
    abstained: bool
    score: float  # the retriever's score of the best answer sentence (0 when abstaining)
    hits: tuple[Hit, ...] = ()  # nearest passages, best first; present also when abstaining
    reason: str | None = None  # why it abstained (or what it could not answer), for the "not in my sources" reply
    reason_code: str | None = None  # the same as a key of decide.REASONS ("low_confidence", "smalltalk", ...)
    confidence: float = 0.0  # the selector's probability that the answer is right (the lowest of its parts')
    alternatives: tuple[AnswerPart, ...] = ()  # "also relevant": runner-up sentences of a middling answer
    unanswered: tuple[str, ...] = ()  # parts of a several-part question that the sources do not answer

    @property
    def smalltalk(self) -> bool:
        """Not a question for the sources (a greeting, thanks, or off the topic): answer with a how-to line."""
        return self.reason_code in ("smalltalk", "off_topic")

    @property
    def text(self) -> str | None:
        """The answer as one string of verbatim sentences, or None when abstaining."""
        if self.abstained or not self.parts:
            return None
        return " ".join(part.text for part in self.parts)

    @property
    def citations(self) -> tuple[Citation, ...]:
        seen: dict[tuple[Any, ...], Citation] = {}
        for part in self.parts:
            for citation in part.citations:
                seen.setdefault((citation.passage_id, citation.instrument, citation.articles), citation)
        return tuple(seen.values())

    def to_dict(self) -> dict[str, Any]:
        """The --json contract."""
        return {
            "question": self.question,
            "answer": self.text,
            "abstained": self.abstained,
            "score": round(float(self.score), 4),
            "citations": [] if self.abstained else [c.to_dict() for c in self.citations],
            "passages": [hit.to_dict() for hit in self.hits[:5]],
            "confidence": round(float(self.confidence), 4),
            "reason": self.reason_code,
            "reason_text": self.reason,
            "alternatives": [part.to_dict() for part in self.alternatives],
            "unanswered": list(self.unanswered),
        }
