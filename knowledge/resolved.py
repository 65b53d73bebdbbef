"""Example questions resolved ahead of a start: each example with the sentences answering it and its question's
terms, kept as JSON beside ``examples.yaml`` (``examples.resolved.json``).

Resolving the examples is most of a small knowledge base's start: examples.yaml is parsed, each answer is found
in the sentences and each question is read as the retriever reads a question (spelling mended). A start that
finds this file, written for exactly these sources, glossary, examples file and code, takes the examples from it
instead (a JSON read). Any other file is passed over and the examples are resolved as before: a stale, damaged or
forged file costs time, never a wrong example. The bundled knowledge base ships its file (eval/train.py writes
it, a test checks it is current); a maintainer's sources need none.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .examples import Example, Examples, parse_examples, text_sha256, warn_left_out
from .files import FileTooLarge, NotRegularFile, read_limited
from .fingerprints import code_fingerprint

if TYPE_CHECKING:
    from .documents import Document
    from .retrieval import Retriever

log = logging.getLogger(__name__)

RESOLVED_FILE = "examples.resolved.json"
FORMAT = "resolved-examples/1"
MAX_BYTES = 64 * 1024 * 1024
KEPT = 2  # examples kept in this process for their next load (they hold no retriever: a few MB at most)

_KEPT: dict[tuple[str, str], Examples] = {}  # by (sources digest, examples sha256), oldest first
_KEPT_LOCK = threading.Lock()


def load_examples(
    sources_digest: str, text: str, sha256: str, retriever: Retriever, directory: Path, saved: Any = None
) -> Examples:
    """The examples of an examples file's text (sha256: its hash) for a retriever of the sources with this digest
    (their documents' and glossary's hashes): those this process loaded last for the same two (a reload of
    unchanged sources, a second knowledge base of the same files), else those a saved index set holds (saved:
    its "examples" table) or directory's resolved file, when written for them, else resolved here. Each load
    warns of the examples no sentence answers, in one line; ExampleError when the text is not an examples file."""
    with _KEPT_LOCK:
        examples = _KEPT.get((sources_digest, sha256))
    if examples is None:
        key, units = resolved_key(sources_digest, sha256), len(retriever.units)
        found = (_of_data(saved, key, units, "the saved index's examples") if saved is not None else None) or (
            read_resolved(directory / RESOLVED_FILE, key, units)
        )
        if found is None:
            found = Examples.resolved(retriever, parse_examples(text))
        examples = dataclasses.replace(found[0], resolved_for=(sources_digest, sha256), left_out=found[1])
        with _KEPT_LOCK:
            _KEPT[(sources_digest, sha256)] = examples
            while len(_KEPT) > KEPT:
                del _KEPT[next(iter(_KEPT))]
    warn_left_out(examples.left_out)
    return examples


def sources_hash(documents: Iterable[Document], glossary_sha256: str) -> Any:
    """A running sha256 of the documents' ids and hashes and the glossary's hash (what the examples resolve
    against; a knowledge base's version goes on to hash its examples file too)."""
    digest = hashlib.sha256()
    for document in documents:
        digest.update(f"{document.id}\0{document.sha256}\0".encode())
    digest.update(glossary_sha256.encode())
    return digest


def key_of(documents: Iterable[Document], glossary_sha256: str, text: str) -> dict[str, str]:
    """The key of the examples of an examples file's text, resolved for these documents and glossary."""
    return resolved_key(sources_hash(documents, glossary_sha256).hexdigest(), text_sha256(text))


def resolved_key(sources_digest: str, examples_sha256: str) -> dict[str, str]:
    """What a resolved file is written for: the sources and glossary (their digest), the examples file's sha256,
    and the code that reads them (knowledge.fingerprints: the same modules a saved index is keyed by)."""
    return {"format": FORMAT, "sources": sources_digest, "examples": examples_sha256, "code": code_fingerprint()}


def saved_data(examples: Examples) -> dict[str, Any] | None:
    """What a saved index set keeps of examples that load_examples resolved: the resolved file's data, with the
    key they were resolved for (None for examples built otherwise)."""
    if not examples.resolved_for[1]:
        return None
    return _data(examples, examples.left_out, resolved_key(*examples.resolved_for))


def resolved_text(examples: Examples, left_out: int, key: dict[str, str]) -> str:
    """The file's text: the key, how many examples no sentence answers, then a line per example ([question,
    answers, rows, terms]). Same examples, same text."""
    lines = [json.dumps(item, ensure_ascii=False) for item in _data(examples, left_out, key)["examples"]]
    head = json.dumps({"key": key, "left_out": left_out}, ensure_ascii=False, sort_keys=True)
    return head[:-1] + ', "examples": [\n' + ",\n".join(lines) + "\n]}\n"


def _data(examples: Examples, left_out: int, key: dict[str, str]) -> dict[str, Any]:
    items = [
        [e.question, list(e.answers), sorted(rows), list(terms)]
        for e, rows, terms in zip(examples.examples, examples.rows, examples.terms, strict=True)
    ]
    return {"key": key, "left_out": left_out, "examples": items}


def read_resolved(path: Path, key: dict[str, str], unit_count: int) -> tuple[Examples, int] | None:
    """The examples of the file at path and how many were left out, when it was written for key and every value
    fits (unit rows below unit_count); else None, with a log line saying why (none when there is no file)."""
    try:
        data = json.loads(read_limited(path, MAX_BYTES))
    except FileNotFoundError:
        return None
    except (OSError, FileTooLarge, NotRegularFile, ValueError) as error:  # JSON and UTF-8 errors are ValueErrors
        log.warning("%s is unreadable (%s); resolving the examples", path, str(error)[:200])
        return None
    return _of_data(data, key, unit_count, f"the examples of {path}")


def _of_data(data: Any, key: dict[str, str], unit_count: int, where: str) -> tuple[Examples, int] | None:
    """The examples in resolved data and how many were left out, when written for key and every value fits."""
    if not isinstance(data, dict) or data.get("key") != key:
        log.info("%s were resolved for other sources, examples or code; resolving the examples", where)
        return None
    try:
        return _examples(data["examples"], unit_count), _count(data["left_out"])
    except (KeyError, TypeError, ValueError) as error:
        log.warning("%s are damaged (%s); resolving the examples", where, str(error)[:200])
        return None


def _examples(items: Any, unit_count: int) -> Examples:
    if not isinstance(items, list):
        raise TypeError("'examples' is not a list")
    examples: list[Example] = []
    rows: list[frozenset[int]] = []
    terms: list[tuple[str, ...]] = []
    for number, item in enumerate(items, 1):
        if type(item) is not list or len(item) != 4:
            raise ValueError(f"example {number} is not [question, answers, rows, terms]")
        question, answers, found, words = item
        if not (type(question) is str and question and _strings(answers) and _strings(words)):
            raise ValueError(f"example {number} has a bad question, answers or terms")
        if type(found) is not list or not all(type(row) is int for row in found):
            raise ValueError(f"example {number} has rows that are not whole numbers")
        if found and not (min(found) >= 0 and max(found) < unit_count):
            raise ValueError(f"example {number} has a row out of range")
        if answers and not found:
            raise ValueError(f"example {number} has answers but no row holding them")
        examples.append(Example(question, tuple(answers)))
        rows.append(frozenset(found))
        terms.append(tuple(words))
    return Examples.of(examples, rows, terms)


def _strings(value: Any) -> bool:
    """A list of texts, none empty."""
    return type(value) is list and all(type(item) is str for item in value) and "" not in value


def _count(value: Any) -> int:
    if type(value) is not int or value < 0:
        raise ValueError("'left_out' is not a count")
    return value
