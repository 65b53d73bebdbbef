"""Evaluation: run a question set (eval/dev.yaml format) through a KnowledgeBase and measure the answers.

Definitions (all span matching is on whitespace-normalised text, case-sensitive):
- hit@k: a gold span occurs in one of the top k passages the answer was drawn from (``answer.hits``).
- answer-hit: a gold span occurs in the answer text (never for an abstention).
- complete (multi items with gold_groups): every group has a span in the answer text.
- article-correct (in-scope items): every gold article of the item's instrument is cited by the answer,
  and every article the answer cites for that instrument is in gold_articles or allowed_articles.
  Articles of another instrument are not counted as spurious.
- correct (e2e): an in-scope item is answered (not abstained), answer-hit, article-correct and, when it
  has gold_groups, complete; an out-of-scope item is correct when abstained.
- abstention precision/recall/F1 treat "abstain" as the positive class.
hit@k, answer-hit and article accuracy are over in-scope items; complete over items with gold_groups;
e2e and latency over all items. A ratio with nothing to count is None ("-" in the table).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .answer import Answer
from .evalset import EvalError, EvalItem, load_eval_set
from .labels import article_label

if TYPE_CHECKING:
    from .base import KnowledgeBase
    from .glossary import GlossaryFile

# Reading a set is knowledge.evalset's job; the CLI and eval/train.py read and score sets through this module.
__all__ = ["EvalError", "EvalItem", "build_report", "compute_metrics", "format_failures", "format_table"]
__all__ += ["instrument_symbol", "load_eval_set", "normalize_space", "run_eval", "score_item"]


@dataclass(frozen=True, slots=True)
class ItemResult:
    """One item's answer and how it was judged."""

    item: EvalItem
    answer: Answer
    latency_s: float
    instrument: str  # the symbol gold_articles belong to
    hit_at_1: bool | None = None  # None: not measured for this item (out of scope, or no groups)
    hit_at_3: bool | None = None
    answer_hit: bool | None = None
    complete: bool | None = None
    missing_articles: tuple[str, ...] = ()
    spurious_articles: tuple[str, ...] = ()
    correct: bool = False

    @property
    def article_correct(self) -> bool | None:
        if self.item.abstain:
            return None
        return not self.missing_articles and not self.spurious_articles

    def problems(self) -> list[str]:
        """What went wrong, in words; empty when the item is correct."""
        answer, item = self.answer, self.item
        if item.abstain:
            return [] if answer.abstained else [f"answered an out-of-scope question (score {answer.score:.3f})"]
        problems = []
        if answer.abstained:
            problems.append(f"abstained ({answer.reason or 'no reason'}; score {answer.score:.3f})")
        elif not self.answer_hit:
            problems.append("the answer holds no gold span")
        if self.complete is False:
            problems.append("incomplete: misses a gold group")
        problems.extend(f"missing {article_label(n)} ({self.instrument})" for n in self.missing_articles)
        problems.extend(f"spurious {article_label(n)} ({self.instrument})" for n in self.spurious_articles)
        if not self.hit_at_3:
            problems.append("no gold span in the top 3 passages")
        return problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.item.id,
            "category": self.item.category,
            "question": self.item.question,
            "answer": self.answer.text,
            "abstained": self.answer.abstained,
            "score": round(float(self.answer.score), 4),
            "cited": [
                f"{c.instrument} {article_label(n)}" for c in self.answer.citations if c.instrument for n in c.articles
            ],
            "hit_at_1": self.hit_at_1,
            "hit_at_3": self.hit_at_3,
            "answer_hit": self.answer_hit,
            "complete": self.complete,
            "article_correct": self.article_correct,
            "correct": self.correct,
            "latency_ms": round(self.latency_s * 1000, 2),
            "problems": self.problems(),
        }


@dataclass(frozen=True, slots=True)
class Ratio:
    hits: int = 0
    total: int = 0

    @property
    def value(self) -> float | None:
        return self.hits / self.total if self.total else None

    def to_dict(self) -> dict[str, Any]:
        return {"value": _round(self.value), "hits": self.hits, "total": self.total}


