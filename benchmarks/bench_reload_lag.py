"""Event-loop lag while the bot reloads a 100k-passage knowledge base, and while it only rebuilds the index.

    python benchmarks/bench_reload_lag.py                     # 100k passages: both tables (about 15 minutes)
    python benchmarks/bench_reload_lag.py --passages 10000    # smaller
    python benchmarks/bench_reload_lag.py --only reload       # only the full reload table

An asyncio loop answers a question every TICK_S, as a busy bot would. Each time round, the loop's lag is
how long it could not run: how late the tick woke up, plus how long the answer waited for the GIL (its
wall time beyond this thread's CPU time). The lag is what every user waiting on the bot would feel on top
of the answers' own time.

The first table is the bot's real reload: a synthetic sources directory (100 front-matter Markdown files of
1,000 passages, with sections and citations, and the bundled glossary) is loaded by a KnowledgeStore, which
then runs ``KnowledgeStore.reload`` while the questions are answered by ``store.current.answer``: reading,
chunking, indexing, validation, the swap, and freeing the old knowledge base, exactly as ``/kb reload`` and
SIGHUP do them. It runs with a saved index that matches the sources (``knowledge.index``) and without one
(the sources are indexed anew, in a child process). *reload s* is until the new knowledge base answers;
the lag is measured until the old one is freed too. The sources carry a ``checks.yaml`` of CHECKS questions
(abstain: true, so the same sources pass the gate), which every reload runs on the new knowledge base before
the swap, with the named changes (issue 14): their cost is part of *reload s* and of the lag.

The second table isolates the index build: in a worker thread (asyncio.to_thread), or in a child process
(knowledge.persist.build_in_child) with the saved arrays loaded in a thread. A thread shares the GIL with
the loop, and the build's long C calls (and the analyser's Python) hold it; a child process holds none of
it, and loading plain arrays holds it only for moments.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

import numpy as np  # noqa: E402
import synthetic  # noqa: E402

from bot.store import KnowledgeStore  # noqa: E402
from knowledge.base import BUNDLED_SOURCES  # noqa: E402
from knowledge.glossary import GLOSSARY_FILE  # noqa: E402
from knowledge.index import TfidfIndex  # noqa: E402
from knowledge.persist import build_in_child, index_text_file  # noqa: E402
from knowledge.text import Analyzer  # noqa: E402

TICK_S = 0.002  # a question every 2 ms
CHECKS = 50  # questions of the synthetic sources' checks.yaml
IDLE_S = 2.0
SETTLE_S = 0.2  # the loop is answering before the reload starts
DEFAULT_CACHE = Path(tempfile.gettempdir()) / "iom-bot-bench"
TABLES = ("reload", "index")
HEADER = (
    "| reload | reload s | max lag ms | p99 lag ms | p50 lag ms | questions answered | answer p50 µs "
    "| answer max ms |\n|---|--:|--:|--:|--:|--:|--:|--:|"
)

Ask = Callable[[str], object]


async def answer_while(done: asyncio.Event, ask: Ask, questions: list[str]) -> dict[str, float]:
    """Answer a question every TICK_S until done; the loop's lag is how long it waited, each time round.

    It waits when a tick wakes up late, and while answering when another thread holds the GIL: an answer's
    wall time beyond this thread's CPU time is time the loop could not run. The sum of the two is the lag.
    """
    lags, latencies = [], []
    i = 0
    while not done.is_set():
        started = time.perf_counter()
        await asyncio.sleep(TICK_S)
        woke, cpu = time.perf_counter(), time.thread_time()
        ask(questions[i % len(questions)])
        answered = time.perf_counter() - woke
        lags.append(woke - started - TICK_S + max(answered - (time.thread_time() - cpu), 0.0))
        latencies.append(answered)
        i += 1
    lag_ms = np.array(lags) * 1e3
    return {
        "questions": float(len(lags)),
        "lag_max_ms": float(lag_ms.max()),
        "lag_p99_ms": float(np.percentile(lag_ms, 99)),
        "lag_p50_ms": float(np.percentile(lag_ms, 50)),
        "answer_p50_us": float(np.percentile(latencies, 50) * 1e6),
        "answer_max_ms": float(np.max(latencies) * 1e3),
    }


async def phase(
    name: str, ask: Ask, questions: list[str], reload: Callable[[], Awaitable[float | None]]
) -> dict[str, float]:
    """Run reload() while answering; print one table row. reload may return its own seconds (else: timed here)."""
    done = asyncio.Event()
    answering = asyncio.create_task(answer_while(done, ask, questions))
    await asyncio.sleep(SETTLE_S)
    started = time.perf_counter()
    seconds = await reload()
    if seconds is None:
        seconds = time.perf_counter() - started
    done.set()
    result = await answering
    result["reload_s"] = seconds
    print(
        f"| {name} | {result['reload_s']:.1f} | {result['lag_max_ms']:.1f} | {result['lag_p99_ms']:.1f} "
        f"| {result['lag_p50_ms']:.2f} | {int(result['questions']):,} | {result['answer_p50_us']:.0f} "
        f"| {result['answer_max_ms']:.1f} |",
        flush=True,
    )
    return result


async def idle() -> None:
    await asyncio.sleep(IDLE_S)


async def reload_table(passages: int, cache: Path, questions: list[str]) -> None:
    """The bot's own reload (KnowledgeStore.reload) of a synthetic sources directory, with and without a saved index."""
    started = time.perf_counter()
    sources = synthetic.cached_sources(passages, cache, BUNDLED_SOURCES / GLOSSARY_FILE)
    files = sum(1 for path in sources.iterdir() if path.suffix == ".md")
    size = sum(path.stat().st_size for path in sources.iterdir())
    print(f"sources: {files} files, {size / 1e6:.1f} MB (ready in {time.perf_counter() - started:.1f} s)")
    write_checks(sources, questions[:CHECKS])
    index = Path(tempfile.mkdtemp(prefix="iom-bot-bench-index-")) / "index"
    try:
        store = KnowledgeStore(sources, index=index)
        started = time.perf_counter()
        await store.load()  # no saved index yet: indexes the sources anew and saves the index
        kb = store.current
        sentences = sum(len(passage.sentences) for passage in kb.passages)
        print(f"start-up, indexed anew: {len(kb.passages):,} passages, {sentences:,} sentences")
        print(f"  in {time.perf_counter() - started:.1f} s")
        print(f"\nKnowledgeStore.reload of {len(kb.passages):,} passages; a question every {TICK_S * 1e3:g} ms\n")
        print(HEADER)

        serving = [store]  # the store being measured: questions go to its current knowledge base

        def ask(question: str) -> object:
            return serving[0].current.answer(question)

        await phase("none (idle, serving)", ask, questions, idle)
        await phase("reload, the saved index matches", ask, questions, lambda: _reloaded(serving[0]))
        serving[0] = KnowledgeStore(sources, knowledge=store.current)  # no saved index: indexes anew, in a child
        del kb, store
        await phase("reload, indexed anew", ask, questions, lambda: _reloaded(serving[0]))
    finally:
        shutil.rmtree(index.parent, ignore_errors=True)


