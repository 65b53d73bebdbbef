"""Retrieval benchmark: this project's index against bm25s (numba and numpy backends) and naive scikit-learn.

    python benchmarks/bench_retrieval.py                      # every size: kb, 1k, 10k, 100k, 1m (long)
    python benchmarks/bench_retrieval.py --sizes kb,1k,10k     # a quick run
    python benchmarks/bench_retrieval.py --json results.json  # also keep the raw numbers

For each corpus size and system, one child process builds the index (peak RSS is that process's own),
saves and reloads it, and times 1,000 single queries, one at a time, each from the query string: analyse
+ vectorise + score + top 5. Every system gets the same terms from the project's Analyzer (stemming,
stopwords, glossary), so the comparison is between indexes, not tokenisers; the analyser's share of the
build is reported, and one extra row builds bm25s end to end with its own tokeniser. Needs the `bench`
extra (bm25s, numba). Synthetic corpora are cached in --cache (one text file per size).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

import numpy as np  # noqa: E402
import synthetic  # noqa: E402

SIZES = {"kb": 0, "1k": 1_000, "10k": 10_000, "100k": 100_000, "1m": 1_000_000}
SYSTEMS = ("ours", "ours-numpy", "bm25s-numba", "bm25s-numpy", "sklearn", "bm25s-own-tokens")
ANCHOR = "bm25s-numba"
TOP_K = 5
WARMUP_QUERIES = 100
QUERY_BUDGET_S = 150.0  # a slow system stops timing queries after this long (the row says how many ran)
KB_PASSES = 5  # the knowledge base has 129 questions: each is timed this many times
BLOCK_QUERIES = 50  # queries a system answers in a row before the next system's turn
BLOCK_WARMUP = 3  # untimed queries at the start of each turn
DEFAULT_CACHE = Path(tempfile.gettempdir()) / "iom-bot-bench"


# ---------------------------------------------------------------- the corpus and queries of one size


def corpus(size: str, cache: Path) -> tuple[list[str], list[str], list[str], Any]:
    """(passage texts, timed queries, warm-up queries, analyzer) for a size name."""
    from knowledge.text import Analyzer

    if size == "kb":
        from knowledge.base import KnowledgeBase

        kb = KnowledgeBase.load()
        texts = [" ".join(s.text for s in p.claims) or p.text for p in kb.passages]
        questions = _questions()
        return texts, questions, questions, kb.retriever.analyzer
    texts = synthetic.cached_passages(SIZES[size], cache)
    warmup = synthetic.queries(WARMUP_QUERIES, seed=synthetic.SEED + 1)
    return texts, synthetic.queries(1000), warmup, Analyzer()


def _questions() -> list[str]:
    import yaml

    out = []
    for path in sorted((ROOT / "eval").glob("*.yaml")):
        data = yaml.safe_load(path.read_text("utf-8"))
        items = data.get("items", []) if isinstance(data, dict) else []
        out.extend(str(item["question"]) for item in items if isinstance(item, dict) and "question" in item)
    return out


# ---------------------------------------------------------------- one system in its own process


class Timed:
    """Wraps the analyser and adds up the time spent in it (the tokeniser's share of a build)."""

    def __init__(self, analyzer: Any) -> None:
        self.analyzer = analyzer
        self.seconds = 0.0

    def __call__(self, text: str) -> list[str]:
        started = time.perf_counter()
        terms = self.analyzer(text)
        self.seconds += time.perf_counter() - started
        return terms


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb() -> float:
    """This process's peak RSS (VmHWM: unlike ru_maxrss, not inherited from the parent across fork + exec)."""
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def disk_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


BUILDERS = ("ours", "bm25s-numba", "bm25s-numpy", "sklearn", "bm25s-own-tokens")  # one build process each
SEARCHERS = ("ours", "ours-numpy", "bm25s-numba", "bm25s-numpy", "sklearn")  # timed together, interleaved


def build_worker(system: str, size: str, cache: Path, shared: Path) -> dict[str, Any]:
    """Build one system's index: time, analyser share, peak RSS; save it to shared/system; time its load."""
    texts, queries, _, analyzer = corpus(size, cache)
    gc.collect()
    result: dict[str, Any] = {"system": system, "size": size, "rows": len(texts), "base_rss_mb": rss_mb()}
    timed = Timed(analyzer)
    directory = shared / system
    # Imports, and numba's compiled code (both libraries compile or load it on first use), before any clock.
    if system == "ours":
        from knowledge.index import TfidfIndex

        TfidfIndex.from_terms([["warm", "up"]], engine="numba").search(["warm"], 1)
    elif system.startswith("bm25s"):
        import bm25s
    else:
        from scipy import sparse
        from sklearn.feature_extraction.text import TfidfVectorizer
    started = time.perf_counter()
    if system == "ours":
        index = TfidfIndex.build(texts, timed, engine="numba")
        result["build_s"] = time.perf_counter() - started
        result["analyse_s"] = timed.seconds
        result["peak_rss_mb"] = peak_rss_mb()
        index.save(directory)
        started = time.perf_counter()
        TfidfIndex.load(directory, engine="numba")
        result["load_s"] = time.perf_counter() - started
        if size == "kb":
            result.update(full_answers(queries))
    elif system.startswith("bm25s"):
        if system == "bm25s-own-tokens":
            import snowballstemmer

            stemmer = snowballstemmer.stemmer("english")
            tokens = bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False)
            result["analyse_s"] = time.perf_counter() - started
        else:
            tokens = [timed(text) for text in texts]
            result["analyse_s"] = timed.seconds
        retriever = bm25s.BM25(backend="numpy" if system == "bm25s-numpy" else "numba")
        retriever.index(tokens, show_progress=False)
        result["build_s"] = time.perf_counter() - started
        result["peak_rss_mb"] = peak_rss_mb()
        del tokens
        retriever.save(directory)
        started = time.perf_counter()
        bm25s.BM25.load(directory)
        result["load_s"] = time.perf_counter() - started
    elif system == "sklearn":
        vectorizer = TfidfVectorizer(analyzer=timed, sublinear_tf=True, dtype=np.float32)
        matrix = vectorizer.fit_transform(texts)
        result["build_s"] = time.perf_counter() - started
        result["analyse_s"] = timed.seconds
        result["peak_rss_mb"] = peak_rss_mb()
        directory.mkdir(parents=True, exist_ok=True)
        sparse.save_npz(directory / "matrix.npz", matrix, compressed=False)
        np.save(directory / "idf.npy", vectorizer.idf_, allow_pickle=False)
        (directory / "vocabulary.json").write_text(json.dumps({t: int(c) for t, c in vectorizer.vocabulary_.items()}))
        started = time.perf_counter()
        sparse.load_npz(directory / "matrix.npz")
        np.load(directory / "idf.npy")
        json.loads((directory / "vocabulary.json").read_text())
        result["load_s"] = time.perf_counter() - started
    else:
        raise SystemExit(f"unknown system {system!r}")
    result["disk_mb"] = disk_mb(directory)
    result["load_average"] = os.getloadavg()[0]
    if system == "bm25s-own-tokens":  # its queries would need its own tokeniser: build only
        shutil.rmtree(directory, ignore_errors=True)
    return result


