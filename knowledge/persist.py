"""Saved indexes: a set of named TfidfIndex written together with what they were built from, and built in a
child process so that a long build never holds this process's GIL (the bot's event loop keeps answering).

A saved set is a directory: one subdirectory per index (see TfidfIndex.save), optionally one of tables
(knowledge.tablefiles) and ``indexes.json`` with the store's format version, the caller's metadata (a knowledge
base's key: knowledge.fingerprints) and the sha256 of every file. It is replaced atomically: a reader sees the
old set or the new one, never half of each; every file is fsynced before the rename, and a crash between the two
renames of a save is repaired by the next load or save. A set whose files do not match their checksums, or whose
arrays break the scorer's invariants (knowledge.integrity), is ignored with one warning and rebuilt: never read by
the compiled scorer.
"""

from __future__ import annotations

import errno
import gc
import json
import logging
import multiprocessing
import os
import shutil
import tempfile
import time
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from .files import read_limited
from .fingerprints import analyzer_fingerprint as analyzer_fingerprint
from .fingerprints import fingerprint as fingerprint
from .index import IndexFormatError, TfidfIndex
from .integrity import file_sha256
from .scoring import ENGINE_ENV
from .tablefiles import TableFormatError, read_tables, write_tables
from .text import Analyzer

log = logging.getLogger(__name__)

STORE_FORMAT = "iom-bot/index-set"
STORE_VERSION = 3  # 2: the manifest holds every file's sha256; 3: and the tables a start needs (knowledge.saved)
MANIFEST = "indexes.json"
TABLES = "tables"  # the subdirectory of the tables (knowledge.tablefiles), beside the indexes'
ERROR_FILE = "error.txt"
SAVE_ERROR_FILE = "save-error.txt"
MANIFEST_MAX_BYTES = 10_000_000  # a manifest lists a few hashes and metadata: a few KB
ORPHAN_AGE_S = 3600.0  # a staging or old copy left this long by a save that never finished is removed
CHILD_CONTEXT = "spawn"  # a fresh interpreter: no inherited threads, locks or event loop
Indexes = Mapping[str, TfidfIndex]
# A builder returns its indexes, or (indexes, metadata): what they were built from, for the caller to check.
Builder = Callable[..., Indexes | tuple[Indexes, dict[str, Any]]]


class Saved(NamedTuple):
    """A saved set as load_set reads it: its indexes and its tables (empty when it was saved without)."""

    indexes: dict[str, TfidfIndex]
    tables: dict[str, Any]


class Built(NamedTuple):
    """What build_in_child brings back: the indexes, loaded here, and the metadata the builder gave."""

    indexes: dict[str, TfidfIndex]
    metadata: dict[str, Any]
    save_error: str | None = None  # why the set could not also be saved where save_to asked, if it could not


class ChildBuildError(RuntimeError):
    """The child process failed to build; the message carries its traceback's last line."""


def save_indexes(
    directory: Path | str,
    indexes: Mapping[str, TfidfIndex],
    metadata: dict[str, Any],
    tables: Mapping[str, Any] | None = None,
) -> None:
    """Write the indexes, tables (see knowledge.tablefiles) and metadata as one set, replacing any set already in
    directory atomically.

    The set is written to a new directory beside it, fsynced, and renamed into place: a reader (or a crash)
    never sees half a set. A directory that holds something other than a saved set is never replaced
    (FileExistsError): a mistyped path must not delete someone's files.
    """
    directory = Path(directory)
    recover(directory)
    _check_replaceable(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    _remove_orphans(directory)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}-new-", dir=directory.parent))
    try:
        for name, index in indexes.items():
            if _check_name(name) == TABLES:
                raise ValueError(f"index name {name!r} is the tables' directory")
            index.save(staging / name, metadata)
        directories = list(indexes)
        if tables:
            write_tables(staging / TABLES, tables)
            directories.append(TABLES)
        files = {
            f"{name}/{path.name}": file_sha256(path)
            for name in directories
            for path in sorted((staging / name).iterdir())
        }
        manifest = {
            "format": STORE_FORMAT,
            "version": STORE_VERSION,
            "indexes": list(indexes),
            "tables": bool(tables),
            "metadata": metadata,
            "files": files,
        }
        _fsync_tree(staging, [*files, *(f"{name}/" for name in directories)])
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False), "utf-8")
        _fsync(staging / MANIFEST)
        _fsync(staging)
        old = None
        if directory.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{directory.name}-old-", dir=directory.parent))
            os.replace(directory, old / directory.name)
        os.replace(staging, directory)
        _fsync(directory.parent)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def recover(directory: Path | str) -> bool:
    """Put back the set a save left aside when it stopped between its two renames; whether one was put back.

    The new set (complete: its manifest is written last) is preferred to the old one. Nothing is done when
    directory exists.
    """
    directory = Path(directory)
    if directory.exists() or directory.is_symlink() or not directory.parent.is_dir():
        return False
    parent = directory.parent
    staged = sorted(parent.glob(f".{directory.name}-new-*/{MANIFEST}"), key=_mtime, reverse=True)
    kept = sorted(parent.glob(f".{directory.name}-old-*/{directory.name}/{MANIFEST}"), key=_mtime, reverse=True)
    for manifest in (*staged, *kept):
        try:
            os.replace(manifest.parent, directory)
        except OSError:
            continue
        _fsync(parent)
        log.warning("put back the saved index %s that an interrupted save had left aside", directory)
        return True
    return False


