"""build(): the one way to make a KnowledgeBase from a directory of sources, with or without a saved index.

The sources are read and cut into passages once, here (a bad file is named at once). The indexes then come from
the saved set in index_dir when it was built from exactly these passages with this analyser; else they are built:
in this process, or in a child process (its long C calls and the analyser's Python never hold this process's GIL)
that receives the rows' texts once and sends back the arrays. A new set is saved to index_dir for the next start.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from . import persist, saved
from .base import BUNDLED_SOURCES, KnowledgeBase, Sources, read_sources
from .documents import SOURCE_SUFFIXES, SourceError
from .glossary import GlossaryFile, load_glossary
from .index import TfidfIndex
from .indexing import build_indexes, index_texts, passage_units
from .text import Analyzer

log = logging.getLogger(__name__)

BUILD_TIMEOUT_S = 120.0
# On top of BUILD_TIMEOUT_S, per MB of source text: indexing runs at about 1 MB/s on one core of this project's
# machine (a 71 MB, 100k-passage knowledge base in 84 s); 10 s per MB leaves room for a slow or busy machine,
# and still stops a build that hangs.
BUILD_TIMEOUT_S_PER_MB = 10.0
# Below this much source text a build takes well under a second: this process is enough, and a child process
# (a new interpreter importing numpy and scipy, about half a second) would only slow it down. From this size on,
# a build says what it is doing on stderr when that is a terminal.
CHILD_BUILD_BYTES = 2_000_000

Progress = Callable[[str], None]


def build(
    sources: Path | str | None = None,
    *,
    index_dir: Path | str | None = None,
    isolate: bool | None = None,
    save: bool = True,
    timeout_s: float | None = None,
    progress: Progress | None = None,
    warm: bool = True,
) -> KnowledgeBase:
    """Build and validate the knowledge base of a sources directory (None: the bundled sources).

    index_dir: a saved index set to start from when it matches the sources, and (save) to keep up to date when
    it does not; a failure to save is a warning. isolate: index in a child process (None: when the sources hold
    CHILD_BUILD_BYTES or more). timeout_s: give up (TimeoutError) after this long (default: build_timeout).
    progress: called with a line per stage (default: printed to stderr when it is a terminal and the sources
    are large). warm: do the one-off work of the first questions now (a bot, before it serves); a command that
    answers a question or two, or none, leaves it to the question that needs it. Raises SourceError naming the
    file and line when a source is bad.
    """
    started = time.perf_counter()
    directory = Path(sources) if sources is not None else BUNDLED_SOURCES
    index_dir = Path(index_dir) if index_dir is not None else None
    size = source_bytes(directory)
    deadline = time.monotonic() + (timeout_s if timeout_s is not None else timeout_for(size))
    if progress is None:
        progress = _stderr if size >= CHILD_BUILD_BYTES and sys.stderr is not None and sys.stderr.isatty() else _quiet
    progress(f"reading {size / 1e6:.1f} MB of sources in {directory}")
    restored = _restore(index_dir, directory) if index_dir is not None else None
    if restored is not None:
        progress("assembling the knowledge base")
        read, indexes, parts = restored
        knowledge = KnowledgeBase.assemble(
            read, indexes, started=started, tables=parts.retriever, catalogue=parts.catalogue, examples=parts.examples
        )
    else:
        knowledge = _build(read_sources(directory), started, deadline, progress, isolate, size)
        if index_dir is not None and save:
            progress(f"saving the index to {index_dir}")
            _save(knowledge, index_dir)
    validate(knowledge)
    if warm:
        knowledge.warm()
    progress(f"built {len(knowledge.passages):,} passages in {time.perf_counter() - started:.1f} s")
    return knowledge


def _build(
    read: Sources, started: float, deadline: float, progress: Progress, isolate: bool | None, size: int
) -> KnowledgeBase:
    """The knowledge base of sources read and chunked: indexed in a child process or in this one."""
    indexes = None
    if isolate if isolate is not None else size >= CHILD_BUILD_BYTES:
        progress(f"indexing {len(read.passages):,} passages in a child process")
        indexes = _build_in_child(read, deadline)
    if indexes is None:
        progress(f"indexing {len(read.passages):,} passages in this process")
    else:
        progress("assembling the knowledge base")
    return KnowledgeBase.assemble(read, indexes, started=started)


def build_timeout(sources: Path | str | None = None) -> float:
    """How long a build of a sources directory (None: the bundled sources) may take before it is given up (s)."""
    return timeout_for(source_bytes(Path(sources) if sources is not None else BUNDLED_SOURCES))


def timeout_for(size: int) -> float:
    """How long a build of size bytes of source text may take before it is given up (seconds)."""
    return BUILD_TIMEOUT_S + BUILD_TIMEOUT_S_PER_MB * size / 1e6


def source_bytes(directory: Path) -> int:
    """Total size of the source files (0 if unreadable: reading them will say what is wrong)."""
    try:
        return sum(entry.stat().st_size for entry in directory.iterdir() if entry.suffix in SOURCE_SUFFIXES)
    except OSError:
        return 0


def validate(knowledge: KnowledgeBase) -> None:
    """Raise SourceError unless the knowledge base can answer: it has passages and its index finds them."""
    if not knowledge.documents or not knowledge.passages:
        raise SourceError(knowledge.sources_dir, "the sources hold no passages to answer from")
    probe = knowledge.passages[0]
    if not knowledge.search(probe.text, 1):
        raise SourceError(knowledge.sources_dir, f"the index does not find its own passage {probe.id!r}")


def _restore(index_dir: Path, directory: Path) -> tuple[Sources, dict[str, TfidfIndex], saved.Restored] | None:
    """The knowledge base's parts from the saved set in index_dir, if it was saved for exactly these source files
    (hashed, not parsed), glossary, analyser and code; else None, with one log line saying why."""
    loading = time.perf_counter()
    try:
        files = saved.read_files(directory)
        glossary = load_glossary(directory)
    except SourceError:
        return None  # reading them all says which file is bad, and where
    key = saved.files_key(files, glossary)
    # Memory-mapped, read-only: processes on one machine that load the same saved set share its pages.
    found = persist.load_set(index_dir, key, mmap=True)
    if found is None:
        return None
    try:
        parts = saved.Restored(directory, glossary, files, found.tables, found.indexes)
    except ValueError as error:
        log.warning("saved index %s is damaged (%s); rebuilding", index_dir, str(error)[:300])
        return None
    read = Sources(directory, parts.documents, glossary, parts.passages, key)  # type: ignore[arg-type]
    log.info("saved index %s matches the sources: loaded in %.2f s", index_dir, time.perf_counter() - loading)
    return read, found.indexes, parts


def _build_in_child(read: Sources, deadline: float) -> dict[str, TfidfIndex] | None:
    """The indexes built in a child process from the rows' texts; None if it could not run."""
    building = time.perf_counter()
    timeout = max(deadline - time.monotonic(), 1.0)
    unit_texts, passage_texts = index_texts(read.passages)
    claims = passage_units(read.passages)
    try:
        built = persist.build_in_child(
            index_in_child, unit_texts, passage_texts, read.glossary, read.metadata, claims, timeout=timeout
        )
    except TimeoutError:
        raise TimeoutError(f"the build took longer than {timeout:.0f} s (indexing in a child process)") from None
    except (persist.ChildBuildError, OSError) as error:
        log.warning("index build in a child process failed (%s); building here", error)
        return None
    log.info("indexed %d passages in a child process in %.1f s", len(read.passages), time.perf_counter() - building)
    return built.indexes


def index_in_child(
    unit_texts: list[str],
    passage_texts: list[str],
    glossary: GlossaryFile,
    metadata: dict,
    passage_claims: Sequence[Sequence[int]] = (),
) -> tuple[dict[str, TfidfIndex], dict]:
    """The indexes of these texts and the metadata they are saved with (persist.build_in_child's builder);
    passage_claims as build_indexes takes them."""
    built = build_indexes(unit_texts, passage_texts, Analyzer(glossary.synonyms), passage_claims)
    return built.indexes, metadata


def _save(knowledge: KnowledgeBase, index_dir: Path) -> None:
    try:
        knowledge.save_index(index_dir)
    except (OSError, ValueError) as error:
        log.warning("could not save the index to %s: %s", index_dir, error)
    else:
        log.info("saved the index to %s", index_dir)


def _stderr(line: str) -> None:
    print(f"iom-bot: {line}", file=sys.stderr, flush=True)


def _quiet(line: str) -> None:
    log.debug("%s", line)
