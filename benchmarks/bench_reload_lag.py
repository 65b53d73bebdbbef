"""Event-loop lag while a 100k-passage index is rebuilt, as the bot's reload does it: in a thread, or in a child.

    python benchmarks/bench_reload_lag.py                 # 100k passages
    python benchmarks/bench_reload_lag.py --passages 10000

An asyncio loop answers a question every TICK_S (as a busy bot would) and measures how late each tick
wakes up: the lag is what every user waiting on the bot would feel. Three phases, each on the same loop:
idle (no reload), a reload that builds the index in a worker thread (asyncio.to_thread), and one that
builds it in a child process (knowledge.persist.build_in_child) and loads the saved arrays in a thread.
A thread shares the GIL with the loop, and the build's long C calls (and the analyser's Python) hold it;
a child process holds none of it, and loading plain arrays holds it only for moments.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

import numpy as np  # noqa: E402
import synthetic  # noqa: E402

from knowledge.index import TfidfIndex  # noqa: E402
from knowledge.persist import build_in_child, index_text_file  # noqa: E402
from knowledge.text import Analyzer  # noqa: E402

TICK_S = 0.002  # a question every 2 ms
IDLE_S = 2.0
DEFAULT_CACHE = Path(tempfile.gettempdir()) / "iom-bot-bench"


async def answer_while(done: asyncio.Event, index: TfidfIndex, questions: list[str]) -> dict[str, float]:
    """Answer questions every TICK_S until done; the lateness of each wake-up is the loop's lag."""
    analyzer = Analyzer()
    lags, latencies = [], []
    i = 0
    while not done.is_set():
        started = time.perf_counter()
        await asyncio.sleep(TICK_S)
        woke = time.perf_counter()
        lags.append(woke - started - TICK_S)
        index.search(analyzer(questions[i % len(questions)]), 5)
        latencies.append(time.perf_counter() - woke)
        i += 1
    lag_ms = np.array(lags) * 1e3
    return {
        "questions": float(len(lags)),
        "lag_max_ms": float(lag_ms.max()),
        "lag_p99_ms": float(np.percentile(lag_ms, 99)),
        "lag_p50_ms": float(np.percentile(lag_ms, 50)),
        "answer_p50_us": float(np.percentile(latencies, 50) * 1e6),
    }


async def phase(
    name: str, index: TfidfIndex, questions: list[str], reload: Callable[[], Awaitable[TfidfIndex | None]]
) -> dict[str, float]:
    done = asyncio.Event()
    answering = asyncio.create_task(answer_while(done, index, questions))
    await asyncio.sleep(0.2)  # the loop is answering before the reload starts
    started = time.perf_counter()
    rebuilt = await reload()
    seconds = time.perf_counter() - started
    done.set()
    result = await answering
    result["reload_s"] = seconds
    if rebuilt is not None:
        result["rows"] = float(rebuilt.n_rows)
    print(
        f"| {name} | {result['reload_s']:.1f} | {result['lag_max_ms']:.1f} | {result['lag_p99_ms']:.1f} "
        f"| {result['lag_p50_ms']:.2f} | {int(result['questions']):,} | {result['answer_p50_us']:.0f} |",
        flush=True,
    )
    return result


async def main_async(passages: int, cache: Path) -> None:
    path = cache / f"lag-{passages}.txt"
    texts = synthetic.cached_passages(passages, cache)
    if not path.exists():
        path.write_text("".join(text + "\n" for text in texts), "utf-8")
    questions = synthetic.queries(1000)
    analyzer = Analyzer()
    serving = TfidfIndex.build(texts[:1000], analyzer)  # the index the bot answers from meanwhile
    print(f"{passages:,} passages; a question every {TICK_S * 1e3:g} ms; loop lag = how late each wake-up is\n")
    print("| reload | reload s | max lag ms | p99 lag ms | p50 lag ms | questions answered | answer p50 µs |")
    print("|---|--:|--:|--:|--:|--:|--:|")

    async def idle() -> None:
        await asyncio.sleep(IDLE_S)

    async def in_thread() -> TfidfIndex:
        return await asyncio.to_thread(TfidfIndex.build, texts, analyzer)

    async def in_child() -> TfidfIndex:
        built = await asyncio.to_thread(build_in_child, index_text_file, str(path))
        return built.indexes["texts"]

    await phase("none (idle)", serving, questions, idle)
    await phase("build in a thread", serving, questions, in_thread)
    await phase("build in a child process, load in a thread", serving, questions, in_child)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    args = parser.parse_args(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    asyncio.run(main_async(args.passages, args.cache))
    return 0


if __name__ == "__main__":
    sys.exit(main())
