"""KnowledgeStore: holds the KnowledgeBase that is answering now, and replaces it on reload.

A reload builds a whole new knowledge base off the event loop, validates it, and swaps it in with one
assignment: questions in flight finish on the old one, and a failed build leaves the old one serving.
Reloads are serialised by a lock, never interleaved.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from knowledge import persist
from knowledge.base import BUNDLED_SOURCES, KnowledgeBase, build_indexes
from knowledge.documents import SOURCE_SUFFIXES, SourceError, load_documents
from knowledge.glossary import load_glossary

log = logging.getLogger(__name__)

RELOAD_TIMEOUT_S = 120.0
# Below this much source text a build takes well under a second: a worker thread is enough, and a child
# process (a new interpreter importing numpy and scipy, about half a second) would only slow reloads down.
CHILD_BUILD_BYTES = 2_000_000
UNEXPECTED_BUILD_ERROR = "unexpected error while building the knowledge base (the traceback is in the log)"

Builder = Callable[[Path | None], KnowledgeBase]


def build_knowledge(sources: Path | None) -> KnowledgeBase:
    """Build and validate a knowledge base from sources (None: the bundled ones); raise SourceError if bad.

    This is the one call a reload runs in a worker; it takes and returns plain picklable data so that it can
    move to a child process without changing its callers.
    """
    built = None
    if source_bytes(sources) >= CHILD_BUILD_BYTES:
        check_sources(sources)  # a bad file is named here, at once, not as a child's traceback
        # Indexing a large knowledge base holds the GIL for long stretches: do it in a child process, so the
        # event loop (heartbeats, questions) keeps running; this thread only waits and loads the arrays.
        try:
            built = persist.build_in_child(
                build_indexes, None if sources is None else str(sources), timeout=RELOAD_TIMEOUT_S
            )
        except (persist.ChildBuildError, TimeoutError, OSError) as error:
            log.warning("index build in a child process failed (%s); building here", error)
    knowledge = KnowledgeBase.load(sources, indexes=built)  # raises the SourceError naming a bad file
    validate(knowledge)
    return knowledge


def check_sources(sources: Path | None) -> None:
    """Read and parse every source and the glossary (no indexing); raise the SourceError naming a bad one."""
    directory = sources if sources is not None else BUNDLED_SOURCES
    load_documents(directory)
    load_glossary(directory)


def source_bytes(sources: Path | None) -> int:
    """Total size of the source files (0 if unreadable: loading will say what is wrong)."""
    directory = sources if sources is not None else BUNDLED_SOURCES
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


@dataclass(frozen=True, slots=True)
class ReloadResult:
    """What one reload did: the new version and its changes, or why it failed and what is still serving."""

    ok: bool
    trigger: str  # "/kb reload by name (id)", "SIGHUP"
    finished_at: datetime
    seconds: float  # wall time of the build, waiting for the lock excluded
    version: str | None  # the version serving after the reload
    previous_version: str | None
    documents: int = 0
    passages: int = 0
    added: int = 0
    removed: int = 0
    changed: int = 0
    error: str | None = None  # safe to show an admin: names the file and the problem


class KnowledgeStore:
    """The reloadable holder of the current KnowledgeBase."""

    def __init__(
        self,
        sources: Path | None = None,
        *,
        knowledge: KnowledgeBase | None = None,
        build: Builder = build_knowledge,
        timeout_s: float = RELOAD_TIMEOUT_S,
    ) -> None:
        self.sources = sources
        self._current = knowledge
        self._build = build
        self._timeout_s = timeout_s
        self._lock = asyncio.Lock()
        self.last_reload: ReloadResult | None = None

    @property
    def current(self) -> KnowledgeBase:
        """The knowledge base answering now; read it once per request so one answer never spans two versions."""
        if self._current is None:
            raise RuntimeError("the knowledge base is not loaded yet")
        return self._current

    @property
    def loaded(self) -> bool:
        return self._current is not None

    @property
    def reloading(self) -> bool:
        return self._lock.locked()

    async def load(self) -> KnowledgeBase:
        """Load the first knowledge base (start-up): a broken source raises SourceError, nothing is serving yet."""
        async with self._lock:
            knowledge = await self._run_build()
            self._current = knowledge
        log.info(
            "knowledge base %s loaded: %d documents, %d passages in %.2f s",
            knowledge.version,
            len(knowledge.documents),
            len(knowledge.passages),
            knowledge.build_seconds,
        )
        return knowledge

    async def reload(self, trigger: str) -> ReloadResult:
        """Rebuild from the sources and swap the result in; on failure keep the old one. Never raises."""
        async with self._lock:
            previous = self._current
            started = time.perf_counter()
            try:
                knowledge = await self._run_build()
            except SourceError as error:
                result = self._failure(trigger, previous, started, str(error))
            except TimeoutError:
                result = self._failure(trigger, previous, started, f"the build took longer than {self._timeout_s:g} s")
            except Exception:
                log.exception("reload (%s) failed unexpectedly", trigger)
                result = self._failure(trigger, previous, started, UNEXPECTED_BUILD_ERROR)
            else:
                self._current = knowledge  # the swap: one assignment
                diff = knowledge.diff(previous)
                result = ReloadResult(
                    ok=True,
                    trigger=trigger,
                    finished_at=datetime.now(UTC),
                    seconds=time.perf_counter() - started,
                    version=knowledge.version,
                    previous_version=previous.version if previous else None,
                    documents=len(knowledge.documents),
                    passages=len(knowledge.passages),
                    added=len(diff.added),
                    removed=len(diff.removed),
                    changed=len(diff.changed),
                )
            self.last_reload = result
        if result.ok:
            log.info(
                "reload (%s): version %s -> %s, %d documents, %d passages (+%d -%d ~%d) in %.2f s",
                trigger,
                result.previous_version,
                result.version,
                result.documents,
                result.passages,
                result.added,
                result.removed,
                result.changed,
                result.seconds,
            )
        else:
            log.warning("reload (%s) failed, still serving %s: %s", trigger, result.version, result.error)
        return result

    async def _run_build(self) -> KnowledgeBase:
        return await asyncio.wait_for(asyncio.to_thread(self._build, self.sources), self._timeout_s)

    def _failure(self, trigger: str, previous: KnowledgeBase | None, started: float, error: str) -> ReloadResult:
        return ReloadResult(
            ok=False,
            trigger=trigger,
            finished_at=datetime.now(UTC),
            seconds=time.perf_counter() - started,
            version=previous.version if previous else None,
            previous_version=previous.version if previous else None,
            documents=len(previous.documents) if previous else 0,
            passages=len(previous.passages) if previous else 0,
            error=error,
        )
