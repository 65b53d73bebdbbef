"""Forked: a function run in a forked copy of the process gives what it gives here, and never leaves one behind."""

from __future__ import annotations

import os
import threading

import pytest

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
