"""Retriever: passages and sentences indexed with TF-IDF; questions -> hits and extractive answers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .answer import Answer, AnswerPart, Citation, Hit
from .chunking import Passage, Sentence
from .glossary import GlossaryFile
from .index import TfidfIndex
from .text import Analyzer

CitationsFor = Callable[[Passage, Sentence | None], tuple[Citation, ...]]
ABSTAIN_BELOW = 0.2  # provisional; calibrated on the dev set by the quality work


@dataclass(frozen=True, slots=True)
class Retriever:
    passages: tuple[Passage, ...]
    sentences: tuple[tuple[int, Sentence], ...]  # (passage row, claim sentence)
    analyzer: Analyzer
    passage_index: TfidfIndex
    sentence_index: TfidfIndex
    glossary: GlossaryFile

    @classmethod
    def build(cls, passages: Sequence[Passage], glossary: GlossaryFile) -> Retriever:
        analyzer = Analyzer(glossary.glossary)
        sentences = tuple((row, s) for row, p in enumerate(passages) for s in p.claims)
        # Passages are indexed by their claims only: citation sentences are provenance, not content.
        passage_texts = [" ".join(s.text for s in p.claims) or p.text for p in passages]
        return cls(
            passages=tuple(passages),
            sentences=sentences,
            analyzer=analyzer,
            passage_index=TfidfIndex.build(passage_texts, analyzer),
            sentence_index=TfidfIndex.build([s.text for _, s in sentences], analyzer),
            glossary=glossary,
        )

    def search(self, query: str, k: int = 5) -> list[Hit]:
        terms = self.analyzer(query)
        return [Hit(self.passages[row], score) for row, score in self.passage_index.search(terms, k)]

    def answer(self, question: str, citations_for: CitationsFor, *, max_words: int = 60) -> Answer:
        terms = self.analyzer(question)
        hits = tuple(Hit(self.passages[row], s) for row, s in self.passage_index.search(terms, 5))
        ranked = self.sentence_index.search(terms, 1)
        if not ranked or ranked[0][1] < ABSTAIN_BELOW:
            score = ranked[0][1] if ranked else 0.0
            return Answer(question, (), True, score, hits, reason="no sentence of the sources matches well")
        row, score = ranked[0]
        passage_row, sentence = self.sentences[row]
        passage = self.passages[passage_row]
        part = AnswerPart(sentence.text, passage, citations_for(passage, sentence))
        return Answer(question, (part,), False, score, hits)