@dataclass(frozen=True, slots=True)
class Metrics:
    n: int
    hit_at_1: Ratio
    hit_at_3: Ratio
    answer_hit: Ratio
    complete: Ratio
    article: Ratio
    e2e: Ratio
    wrong: Ratio  # answered, and the answer is not correct (or the item was not answerable): the worst failure
    abstain_tp: int  # abstained on an out-of-scope item
    abstain_fp: int  # abstained on an in-scope item
    abstain_fn: int  # answered an out-of-scope item
    mean_latency_s: float

    @property
    def abstain_precision(self) -> float | None:
        return Ratio(self.abstain_tp, self.abstain_tp + self.abstain_fp).value

    @property
    def abstain_recall(self) -> float | None:
        return Ratio(self.abstain_tp, self.abstain_tp + self.abstain_fn).value

    @property
    def abstain_f1(self) -> float | None:
        return Ratio(2 * self.abstain_tp, 2 * self.abstain_tp + self.abstain_fp + self.abstain_fn).value

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "hit_at_1": self.hit_at_1.to_dict(),
            "hit_at_3": self.hit_at_3.to_dict(),
            "answer_hit": self.answer_hit.to_dict(),
            "complete": self.complete.to_dict(),
            "article_accuracy": self.article.to_dict(),
            "abstention": {
                "precision": _round(self.abstain_precision),
                "recall": _round(self.abstain_recall),
                "f1": _round(self.abstain_f1),
                "tp": self.abstain_tp,
                "fp": self.abstain_fp,
                "fn": self.abstain_fn,
            },
            "e2e": self.e2e.to_dict(),
            "wrong": self.wrong.to_dict(),
            "mean_latency_ms": round(self.mean_latency_s * 1000, 2),
        }


@dataclass(frozen=True, slots=True)
class EvalReport:
    results: tuple[ItemResult, ...]
    categories: dict[str, Metrics]  # in the order categories first appear in the set
    overall: Metrics
    kb_version: str = ""
    name: str = ""

    @property
    def failures(self) -> tuple[ItemResult, ...]:
        return tuple(result for result in self.results if not result.correct)

    def to_dict(self) -> dict[str, Any]:
        return {
            "set": self.name,
            "kb_version": self.kb_version,
            "overall": self.overall.to_dict(),
            "categories": {name: metrics.to_dict() for name, metrics in self.categories.items()},
            "items": [result.to_dict() for result in self.results],
        }


# ---------------------------------------------------------------- scoring


def run_eval(kb: KnowledgeBase, items: Iterable[EvalItem], *, name: str = "") -> EvalReport:
    """Ask every item's question of kb and score the answers."""
    results = []
    for item in items:
        started = time.perf_counter()
        answer = kb.answer(item.question)
        latency = time.perf_counter() - started
        results.append(score_item(item, answer, instrument_symbol(kb.glossary, item.article_source), latency))
    return build_report(results, kb_version=kb.version, name=name)


def instrument_symbol(glossary: GlossaryFile, article_source: str | None) -> str | None:
    """The document symbol an item's gold articles belong to: the one the glossary knows by that year or name,
    the glossary's default instrument when the item names none, else the item's text itself (a symbol)."""
    if article_source is None:
        return glossary.default_instrument
    return glossary.resolve_instrument(article_source) or article_source


def score_item(item: EvalItem, answer: Answer, instrument: str | None, latency_s: float = 0.0) -> ItemResult:
    """Judge one answer against its item (see the module docstring for the definitions)."""
    if item.abstain:
        return ItemResult(item, answer, latency_s, instrument, correct=answer.abstained)
    passages = [normalize_space(hit.passage.text) for hit in answer.hits]
    text = "" if answer.abstained else normalize_space(answer.text or "")
    answer_hit = _contains_any(text, item.gold_spans)
    complete = all(_contains_any(text, group) for group in item.gold_groups) if item.gold_groups else None
    cited = [
        number
        for citation in ([] if answer.abstained else answer.citations)
        if citation.instrument == instrument
        for number in citation.articles
    ]
    missing = tuple(n for n in item.gold_articles if n not in cited)
    allowed = {*item.gold_articles, *item.allowed_articles}
    spurious = tuple(dict.fromkeys(n for n in cited if n not in allowed))
    correct = not answer.abstained and answer_hit and not missing and not spurious and complete is not False
    return ItemResult(
        item,
        answer,
        latency_s,
        instrument,
        hit_at_1=any(_contains_any(p, item.gold_spans) for p in passages[:1]),
        hit_at_3=any(_contains_any(p, item.gold_spans) for p in passages[:3]),
        answer_hit=answer_hit,
        complete=complete,
        missing_articles=missing,
        spurious_articles=spurious,
        correct=correct,
    )


