"""KnowledgeBase: the loaded, versioned whole. A reload builds a new one; swapping it in is one assignment."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import persist
from .answer import Answer, Citation, Hit
from .chunking import Passage, Sentence, chunk
from .citations import Pinpoint
from .documents import Document, SourceError, load_documents
from .examples import EXAMPLES_FILE, ExampleError, read_example_text, text_sha256
from .fingerprints import source_key
from .glossary import GlossaryFile, load_glossary
from .index import TfidfIndex
from .lookups import CitedArticles
from .pipeline import answer as answer_question
from .resolved import load_examples, sources_hash
from .retrieval import Retriever
from .selector import Selector, load_selector
from .tables import Catalogue, passage_fields
from .units import RetrieverTables

if TYPE_CHECKING:
    from .explain import Explanation

BUNDLED_SOURCES = Path(__file__).parent / "sources"
DEFAULT_ANSWER_WORDS = 60
# A question with a word no source uses: answering it builds the speller's table (see KnowledgeBase.warm).
WARM_QUESTION = "What does the qzxjvkwb agreement provide?"


@dataclass(frozen=True, slots=True)
class ArticleMention:
    """A sentence of the sources that cites an Agreement article."""

    sentence: Sentence
    passage: Passage
    citation: Citation


@dataclass(frozen=True, slots=True)
class KnowledgeBaseDiff:
    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class KnowledgeBase:
    sources_dir: Path
    documents: tuple[Document, ...]
    passages: tuple[Passage, ...]
    glossary: GlossaryFile
    retriever: Retriever = field(repr=False)
    selector: Selector = field(repr=False)
    version: str  # 12 hex digits of the sources' and glossary's hashes: same sources, same version
    loaded_at: datetime
    build_seconds: float
    # Lookups by id, the cited articles and the claims citing them, made once (or read from the saved set): a
    # request never scans every passage or document.
    catalogue: Catalogue = field(default=None, repr=False, compare=False)  # type: ignore[assignment]
    # What a saved set of this knowledge base is keyed by (fingerprints.source_key); None: worked out when needed.
    source_key: dict[str, Any] | None = field(default=None, repr=False, compare=False)
    _documents_by_id: dict[str, Document] = field(init=False, repr=False, compare=False)
    articles: CitedArticles = field(init=False, repr=False, compare=False)  # the cited ones, for lookups by prefix

    def __post_init__(self) -> None:
        if self.catalogue is None:
            object.__setattr__(self, "catalogue", Catalogue.of(self.passages))
        object.__setattr__(self, "_documents_by_id", {document.id: document for document in self.documents})
        object.__setattr__(self, "articles", CitedArticles(list(self.catalogue.cited), self.glossary))

    @classmethod
    def load(
        cls, sources_dir: Path | str | None = None, *, index_dir: Path | str | None = None, warm: bool = True
    ) -> KnowledgeBase:
        """knowledge.build in this process, reading index_dir (when it matches) but never writing it."""
        from .builder import build

        return build(sources_dir, index_dir=index_dir, isolate=False, save=False, warm=warm)

    @classmethod
    def assemble(
        cls,
        sources: Sources,
        indexes: Mapping[str, TfidfIndex] | None = None,
        *,
        started: float | None = None,
        selector: Selector | None = None,
        tables: RetrieverTables | None = None,
        catalogue: Catalogue | None = None,
        examples: Any = None,
    ) -> KnowledgeBase:
        """The knowledge base of sources already read: indexed here, or with indexes saved for exactly them.

        indexes (and tables, catalogue) must have been saved for sources.metadata (the caller checks it); started
        is when the caller began (perf_counter), for build_seconds; selector: the shipped one when None;
        examples: the saved set's resolved examples (taken when they were resolved for these files).
        """
        started = time.perf_counter() if started is None else started
        retriever = Retriever.build(sources.passages, sources.glossary, indexes, tables)
        digest = sources_hash(sources.documents, sources.glossary.sha256)
        try:
            example_text = read_example_text(sources.directory)  # read once: its examples and its sha256
            if example_text is not None:
                sha = text_sha256(example_text)
                loaded = load_examples(
                    digest.hexdigest(), example_text, sha, retriever, Path(sources.directory), saved=examples
                )
                retriever = dataclasses.replace(retriever, examples=loaded)
                digest.update(sha.encode())
        except ExampleError as error:
            raise SourceError(Path(sources.directory) / EXAMPLES_FILE, str(error)) from None
        return cls(
            sources_dir=sources.directory,
            documents=sources.documents,
            passages=sources.passages,
            glossary=sources.glossary,
            retriever=retriever,
            selector=selector or load_selector(),
            version=digest.hexdigest()[:12],
            loaded_at=datetime.now(UTC),
            build_seconds=time.perf_counter() - started,
            catalogue=catalogue,
            source_key=sources.metadata,
        )

    def save_index(self, directory: Path | str) -> None:
        """Write this knowledge base's indexes and tables as a set that load(index_dir=directory) will take;
        ValueError when a source file changed since it was read."""
        from .saved import tables_of

        persist.save_indexes(directory, self.retriever.indexes(), self.key(), tables_of(self))

    def saved_index_matches(self, directory: Path | str) -> bool | None:
        """Whether the set saved in directory was built from these sources (None: no readable set there)."""
        metadata = persist.read_metadata(directory)
        return None if metadata is None else metadata == self.key()

    def key(self) -> dict[str, Any]:
        """What a saved set of this knowledge base is keyed by: its source files' hashes, glossary, analyser, code."""
        if self.source_key is not None:
            return self.source_key
        return source_key([(d.path.name, d.file_sha256) for d in self.documents], self.glossary)

    def document(self, doc_id: str) -> Document:
        """The document with this id (KeyError if there is none)."""
        return self._documents_by_id[doc_id]

    def passage_count(self, doc_id: str) -> int:
        """How many passages the document has."""
        return self.catalogue.passage_counts.get(doc_id, 0)

    def passage(self, passage_id: str) -> Passage | None:
        """The passage with this id, or None (a reload may have removed it)."""
        row = self.catalogue.rows.get(passage_id)
        return None if row is None else self.passages[row]

    def answer(self, question: str, *, max_words: int = DEFAULT_ANSWER_WORDS) -> Answer:
        """An extractive, cited answer, or an abstention that still lists the nearest passages.

        max_words must be at least 1 (ValueError): an answer is never empty.
        """
        if isinstance(max_words, bool) or not isinstance(max_words, int) or max_words < 1:
            raise ValueError(f"max_words must be a whole number of at least 1, not {max_words!r}")
        return answer_question(self.retriever, self.selector, question, self.citations_for, max_words)

    def search(self, query: str, k: int = 5) -> list[Hit]:
        """The k best passages for query, best first."""
        return self.retriever.search(query, k)

    def explain(self, question: str) -> Explanation:
        """The answer to question and the evidence behind it (what "Why this answer?" shows)."""
        from .explain import explain

        return explain(self, question)

    def warm(self) -> None:
        """Do now, in the caller's thread, the one-off work the first questions would do (the speller's table).

        A bot calls this before it starts serving a new knowledge base, so that no user's question (run on
        the event loop) pays for it.
        """
        self.answer(WARM_QUESTION)

    def citations_for(self, passage: Passage, sentence: Sentence | None = None) -> tuple[Citation, ...]:
        """One citation per instrument that the sentence (or the whole passage) rests on."""
        document = self.document(passage.doc_id)
        references = sentence.references if sentence is not None else passage.references
        by_instrument: dict[str | None, list[str]] = {}
        others: list[str] = []
        for reference in references:
            if reference.instrument is None and not reference.articles:
                others.append(reference.label)
                continue
            numbers = by_instrument.setdefault(reference.instrument, [])
            numbers.extend(n for n in reference.articles if n not in numbers)
        common = dict(
            source=document.id,
            title=document.title,
            section=passage.section,
            url=document.url,
            publisher=document.publisher,
            passage_id=passage.id,
            others=tuple(dict.fromkeys(others)),
        )
        if not by_instrument:
            return (Citation(**common),)
        return tuple(
            Citation(**common, articles=tuple(numbers), instrument=instrument)
            for instrument, numbers in by_instrument.items()
        )

    def article(
        self, number: str | int, instrument: str | None = None, *, limit: int | None = None
    ) -> list[ArticleMention]:
        """Every claim sentence that cites article number (of instrument, or of any instrument); the first
        limit of them when limit is given (a reply shows a few; a large base may hold thousands)."""
        wanted = str(number)
        mentions: list[ArticleMention] = []
        for row, index in self.catalogue.claims.get(wanted, ()):
            if limit is not None and len(mentions) >= limit:
                break
            passage = self.passages[row]
            sentence = passage.sentences[index]
            if any(n == wanted and (instrument is None or i == instrument) for i, n in sentence.articles):
                citations = self.citations_for(passage, sentence)
                mentions.extend(
                    ArticleMention(sentence, passage, citation)
                    for citation in citations
                    if wanted in citation.articles and (instrument is None or citation.instrument == instrument)
                )
        return mentions

    def cited_articles(self) -> list[Pinpoint]:
        """The articles that some sentence cites, sorted by instrument and number."""
        return list(self.catalogue.cited)

    def diff(self, previous: KnowledgeBase | None) -> KnowledgeBaseDiff:
        """Passages added, removed and changed (same id, other text) since previous."""
        return diff_passages(previous.passages if previous else (), self.passages)

    @property
    def cited_sentence_count(self) -> int:
        return self.catalogue.cited_sentences

    @property
    def sentence_count(self) -> int:
        return self.catalogue.sentences