def write_checks(sources: Path, questions: list[str]) -> None:
    """checks.yaml for the synthetic sources: the reload runs them before the swap, as the bot's does."""
    import yaml

    checks = [{"question": question, "abstain": True} for question in dict.fromkeys(questions)]
    (sources / "checks.yaml").write_text(yaml.safe_dump({"checks": checks}), encoding="utf-8")


async def _reloaded(store: KnowledgeStore) -> float:
    """Reload store; the seconds until the new knowledge base answered, then wait until the old one is freed."""
    started = time.perf_counter()
    result = await store.reload("bench")
    seconds = time.perf_counter() - started
    if not result.ok:
        raise SystemExit(f"the reload failed: {result.error}")
    if result.checks is None or not result.checks.total:
        raise SystemExit("the reload ran no checks")
    changed = len(result.changes.lines(store.current)) if result.changes else 0
    print(f"<!-- {result.checks.summary()}, {changed} change lines -->")
    await store.wait_released()
    return seconds


async def index_table(passages: int, cache: Path, questions: list[str]) -> None:
    """The index build alone: in a worker thread, or in a child process with the arrays loaded in a thread."""
    path = cache / f"lag-{passages}.txt"
    texts = synthetic.cached_passages(passages, cache)
    if not path.exists():
        path.write_text("".join(text + "\n" for text in texts), "utf-8")
    analyzer = Analyzer()
    serving = TfidfIndex.build(texts[:1000], analyzer)  # the index the bot answers from meanwhile
    print(f"\nIndex build alone: {passages:,} passages; a question every {TICK_S * 1e3:g} ms\n")
    print(HEADER)

    def ask(question: str) -> object:
        return serving.search(analyzer(question), 5)

    async def in_thread() -> None:
        await asyncio.to_thread(TfidfIndex.build, texts, analyzer)

    async def in_child() -> None:
        await asyncio.to_thread(build_in_child, index_text_file, str(path))

    await phase("none (idle)", ask, questions, idle)
    await phase("build in a thread", ask, questions, in_thread)
    await phase("build in a child process, load in a thread", ask, questions, in_child)


async def main_async(passages: int, cache: Path, tables: tuple[str, ...]) -> None:
    questions = synthetic.queries(1000)
    print(f"a question every {TICK_S * 1e3:g} ms; lag = how long the loop could not run, each time round\n")
    if "reload" in tables:
        await reload_table(passages, cache, questions)
    if "index" in tables:
        await index_table(passages, cache, questions)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--only", choices=TABLES, help="run one table (default: both)")
    args = parser.parse_args(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    asyncio.run(main_async(args.passages, args.cache, (args.only,) if args.only else TABLES))
    return 0


if __name__ == "__main__":
    sys.exit(main())