def searchers(shared: Path, analyzer: Any, rows: int, systems: list[str]) -> dict[str, Any]:
    """query text -> top rows, for each system whose index a build worker saved in shared."""
    out: dict[str, Any] = {}
    k = min(TOP_K, rows)
    for system in systems:
        directory = shared / ("ours" if system == "ours-numpy" else system)
        if not directory.exists():
            continue
        if system.startswith("ours"):
            from knowledge.index import TfidfIndex

            index = TfidfIndex.load(directory, engine="numpy" if system == "ours-numpy" else "numba")
            out[system] = lambda text, index=index: [row for row, _ in index.search(analyzer(text), k)]
        elif system.startswith("bm25s"):
            import bm25s

            retriever = bm25s.BM25.load(directory)
            selection = "numpy" if system == "bm25s-numpy" else "auto"

            def search(text: str, retriever: Any = retriever, selection: str = selection) -> list[int]:
                terms = analyzer(text)
                if not terms:  # bm25s rejects an empty query; ours returns [] for it too
                    return []
                found = retriever.retrieve([terms], k=k, show_progress=False, n_threads=0, backend_selection=selection)
                return found.documents[0].tolist()

            out[system] = search
        elif system == "sklearn":
            from scipy import sparse
            from sklearn.feature_extraction.text import TfidfVectorizer

            matrix = sparse.load_npz(directory / "matrix.npz").tocsr()
            vocabulary = json.loads((directory / "vocabulary.json").read_text())
            vectorizer = TfidfVectorizer(analyzer=analyzer, sublinear_tf=True, dtype=np.float32, vocabulary=vocabulary)
            vectorizer.idf_ = np.load(directory / "idf.npy")

            def search(text: str, matrix: Any = matrix, vectorizer: Any = vectorizer) -> list[int]:
                scores = (matrix @ vectorizer.transform([text]).T).toarray().ravel()
                top = np.argpartition(-scores, k - 1)[:k] if scores.shape[0] > k else np.arange(scores.shape[0])
                return top[np.lexsort((top, -scores[top]))].tolist()

            out[system] = search
    return out


