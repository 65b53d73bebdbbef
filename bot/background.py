"""Work on a knowledge base in a worker thread (a build, or freeing a replaced one) without stalling the event loop."""

from __future__ import annotations

import collections
import gc
import itertools
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# The GIL's switch interval while a build or release runs in a worker (background_work); Python's is 5 ms.
# Measured at 100k passages: 0.5 ms cuts the loop's median lag from 102 to 12 ms, the build takes 15 % longer.
SWITCH_INTERVAL_S = 0.0005
RELEASE_STEP = 10_000  # items of a large container taken over per step by release_gradually


class _BackgroundWork:
    """Counts the builds and releases running in worker threads, and what they changed for the time being."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.active = 0
        self.collector_was_enabled = True
        self.switch_interval_s = sys.getswitchinterval()


_BACKGROUND = _BackgroundWork()


@contextmanager
def background_work() -> Iterator[None]:
    """Run a knowledge base's build (or release) in a worker thread without stalling the event loop.

    For as long as it runs:

    - Python's cyclic garbage collector is off. A knowledge base is millions of long-lived objects without
      reference cycles (refcounting frees them), and a collection traverses every tracked object while
      holding the GIL: at 100k passages the full ones take up to a second each, a second the event loop
      would stall. build_knowledge freezes what it built (gc.freeze()) before the collector is back on, so the
      collector never traverses it; a frozen object is still freed when its last reference goes, and views
      hold ids, not knowledge bases, so no frozen cycle keeps an old version alive (the memory test checks it).
    - The GIL's switch interval is SWITCH_INTERVAL_S instead of Python's 5 ms. An answer releases the GIL
      many times (numpy, the compiled kernel); each time, a busy worker takes it, and the loop waits a whole
      interval to get it back: answers that take 10 ms alone took 110 ms during a 100k-passage reload.
    """
    with _BACKGROUND.lock:
        if _BACKGROUND.active == 0:
            _BACKGROUND.collector_was_enabled = gc.isenabled()
            _BACKGROUND.switch_interval_s = sys.getswitchinterval()
            gc.disable()
            sys.setswitchinterval(min(SWITCH_INTERVAL_S, _BACKGROUND.switch_interval_s))
        _BACKGROUND.active += 1
    try:
        yield
    finally:
        with _BACKGROUND.lock:
            _BACKGROUND.active -= 1
            if _BACKGROUND.active == 0:
                sys.setswitchinterval(_BACKGROUND.switch_interval_s)
                if _BACKGROUND.collector_was_enabled:
                    gc.enable()


def release_gradually(box: list[object]) -> None:
    """Free what box holds, and everything only it holds, one object at a time (for a worker thread).

    Dropping the last reference to a large knowledge base frees its millions of objects in one C cascade
    that holds the GIL throughout (0.8 s at 100k passages: the event loop would stall as long). Here they
    are taken apart instead: an object nothing else references has its referents taken over before it is
    dropped, so dropping it frees it alone, and the GIL changes hands between objects as usual. Nothing is
    modified: an object still referenced elsewhere (by a question in flight, or a constant) is only let go,
    and freed by its other owner. A deque holds the objects waiting: it grows in small blocks, where a list
    of millions would be copied whole whenever it grows.
    """
    waiting = collections.deque(box)
    box.clear()
    with background_work():  # a collection, too, would traverse the millions of objects waiting
        while waiting:
            item = waiting.pop()
            if sys.getrefcount(item) == 2:  # `item` and the call's argument: nothing else holds it
                _take_referents(item, waiting)
            del item  # frees it alone: what it referenced is waiting


def _take_referents(item: object, waiting: collections.deque[object]) -> None:
    """Add what item references to waiting; a large container's items a step at a time."""
    if not isinstance(item, tuple | list | dict | set | frozenset) or len(item) <= RELEASE_STEP:
        waiting.extend(gc.get_referents(item))
        return
    entries = iter(item.items()) if isinstance(item, dict) else iter(item)
    while step := list(itertools.islice(entries, RELEASE_STEP)):
        waiting.extend(itertools.chain.from_iterable(step) if isinstance(item, dict) else step)
