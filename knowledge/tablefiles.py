"""The tables of a saved set: named values written as plain files, read back without pickle.

An array is ``name.npy`` (numeric dtypes only), a list of strings ``name.txt`` (one a line), anything else
``name.json``. persist.save_indexes writes them beside the indexes, under the same manifest and checksums.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

MAX_JSON_BYTES = 200_000_000  # the largest JSON table (documents, references) of a large knowledge base


class TableFormatError(ValueError):
    """A table file that cannot be read as the type its name says."""


def write_tables(directory: Path, tables: Mapping[str, Any]) -> None:
    """Write each table as a file of directory (created); ValueError for a value no file type holds."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, value in tables.items():
        if not name.isidentifier():
            raise ValueError(f"table name {name[:80]!r}: use letters, digits and underscores")
        if isinstance(value, np.ndarray):
            if value.dtype.kind not in "biuf":
                raise ValueError(f"table {name}: {value.dtype} is not a numeric dtype")
            np.save(directory / f"{name}.npy", np.ascontiguousarray(value), allow_pickle=False)
        elif isinstance(value, list | tuple) and all(isinstance(item, str) for item in value) and value:
            if any("\n" in item for item in value):
                raise ValueError(f"table {name}: a string contains a newline")
            (directory / f"{name}.txt").write_bytes("\n".join(value).encode("utf-8"))
        else:
            (directory / f"{name}.json").write_text(json.dumps(value, ensure_ascii=False), "utf-8")


def read_tables(directory: Path, *, mmap: bool = False) -> dict[str, Any]:
    """Every table of directory by name; TableFormatError for a file that is not what its name says."""
    tables: dict[str, Any] = {}
    for path in sorted(directory.iterdir()):
        name, suffix = path.stem, path.suffix
        try:
            if suffix == ".npy":
                value: Any = np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
                if value.dtype.kind not in "biuf":
                    raise TableFormatError(f"{path.name}: {value.dtype} is not a numeric dtype")
            elif suffix == ".txt":
                value = path.read_bytes().decode("utf-8").split("\n")
            elif suffix == ".json":
                if path.stat().st_size > MAX_JSON_BYTES:
                    raise TableFormatError(f"{path.name}: too large")
                value = json.loads(path.read_bytes().decode("utf-8"))
            else:
                raise TableFormatError(f"{path.name}: not a table file")
        except (OSError, UnicodeDecodeError, ValueError, RecursionError) as error:
            if isinstance(error, TableFormatError):
                raise
            raise TableFormatError(f"{path.name}: {str(error)[:200]}") from None
        tables[name] = value
    return tables
