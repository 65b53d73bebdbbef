"""The command line side by side with bm25s: answering and building, end to end, process start included.

    pip install -e '.[bench]'                           # bm25s, numba, PyStemmer
    python benchmarks/bench_cli.py                      # 10k synthetic passages, 1,000 questions, 3 runs each
    python benchmarks/bench_cli.py --passages 2000 --questions 200 --runs 1    # a quick look
    python benchmarks/bench_cli.py --build-only --runs 5                        # the build alone

The corpus is a synthetic sources directory (benchmarks/synthetic.py: Markdown documents with sections,
law-review citations and the bundled glossary), cached in --cache. Each run is one process, timed on the wall
clock from its start to its exit:

- **answer**: `iom-bot ask --batch --index DIR --json` with the questions as JSON lines on stdin, one JSON answer
  per line out; against a script that loads the saved bm25s index, tokenises each question with bm25s and
  PyStemmer, retrieves the top 5 passages and prints them as one JSON line, with bm25s's numba backend (the
  issue's anchor: bm25s compiles its numba code in every new process, it does not cache it) and with its numpy
  backend (nothing to compile). Per question = the process's whole time / questions (the issue's measure); the
  one-question row is the start-up each pays, and the last row what each further question costs once started.
- **build**: `iom-bot build-index --sources DIR --index DIR` against a script that reads the same files, splits
  them into the same paragraphs, tokenises them with bm25s and PyStemmer (stopwords "en"), indexes and saves.

Ours does more with the same text (sentences, citations, glossary, several indexes, the answer's selector):
this is the cost a user sees, not a like-for-like index comparison (that is bench_retrieval.py). Runs alternate
between the two systems and the median is reported; the machine's load average is printed, because a shared
machine's numbers are noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CACHE = Path(tempfile.gettempdir()) / "iom-bot-bench"
GLOSSARY = ROOT / "knowledge" / "sources" / "glossary.yaml"
TOP_K = 5
TARGETS = {"answer": 2.0, "build": 1.5}  # issue 13: ours / bm25s at most


# ---------------------------------------------------------------- bm25s, as a user of it would write it


def paragraphs(sources: Path) -> list[tuple[str, str]]:
    """(id, text) of every paragraph of every Markdown file: front matter and headings left out."""
    out = []
    for path in sorted(sources.glob("*.md")):
        text = path.read_text("utf-8")
        if text.startswith("---\n"):
            text = text.split("\n---\n", 1)[1]
        blocks = [block.strip() for block in text.split("\n\n")]
        out.extend((f"{path.stem}:{n}", block) for n, block in enumerate(blocks) if block and block[0] != "#")
    return out


def bm25s_build(sources: Path, index: Path) -> None:
    import bm25s
    import Stemmer

    found = paragraphs(sources)
    tokens = bm25s.tokenize([text for _, text in found], stopwords="en", stemmer=Stemmer.Stemmer("english"))
    retriever = bm25s.BM25(backend="numba")
    retriever.index(tokens, show_progress=False)
    retriever.save(index)
    (index / "ids.json").write_text(json.dumps([passage_id for passage_id, _ in found]), "utf-8")
    print(f"ok: indexed {len(found)} passages -> {index}")


def bm25s_ask(index: Path, backend: str) -> None:
    """JSON lines {"id", "question"} on stdin -> {"id", "hits": [{"passage", "score"}, ...]} per line."""
    import bm25s
    import Stemmer

    stemmer = Stemmer.Stemmer("english")
    retriever = bm25s.BM25.load(index, override_params={"backend": backend}, show_progress=False)
    ids = json.loads((index / "ids.json").read_text("utf-8"))
    k = min(TOP_K, len(ids))
    for line in sys.stdin:
        request = json.loads(line)
        terms = bm25s.tokenize(request["question"], stopwords="en", stemmer=stemmer, show_progress=False)
        hits = []
        if terms.ids[0]:  # bm25s refuses a query with no known term
            rows, scores = retriever.retrieve(terms, k=k, show_progress=False, n_threads=0, backend_selection=backend)
            hits = [{"passage": ids[row], "score": float(s)} for row, s in zip(rows[0], scores[0], strict=True)]
        sys.stdout.write(json.dumps({"id": request["id"], "hits": hits}) + "\n")
        sys.stdout.flush()


# ---------------------------------------------------------------- the driver


def iom_bot() -> list[str]:
    script = Path(sys.executable).with_name("iom-bot")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot"]


def timed(command: list[str], stdin: str = "") -> tuple[float, str]:
    """Seconds from start to exit of command (stdin given, stdout kept); a failure ends the benchmark."""
    started = time.perf_counter()
    done = subprocess.run(command, input=stdin, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[:4])} ... exited {done.returncode}:\n{done.stderr[-2000:]}")
    return seconds, done.stdout


def commands(sources: Path, ours_index: Path, theirs_index: Path) -> dict[str, dict[str, list[str]]]:
    me = [sys.executable, __file__]
    return {
        "build": {
            "ours": [*iom_bot(), "build-index", "--sources", str(sources), "--index", str(ours_index)],
            "bm25s": [*me, "--bm25s-build", str(sources), str(theirs_index)],
        },
        "answer": {
            "ours": [*iom_bot(), "ask", "--batch", "--json", "--sources", str(sources), "--index", str(ours_index)],
            "bm25s-numba": [*me, "--bm25s-ask", str(theirs_index), "numba"],
            "bm25s-numpy": [*me, "--bm25s-ask", str(theirs_index), "numpy"],
        },
    }


def median_runs(pair: dict[str, list[str]], runs: int, stdin: str = "") -> tuple[dict[str, float], dict[str, str]]:
    """The median seconds of each command over runs, taking turns (who goes first rotates)."""
    seconds: dict[str, list[float]] = {name: [] for name in pair}
    last: dict[str, str] = {}
    for run in range(runs):
        names = list(pair)[run % len(pair) :] + list(pair)[: run % len(pair)]
        for name in names:
            spent, last[name] = timed(pair[name], stdin)
            seconds[name].append(spent)
    return {name: statistics.median(values) for name, values in seconds.items()}, last


def verdict(kind: str, ratio: float) -> str:
    return f"{ratio:.2f}× (target ≤ {TARGETS[kind]:g}×: {'met' if ratio <= TARGETS[kind] else 'not met'})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--passages", type=int, default=10_000, help="synthetic passages (default 10,000)")
    parser.add_argument("--questions", type=int, default=1000, help="questions per answer run (default 1,000)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each command; the median is reported")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where the synthetic sources are cached")
    parser.add_argument("--build-only", action="store_true", help="time the build only (no answer runs)")
    parser.add_argument("--bm25s-build", nargs=2, type=Path, metavar=("SOURCES", "INDEX"), help=argparse.SUPPRESS)
    parser.add_argument("--bm25s-ask", nargs=2, metavar=("INDEX", "BACKEND"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.bm25s_build:
        bm25s_build(*args.bm25s_build)
        return 0
    if args.bm25s_ask:
        bm25s_ask(Path(args.bm25s_ask[0]), args.bm25s_ask[1])
        return 0

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import synthetic

    sources = synthetic.cached_sources(args.passages, args.cache, GLOSSARY)
    questions = synthetic.queries(args.questions)
    lines = "".join(json.dumps({"id": n, "question": q}) + "\n" for n, q in enumerate(questions))
    print(f"sources: {sources} ({args.passages:,} synthetic passages); {len(questions):,} questions; {args.runs} runs")
    print(f"load average before: {os.getloadavg()[0]:.1f}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        run = commands(sources, Path(tmp) / "ours", Path(tmp) / "bm25s")
        build, said = median_runs(run["build"], args.runs)
        print(f"build ours : {said['ours'].strip()}\nbuild bm25s: {said['bm25s'].strip()}", flush=True)
        if args.build_only:
            print(f"build, s: ours {build['ours']:.2f}, bm25s {build['bm25s']:.2f}")
            print(f"build vs bm25s with PyStemmer: {verdict('build', build['ours'] / build['bm25s'])}")
            print(f"load average after: {os.getloadavg()[0]:.1f}")
            return 0
        start, _ = median_runs(run["answer"], args.runs, lines.split("\n", 1)[0] + "\n")
        answer, out = median_runs(run["answer"], args.runs, lines)
    replies = {name: [json.loads(line) for line in text.splitlines()] for name, text in out.items()}
    for name, got in replies.items():
        if len(got) != len(questions):
            raise SystemExit(f"{name} answered {len(got)} of {len(questions)} questions")
    per_ms = {name: seconds / len(questions) * 1e3 for name, seconds in answer.items()}
    # What each further question costs once the process is up (the start-up taken out).
    after_ms = {name: max(answer[name] - start[name], 0.0) / max(len(questions) - 1, 1) * 1e3 for name in answer}

    print()
    print("| step | ours | bm25s-numba | bm25s-numpy | ours / bm25s-numba | ours / bm25s-numpy |")
    print("|---|--:|--:|--:|--:|--:|")
    rows = [
        ("build, s (bm25s: one build for both backends)", build, "bm25s", ".2f"),
        ("one question, start to exit, s", start, None, ".2f"),
        (f"{len(questions):,} questions, start to exit, s", answer, None, ".2f"),
        ("per question, ms", per_ms, None, ".2f"),
        ("each further question once started, ms", after_ms, None, ".2f"),
    ]
    for label, values, only, spec in rows:
        theirs = [only, only] if only else ["bm25s-numba", "bm25s-numpy"]
        cells = [format(values["ours"], spec), *(format(values[name], spec) for name in theirs)]
        cells += [
            f"{values['ours'] / values[name]:.2f}×" if values[name] and values["ours"] else "–" for name in theirs
        ]
        print(f"| {label} | " + " | ".join(cells) + " |")
    print()
    ratio = answer["ours"] / answer["bm25s-numba"]
    print(f"answer path per question vs bm25s-numba: {verdict('answer', ratio)}")
    print(f"answer path per question vs bm25s-numpy: {answer['ours'] / answer['bm25s-numpy']:.2f}×")
    print(f"build vs bm25s with PyStemmer: {verdict('build', build['ours'] / build['bm25s'])}")
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