def _remove_orphans(directory: Path) -> None:
    """Remove the staging and old copies that saves which never finished left beside directory long ago."""
    cutoff = time.time() - ORPHAN_AGE_S
    for pattern in (f".{directory.name}-new-*", f".{directory.name}-old-*"):
        for orphan in directory.parent.glob(pattern):
            if _mtime(orphan) < cutoff:
                shutil.rmtree(orphan, ignore_errors=True)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _fsync(path: Path) -> None:
    """Flush a file or a directory (its entries) to disk; best effort where the system cannot."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _fsync_tree(root: Path, relative: list[str]) -> None:
    for name in relative:
        _fsync(root / name)


def verify_files(directory: Path, manifest: dict[str, Any]) -> str | None:
    """Why the set's files do not match the manifest's checksums, or None when every one does."""
    files = manifest.get("files")
    names = manifest.get("indexes")
    if not isinstance(files, dict) or not isinstance(names, list):
        return "the manifest lists no checksums"
    names = [*names, TABLES] if manifest.get("tables") is True else names
    for name in names:
        _check_name(name)
        listed = {key for key in files if key.startswith(f"{name}/")}
        present = {f"{name}/{entry.name}" for entry in os.scandir(directory / name)}
        if listed != present:
            return f"the files of {name!r} are not the ones the manifest lists"
    for relative, expected in files.items():
        if not isinstance(relative, str) or relative.split("/")[0] not in names or ".." in relative:
            return f"the manifest lists an unexpected file {str(relative)[:80]!r}"
        if file_sha256(directory / relative) != expected:
            return f"{relative} does not match its checksum"
    return None


def read_json(path: Path, limit: int = MANIFEST_MAX_BYTES) -> Any:
    """A small JSON file's value; ValueError when it is not a regular file of at most limit bytes of JSON."""
    raw = read_limited(path, limit)
    try:
        return json.loads(raw.decode("utf-8"))
    except RecursionError:
        raise ValueError(f"{path.name}: JSON nested too deeply") from None


def read_metadata(directory: Path | str) -> dict[str, Any] | None:
    """The metadata a saved set was written with, or None if there is no readable set of this version."""
    path = Path(directory) / MANIFEST
    try:
        manifest = read_json(path)
    except (OSError, ValueError):
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
    saved = load_set(directory, metadata, mmap=mmap)
    return None if saved is None else saved.indexes


def load_set(directory: Path | str, metadata: dict[str, Any], *, mmap: bool = False) -> Saved | None:
    """The saved indexes and tables if the set was written with exactly this metadata, else None (as
    load_indexes says)."""
    directory = Path(directory)
    manifest_path = directory / MANIFEST
    recover(directory)
    try:
        manifest = read_json(manifest_path)
    except FileNotFoundError:
        log.info("no saved index in %s", directory)
        return None
    except (OSError, ValueError) as error:
        log.warning("saved index %s is unreadable (%s); rebuilding", directory, _short(error))
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
        problem = verify_files(directory, manifest)
        if problem is not None:
            log.warning("saved index %s is damaged (%s); rebuilding", directory, problem)
            return None
        indexes = {name: TfidfIndex.load(directory / _check_name(name), mmap=mmap) for name in manifest["indexes"]}
        tables = read_tables(directory / TABLES, mmap=mmap) if manifest.get("tables") is True else {}
    except (IndexFormatError, TableFormatError, KeyError, TypeError, ValueError, OSError) as error:
        log.warning("saved index %s cannot be loaded (%s); rebuilding", directory, _short(error))
        return None
    rows = metadata.get("rows")
    if isinstance(rows, dict) and {name: index.n_rows for name, index in indexes.items()} != rows:
        log.warning("saved index %s does not have a row per passage and sentence; rebuilding", directory)
        return None
    return Saved(indexes, tables)


def _short(error: BaseException, limit: int = 300) -> str:
    text = str(error)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def build_in_child(
    builder: Builder,
    *args: Any,
    timeout: float | None = None,
    context: str = CHILD_CONTEXT,
    save_to: Path | str | None = None,
) -> Built:
    """Run builder(*args) in a child process and load the indexes it built here.

    builder must be a module-level function (it is pickled by reference) and args picklable: they are sent to
    the child once (knowledge.builder sends the rows' texts: nothing is read or chunked twice). The child scores
    with the numpy engine (it never searches, so it does not load numba). This blocks until the child is done;
    from asyncio call it with ``await asyncio.to_thread(build_in_child, ...)``: waiting and loading hold the GIL
    only for moments, so the event loop keeps running. Raises ChildBuildError if the child fails, TimeoutError
    (after killing it) if it takes longer than timeout seconds.

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


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not name or name.startswith(".") or "/" in name or "\\" in name:
        raise ValueError(f"index name {str(name)[:80]!r}: use a plain directory name")
    if name == MANIFEST:
        raise ValueError(f"index name {name!r}: use a plain directory name")
    return name
