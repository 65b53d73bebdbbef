"""Memory of several bot processes on one machine sharing one saved index: summed PSS, one process vs two.

    python benchmarks/bench_shared_index.py [--passages 100000] [--cache DIR]

Each process loads the knowledge base exactly as the bot does at start-up (KnowledgeStore.load with
knowledge.index set: the saved index is memory-mapped read-only, bot/store.py), then waits. PSS (proportional
set size, /proc/PID/smaps_rollup) charges each shared page to its processes in equal parts, so the sum over
processes is what they cost the machine together. The same is measured with the index read into each process's
own memory (mmap off), for comparison; and for `iom-bot run --processes 2` (bot/cluster.py: the knowledge base
loaded once, then two processes forked from it), whose parent is counted too. Linux only. Prints numbers;
asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

import synthetic  # noqa: E402

from knowledge.base import BUNDLED_SOURCES  # noqa: E402
from knowledge.glossary import GLOSSARY_FILE  # noqa: E402

DEFAULT_CACHE = Path(tempfile.gettempdir()) / "iom-bot-bench-shared"
LOAD_TIMEOUT_S = 1800.0
FIELDS = ("Rss", "Pss", "Pss_Anon", "Pss_File", "Shared_Clean", "Private_Dirty")
# One bot process, up to the point where it would connect: the knowledge base loaded as run loads it.
CHILD = """
import asyncio, functools, sys
from pathlib import Path
sys.path.insert(0, {root!r})
from knowledge import persist
import bot.store
if not {mmap!r}:  # the comparison: every process reads the arrays into its own memory
    load = persist.load_indexes
    bot.store.persist = type("P", (), {{"load_indexes": staticmethod(
        lambda directory, metadata, mmap=True: load(directory, metadata, mmap=False))}})
store = bot.store.KnowledgeStore(Path({sources!r}), index=Path({index!r}))
knowledge = asyncio.run(store.load())
knowledge.answer("what does the agreement say about travel")
print("READY", len(knowledge.passages), flush=True)
sys.stdin.read()
"""


# `run --processes 2` up to the point where its processes would connect: cluster.py's own load and fork.
FORKED = """
import os, sys
from pathlib import Path
sys.path.insert(0, {root!r})
from bot import cluster
from bot.config import Config, KnowledgeConfig
config = Config(knowledge=KnowledgeConfig(sources=Path({sources!r}), index=Path({index!r})))
knowledge = cluster.load_shared(config)

def serve():
    knowledge.answer("what does the agreement say about travel")
    print("READY", os.getpid(), flush=True)
    sys.stdin.read()
    return 0

children = cluster.fork_workers([serve, serve])
print("PARENT", os.getpid(), flush=True)
sys.stdin.read()
for pid in children:
    os.kill(pid, 9)
"""


def smaps(pid: int) -> dict[str, int]:
    """kB per field of /proc/PID/smaps_rollup."""
    values = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, _, rest = line.partition(":")
        values[name.strip()] = int(rest.split()[0])
    return values


def start(sources: Path, index: Path, *, mmap: bool) -> subprocess.Popen[str]:
    code = CHILD.format(root=str(ROOT), sources=str(sources), index=str(index), mmap=mmap)
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("READY"):
        process.kill()
        raise SystemExit(f"a process failed to load the knowledge base (exit {process.wait()})")
    return process


def measure(sources: Path, index: Path, count: int, *, mmap: bool) -> list[dict[str, int]]:
    """Start count processes, one after the other, and read their memory once all are loaded."""
    processes = []
    try:
        for _ in range(count):
            processes.append(start(sources, index, mmap=mmap))
        time.sleep(1.0)  # let the last one's start-up garbage be collected before reading
        return [smaps(process.pid) for process in processes]
    finally:
        for process in processes:
            process.kill()
            process.wait()


def measure_forked(sources: Path, index: Path) -> list[dict[str, int]]:
    """The parent and its two forked processes, once both have answered a question."""
    code = FORKED.format(root=str(ROOT), sources=str(sources), index=str(index))
    process = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    pids: list[int] = []
    try:
        for _ in range(3):  # two READY, one PARENT, in any order
            pids.append(int(process.stdout.readline().split()[1]))
        time.sleep(1.0)
        return [smaps(pid) for pid in pids]
    finally:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        process.kill()
        process.wait()


def mb(kb: int) -> str:
    return f"{kb / 1024:,.0f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    args = parser.parse_args(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    sources = synthetic.cached_sources(args.passages, args.cache, BUNDLED_SOURCES / GLOSSARY_FILE)
    index = args.cache / f"{sources.name}-shared-index"
    measure(sources, index, 1, mmap=True)  # the first start builds and saves the index when it is missing
    size = sum(path.stat().st_size for path in index.rglob("*") if path.is_file())
    print(f"{args.passages:,} passages; saved index {size / 2**20:,.0f} MB on disk; ready in "
          f"{time.perf_counter() - started:.0f} s; {os.cpu_count()} cores")  # fmt: skip
    print("\n| index | processes | PSS each MB | summed PSS MB | of which file-backed MB | vs one process |")
    print("|---|--:|--:|--:|--:|--:|")
    for mmap in (True, False):
        one = sum(m["Pss"] for m in measure(sources, index, 1, mmap=mmap))
        two = measure(sources, index, 2, mmap=mmap)
        summed = sum(m["Pss"] for m in two)
        label = "memory-mapped (the bot)" if mmap else "read into each process"
        print(f"| {label} | 1 | {mb(one)} | {mb(one)} | - | 1.00x |")
        each = " + ".join(mb(m["Pss"]) for m in two)
        file_backed = sum(m["Pss_File"] for m in two)
        print(f"| {label} | 2 | {each} | {mb(summed)} | {mb(file_backed)} | {summed / one:.2f}x |")
        if mmap:
            alone = one
    forked = measure_forked(sources, index)
    summed = sum(m["Pss"] for m in forked)
    each = " + ".join(mb(m["Pss"]) for m in forked)
    file_backed = sum(m["Pss_File"] for m in forked)
    print(f"| run --processes 2 (forked; parent + 2) | 3 | {each} | {mb(summed)} | {mb(file_backed)} | "
          f"{summed / alone:.2f}x |")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
