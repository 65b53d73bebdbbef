"""Full-answer latency on the bundled knowledge base: question string -> cited Answer, in process.

Prints p50/p90/p99 over every question of eval/dev.yaml and eval/chat.yaml, each asked `--rounds` times
after one warm-up round (so lazily built tables, like the speller's, are not counted), with each scorer
engine: the compiled one (numba, when installed) and the numpy fallback. Not a test.

With --passages N it also answers on a synthetic knowledge base of N passages (benchmarks/synthetic.py's
sources, with the bundled glossary): 1,000 synthetic questions, a fifth of them about an article, each asked
once after a warm-up pass, compiled scorer. Its index is saved beside the cached sources and reused.

    python benchmarks/bench_answer.py [--rounds 20] [--passages 100000]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

from knowledge.base import BUNDLED_SOURCES, KnowledgeBase
from knowledge.scoring import ENGINE_ENV, resolve_engine

sys.path.insert(0, str(Path(__file__).resolve().parent))
import synthetic

EVAL = Path(__file__).resolve().parent.parent / "eval"
if not EVAL.is_dir():  # run from a checkout of another version: its eval/ beside the script
    EVAL = Path(__file__).resolve().parent / "eval"


def measure(engine: str, questions: list[str], rounds: int, sources: Path | None = None) -> None:
    os.environ[ENGINE_ENV] = engine  # read when the indexes' scorers are made, at load
    started = time.perf_counter()
    if sources is None:
        kb = KnowledgeBase.load()
    else:
        kb = KnowledgeBase.load(sources, index_dir=sources.parent / f"{sources.name}.index")
        if kb.build_seconds > 1:
            kb.save_index(sources.parent / f"{sources.name}.index")
    load_s = time.perf_counter() - started
    for question in questions:
        kb.answer(question)
    times = []
    for _ in range(rounds):
        for question in questions:
            start = time.perf_counter_ns()
            kb.answer(question)
            times.append((time.perf_counter_ns() - start) / 1e6)
    times.sort()

    def pct(p: float) -> float:
        return times[min(len(times) - 1, int(p * len(times)))]

    print(
        f"{engine:5s}: {len(kb.passages):,} passages, load {load_s * 1e3:.0f} ms;"
        f" answer p50 {pct(0.5):.3f} ms, p90 {pct(0.9):.3f} ms, "
        f"p99 {pct(0.99):.3f} ms, mean {statistics.fmean(times):.3f} ms",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--passages", type=int, default=0, help="also a synthetic knowledge base of this many")
    args = parser.parse_args()
    questions = [
        item["question"]
        for name in ("dev", "chat")
        for item in yaml.safe_load((EVAL / f"{name}.yaml").read_text())["items"]
    ]
    print(f"python {platform.python_version()} on {platform.machine()}, {len(questions)} questions x {args.rounds}")
    engines = ["numba", "numpy"] if resolve_engine("auto") == "numba" else ["numpy"]
    for engine in engines:
        measure(engine, questions, args.rounds)
    if args.passages:
        cache = Path(tempfile.gettempdir()) / "iom-bot-bench"
        sources = synthetic.cached_sources(args.passages, cache, BUNDLED_SOURCES / "glossary.yaml")
        asked = synthetic.queries(1000)
        asked = [q if i % 5 else f"what does art. {i % 19 + 1} say about {q}" for i, q in enumerate(asked)]
        print(f"synthetic knowledge base, {len(asked)} questions x 1")
        measure(engines[0], asked, 1, sources)


if __name__ == "__main__":
    main()