@dataclass(frozen=True, slots=True)
class Sources:
    """A sources directory read and cut into passages: what a KnowledgeBase is assembled from."""

    directory: Path
    documents: tuple[Document, ...]
    glossary: GlossaryFile
    passages: tuple[Passage, ...]
    metadata: dict[str, Any]  # fingerprints.source_key of the files and glossary: what a saved set is keyed by


def read_sources(sources_dir: Path | str | None = None) -> Sources:
    """Read, parse and chunk a directory of sources (default: the bundled ones); raise SourceError if bad."""
    directory = Path(sources_dir) if sources_dir is not None else BUNDLED_SOURCES
    documents = load_documents(directory)
    glossary = load_glossary(directory)
    passages = chunk(documents)
    if not passages:
        raise SourceError(directory, "the sources hold no passages to answer from")
    key = source_key([(d.path.name, d.file_sha256) for d in documents], glossary)
    return Sources(directory, documents, glossary, passages, key)


def unit_rows(passages: tuple[Passage, ...]) -> int:
    """The rows of the units index: a caption is one unit, any other passage one per sentence (as Retriever.build
    makes them; tests/knowledge/test_integrity.py checks the two agree)."""
    return sum(1 if p.kind == "caption" else len(p.sentences) for p in passages)


def diff_passages(before: Sequence[Passage], after: Sequence[Passage]) -> KnowledgeBaseDiff:
    """Passages added, removed and changed (same id, other text) from before to after."""
    old = {passage_id: text for passage_id, _, _, text in passage_fields(before)}
    new = {passage_id: text for passage_id, _, _, text in passage_fields(after)}
    return KnowledgeBaseDiff(
        added=tuple(i for i in new if i not in old),
        removed=tuple(i for i in old if i not in new),
        changed=tuple(i for i in new if i in old and old[i] != new[i]),
    )
