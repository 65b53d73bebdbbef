"""Full-answer latency on the bundled knowledge base: question string -> cited Answer, in process.

Prints p50/p90/p99 over every question of eval/dev.yaml and eval/chat.yaml, each asked `--rounds` times
after one warm-up round (so lazily built tables, like the speller's, are not counted). Not a test.

    python benchmarks/bench_answer.py [--rounds 20]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from pathlib import Path

import yaml

from knowledge.base import KnowledgeBase

EVAL = Path(__file__).resolve().parent.parent / "eval"
if not EVAL.is_dir():  # run from a checkout of another version: its eval/ beside the script
    EVAL = Path(__file__).resolve().parent / "eval"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    questions = [
        item["question"]
        for name in ("dev", "chat")
        for item in yaml.safe_load((EVAL / f"{name}.yaml").read_text())["items"]
    ]
    started = time.perf_counter()
    kb = KnowledgeBase.load()
    load_s = time.perf_counter() - started
    for question in questions:
        kb.answer(question)
    times = []
    for _ in range(args.rounds):
        for question in questions:
            start = time.perf_counter_ns()
            kb.answer(question)
            times.append((time.perf_counter_ns() - start) / 1e6)
    times.sort()

    def pct(p: float) -> float:
        return times[min(len(times) - 1, int(p * len(times)))]

    print(f"python {platform.python_version()} on {platform.machine()}, {len(questions)} questions x {args.rounds}")
    print(
        f"load {load_s * 1e3:.0f} ms; answer p50 {pct(0.5):.3f} ms, p90 {pct(0.9):.3f} ms, "
        f"p99 {pct(0.99):.3f} ms, mean {statistics.fmean(times):.3f} ms"
    )


if __name__ == "__main__":
    main()
