"""Saved indexes: a set of named TfidfIndex written together with what they were built from, and built in a
child process so that a long build never holds this process's GIL (the bot's event loop keeps answering).

A saved set is a directory: one subdirectory per index (see TfidfIndex.save) and ``indexes.json`` with the
store's format version and the caller's metadata (source hashes, analyser fingerprint, row counts). It is
replaced atomically: a reader sees the old set or the new one, never half of each.
"""

from __future__ import annotations

import errno
import gc
import hashlib
import json
import logging
import multiprocessing
import os
import shutil
import tempfile
import traceback
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from .index import IndexFormatError, TfidfIndex
from .scoring import ENGINE_ENV
from .text import Analyzer

log = logging.getLogger(__name__)

STORE_FORMAT = "iom-bot/index-set"
STORE_VERSION = 1
MANIFEST = "indexes.json"
ERROR_FILE = "error.txt"
SAVE_ERROR_FILE = "save-error.txt"
CHILD_CONTEXT = "spawn"  # a fresh interpreter: no inherited threads, locks or event loop
# Texts whose analysis changes when tokenising, stemming, chat words or article terms change.
PROBE_TEXTS = (
    "What does art. 5 of the UN-IOM Agreement say about migrants\u2019 privileges and immunities in 2016?",
    "wat r ppl sayin abt the govt's info on arts. 4, 5 and 6a b4 1.5 million Ü\u200bber-Caf\u00e9s",
    "The International Organization for Migration (IOM) joined the United Nations system as a related organization.",
)

Indexes = Mapping[str, TfidfIndex]
# A builder returns its indexes, or (indexes, metadata): what they were built from, for the caller to check.
Builder = Callable[..., Indexes | tuple[Indexes, dict[str, Any]]]


class Built(NamedTuple):
    """What build_in_child brings back: the indexes, loaded here, and the metadata the builder gave."""

    indexes: dict[str, TfidfIndex]
    metadata: dict[str, Any]
    save_error: str | None = None  # why the set could not also be saved where save_to asked, if it could not


class ChildBuildError(RuntimeError):
    """The child process failed to build; the message carries its traceback's last line."""


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
    parts = ["\n".join(sorted(analyzer.stopwords)), repr(analyzer.glossary.groups)]
    parts.extend("\n".join(analyzer(text)) for text in PROBE_TEXTS)
    return fingerprint(parts)


def save_indexes(directory: Path | str, indexes: Mapping[str, TfidfIndex], metadata: dict[str, Any]) -> None:
    """Write the indexes and metadata as one set, replacing any set already in directory atomically.

    The set is written to a new directory beside it and renamed into place: a reader (or a crash) never sees
    half a set. A directory that holds something other than a saved set is never replaced (FileExistsError):
    a mistyped path must not delete someone's files.
    """
    directory = Path(directory)
    _check_replaceable(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}-new-", dir=directory.parent))
    try:
        for name, index in indexes.items():
            _check_name(name)
            index.save(staging / name, metadata)
        manifest = {"format": STORE_FORMAT, "version": STORE_VERSION, "indexes": list(indexes), "metadata": metadata}
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False), "utf-8")
        old = None
        if directory.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{directory.name}-old-", dir=directory.parent))
            os.replace(directory, old / directory.name)
        os.replace(staging, directory)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def read_metadata(directory: Path | str) -> dict[str, Any] | None:
    """The metadata a saved set was written with, or None if there is no readable set of this version."""
    path = Path(directory) / MANIFEST
    try:
        manifest = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(manifest, dict) or manifest.get("format") != STORE_FORMAT:
        return None
    if manifest.get("version") != STORE_VERSION:
        return None
    return manifest.get("metadata")


def load_indexes(
    directory: Path | str, metadata: dict[str, Any], *, mmap: bool = False
) -> dict[str, TfidfIndex] | None:
    """The saved indexes if the set was written with exactly this metadata, else None (the caller rebuilds).

    None (with a log line saying why) for: no set, another store or index format version, metadata that
    differs (other sources, another analyser), or damaged files.
    """
    directory = Path(directory)
    manifest_path = directory / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text("utf-8"))
    except FileNotFoundError:
        log.info("no saved index in %s", directory)
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        log.warning("saved index %s is unreadable (%s); rebuilding", directory, error)
        return None
    if not isinstance(manifest, dict) or manifest.get("format") != STORE_FORMAT:
        log.warning("%s is not a saved index set; rebuilding", manifest_path)
        return None
    if manifest.get("version") != STORE_VERSION:
        log.info(
            "saved index %s has format version %r, not %d; rebuilding",
            directory,
            manifest.get("version"),
            STORE_VERSION,
        )
        return None
    if manifest.get("metadata") != json.loads(json.dumps(metadata)):
        log.info("saved index %s was built from other sources or another analyser; rebuilding", directory)
        return None
    try:
        return {name: TfidfIndex.load(directory / _check_name(name), mmap=mmap) for name in manifest["indexes"]}
    except (IndexFormatError, KeyError, TypeError, ValueError, OSError) as error:
        log.warning("saved index %s cannot be loaded (%s); rebuilding", directory, error)
        return None


