"""A knowledge base's own checks: questions with what their answers must say, run before a new version serves.

``checks.yaml`` in the sources directory (beside ``glossary.yaml``)::

    checks:
      - question: Where do the harbour pilots train?
        expect: at the pilot school        # a span the answer must quote (case and spacing ignored)
        article: 4                         # and/or an article one of its citations must name
        instrument: A/1/2                  # optional: the article's instrument (default: any)
      - question: What is the capital of Atlantis?
        abstain: true                      # the honest answer is "not in my sources"

A check passes when every condition it states holds. ``gate`` decides whether a new version may replace the
serving one: every check that passed on the serving version must still pass (or, with ``min_pass``, at least
that share of all checks), and a version that answers none of the checks that expect an answer is refused.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import yamltext
from .citations import article_number
from .documents import SourceError

if TYPE_CHECKING:
    from .answer import Answer
    from .base import KnowledgeBase

CHECKS_FILE = "checks.yaml"
CHECKS_MAX_BYTES = 1_000_000
CHECKS_MAX = 1000  # each check is one answer (about a millisecond): a reload stays quick
QUESTION_MAX_CHARS = 500
KEYS = frozenset({"question", "expect", "article", "instrument", "abstain"})
SPACES = re.compile(r"\s+")
QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'})


@dataclass(frozen=True, slots=True)
class Check:
    """One question and what its answer must be."""

    question: str
    expect: str | None = None
    article: str | None = None
    instrument: str | None = None
    abstain: bool = False

    def judge(self, answer: Answer) -> bool:
        """Whether answer satisfies every condition of this check."""
        if self.abstain:
            return answer.abstained
        if answer.abstained or answer.text is None:
            return False
        if self.expect is not None and _fold(self.expect) not in _fold(answer.text):
            return False
        if self.article is not None:
            return any(
                self.article in c.articles and (self.instrument is None or c.instrument == self.instrument)
                for c in answer.citations
            )
        return True


@dataclass(frozen=True, slots=True)
class CheckResult:
    check: Check
    passed: bool
    answered: bool
    signature: str  # what was answered, in short: two versions answered alike when their signatures are equal

    @property
    def question(self) -> str:
        return self.check.question


@dataclass(frozen=True, slots=True)
class CheckReport:
    """The results of a knowledge base's checks, in the order of the file."""

    results: tuple[CheckResult, ...]

    @property
    def total(self) -> int:
        return len(self.results)

    @property
    def passed(self) -> int:
        return sum(1 for r in self.results if r.passed)

    @property
    def pass_rate(self) -> float:
        return self.passed / self.total if self.results else 1.0

    @property
    def failed(self) -> tuple[CheckResult, ...]:
        return tuple(r for r in self.results if not r.passed)

    def by_question(self) -> dict[str, CheckResult]:
        return {r.question: r for r in self.results}

    def summary(self) -> str:
        return f"{self.passed}/{self.total} checks passed" if self.results else "no checks"


def load_checks(directory: Path | str) -> tuple[Check, ...]:
    """directory/checks.yaml read and validated (SourceError naming the file and entry); () without one."""
    path = Path(directory) / CHECKS_FILE
    if not path.exists() and not path.is_symlink():
        return ()
    try:
        data = yamltext.read(path, CHECKS_MAX_BYTES)
    except yamltext.YamlError as error:
        raise SourceError(path, error.problem, error.line) from None
    if data is None:
        return ()
    if not isinstance(data, Mapping) or set(data) - {"checks"}:
        raise SourceError(path, "expected a mapping with one key, 'checks': a list of checks")
    entries = data.get("checks") or []
    if not isinstance(entries, list):
        raise SourceError(path, "checks: expected a list")
    if len(entries) > CHECKS_MAX:
        raise SourceError(path, f"checks: at most {CHECKS_MAX} checks, got {len(entries)}")
    checks = [_check(path, index, entry) for index, entry in enumerate(entries)]
    seen: set[str] = set()
    for index, check in enumerate(checks):
        if check.question in seen:
            raise SourceError(path, f"checks[{index}]: the same question twice: {check.question!r}")
        seen.add(check.question)
    return tuple(checks)


def _check(path: Path, index: int, entry: Any) -> Check:
    where = f"checks[{index}]"
    if not isinstance(entry, Mapping):
        raise SourceError(path, f"{where}: expected a mapping with a question")
    unknown = sorted(str(key) for key in set(entry) - KEYS)
    if unknown:
        raise SourceError(path, f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(KEYS))})")
    question = entry.get("question")
    if not isinstance(question, str) or not question.strip() or len(question) > QUESTION_MAX_CHARS:
        raise SourceError(path, f"{where}.question: expected a question of 1 to {QUESTION_MAX_CHARS} characters")
    expect, article, instrument = entry.get("expect"), entry.get("article"), entry.get("instrument")
    abstain = entry.get("abstain", False)
    if expect is not None and (not isinstance(expect, str) or not expect.strip()):
        raise SourceError(path, f"{where}.expect: expected the text the answer must quote")
    number = None if article is None or isinstance(article, bool) else article_number(str(article))
    if article is not None and (not isinstance(article, int | str) or number is None):
        raise SourceError(path, f"{where}.article: expected an article number like 11")
    if instrument is not None and (not isinstance(instrument, str) or article is None):
        raise SourceError(path, f"{where}.instrument: expected a document symbol, with an article")
    if not isinstance(abstain, bool):
        raise SourceError(path, f"{where}.abstain: expected true or false")
    if abstain == (expect is not None or article is not None):
        raise SourceError(path, f"{where}: give an expected span and/or article, or abstain: true (not both)")
    return Check(question.strip(), expect, number, instrument, abstain)


def run_checks(knowledge: KnowledgeBase, checks: Sequence[Check]) -> CheckReport:
    """Ask knowledge every check's question and judge the answers."""
    results = []
    for check in checks:
        answer = knowledge.answer(check.question)
        results.append(CheckResult(check, check.judge(answer), not answer.abstained, _signature(answer)))
    return CheckReport(tuple(results))


def gate(new: CheckReport, serving: CheckReport | None, min_pass: float | None = None) -> list[str]:
    """Why the version with report new must not replace the one with report serving (empty: it may)."""
    problems: list[str] = []
    expecting = [r for r in new.results if not r.check.abstain]
    if expecting and not any(r.answered for r in expecting):
        problems.append(f"it answers none of the {len(expecting)} checks that expect an answer")
    if min_pass is not None:
        if new.pass_rate < min_pass:
            problems.append(f"{new.summary()} ({new.pass_rate:.0%}), below knowledge.min_check_pass {min_pass:.0%}")
    elif serving is not None:
        now = new.by_question()
        lost = [r.question for r in serving.results if r.passed and r.question in now and not now[r.question].passed]
        if lost:
            problems.append(f"{len(lost)} check(s) that passed on the serving version fail")
    return problems


def changed_answers(old: CheckReport | None, new: CheckReport) -> int:
    """How many of the checks both versions ran got a different answer."""
    if old is None:
        return 0
    before = old.by_question()
    return sum(1 for r in new.results if r.question in before and before[r.question].signature != r.signature)


def _signature(answer: Answer) -> str:
    if answer.abstained or answer.text is None:
        return "abstained"
    return hashlib.sha256(answer.text.encode()).hexdigest()[:12]


def _fold(text: str) -> str:
    return SPACES.sub(" ", text.translate(QUOTES)).strip().casefold()
