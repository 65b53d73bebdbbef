"""What changed between two versions of a knowledge base, by name: documents, sections, cited articles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .citations import Pinpoint
from .labels import article_label, instrument_label
from .tables import passage_fields

if TYPE_CHECKING:
    from .base import KnowledgeBase

NAMES_SHOWN = 10  # per list in a summary; the counts are always whole


@dataclass(frozen=True, slots=True)
class ArticleChange:
    instrument: str | None
    number: str
    before: int  # citing sentences in the old version
    after: int

    def label(self, knowledge: KnowledgeBase) -> str:
        name = instrument_label(self.instrument, knowledge.glossary) if self.instrument else "no instrument"
        return f"{article_label(self.number)} of {name}: {self.before} -> {self.after} citing sentences"


@dataclass(frozen=True, slots=True)
class Changes:
    """Named differences from an old version to a new one."""

    documents_added: tuple[str, ...] = ()
    documents_removed: tuple[str, ...] = ()
    documents_changed: tuple[str, ...] = ()
    sections_added: tuple[str, ...] = ()  # "doc id § section"
    sections_removed: tuple[str, ...] = ()
    sections_changed: tuple[str, ...] = ()
    articles: tuple[ArticleChange, ...] = ()
    passages_added: int = 0
    passages_removed: int = 0
    passages_changed: int = 0

    @property
    def empty(self) -> bool:
        return not (
            self.documents_added
            or self.documents_removed
            or self.documents_changed
            or self.sections_added
            or self.sections_removed
            or self.sections_changed
            or self.articles
            or self.passages_added
            or self.passages_removed
            or self.passages_changed
        )

    def lines(self, knowledge: KnowledgeBase) -> list[str]:
        """One line per kind of change, naming what changed (the first NAMES_SHOWN of each)."""
        out = []
        for label, names in (
            ("Documents added", self.documents_added),
            ("Documents removed", self.documents_removed),
            ("Documents changed", self.documents_changed),
            ("Sections added", self.sections_added),
            ("Sections removed", self.sections_removed),
            ("Sections changed", self.sections_changed),
        ):
            if names:
                out.append(f"{label}: {_names(names)}")
        gained = [a for a in self.articles if a.after > a.before]
        lost = [a for a in self.articles if a.after < a.before]
        if gained:
            out.append(f"Articles gaining citing sentences: {_names([a.label(knowledge) for a in gained])}")
        if lost:
            out.append(f"Articles losing citing sentences: {_names([a.label(knowledge) for a in lost])}")
        return out


def compare(old: KnowledgeBase | None, new: KnowledgeBase) -> Changes:
    """The named changes from old (None: nothing) to new."""
    old_docs = {d.id: d.sha256 for d in old.documents} if old else {}
    new_docs = {d.id: d.sha256 for d in new.documents}
    old_sections = _sections(old) if old else {}
    new_sections = _sections(new)
    old_counts = _article_counts(old) if old else {}
    new_counts = _article_counts(new)
    articles = tuple(
        ArticleChange(pair.instrument, pair.number, old_counts.get(pair, 0), new_counts.get(pair, 0))
        for pair in sorted(set(old_counts) | set(new_counts), key=Pinpoint.order)
        if old_counts.get(pair, 0) != new_counts.get(pair, 0)
    )
    passages = new.diff(old)
    return Changes(
        documents_added=tuple(d for d in new_docs if d not in old_docs),
        documents_removed=tuple(d for d in old_docs if d not in new_docs),
        documents_changed=tuple(d for d in new_docs if d in old_docs and old_docs[d] != new_docs[d]),
        sections_added=tuple(s for s in new_sections if s not in old_sections),
        sections_removed=tuple(s for s in old_sections if s not in new_sections),
        sections_changed=tuple(s for s in new_sections if s in old_sections and old_sections[s] != new_sections[s]),
        articles=articles,
        passages_added=len(passages.added),
        passages_removed=len(passages.removed),
        passages_changed=len(passages.changed),
    )


def _sections(knowledge: KnowledgeBase) -> dict[str, tuple[str, ...]]:
    """'doc id § section' -> the texts of its passages."""
    out: dict[str, list[str]] = {}
    for _, doc_id, section, text in passage_fields(knowledge.passages):  # no passage made to read its text
        out.setdefault(f"{doc_id} § {section or 'opening paragraphs'}", []).append(text)
    return {key: tuple(texts) for key, texts in out.items()}


def _article_counts(knowledge: KnowledgeBase) -> dict[Pinpoint, int]:
    """How many claims cite each article (the retriever's article index has them by claim)."""
    return {pair: len(citing.rows) for pair, citing in knowledge.retriever.citations.pairs.items()}


def _names(names: list[str] | tuple[str, ...]) -> str:
    shown = ", ".join(names[:NAMES_SHOWN])
    return shown + (f" and {len(names) - NAMES_SHOWN} more" if len(names) > NAMES_SHOWN else "")
