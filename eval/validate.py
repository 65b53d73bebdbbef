"""Check question sets in the eval/dev.yaml format against the verbatim source text.

Usage: python eval/validate.py [--source PATH] SET.yaml [SET.yaml ...]

A set, source or glossary that cannot be read (not YAML, not a mapping with 'meta' and 'items'): one line, exit
status 2.
Errors (exit status 1):
- 'meta' lacks name/version/source; source_sha256 differs
- an item lacks a required field, has an unknown one, a duplicate id, an unknown category, a malformed article
- a gold span (or gold_groups span) is not a substring of the body once whitespace runs are collapsed
- a multi item without two or more gold_groups, or a group span missing from gold_spans; gold_groups elsewhere
- an out_of_scope item that does not abstain or that carries spans/articles; an in-scope item that abstains
- a gold article that no sentence holding one of the item's spans cites (for the item's instrument)
- the same question (case and whitespace folded) twice, within a set or across the sets given
Warnings (printed, exit status unaffected): an article a span's sentence cites for the item's instrument
that is neither gold nor allowed; an alternative span (non-multi item) whose sentence lacks a gold article.

Deliberately independent of the knowledge package's reading of sources and citations: the gold data must not be
checked by the code it grades. YAML is read with knowledge.yamltext, as every YAML file of the project is.
Citations are resolved the law-review way: a citation sentence ("See id. at art. 3.", "[UN News Centre: IOM]")
supports the claim sentences since the previous citation in the same paragraph; "id." is the authority cited
just before, and a bare "See id." repeats its pinpoint.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from knowledge import yamltext

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = ROOT / "knowledge" / "sources" / "iom-joins-un-system.md"
CATEGORIES = frozenset(
    {"lexical", "paraphrase", "article", "compare", "numbers", "typo", "multi", "out_of_scope", "smalltalk"}
)
ABSTAINING = frozenset({"out_of_scope", "smalltalk"})  # categories whose items must abstain
REQUIRED_KEYS = ("id", "question", "category", "gold_spans", "gold_articles", "abstain")
ITEM_KEYS = frozenset({*REQUIRED_KEYS, "gold_groups", "article_source", "allowed_articles", "note", "style"})
META_KEYS = ("name", "version", "source")
YAML_MAX_BYTES = 10_000_000  # a set or glossary (eval/dev.yaml is 40 KB)
INSTRUMENTS = {"2016": "A/70/976", "1996": "E/1996/90"}
DEFAULT_ARTICLE_SOURCE = "2016"
# How the source names each instrument in a full or short citation.
INSTRUMENT_MARKERS = {
    "2016": ("A/70/976", "Agreement concerning the Relationship between the United Nations"),
    "1996": ("E/1996/90", "Cooperation between the United Nations and the International Organization"),
}
# Another knowledge base names its instruments in its glossary.yaml (--glossary): symbol -> year, title.
ARTICLE_LABEL = re.compile(r"^art\. (?P<number>\d+)$")
PINPOINT = re.compile(r"\barts?\.\s*(?P<list>\d+(?:\s*(?:,|and|&)\s*\d+)*)")
ID_REFERENCE = re.compile(r"^id\b")  # "id." or "id. at art. 3"
CITATION_LEAD = re.compile(r"^(?:See(?:,\s*e\.g\.,)?\s+|\[)")
# A sentence ends at . ? ! (optionally closed by a quote) or at "]" before an upper-case start.
SENTENCE_END = re.compile(r"(?:[.?!][”\"’]?|\])\s+(?=[A-Z\[“])")
NO_BREAK_AFTER = ("Doc.", "e.g.", "i.e.", "No.")


class ValidationError(ValueError):
    """A set that cannot be read at all (not YAML, not a mapping)."""


@dataclass(frozen=True, slots=True)
class Sentence:
    text: str
    start: int  # offsets into the whitespace-normalised body
    end: int
    is_citation: bool


@dataclass(slots=True)
class Source:
    """The normalised body, its sentences and, per claim sentence, the articles it rests on."""

    body: str  # whitespace-normalised
    sha256: str  # of the raw body, UTF-8
    sentences: list[Sentence] = field(default_factory=list)
    # sentence index -> {(instrument year or None, article number)}
    cited: dict[int, set[tuple[str | None, str]]] = field(default_factory=dict)
    instruments: dict[str, str] = field(default_factory=lambda: dict(INSTRUMENTS))  # year -> symbol
    default_year: str = DEFAULT_ARTICLE_SOURCE

    def sentences_with(self, span: str) -> list[int]:
        """Indices of the sentences that overlap any occurrence of span (empty: not in the body)."""
        needle = normalize_space(span)
        found: list[int] = []
        start = self.body.find(needle)
        while needle and start != -1:
            end = start + len(needle)
            found.extend(i for i, s in enumerate(self.sentences) if s.start < end and start < s.end)
            start = self.body.find(needle, start + 1)
        return sorted(set(found))

    def articles_for(self, span: str, year: str) -> set[str]:
        """Article numbers of instrument `year` cited by the sentences holding span."""
        return {
            number
            for index in self.sentences_with(span)
            for instrument, number in self.cited.get(index, ())
            if instrument == year
        }


@dataclass(slots=True)
class Report:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def extend(self, other: Report) -> None:
        self.errors.extend(other.errors)
        self.warnings.extend(other.warnings)


def normalize_space(text: str) -> str:
    return " ".join(text.split())


def fold_question(text: str) -> str:
    return normalize_space(text).casefold()


# ---------------------------------------------------------------- the source


def read_body(path: Path) -> str:
    """The verbatim body: a .md source without its YAML front matter, or a plain .txt as is."""
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---\n"):
        return text
    closing = text.find("\n---\n", 3)
    if closing == -1:
        raise ValidationError(f"{path}: front matter is not closed by a '---' line")
    return text[closing + len("\n---\n") :]


def load_source(path: Path | str = DEFAULT_SOURCE, glossary: Path | str | None = None) -> Source:
    if glossary is None:
        return parse_source(read_body(Path(path)))
    instruments, markers, default_year = read_instruments(Path(glossary))
    source = parse_source(read_body(Path(path)), markers)
    source.instruments, source.default_year = instruments, default_year
    return source


def read_instruments(path: Path) -> tuple[dict[str, str], dict[str, tuple[str, ...]], str]:
    """year -> symbol, year -> the strings that name it in a citation, and the default year, from a glossary."""
    try:
        data = yamltext.read(path, YAML_MAX_BYTES) or {}
    except yamltext.YamlError as error:
        raise ValidationError(error.at(path)) from None
    raw = data.get("instruments") if isinstance(data, dict) else None
    if not isinstance(raw, dict) or not raw:
        raise ValidationError(f"{path}: no 'instruments' mapping")
    instruments: dict[str, str] = {}
    markers: dict[str, tuple[str, ...]] = {}
    for symbol, entry in raw.items():
        if not isinstance(entry, dict) or "year" not in entry:
            raise ValidationError(f"{path}: instrument {symbol!r} needs a year")
        year = str(entry["year"])
        instruments[year] = str(symbol)
        titles = entry.get("titles") or []
        markers[year] = (str(symbol), *(str(title) for title in titles))
    default_symbol = data.get("default_instrument")
    default_year = next((y for y, s in instruments.items() if s == default_symbol), next(iter(instruments)))
    return instruments, markers, default_year


def parse_source(raw_body: str, markers: dict[str, tuple[str, ...]] | None = None) -> Source:
    sha = hashlib.sha256(raw_body.encode("utf-8")).hexdigest()
    sentences: list[Sentence] = []
    offset = 0
    paragraphs: list[list[str]] = []
    for paragraph in re.split(r"\n\s*\n", raw_body):
        lines = [normalize_space(line) for line in paragraph.splitlines() if line.strip()]
        if lines:
            paragraphs.append([s for line in lines for s in split_sentences(line)])
    cited: dict[int, set[tuple[str | None, str]]] = {}
    previous: tuple[str, str | None, frozenset[str]] | None = None  # (authority, year, articles)
    for paragraph in paragraphs:
        pending: list[int] = []  # claim sentences not yet followed by a citation
        supported: list[int] = []  # the claims the last citation supported (for consecutive citations)
        for text in paragraph:
            index = len(sentences)
            is_citation = bool(CITATION_LEAD.match(text))
            sentences.append(Sentence(text, offset, offset + len(text), is_citation))
            offset += len(text) + 1  # the single space that joins sentences in the normalised body
            if not is_citation:
                pending.append(index)
                continue
            references, previous = resolve_citation(text, previous, markers or INSTRUMENT_MARKERS)
            if pending:
                supported, pending = pending, []
            for claim in supported:
                cited.setdefault(claim, set()).update(references)
    body = " ".join(s.text for s in sentences)
    if body != normalize_space(raw_body):  # the offsets above would be wrong
        raise ValidationError("internal: sentence split lost text")
    return Source(body, sha, sentences, cited)


def split_sentences(line: str) -> list[str]:
    """Split one normalised line into sentences, not after "Doc.", "e.g." and the like."""
    sentences, start = [], 0
    for match in SENTENCE_END.finditer(line):
        head = line[start : match.end()].rstrip()
        if head.endswith(NO_BREAK_AFTER):
            continue
        sentences.append(head)
        start = match.end()
    sentences.append(line[start:])
    return [s for s in sentences if s]


def resolve_citation(
    text: str,
    previous: tuple[str, str | None, frozenset[str]] | None,
    markers: dict[str, tuple[str, ...]] = INSTRUMENT_MARKERS,
) -> tuple[set[tuple[str | None, str]], tuple[str, str | None, frozenset[str]] | None]:
    """The (year, article) pairs a citation sentence gives, and the new "id." antecedent."""
    found: set[tuple[str | None, str]] = set()
    body = CITATION_LEAD.sub("", text).rstrip("].")
    for part in (p.strip() for p in body.split(";")):
        articles = frozenset(number for m in PINPOINT.finditer(part) for number in re.findall(r"\d+", m["list"]))
        if ID_REFERENCE.match(part) and previous is not None:
            authority, year, earlier = previous
            previous = (authority, year, articles or earlier)
        else:
            year = next((y for y, marks in markers.items() if any(m in part for m in marks)), None)
            previous = (part.split(",")[0], year, articles)
        found.update((previous[1], number) for number in previous[2])
    return found, previous


# ---------------------------------------------------------------- the question sets


def load_set(path: Path | str) -> dict[str, Any]:
    path = Path(path)
    try:
        data = yamltext.read(path, YAML_MAX_BYTES)
    except yamltext.YamlError as error:
        raise ValidationError(error.at(path)) from None
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise ValidationError(f"{path}: expected a mapping with 'meta' and a list 'items'")
    return data


def check_set(data: dict[str, Any], source: Source, origin: str = "<set>") -> Report:
    """Every check on one parsed set (see the module docstring)."""
    report = Report()
    unknown = sorted(set(map(str, data)) - {"meta", "items"})
    if unknown:
        report.errors.append(f"{origin}: unknown top-level key {unknown[0]!r}")
    meta = data.get("meta")
    if not isinstance(meta, dict):
        report.errors.append(f"{origin}: 'meta' must be a mapping")
    else:
        report.errors.extend(f"{origin}: meta lacks {key!r}" for key in META_KEYS if key not in meta)
        sha = meta.get("source_sha256")
        if sha is not None and sha != source.sha256:
            report.errors.append(f"{origin}: meta.source_sha256 {sha} is not the source's {source.sha256}")
    items = data.get("items") or []
    if not items:
        report.errors.append(f"{origin}: no items")
    seen_ids: set[str] = set()
    seen_questions: dict[str, str] = {}
    for position, item in enumerate(items, start=1):
        where = f"{origin}: item {position}"
        if isinstance(item, dict) and item.get("id") is not None:
            where = f"{origin}: {item['id']}"
            if str(item["id"]) in seen_ids:
                report.errors.append(f"{where}: duplicate id")
            seen_ids.add(str(item["id"]))
        if isinstance(item, dict) and isinstance(item.get("question"), str):
            folded = fold_question(item["question"])
            if folded in seen_questions:
                report.errors.append(f"{where}: same question as {seen_questions[folded]}")
            seen_questions.setdefault(folded, where)
        report.extend(check_item(item, source, where))
    return report


def check_item(item: Any, source: Source, where: str) -> Report:
    report = Report()
    errors = report.errors
    if not isinstance(item, dict):
        errors.append(f"{where}: must be a mapping")
        return report
    errors.extend(f"{where}: missing field {key!r}" for key in REQUIRED_KEYS if key not in item)
    errors.extend(f"{where}: unknown field {key!r}" for key in sorted(set(map(str, item)) - ITEM_KEYS))
    if not isinstance(item.get("id"), str) or not item["id"].strip():
        errors.append(f"{where}: 'id' must be a non-empty string")
    if not isinstance(item.get("question"), str) or not item["question"].strip():
        errors.append(f"{where}: 'question' must be a non-empty string")
    category = item.get("category")
    if category not in CATEGORIES:
        errors.append(f"{where}: category {category!r} is not one of {', '.join(sorted(CATEGORIES))}")
    abstain = item.get("abstain")
    if not isinstance(abstain, bool):
        errors.append(f"{where}: 'abstain' must be true or false")
    spans = _strings(item, "gold_spans", where, errors)
    gold = _articles(item, "gold_articles", where, errors)
    allowed = _articles(item, "allowed_articles", where, errors)
    year = str(item.get("article_source", source.default_year))
    if year not in source.instruments:
        errors.append(f"{where}: article_source {year!r} is not one of {', '.join(source.instruments)}")
    groups = item.get("gold_groups")
    if category in ABSTAINING:
        if abstain is not True:
            errors.append(f"{where}: an {category} item must have abstain: true")
        for key in ("gold_spans", "gold_groups", "gold_articles", "allowed_articles"):
            if item.get(key):
                errors.append(f"{where}: an {category} item must have no {key}")
        return report
    if abstain is True:
        errors.append(f"{where}: only out_of_scope and smalltalk items abstain")
    if not spans:
        errors.append(f"{where}: an in-scope item needs at least one gold span")
    for span in spans:
        if not source.sentences_with(span):
            errors.append(f"{where}: gold span not in the source: {span!r}")
    _check_groups(groups, category, spans, where, errors)
    if year in source.instruments and spans:
        _check_articles(spans, gold, allowed, year, category, source, where, report)
    return report


def _check_groups(groups: Any, category: Any, spans: Sequence[str], where: str, errors: list[str]) -> None:
    if category != "multi":
        if groups:
            errors.append(f"{where}: gold_groups belong to multi items only")
        return
    if not isinstance(groups, list) or len(groups) < 2:
        errors.append(f"{where}: a multi item needs gold_groups with at least two groups")
        return
    for number, group in enumerate(groups, start=1):
        if not isinstance(group, list) or not group or not all(isinstance(s, str) and s.strip() for s in group):
            errors.append(f"{where}: gold_groups[{number}] must be a non-empty list of strings")
            continue
        errors.extend(
            f"{where}: gold_groups[{number}] span is not in gold_spans: {span!r}" for span in group if span not in spans
        )


def _check_articles(
    spans: Sequence[str],
    gold: Sequence[str],
    allowed: Sequence[str],
    year: str,
    category: Any,
    source: Source,
    where: str,
    report: Report,
) -> None:
    per_span = {span: source.articles_for(span, year) for span in spans}
    cited = set().union(*per_span.values())
    instrument = source.instruments[year]
    for number in gold:
        if number not in cited:
            report.errors.append(f"{where}: art. {number} ({instrument}) is not cited by any gold span's sentence")
    extra = sorted(cited - set(gold) - set(allowed), key=int)
    if extra:
        labels = ", ".join(f"art. {n}" for n in extra)
        report.warnings.append(f"{where}: a gold span's sentence also cites {labels} ({instrument}); not gold/allowed")
    if category != "multi":
        for span, numbers in per_span.items():
            missing = [n for n in gold if n not in numbers]
            if missing and any(n in cited for n in missing):
                labels = ", ".join(f"art. {n}" for n in missing)
                report.warnings.append(f"{where}: alternative span {span!r} lacks {labels}")


def _strings(item: dict[str, Any], key: str, where: str, errors: list[str]) -> list[str]:
    value = item.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        errors.append(f"{where}: {key!r} must be a list of non-empty strings")
        return []
    return value


def _articles(item: dict[str, Any], key: str, where: str, errors: list[str]) -> list[str]:
    numbers = []
    for label in _strings(item, key, where, errors):
        match = ARTICLE_LABEL.match(label)
        if match is None:
            errors.append(f"{where}: {key}: {label!r} is not written like 'art. 11'")
        else:
            numbers.append(match["number"])
    return numbers


def check_files(paths: Iterable[Path | str], source: Source) -> Report:
    """Check each set, then that no question is asked twice across them."""
    report = Report()
    sets: dict[Path | str, dict[str, Any]] = {}
    for path in paths:
        try:
            sets[path] = load_set(path)
        except ValidationError as error:
            report.errors.append(str(error))
    report.extend(check_sets(sets, source))
    return report


def check_sets(sets: dict[Path | str, dict[str, Any]], source: Source) -> Report:
    """check_files() of sets already loaded (path -> data)."""
    report = Report()
    asked: dict[str, str] = {}
    for path, data in sets.items():
        report.extend(check_set(data, source, str(path)))
        for item in data["items"]:
            if isinstance(item, dict) and isinstance(item.get("question"), str):
                folded = fold_question(item["question"])
                where = f"{path}: {item.get('id')}"
                if folded in asked and not asked[folded].startswith(f"{path}:"):
                    report.errors.append(f"{where}: same question as {asked[folded]}")
                asked.setdefault(folded, where)
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="+", type=Path, help="question sets (YAML)")
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="source text (.md with front matter)")
    parser.add_argument("--glossary", type=Path, help="glossary.yaml naming another source's instruments")
    args = parser.parse_args(argv)
    try:
        source = load_source(args.source, args.glossary)
        sets = {path: load_set(path) for path in args.sets}
    except (OSError, UnicodeDecodeError) as error:
        print(f"error: {args.source}: {error}", file=sys.stderr)
        return 2
    except ValidationError as error:  # names its file
        print(f"error: {error}", file=sys.stderr)
        return 2
    report = check_sets(sets, source)
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for error in report.errors:
        print(f"error: {error}", file=sys.stderr)
    if report.errors:
        print(f"{len(report.errors)} error(s) in {len(args.sets)} set(s)", file=sys.stderr)
        return 1
    for path, data in sets.items():
        items = data["items"]
        counts: dict[str, int] = {}
        for item in items:
            counts[item["category"]] = counts.get(item["category"], 0) + 1
        summary = ", ".join(f"{category} {count}" for category, count in counts.items())
        print(f"{path}: {len(items)} items OK ({summary})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