def build_report(results: Sequence[ItemResult], *, kb_version: str = "", name: str = "") -> EvalReport:
    by_category: dict[str, list[ItemResult]] = {}
    for result in results:
        by_category.setdefault(result.item.category, []).append(result)
    return EvalReport(
        results=tuple(results),
        categories={category: compute_metrics(group) for category, group in by_category.items()},
        overall=compute_metrics(results),
        kb_version=kb_version,
        name=name,
    )


def compute_metrics(results: Sequence[ItemResult]) -> Metrics:
    in_scope = [r for r in results if not r.item.abstain]
    grouped = [r for r in results if r.complete is not None]
    return Metrics(
        n=len(results),
        hit_at_1=_ratio(r.hit_at_1 for r in in_scope),
        hit_at_3=_ratio(r.hit_at_3 for r in in_scope),
        answer_hit=_ratio(r.answer_hit for r in in_scope),
        complete=_ratio(r.complete for r in grouped),
        article=_ratio(r.article_correct for r in in_scope),
        e2e=_ratio(r.correct for r in results),
        wrong=_ratio(not r.answer.abstained and not r.correct for r in results),
        abstain_tp=sum(1 for r in results if r.item.abstain and r.answer.abstained),
        abstain_fp=sum(1 for r in in_scope if r.answer.abstained),
        abstain_fn=sum(1 for r in results if r.item.abstain and not r.answer.abstained),
        mean_latency_s=sum(r.latency_s for r in results) / len(results) if results else 0.0,
    )


def _ratio(flags: Iterable[bool | None]) -> Ratio:
    values = list(flags)
    return Ratio(sum(1 for v in values if v), len(values))


def normalize_space(text: str) -> str:
    return " ".join(text.split())


def _contains_any(text: str, spans: Iterable[str]) -> bool:
    return any(normalize_space(span) in text for span in spans)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


# ---------------------------------------------------------------- formatting

OVERALL = "overall"  # the table's last row
TABLE_COLUMNS = (
    "n", "hit@1", "hit@3", "ans-hit", "complete", "article", "abst-P", "abst-R", "abst-F1", "e2e", "wrong", "ms/q"
)  # fmt: skip


def format_table(report: EvalReport) -> str:
    """Per-category and overall metrics as a fixed-width text table (ASCII; '-' = nothing to count)."""
    rows = [(category, metrics) for category, metrics in report.categories.items()]
    rows.append((OVERALL, report.overall))
    width = max(len("category"), *(len(name) for name, _ in rows))
    lines = [f"{'category':<{width}}  " + "  ".join(f"{c:>8}" for c in TABLE_COLUMNS)]
    for name, metrics in rows:
        if name == OVERALL:
            lines.append("-" * len(lines[0]))
        cells = (
            str(metrics.n),
            *(_cell(r.value) for r in (metrics.hit_at_1, metrics.hit_at_3, metrics.answer_hit, metrics.complete)),
            _cell(metrics.article.value),
            _cell(metrics.abstain_precision),
            _cell(metrics.abstain_recall),
            _cell(metrics.abstain_f1),
            _cell(metrics.e2e.value),
            _cell(metrics.wrong.value),
            f"{metrics.mean_latency_s * 1000:.1f}",
        )
        lines.append(f"{name:<{width}}  " + "  ".join(f"{c:>8}" for c in cells))
    return "\n".join(lines)


def format_failures(report: EvalReport) -> str:
    """One block per item that is not correct: id, category, question, what went wrong."""
    if not report.failures:
        return "no failures"
    lines = []
    for result in report.failures:
        item = result.item
        lines.append(f"{item.id} [{item.category}] {item.question}")
        lines.extend(f"    - {problem}" for problem in result.problems())
        if result.answer.text:
            lines.append(f"    answer: {_shorten(result.answer.text, 160)}")
    return "\n".join(lines)


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _shorten(text: str, limit: int) -> str:
    text = normalize_space(text)
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."
