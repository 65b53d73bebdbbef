"""Question sets in the eval/dev.yaml format: read, validated, and turned into EvalItems.

A set is a mapping with 'items' (and an optional 'meta' with its name and the source_sha256 it was written
against), or a bare list of items. Every problem is an EvalError of one line naming the file and the item.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import yamltext
from .citations import article_number

ITEM_KEYS = frozenset(
    {"id", "question", "category", "gold_spans", "gold_groups", "gold_articles", "article_source",
     "allowed_articles", "abstain", "note", "style"}
)  # fmt: skip
EVAL_SET_MAX_BYTES = 10_000_000  # eval/dev.yaml is 40 KB


class EvalError(ValueError):
    """An eval set that cannot be loaded; the message is one line naming the file (and item)."""


@dataclass(frozen=True, slots=True)
class EvalItem:
    id: str
    question: str
    category: str
    gold_spans: tuple[str, ...] = ()
    gold_groups: tuple[tuple[str, ...], ...] = ()
    gold_articles: tuple[str, ...] = ()  # article numbers: ("11",)
    allowed_articles: tuple[str, ...] = ()
    article_source: str | None = None  # a year or symbol naming the instrument (None: the glossary's default)
    abstain: bool = False
    note: str | None = None
    style: str | None = None


@dataclass(frozen=True, slots=True)
class EvalSet:
    name: str
    items: tuple[EvalItem, ...]
    source_sha256: str | None = None  # of the source text the set was written against


def load_eval_set(path: Path | str) -> EvalSet:
    """Load a question set in the eval/dev.yaml format; raise EvalError with a one-line message."""
    path = Path(path)
    try:
        data = yamltext.read(path, EVAL_SET_MAX_BYTES)
    except yamltext.YamlError as error:
        raise EvalError(error.at(path)) from None
    return parse_eval_set(data, origin=str(path), default_name=path.stem)


def parse_eval_set(data: Any, *, origin: str = "<eval set>", default_name: str = "") -> EvalSet:
    """Validate already-parsed YAML: a mapping with 'items' (and optional 'meta'), or a bare list of items."""
    meta: dict[str, Any] = {}
    if isinstance(data, dict):
        unknown = sorted(set(map(str, data)) - {"meta", "items"})
        if unknown:
            raise EvalError(f"{origin}: unknown key {unknown[0]!r} (expected 'meta' and 'items')")
        meta = data.get("meta") or {}
        if not isinstance(meta, dict):
            raise EvalError(f"{origin}: 'meta' must be a mapping")
        data = data.get("items")
    if not isinstance(data, list) or not data:
        raise EvalError(f"{origin}: expected a non-empty list of items (or a mapping with 'items')")
    items = [_parse_item(raw, f"{origin}: item {index}") for index, raw in enumerate(data, start=1)]
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            raise EvalError(f"{origin}: duplicate id {item.id!r}")
        seen.add(item.id)
    sha = meta.get("source_sha256")
    return EvalSet(str(meta.get("name") or default_name), tuple(items), str(sha) if sha else None)


def _parse_item(raw: Any, where: str) -> EvalItem:
    if not isinstance(raw, dict):
        raise EvalError(f"{where}: must be a mapping with 'id' and 'question'")
    if raw.get("id") is not None:
        where = f"{where} ({raw['id']})"
    unknown = sorted(set(map(str, raw)) - ITEM_KEYS)
    if unknown:
        raise EvalError(f"{where}: unknown key {unknown[0]!r}")
    if not isinstance(raw.get("id"), (str, int)) or isinstance(raw.get("id"), bool):
        raise EvalError(f"{where}: needs an 'id'")
    question = raw.get("question")
    if not isinstance(question, str) or not question.strip():
        raise EvalError(f"{where}: needs a non-empty 'question'")
    abstain = raw.get("abstain", False)
    if not isinstance(abstain, bool):
        raise EvalError(f"{where}: 'abstain' must be true or false")
    spans = _strings(raw, "gold_spans", where)
    if not abstain and not spans:
        raise EvalError(f"{where}: an in-scope item needs at least one gold span")
    groups = raw.get("gold_groups") or []
    if not isinstance(groups, list) or not all(_is_strings(group) and group for group in groups):
        raise EvalError(f"{where}: 'gold_groups' must be a list of non-empty lists of spans")
    source = raw.get("article_source")
    if source is not None and (not isinstance(source, (str, int)) or isinstance(source, bool)):
        raise EvalError(f"{where}: 'article_source' must be a year or a document symbol")
    return EvalItem(
        id=str(raw["id"]),
        question=question,
        category=str(raw.get("category") or "uncategorised"),
        gold_spans=spans,
        gold_groups=tuple(tuple(group) for group in groups),
        gold_articles=_articles(raw, "gold_articles", where),
        allowed_articles=_articles(raw, "allowed_articles", where),
        article_source=None if source is None else str(source),
        abstain=abstain,
        note=str(raw["note"]) if raw.get("note") is not None else None,
        style=str(raw["style"]) if raw.get("style") is not None else None,
    )


def _is_strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)


def _strings(raw: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = raw.get(key) or []
    if not _is_strings(value):
        raise EvalError(f"{where}: {key!r} must be a list of non-empty strings")
    return tuple(value)


def _articles(raw: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    numbers = []
    for label in _strings(raw, key, where):
        number = article_number(label)
        if number is None:
            raise EvalError(f"{where}: {key}: {label!r} is not an article like 'art. 11'")
        numbers.append(number)
    return tuple(numbers)
