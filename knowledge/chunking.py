"""Documents -> passages of a few sentences, each sentence with its offsets and resolved references."""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .citations import CitationContext, Pinpoint, Reference, is_citation_sentence, parse_citation_sentence
from .documents import Block, Document

PASSAGE_MAX_WORDS = 110  # a paragraph longer than this is cut into windows of whole claim+citation runs
RUN_MAX_WORDS = 2 * PASSAGE_MAX_WORDS  # a run of claims longer than this is cut between claims (or in a claim)
ABBREVIATIONS = frozenset(
    {"id", "art", "arts", "doc", "no", "nos", "e.g", "i.e", "cf", "u.s", "u.n", "mr", "ms", "mrs", "dr", "st", "vs",
     "para", "paras", "res", "v", "etc", "al", "jan", "feb", "aug", "sept", "oct", "nov", "dec"}
)  # fmt: skip
# A sentence ends at . ? ! (optionally closed by a quote or bracket) before a capital, a quote or "[".
SENTENCE_END = re.compile(r"[.?!][”\"’')\]]*(?=\s+[\[“\"‘(]?[A-Z0-9])|(?<=\])(?=\s+[A-Z“])")
WORD_CHARS = frozenset(string.ascii_letters + ".")  # an abbreviation: "art.", "e.g.", "U.S."
BARE_ID = re.compile(r"\s*(?:See|Cf\.|See also)\s+id\.\s*")  # "See id." is a whole citation sentence


@dataclass(frozen=True, slots=True)
class Sentence:
    text: str
    start: int  # offsets into Document.body
    end: int
    is_citation: bool  # a sentence that only cites ("See id. at art. 3.")
    references: tuple[Reference, ...]  # for a claim: what its citation sentence(s) cite; for a citation: its own
    cited_directly: bool = False  # a claim right before its citation, not one earlier in the run

    @property
    def articles(self) -> tuple[Pinpoint, ...]:
        """The articles this sentence rests on."""
        return tuple(Pinpoint(ref.instrument, number) for ref in self.references for number in ref.articles)


@dataclass(frozen=True, slots=True)
class Passage:
    id: str  # "<doc id>#<section slug>-<n>": the same source text always gives the same ids
    doc_id: str
    section: str | None
    kind: str  # "text" or "caption"
    sentences: tuple[Sentence, ...]
    text: str
    start: int
    end: int
    ordinal: int  # position of the passage in the whole knowledge base (ties are broken by it)

    @property
    def claims(self) -> tuple[Sentence, ...]:
        return tuple(sentence for sentence in self.sentences if not sentence.is_citation)

    @property
    def references(self) -> tuple[Reference, ...]:
        seen: dict[Reference, None] = {}
        for sentence in self.sentences:
            for reference in sentence.references:
                seen.setdefault(reference)
        return tuple(seen)


def split_sentences(text: str, offset: int = 0) -> list[tuple[str, int, int]]:
    """Split a paragraph into (sentence, start, end) with offsets shifted by offset; abbreviations hold."""
    pieces: list[tuple[str, int, int]] = []
    start = 0
    for match in SENTENCE_END.finditer(text):
        end = match.end()
        if _abbreviation_ends(text, start, end) and not BARE_ID.fullmatch(text, start, end):
            continue
        _append(pieces, text, start, end, offset)
        start = end
    _append(pieces, text, start, len(text), offset)
    return pieces


