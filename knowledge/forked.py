"""A function run in a forked copy of this process while this one goes on: a large build works out its sentences'
facts and proper names, its character n-grams' index and its speller on a second core while it builds the other
two indexes (knowledge.units).

Only where that is safe: os.fork exists and this process runs one Python thread (a fork copies the calling thread
alone: a lock another thread held, the bot's event loop, would stay held in the copy). Otherwise, and whenever the
copy fails, the function runs here when its result is asked for: the result is the same either way, only later.
"""

from __future__ import annotations

import gc
import logging
import os
import pickle
import signal
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class Forked(Generic[T]):
    """function(*args), started in a forked copy when one can be made; result() waits for it. A context manager:
    leaving it without the result stops the copy."""

    def __init__(self, function: Callable[..., T], *args: object, fork: bool = True) -> None:
        self._function = function
        self._args = args
        self._pid = 0
        self._pipe = -1
        if fork and self.possible():
            self._start()

    @staticmethod
    def possible() -> bool:
        """Whether a forked copy can be made here (it still may fail to start: then the work is done here)."""
        return hasattr(os, "fork") and threading.active_count() == 1

    @staticmethod
    def spare_core() -> bool:
        """Whether a copy would likely get a core's worth of time: two or more cores, and no more processes running
        now than cores, this one included. On a busier machine the two would only take turns, and the work split
        costs more CPU in all (a 10k build: 5.7 s against 5.1 s whole). With one other process running on two
        cores the copy still paid: 4.4 s against 5.1 s whole (medians of four, load average 1.3-1.4)."""
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        return cores >= 2 and _running_besides_this() + 1 <= cores

    def _start(self) -> None:
        try:
            read, write = os.pipe()
            pid = os.fork()
        except OSError as error:
            log.debug("no forked copy (%s): the work is done in this process", error)
            return
        if pid == 0:  # the copy: work, send the result, and leave without running this process's exit handlers
            gc.disable()  # short-lived: a collection would only copy the pages it writes to
            os.close(read)
            status = 1
            try:
                result = self._function(*self._args)
                # This program's own objects, to its own copy, through a pipe only the two hold; streamed, so
                # that neither process holds the whole pickle as well as the objects.
                with os.fdopen(write, "wb") as out:
                    pickle.dump(result, out, protocol=pickle.HIGHEST_PROTOCOL)
                status = 0
            finally:
                os._exit(status)
        os.close(write)
        self._pid, self._pipe = pid, read

    def __enter__(self) -> Forked[T]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Stop the copy if its result was not taken (this process failed meanwhile): it leaves no process behind."""
        if self._pid:
            os.kill(self._pid, signal.SIGKILL)
            os.waitpid(self._pid, 0)
            os.close(self._pipe)
            self._pid = 0

    def result(self) -> T:
        if not self._pid:
            return self._function(*self._args)
        with os.fdopen(self._pipe, "rb") as pipe:
            try:
                value = pickle.load(pipe)  # written by the forked copy of this process, above
                received = True
            except Exception:  # a copy that stopped part way: whatever it sent, the work is done here
                received = False
        _, status = os.waitpid(self._pid, 0)
        self._pid = 0
        if received and os.waitstatus_to_exitcode(status) == 0:
            return value
        log.warning("the forked copy failed (status %d): the work is done in this process", status)
        return self._function(*self._args)


def _running_besides_this() -> float:
    """How many other processes are running or ready to run now (Linux's /proc/loadavg), else the last minute's
    load average (this process's share of it taken out)."""
    try:
        with open("/proc/loadavg", encoding="ascii") as line:
            return int(line.read().split()[3].split("/")[0]) - 1  # "running/total": this process is among them
    except (OSError, ValueError, IndexError):
        return max(os.getloadavg()[0] - 1, 0.0)
