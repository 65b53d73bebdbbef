"""Answer: what the knowledge base says to a question, extractive and cited, or an honest abstention."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .chunking import Passage


@dataclass(frozen=True, slots=True)
class Citation:
    """Where one answer sentence comes from: the source document and the Agreement articles it rests on."""

    source: str  # document id
    title: str
    section: str | None
    url: str | None
    publisher: str | None
    passage_id: str
    articles: tuple[str, ...] = ()  # ("art. 11",)
    instrument: str | None = None  # "A/70/976", "E/1996/90", another UN document symbol, or None
    others: tuple[str, ...] = ()  # non-instrument authorities cited, e.g. "UN News Centre: IOM"

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "title": self.title,
            "section": self.section,
            "url": self.url,
            "articles": list(self.articles),
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


@dataclass(frozen=True, slots=True)
class Answer:
    question: str
    parts: tuple[AnswerPart, ...]
    abstained: bool
    score: float
    hits: tuple[Hit, ...] = ()  # nearest passages, best first; present also when abstaining
    reason: str | None = None  # why it abstained, for logs and the "not in my sources" reply
    meta: dict[str, Any] = field(default_factory=dict, compare=False)

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
        }