def _abbreviation_ends(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] ends with an abbreviation's full stop ("art.", "e.g.") rather than a sentence's.

    The word is read backwards from the end, not searched for with a regex anchored at the end: that search
    retries at every letter of the sentence, which is quadratic in its length.
    """
    if text[end - 1] != ".":
        return False
    begin = end
    while begin > start and text[begin - 1] in WORD_CHARS:
        begin -= 1
    return text[begin:end].strip(".").lower() in ABBREVIATIONS


def _append(pieces: list[tuple[str, int, int]], text: str, start: int, end: int, offset: int) -> None:
    chunk = text[start:end]
    lead = len(chunk) - len(chunk.lstrip())
    stripped = chunk.strip()
    if stripped:
        begin = start + lead
        pieces.append((stripped, offset + begin, offset + begin + len(stripped)))


def chunk(documents: Sequence[Document]) -> tuple[Passage, ...]:
    """Cut every document into passages; sentence references are resolved in reading order per document."""
    passages: list[Passage] = []
    for document in documents:
        passages.extend(_chunk_document(document, first_ordinal=len(passages)))
    return tuple(passages)


def _chunk_document(document: Document, first_ordinal: int) -> Iterable[Passage]:
    context = CitationContext()
    counters: dict[str, int] = {}
    ordinal = first_ordinal
    for block in document.blocks:
        sentences = _block_sentences(block, context)
        for window in _windows(sentences):
            slug = _slug(block.section) if block.section else "lead"
            counters[slug] = counters.get(slug, 0) + 1
            start, end = window[0].start, window[-1].end
            yield Passage(
                id=f"{document.id}#{slug}-{counters[slug]}",
                doc_id=document.id,
                section=block.section,
                kind=block.kind,
                sentences=tuple(window),
                text=document.body[start:end],
                start=start,
                end=end,
                ordinal=ordinal,
            )
            ordinal += 1


def _block_sentences(block: Block, context: CitationContext) -> list[Sentence]:
    if block.kind == "caption":
        # Caption lines are labels, not prose: each line is its own sentence, none cites anything.
        lines = []
        cursor = 0
        for line in block.text.split("\n"):
            at = block.text.index(line, cursor)
            cursor = at + len(line)
            if line.strip():
                lead = len(line) - len(line.lstrip())
                begin = block.start + at + lead
                lines.append(Sentence(line.strip(), begin, begin + len(line.strip()), False, ()))
        return lines
    raw = split_sentences(block.text, block.start)
    own: list[tuple[Reference, ...]] = []
    flags: list[bool] = []
    for text, _, _ in raw:
        citation = is_citation_sentence(text)
        flags.append(citation)
        own.append(parse_citation_sentence(text, context) if citation else ())
    # A claim rests on the citation sentences that follow it, up to the next claim after them.
    resolved: list[tuple[Reference, ...]] = [()] * len(raw)
    direct = [False] * len(raw)
    pending: list[int] = []
    for index, citation in enumerate(flags):
        if citation:
            refs = own[index]
            resolved[index] = refs
            if pending and refs:
                direct[pending[-1]] = True
            for claim in pending:
                resolved[claim] = _merge(resolved[claim], refs)
            if index + 1 < len(raw) and not flags[index + 1]:
                pending = []
        else:
            pending.append(index)
    return [Sentence(text, start, end, flags[i], resolved[i], direct[i]) for i, (text, start, end) in enumerate(raw)]


def _merge(first: tuple[Reference, ...], second: tuple[Reference, ...]) -> tuple[Reference, ...]:
    return tuple(dict.fromkeys(first + second))


def _windows(sentences: list[Sentence]) -> Iterable[list[Sentence]]:
    """Group sentences into windows of at most PASSAGE_MAX_WORDS, never separating a claim from its citation."""
    runs: list[list[Sentence]] = []
    for sentence in sentences:
        # A claim after a citation opens a new run; citations join the run of the claims they support.
        if runs and (sentence.is_citation or not runs[-1][-1].is_citation):
            runs[-1].append(sentence)
        else:
            runs.append([sentence])
    window: list[Sentence] = []
    words = 0
    for run in [piece for whole in runs for piece in _split_run(whole)]:
        run_words = sum(_words(s) for s in run)
        if window and words + run_words > PASSAGE_MAX_WORDS:
            yield window
            window, words = [], 0
        window.extend(run)
        words += run_words
    if window:
        yield window


def _words(sentence: Sentence) -> int:
    return len(sentence.text.split())


def _split_run(run: list[Sentence]) -> Iterable[list[Sentence]]:
    """A run of claims (and the citations that close it) in pieces of at most RUN_MAX_WORDS where it can be
    cut: the leading claims go in pieces of their own, the last claim stays with its citations. A paragraph of
    1,100 uncited words was one passage, a 5 MB one too: every click on it showed (and escaped) all of it."""
    sentences = [piece for sentence in run for piece in _split_sentence(sentence)]
    if sum(_words(s) for s in sentences) <= RUN_MAX_WORDS:
        yield sentences
        return
    tail = len(sentences)
    while tail > 0 and sentences[tail - 1].is_citation:
        tail -= 1
    if tail < len(sentences):  # the last claim stays with the citations after it
        tail -= 1
    piece: list[Sentence] = []
    words = 0
    for sentence in sentences[: max(tail, 0)]:
        count = _words(sentence)
        if piece and words + count > RUN_MAX_WORDS:
            yield piece
            piece, words = [], 0
        piece.append(sentence)
        words += count
    if piece:
        yield piece
    if tail < len(sentences):
        yield sentences[max(tail, 0) :]


def _split_sentence(sentence: Sentence) -> list[Sentence]:
    """A sentence of more than RUN_MAX_WORDS words (no full stop in a whole file) cut at spaces into pieces of
    that many words, each verbatim, with the sentence's references."""
    if _words(sentence) <= RUN_MAX_WORDS:
        return [sentence]
    words = list(re.finditer(r"\S+", sentence.text))
    pieces = []
    for first in range(0, len(words), RUN_MAX_WORDS):
        group = words[first : first + RUN_MAX_WORDS]
        begin, end = group[0].start(), group[-1].end()
        last = first + RUN_MAX_WORDS >= len(words)
        pieces.append(
            Sentence(
                sentence.text[begin:end],
                sentence.start + begin,
                sentence.start + end,
                sentence.is_citation,
                sentence.references,
                sentence.cited_directly and last,
            )
        )
    return pieces


def _slug(section: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", section.lower()).strip("-")[:40] or "section"