def query_worker(size: str, cache: Path, shared: Path, n_queries: int, systems: list[str]) -> list[dict[str, Any]]:
    """Time every system on the same queries, in blocks of BLOCK_QUERIES that take turns (the order rotating
    from block to block): whatever else the machine does meanwhile weighs on all systems alike, and within a
    block each system answers back to back, as a server does."""
    texts, queries, warmup, analyzer = corpus(size, cache)
    rows = len(texts)
    del texts
    queries = queries[:n_queries] * (KB_PASSES if size == "kb" else 1)
    search = searchers(shared, analyzer, rows, systems)
    names = list(search)
    for text in [*warmup, *queries]:  # the analyser's stem cache warm for everyone alike
        analyzer(text)
    for name in names:
        for text in warmup:
            search[name](text)
    latencies: dict[str, list[float]] = {name: [] for name in names}
    spent = dict.fromkeys(names, 0.0)
    for b, start in enumerate(range(0, len(queries), BLOCK_QUERIES)):
        block = queries[start : start + BLOCK_QUERIES]
        for j in range(len(names)):
            name = names[(b + j) % len(names)]
            if spent[name] > QUERY_BUDGET_S:
                continue
            for text in warmup[:BLOCK_WARMUP]:  # untimed: this system's code and data back in the caches
                search[name](text)
            for text in block:
                started = time.perf_counter()
                search[name](text)
                elapsed = time.perf_counter() - started
                latencies[name].append(elapsed)
                spent[name] += elapsed
    out = []
    for name in names:
        us = np.array(latencies[name]) * 1e6
        out.append(
            {
                "system": name,
                "size": size,
                "queries": len(us),
                "p50_us": float(np.percentile(us, 50)),
                "p99_us": float(np.percentile(us, 99)),
                "load_average": os.getloadavg()[0],
            }
        )
    return out


def full_answers(questions: list[str]) -> dict[str, Any]:
    """p50/p99 of KnowledgeBase.answer (retrieve + compose + citations) and of the analyser alone."""
    from knowledge.base import KnowledgeBase

    kb = KnowledgeBase.load()
    analyzer = kb.retriever.analyzer
    for question in questions:
        kb.answer(question)
    answers, analyses = [], []
    for _ in range(20):
        for question in questions:
            started = time.perf_counter()
            kb.answer(question)
            answers.append(time.perf_counter() - started)
            started = time.perf_counter()
            analyzer(question)
            analyses.append(time.perf_counter() - started)
    return {
        "answer_p50_us": statistics.median(answers) * 1e6,
        "answer_p99_us": float(np.percentile(answers, 99)) * 1e6,
        "analyse_query_p50_us": statistics.median(analyses) * 1e6,
    }


# ---------------------------------------------------------------- the driver and the table


def child(args: argparse.Namespace, *extra: str) -> Any:
    """Run this script with extra arguments in a child process; its last stdout line, parsed as JSON."""
    command = [sys.executable, __file__, "--cache", str(args.cache), "--queries", str(args.queries), *extra]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-3000:])
        return {"error": f"exit {done.returncode}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def machine() -> dict[str, Any]:
    import bm25s
    import numba
    import scipy
    import sklearn

    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    memory = int(Path("/proc/meminfo").read_text().split()[1]) / 2**20
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gb": round(memory, 1),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
        "bm25s": bm25s.__version__,
        "numba": numba.__version__,
        "load_average": os.getloadavg(),
    }


def fmt(value: Any, spec: str) -> str:
    return "–" if value is None else format(value, spec)


