"""Forked: a function run in a forked copy of the process gives what it gives here, and never leaves one behind."""

from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest

from knowledge import units
from knowledge.base import KnowledgeBase
from knowledge.forked import Forked

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="no os.fork here")


def squares(n: int) -> list[int]:
    return [i * i for i in range(n)]


def pid_of_worker() -> int:
    return os.getpid()


def fails_in_a_copy(parent: int) -> str:
    if os.getpid() != parent:
        raise RuntimeError("only in the copy")
    return "done here"


def test_the_result_is_the_functions_and_comes_from_a_copy() -> None:
    assert Forked(squares, 100_000).result() == squares(100_000)  # more than a pipe's buffer
    assert Forked(pid_of_worker).result() != os.getpid()


def test_a_copy_that_fails_is_replaced_by_this_process(caplog: pytest.LogCaptureFixture) -> None:
    assert Forked(fails_in_a_copy, os.getpid()).result() == "done here"
    assert "the forked copy failed" in caplog.text


def test_no_copy_when_another_thread_runs_or_when_told() -> None:
    assert Forked(pid_of_worker, fork=False).result() == os.getpid()
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert Forked(pid_of_worker).result() == os.getpid()
    finally:
        stop.set()
        other.join()


def test_leaving_without_the_result_stops_the_copy() -> None:
    with Forked(squares, 10) as work:
        pid = work._pid
        assert pid
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reaped: no such child any more


def test_a_build_shared_with_a_forked_copy_is_the_one_built_here(
    kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(units, "FORK_UNITS", 0)
    monkeypatch.setattr(Forked, "spare_core", staticmethod(lambda: True))
    started: list[int] = []
    start = Forked._start

    def spy(self: Forked[object]) -> None:
        start(self)
        started.append(self._pid)

    monkeypatch.setattr(Forked, "_start", spy)
    forked = KnowledgeBase.load(warm=False)
    assert len(started) == 1 and started[0]  # the copy ran
    old, new = kb.retriever, forked.retriever
    for name, index in old.indexes().items():
        other = new.indexes()[name]
        assert list(other.vocabulary) == list(index.vocabulary) and other.idf.tobytes() == index.idf.tobytes()
        for array in ("indptr", "indices", "data", "col_max"):
            assert np.array_equal(getattr(other.scorer, array), getattr(index.scorer, array)), (name, array)
    assert tuple(new.units) == tuple(old.units) and new.entities == old.entities
    assert new.speller.counts == old.speller.counts and list(new.speller.counts) == list(old.speller.counts)
    assert np.array_equal(new.sentences.facts, old.sentences.facts)
    assert tuple(new.unit_terms) == tuple(old.unit_terms)
    assert forked.answer("wen did IOM join the UN?").to_dict() == kb.answer("wen did IOM join the UN?").to_dict()


def half_sent(parent: int) -> list[int]:
    """In the copy: a result too large for the pipe's buffer, and an end to the copy while it makes or sends it."""
    if os.getpid() != parent:
        threading.Timer(0.2, os._exit, (3,)).start()
    return squares(5_000_000) if os.getpid() != parent else [1]


def test_a_copy_that_stops_part_way_is_replaced_by_this_process() -> None:
    work = Forked(half_sent, os.getpid())
    time.sleep(0.5)  # the copy is blocked writing to the pipe when it ends
    assert work.result() == [1]
