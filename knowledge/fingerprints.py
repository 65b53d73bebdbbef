"""What a saved set is keyed by: the source files' bytes, the glossary, the analyser, and the code that reads them.

A start compares this key (cheap: the files are hashed, not parsed) with the one the saved set was written with;
only when they are equal does it take the saved passages and tables instead of reading and chunking the sources.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .text import Analyzer

if TYPE_CHECKING:
    from .glossary import GlossaryFile

# Bump when what is saved changes (the tables' layout, what a row of an index holds).
SAVED_FORMAT = "passages+tables+units+passages+chars/3"
# The code and data whose behaviour the saved passages and tables record: any change to them rebuilds.
KEY_FILES = (
    "articles.py",
    "base.py",
    "chunking.py",
    "citations.py",
    "documents.py",
    "facts.py",
    "features.py",
    "fingerprints.py",
    "glossary.py",
    "index.py",
    "indexing.py",
    "language.py",
    "language.yaml",
    "question.py",
    "retrieval.py",
    "saved.py",
    "spelling.py",
    "tablefiles.py",
    "tables.py",
    "text.py",
    "units.py",
    "words.py",
    "english.txt.gz",
)
# Texts whose analysis changes when tokenising, stemming, chat words or article terms change.
PROBE_TEXTS = (
    "What does art. 5 of the UN-IOM Agreement say about migrants\u2019 privileges and immunities in 2016?",
    "wat r ppl sayin abt the govt's info on arts. 4, 5 and 6a b4 1.5 million Ü\u200bber-Caf\u00e9s",
    "The International Organization for Migration (IOM) joined the United Nations system as a related organization.",
)


def fingerprint(texts: Iterable[str], *extra: str) -> str:
    """sha256 (hex) of the texts and extra strings, in order: same rows and text, same fingerprint."""
    digest = hashlib.sha256()
    for text in (*extra, *texts):
        data = text.encode("utf-8")
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()


def analyzer_fingerprint(analyzer: Analyzer) -> str:
    """What the analyser does, hashed: its stopwords, glossary groups, and its terms for a few probe texts.

    A saved index is only valid for the analyser that built it; this changes when any of those changes.
    """
    parts = ["\n".join(sorted(analyzer.stopwords)), repr(analyzer.synonyms.groups)]
    parts.extend("\n".join(analyzer(text)) for text in PROBE_TEXTS)
    return fingerprint(parts)


@functools.cache
def code_fingerprint() -> str:
    """sha256 of the modules (and language data) that make what a saved set holds; read once per process."""
    here = Path(__file__).parent
    digest = hashlib.sha256()
    for name in KEY_FILES:
        data = (here / name).read_bytes()
        digest.update(f"{name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def source_key(files: Sequence[tuple[str, str]], glossary: GlossaryFile) -> dict[str, Any]:
    """The key of a saved set: files are (file name, sha256 of its bytes) in load order."""
    return {
        "format": SAVED_FORMAT,
        "code": code_fingerprint(),
        "analyzer": analyzer_fingerprint(Analyzer(glossary.synonyms)),
        "glossary": glossary.sha256,
        "sources": [[name, sha] for name, sha in files],
    }