def ratio(mine: float | None, theirs: float | None) -> str:
    return "–" if mine is None or not theirs else f"{mine / theirs:.2f}×"


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| corpus | system | build s | analyser share | index s | peak RSS MB | p50 µs | p99 µs | "
        "p50 vs bm25s-numba | build vs bm25s-numba | RSS vs bm25s-numba | disk MB | load ms | queries |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    by_size: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        by_size.setdefault(r["size"], []).append(r)
    for size, rows in by_size.items():
        anchor = next((r for r in rows if r["system"] == ANCHOR and "error" not in r), {})
        for r in rows:
            if "error" in r:
                lines.append(f"| {size} | {r['system']} | {r['error']} |" + " |" * 12)
                continue
            build, analyse = r.get("build_s"), r.get("analyse_s")
            index_s = build - analyse if build is not None and analyse is not None else None
            share = analyse / build if build and analyse is not None else None
            load_ms = r["load_s"] * 1e3 if r.get("load_s") is not None else None
            cells = [
                f"{size} ({r['rows']:,} rows)",
                r["system"],
                fmt(build, ".2f"),
                fmt(share, ".0%"),
                fmt(index_s, ".2f"),
                fmt(r.get("peak_rss_mb"), ",.0f"),
                fmt(r.get("p50_us"), ",.1f"),
                fmt(r.get("p99_us"), ",.1f"),
                ratio(r.get("p50_us"), anchor.get("p50_us")),
                ratio(build, anchor.get("build_s")),
                ratio(r.get("peak_rss_mb"), anchor.get("peak_rss_mb")),
                fmt(r.get("disk_mb"), ",.1f"),
                fmt(load_ms, ",.1f"),
                str(r.get("queries", "–")),
            ]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(SIZES), help="comma-separated: " + ",".join(SIZES))
    parser.add_argument("--systems", default=",".join(SYSTEMS), help="comma-separated: " + ",".join(SYSTEMS))
    parser.add_argument("--queries", type=int, default=1000, help="timed queries per system and size")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where synthetic corpora are cached")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--build", help=argparse.SUPPRESS)
    parser.add_argument("--search", help=argparse.SUPPRESS)
    parser.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--shared", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sizes = [s.strip().lower() for s in args.sizes.split(",") if s.strip()]
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES] + [s for s in systems if s not in SYSTEMS]
    if unknown:
        parser.error(f"unknown size or system: {', '.join(unknown)}")
    if args.prepare:
        synthetic.cached_passages(SIZES[sizes[0]], args.cache)
        return 0
    if args.build:
        print(json.dumps(build_worker(args.build, sizes[0], args.cache, args.shared)))
        return 0
    if args.search:
        print(json.dumps(query_worker(sizes[0], args.cache, args.shared, args.queries, args.search.split(","))))
        return 0
    info = machine()
    print(f"machine: {json.dumps(info)}", flush=True)
    args.cache.mkdir(parents=True, exist_ok=True)
    results = []
    for size in sizes:
        if size != "kb":  # generated once, in a child: this process stays small
            prepare = [sys.executable, __file__, "--prepare", "--sizes", size, "--cache", str(args.cache)]
            subprocess.run(prepare, check=True)
        shared = Path(tempfile.mkdtemp(prefix=f"bench-{size}-", dir=args.cache))
        try:
            built: dict[str, dict[str, Any]] = {}
            for name in BUILDERS:
                if name in systems or (name == "ours" and "ours-numpy" in systems):
                    built[name] = child(args, "--build", name, "--sizes", size, "--shared", str(shared))
                    built[name].setdefault("system", name)
                    print(json.dumps(built[name]), flush=True)
            timed = [s for s in SEARCHERS if s in systems]
            queried = child(args, "--search", ",".join(timed), "--sizes", size, "--shared", str(shared))
            for row in queried if isinstance(queried, list) else []:
                print(json.dumps(row), flush=True)
            by_system = {row["system"]: row for row in queried} if isinstance(queried, list) else {}
            for name in [s for s in SYSTEMS if s in systems]:
                row = {"system": name, "size": size, **built.get(name, {}), **by_system.get(name, {})}
                row.setdefault("rows", built.get("ours", next(iter(built.values()), {})).get("rows", 0))
                results.append(row)
        finally:
            shutil.rmtree(shared, ignore_errors=True)
    info["load_average_after"] = os.getloadavg()
    print()
    print(table(results))
    for r in results:
        if "answer_p50_us" in r:
            print(
                f"\nfull answer on the bundled knowledge base (KnowledgeBase.answer: retrieve + compose + citations): "
                f"p50 {r['answer_p50_us']:,.1f} µs, p99 {r['answer_p99_us']:,.1f} µs "
                f"(of which analysing the question: p50 {r['analyse_query_p50_us']:,.1f} µs)"
            )
    print()
    print(f"machine: {json.dumps(info)}")
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
