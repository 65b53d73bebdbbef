"""The versions a KnowledgeStore keeps loadable, and the quality gate a new version passes before it serves."""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from knowledge import (
    Changes,
    Check,
    CheckReport,
    KnowledgeBase,
    changed_answers,
    compare,
    gate,
    load_checks,
    run_checks,
)

log = logging.getLogger(__name__)

DEFAULT_KEEP_VERSIONS = 3


@dataclass(frozen=True, slots=True)
class Version:
    """A loaded knowledge base and how it came to be loaded."""

    knowledge: KnowledgeBase
    loaded_at: datetime
    loaded_by: str  # "start-up", "SIGHUP", "/kb reload by name (#user hash)"
    checks: CheckReport
    forced: bool = False

    @property
    def id(self) -> str:
        return self.knowledge.version


@dataclass(frozen=True, slots=True)
class Evaluation:
    """A candidate version's checks, its changes from the serving one, and why it must not serve (if so)."""

    checks: CheckReport
    changes: Changes
    changed_answers: int  # checks answered differently than on the serving version
    problems: tuple[str, ...]  # empty: it may serve

    def failing(self) -> list[str]:
        return [result.question for result in self.checks.failed]


def evaluate(new: KnowledgeBase, serving: Version | None, min_pass: float | None) -> Evaluation:
    """Run new's checks (its sources' checks.yaml, else the serving version's checks) and gate it (a thread)."""
    checks: tuple[Check, ...] = load_checks(new.sources_dir)
    if not checks and serving is not None:
        checks = tuple(result.check for result in serving.checks.results)
    report = run_checks(new, checks)
    problems = gate(report, serving.checks if serving is not None else None, min_pass)
    old = serving.knowledge if serving is not None else None
    return Evaluation(
        checks=report,
        changes=compare(old, new),
        changed_answers=changed_answers(serving.checks if serving is not None else None, report),
        problems=tuple(problems),
    )


class History:
    """The last `keep` versions, oldest first; at most one per version id (a reload of the same sources
    replaces its entry, so reloading unchanged sources never holds two copies)."""

    def __init__(self, keep: int = DEFAULT_KEEP_VERSIONS) -> None:
        if keep < 1:
            raise ValueError(f"keep must be at least 1, not {keep}")
        self.keep = keep
        self._versions: OrderedDict[str, Version] = OrderedDict()

    def add(self, version: Version) -> list[KnowledgeBase]:
        """Add version as the newest; return the knowledge bases no longer kept (for the caller to free)."""
        dropped = []
        old = self._versions.pop(version.id, None)
        if old is not None and old.knowledge is not version.knowledge:
            dropped.append(old.knowledge)
        self._versions[version.id] = version
        while len(self._versions) > self.keep:
            _, oldest = self._versions.popitem(last=False)
            dropped.append(oldest.knowledge)
        return dropped

    def get(self, version_id: str) -> Version | None:
        """The kept version whose id starts with version_id (a unique prefix of at least 4 hex digits)."""
        if version_id in self._versions:
            return self._versions[version_id]
        found = [v for key, v in self._versions.items() if len(version_id) >= 4 and key.startswith(version_id)]
        return found[0] if len(found) == 1 else None

    def before(self, version_id: str) -> Version | None:
        """The newest kept version other than version_id."""
        others = [v for key, v in self._versions.items() if key != version_id]
        return others[-1] if others else None

    def touch(self, version_id: str) -> None:
        """Make version_id the newest (a rollback to it)."""
        self._versions.move_to_end(version_id)

    def list(self) -> list[Version]:
        """Newest first."""
        return list(reversed(self._versions.values()))

    def __len__(self) -> int:
        return len(self._versions)
