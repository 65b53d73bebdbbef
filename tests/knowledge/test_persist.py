"""A save interrupted between its two renames loses nothing: the next load or save puts the set back (L4)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from knowledge import persist
from knowledge.index import TfidfIndex

METADATA = {"sources": "abc"}


def indexes(*rows: list[str]) -> dict[str, TfidfIndex]:
    return {"units": TfidfIndex.from_terms(list(rows), engine="numpy")}


def crash_on_second_replace(monkeypatch: pytest.MonkeyPatch) -> None:
    """os.replace as a crash right after the old set was moved aside (the process dies: nothing cleans up)."""
    real = os.replace

    def replace(source: object, target: object) -> None:
        if Path(str(source)).name.startswith(".index-new-"):  # the second rename: the new set into place
            raise SystemExit("killed")  # BaseException: what the save's cleanup sees of a SIGKILL at best
        real(source, target)  # type: ignore[arg-type]

    monkeypatch.setattr(persist.os, "replace", replace)
    monkeypatch.setattr(persist.shutil, "rmtree", lambda *args, **kwargs: None)  # a killed process removes nothing


@pytest.mark.parametrize("then", ["load", "save"])
def test_a_save_killed_between_its_renames_is_put_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, then: str
) -> None:
    directory = tmp_path / "index"
    persist.save_indexes(directory, indexes(["old"]), METADATA)
    with monkeypatch.context() as patch:
        crash_on_second_replace(patch)
        with pytest.raises(SystemExit):
            persist.save_indexes(directory, indexes(["new"], ["set"]), METADATA)
    assert not directory.exists()

    if then == "load":
        loaded = persist.load_indexes(directory, METADATA)
        assert loaded is not None and loaded["units"].n_rows == 2  # the complete new set, not the old one
    else:
        persist.save_indexes(directory, indexes(["newer"], ["set"], ["three"]), METADATA)
        loaded = persist.load_indexes(directory, METADATA)
        assert loaded is not None and loaded["units"].n_rows == 3
    assert directory.is_dir()


def test_every_file_is_flushed_before_the_rename(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[str] = []
    real = os.fsync
    monkeypatch.setattr(persist.os, "fsync", lambda fd: synced.append(os.readlink(f"/proc/self/fd/{fd}")) or real(fd))

    persist.save_indexes(tmp_path / "index", indexes(["a", "b"]), METADATA)

    names = {Path(path).name for path in synced}
    assert {"indices.npy", "data.npy", "indptr.npy", "terms.txt", "index.json", persist.MANIFEST} <= names
