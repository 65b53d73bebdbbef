"""Full-answer latency on the bundled knowledge base: question string -> cited Answer, in process.

Prints p50/p90/p99 over every question of eval/dev.yaml and eval/chat.yaml, each asked `--rounds` times
after one warm-up round (so lazily built tables, like the speller's, are not counted), with each scorer
engine: the compiled one (numba, when installed) and the numpy fallback. Not a test.

    python benchmarks/bench_answer.py [--rounds 20]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

import yaml

from knowledge.base import KnowledgeBase
from knowledge.scoring import ENGINE_ENV, resolve_engine

EVAL = Path(__file__).resolve().parent.parent / "eval"
if not EVAL.is_dir():  # run from a checkout of another version: its eval/ beside the script
    EVAL = Path(__file__).resolve().parent / "eval"


def measure(engine: str, questions: list[str], rounds: int) -> None:
    os.environ[ENGINE_ENV] = engine  # read when the indexes' scorers are made, at load
    started = time.perf_counter()
    kb = KnowledgeBase.load()
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
        f"{engine:5s}: load {load_s * 1e3:.0f} ms; answer p50 {pct(0.5):.3f} ms, p90 {pct(0.9):.3f} ms, "
        f"p99 {pct(0.99):.3f} ms, mean {statistics.fmean(times):.3f} ms",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
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


if __name__ == "__main__":
    main()