def load_or_build(
    directory: Path | str | None, metadata: dict[str, Any], build: Callable[[], Indexes], *, save: bool = True
) -> dict[str, TfidfIndex]:
    """The saved indexes when they match metadata, else build() (saved for next time when save is true).

    directory None means no saved index: always build. A failure to save is logged, not raised: the
    indexes just built still serve.
    """
    if directory is not None:
        indexes = load_indexes(directory, metadata)
        if indexes is not None:
            return indexes
    built = dict(build())
    if directory is not None and save:
        try:
            save_indexes(directory, built, metadata)
        except OSError as error:
            log.warning("could not save the index to %s: %s", directory, error)
    return built


def build_in_child(
    builder: Builder,
    *args: Any,
    timeout: float | None = None,
    context: str = CHILD_CONTEXT,
    save_to: Path | str | None = None,
) -> Built:
    """Run builder(*args) in a child process and load the indexes it built here.

    builder must be a module-level function (it is pickled by reference) and args small and picklable
    (paths, not corpora): the child reads its own inputs. The child scores with the numpy engine (it never
    searches, so it does not load numba). This blocks until the child is done; from asyncio call it with
    ``await asyncio.to_thread(build_in_child, ...)``: waiting and loading hold the GIL only for moments, so
    the event loop keeps running. Raises ChildBuildError if the child fails, TimeoutError (after killing
    it) if it takes longer than timeout seconds.

    save_to: the child also saves the set there (save_indexes: atomic, never over other files), so that this
    process spends no time writing it; a failure to do so is Built.save_error, not an exception.
    """
    with tempfile.TemporaryDirectory(prefix="iom-bot-build-") as tmp:
        out = Path(tmp)
        keep = None if save_to is None else str(Path(save_to).absolute())
        process = multiprocessing.get_context(context).Process(
            target=_child_main, args=(builder, args, str(out), keep), name="iom-bot-index-build", daemon=True
        )
        process.start()
        process.join(timeout)
        if process.is_alive():
            process.kill()
            process.join()
            raise TimeoutError(f"the index build took longer than {timeout:g} s")
        if process.exitcode != 0:
            error = (out / ERROR_FILE).read_text("utf-8") if (out / ERROR_FILE).exists() else ""
            last = error.strip().splitlines()[-1] if error.strip() else f"exit code {process.exitcode}"
            log.error("index build in a child process failed:\n%s", error or last)
            raise ChildBuildError(last)
        saved = out / "set"
        manifest = json.loads((saved / MANIFEST).read_text("utf-8"))
        save_error = (out / SAVE_ERROR_FILE).read_text("utf-8") if (out / SAVE_ERROR_FILE).exists() else None
        indexes = {name: TfidfIndex.load(saved / name) for name in manifest["indexes"]}
        return Built(indexes, manifest["metadata"], save_error)


def index_text_file(path: str) -> tuple[dict[str, TfidfIndex], dict[str, Any]]:
    """({"texts": index}, {"texts": fingerprint}) of a UTF-8 file of one text per line, default Analyzer.

    A ready-made builder for build_in_child (benchmarks, tests): the child reads the file itself.
    """
    with open(path, encoding="utf-8") as lines:
        texts = [line.rstrip("\n") for line in lines]
    return {"texts": TfidfIndex.build(texts, Analyzer())}, {"texts": fingerprint(texts)}


def _child_main(builder: Builder, args: tuple[Any, ...], out: str, save_to: str | None = None) -> None:
    os.environ.setdefault(ENGINE_ENV, "numpy")
    # A throwaway process that builds long-lived, acyclic structures: collecting cycles would only cost time.
    gc.disable()
    try:
        built = builder(*args)
        indexes, metadata = built if isinstance(built, tuple) else (built, {})
        save_indexes(Path(out, "set"), indexes, metadata)
    except BaseException:
        Path(out, ERROR_FILE).write_text(traceback.format_exc(), "utf-8")
        raise SystemExit(1) from None
    if save_to is not None:
        try:
            save_indexes(save_to, indexes, metadata)
        except (OSError, ValueError) as error:
            Path(out, SAVE_ERROR_FILE).write_text(str(error), "utf-8")


def _check_replaceable(directory: Path) -> None:
    """Raise FileExistsError unless directory is absent, empty, or a saved set (even a damaged one)."""
    try:
        entries = [entry.name for entry in os.scandir(directory)]
    except FileNotFoundError:
        return
    except NotADirectoryError:
        raise FileExistsError(errno.EEXIST, "exists and is not a directory", str(directory)) from None
    if entries and MANIFEST not in entries:
        raise FileExistsError(
            errno.EEXIST, f"holds files but no {MANIFEST}: not a saved index, so it is not replaced", str(directory)
        )


def _check_name(name: str) -> str:
    if not name or name.startswith(".") or "/" in name or "\\" in name or name == MANIFEST:
        raise ValueError(f"index name {name!r}: use a plain directory name")
    return name
