"""KnowledgeStore: holds the KnowledgeBase that is answering now, and replaces it on reload.

A reload builds a whole new knowledge base off the event loop (knowledge.build), validates it, and swaps it in
with one assignment: questions in flight finish on the old one, and a failed build leaves the old one serving.
Reloads are serialised by a lock, never interleaved. With a saved index, start-up and reloads load it when it
was built from exactly the sources being read, and index anew (then save the new index there) when it was not.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import gc
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from knowledge import (
    BUNDLED_SOURCES,
    Changes,
    CheckReport,
    KnowledgeBase,
    KnowledgeBaseDiff,
    SourceError,
    build,
    build_timeout,
    compare,
)

from .background import background_work, release_gradually
from .versions import DEFAULT_KEEP_VERSIONS, Evaluation, History, Version, evaluate

log = logging.getLogger(__name__)

BACKSTOP_S = 120.0  # on top of knowledge.build_timeout: a build that overruns its own deadline is cut off here
UNEXPECTED_BUILD_ERROR = "unexpected error while building the knowledge base (the traceback is in the log)"

Builder = Callable[[Path | None], KnowledgeBase]


def build_knowledge(
    sources: Path | None, index_dir: Path | None = None, *, timeout_s: float | None = None
) -> KnowledgeBase:
    """knowledge.build, run in a worker thread without stalling the event loop (see background_work)."""
    with background_work():
        knowledge = build(sources, index_dir=index_dir, timeout_s=timeout_s)
        # Out of the cyclic collector's sight before it is on again: its first collections would otherwise
        # traverse the millions of objects just made, holding the GIL for seconds at 100k passages. They are
        # freed by reference counting when the version is released (a knowledge base has no reference
        # cycles, and views hold ids, not knowledge bases: tests/reliability/test_memory.py).
        gc.freeze()
    return knowledge


def _within_sources(error: SourceError, sources: Path | None) -> str:
    """The error with its file named inside the sources directory: what an admin in Discord needs, no more."""
    folder = sources if sources is not None else BUNDLED_SOURCES
    try:
        where = str(error.path.relative_to(folder)) if error.path != folder else folder.name
    except ValueError:
        return str(error)
    return f"{where}:{error.line}: {error.problem}" if error.line is not None else f"{where}: {error.problem}"


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
    rollback: bool = False
    forced: bool = False  # the quality gate refused it and an admin overrode that
    refused: tuple[str, ...] = ()  # why the quality gate refused the new version (ok is False unless forced)
    failing_checks: tuple[str, ...] = ()  # the questions of the new version's checks that failed
    checks: CheckReport | None = None  # the new version's checks (None: the build failed)
    changes: Changes | None = None
    changed_answers: int = 0  # checks answered differently than by the previous version


class _Refused(Exception):
    """The new version failed its checks (internal to KnowledgeStore.reload)."""


def _evaluate(box: list[Any], min_pass: float | None) -> tuple[Evaluation, KnowledgeBaseDiff]:
    """Checks, named changes and passage diff of box = [new, serving version, previous] (in a worker thread).

    The knowledge bases come in a list that is emptied here: once this returns, the executor's work item
    (which the worker thread drops a moment after the loop resumes) no longer holds them, so a replaced
    version is freed by the release, not kept alive by the executor for a moment.
    """
    knowledge, serving, previous = box
    box.clear()
    with background_work():
        return evaluate(knowledge, serving, min_pass), knowledge.diff(previous)


def _compare(box: list[Any]) -> tuple[Changes, KnowledgeBaseDiff]:
    """compare and diff of box = [old, new], emptied as in _evaluate."""
    old, new = box
    box.clear()
    with background_work():
        return compare(old, new), new.diff(old)


class KnowledgeStore:
    """The reloadable holder of the current KnowledgeBase."""

    def __init__(
        self,
        sources: Path | None = None,
        *,
        index: Path | None = None,
        knowledge: KnowledgeBase | None = None,
        build: Builder | None = None,
        timeout_s: float | None = None,
        keep_versions: int = DEFAULT_KEEP_VERSIONS,
        min_check_pass: float | None = None,
    ) -> None:
        """sources: None for the bundled ones; index: a saved index directory to use and keep up to date.

        build replaces build_knowledge (tests); timeout_s, the time a build may take (default: build_timeout
        of the sources' size, measured at each build).
        """
        self.sources = sources
        self.index = index
        self._current = knowledge
        self._build = build if build is not None else functools.partial(build_knowledge, index_dir=index)
        self._timeout_s = timeout_s
        self._lock = asyncio.Lock()
        self._release: asyncio.Task[None] | None = None
        self.last_reload: ReloadResult | None = None
        self.on_reload: list[Callable[[ReloadResult], None]] = []  # called with each reload's result (metrics)
        self.history = History(keep_versions)
        self.min_check_pass = min_check_pass
        if knowledge is not None:  # given ready (tests, benchmarks): kept like a loaded one, without checks run
            self.history.add(Version(knowledge, knowledge.loaded_at, "given", CheckReport(())))

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

    async def wait_released(self) -> None:
        """Wait until the knowledge base the last reload replaced is freed (a worker frees it after the swap)."""
        if self._release is not None:
            try:
                await self._release
            except Exception:
                log.exception("freeing the previous knowledge base failed")
            self._release = None

    @property
    def serving(self) -> Version | None:
        """The serving version's record (None before the first load, or for a knowledge base given directly)."""
        return self.history.get(self._current.version) if self._current is not None else None

    async def load(self) -> KnowledgeBase:
        """Load the first knowledge base (start-up): a broken source raises SourceError, nothing is serving yet.

        Its checks run and are logged, but nothing gates it: there is no other version to keep serving.
        """
        async with self._lock:
            knowledge = await self._run_build()
            evaluation, _ = await asyncio.to_thread(_evaluate, [knowledge, None, None], self.min_check_pass)
            self._current = knowledge
            self._keep(Version(knowledge, knowledge.loaded_at, "start-up", evaluation.checks))
        if evaluation.checks.failed:
            log.warning(
                "knowledge base %s: %s; failing: %s",
                knowledge.version,
                evaluation.checks.summary(),
                "; ".join(evaluation.failing()),
            )
        log.info(
            "knowledge base %s loaded: %d documents, %d passages in %.2f s",
            knowledge.version,
            len(knowledge.documents),
            len(knowledge.passages),
            knowledge.build_seconds,
        )
        return knowledge

    async def reload(self, trigger: str, *, force: bool = False) -> ReloadResult:
        """Rebuild from the sources, run the new version's checks, and swap it in if they pass (or force);
        on failure or refusal keep the old one. Never raises."""
        async with self._lock:
            previous = self._current
            started = time.perf_counter()
            refused: Evaluation | None = None
            try:
                knowledge = await self._run_build()
                # Checks and the named diff: a pass over every passage and an answer per check, not on the loop.
                evaluation, diff = await asyncio.to_thread(
                    _evaluate, [knowledge, self.serving, previous], self.min_check_pass
                )
                if evaluation.problems and previous is not None:
                    if not force:
                        refused = evaluation
                        raise _Refused
                    log.warning(
                        "reload (%s) forced past the checks: %s; failing: %s",
                        trigger,
                        "; ".join(evaluation.problems),
                        "; ".join(evaluation.failing()),
                    )
            except _Refused:
                assert refused is not None
                self._drop([knowledge])
                del knowledge
                result = self._failure(
                    trigger, previous, started, "the new version failed its checks: " + "; ".join(refused.problems)
                )
                result = dataclasses.replace(
                    result,
                    refused=refused.problems,
                    failing_checks=tuple(refused.failing()),
                    checks=refused.checks,
                    changes=refused.changes,
                    changed_answers=refused.changed_answers,
                )
            except SourceError as error:
                result = self._failure(trigger, previous, started, _within_sources(error, self.sources))
            except TimeoutError as error:
                result = self._failure(trigger, previous, started, str(error) or "the build took too long")
            except Exception:
                log.exception("reload (%s) failed unexpectedly", trigger)
                result = self._failure(trigger, previous, started, UNEXPECTED_BUILD_ERROR)
            else:
                self._current = knowledge  # the swap: one assignment
                self._keep(
                    Version(knowledge, datetime.now(UTC), trigger, evaluation.checks, forced=bool(evaluation.problems))
                )
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
                    forced=bool(evaluation.problems) and previous is not None,
                    refused=evaluation.problems if previous is not None else (),
                    failing_checks=tuple(evaluation.failing()),
                    checks=evaluation.checks,
                    changes=evaluation.changes,
                    changed_answers=evaluation.changed_answers,
                )
            self.last_reload = result
            for listener in self.on_reload:
                listener(result)
            del previous
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

    async def rollback(self, version: str | None, trigger: str) -> ReloadResult:
        """Serve a kept version again (None: the newest one before the serving one), from memory. Never raises."""
        async with self._lock:
            previous = self._current
            started = time.perf_counter()
            current_id = previous.version if previous is not None else ""
            target = self.history.get(version) if version else self.history.before(current_id)
            if target is None:
                wanted = f"version {version}" if version else "an earlier version"
                kept = ", ".join(v.id for v in self.history.list()) or "none"
                result = self._failure(trigger, previous, started, f"{wanted} is not kept (kept: {kept})")
            else:
                knowledge = target.knowledge
                self._current = knowledge  # the swap: one assignment
                self.history.touch(target.id)
                changes, diff = await asyncio.to_thread(_compare, [previous, knowledge])
                result = ReloadResult(
                    ok=True,
                    trigger=trigger,
                    finished_at=datetime.now(UTC),
                    seconds=time.perf_counter() - started,
                    version=knowledge.version,
                    previous_version=current_id or None,
                    documents=len(knowledge.documents),
                    passages=len(knowledge.passages),
                    added=len(diff.added),
                    removed=len(diff.removed),
                    changed=len(diff.changed),
                    rollback=True,
                    checks=target.checks,
                    failing_checks=tuple(r.question for r in target.checks.failed),
                    changes=changes,
                )
            self.last_reload = result
        if result.ok:
            log.info(
                "rollback (%s): version %s -> %s in %.3f s",
                trigger,
                result.previous_version,
                result.version,
                result.seconds,
            )
        else:
            log.warning("rollback (%s) failed, still serving %s: %s", trigger, result.version, result.error)
        return result

    def _keep(self, version: Version) -> None:
        """Record version in the history; free, off the loop, the versions no longer kept."""
        dropped = [k for k in self.history.add(version) if k is not self._current]
        if dropped:
            self._drop(dropped)

    def _drop(self, knowledge_bases: list[KnowledgeBase]) -> None:
        """Free knowledge bases in small steps in a worker, never on the loop: the next build waits for it."""
        box: list[object] = list(knowledge_bases)
        knowledge_bases.clear()
        earlier = self._release

        async def release() -> None:
            if earlier is not None:
                await earlier
            await asyncio.to_thread(release_gradually, box)

        self._release = asyncio.create_task(release(), name="release")

    async def _run_build(self) -> KnowledgeBase:
        await self.wait_released()  # never hold three knowledge bases at once
        timeout = self._timeout_s
        if timeout is None:  # the build's own deadline (build_knowledge) comes first; this is the backstop
            timeout = await asyncio.to_thread(build_timeout, self.sources) + BACKSTOP_S
        try:
            return await asyncio.wait_for(asyncio.to_thread(self._build, self.sources), timeout)
        except TimeoutError as error:
            if error.args:  # the build's own deadline, with its message
                raise
            raise TimeoutError(f"the build took longer than {timeout:g} s") from None

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
