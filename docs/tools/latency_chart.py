"""The chart of search latency against corpus size, drawn from benchmarks/bench_retrieval.py's saved numbers.

    pip install -e '.[bench]'                                            # bm25s, numba, matplotlib
    python benchmarks/bench_retrieval.py --systems ours,ours-numpy,bm25s-numba --json docs/img/search-latency.json
    python docs/tools/latency_chart.py                                   # docs/img/search-latency.png

The benchmark's --json file is the chart's only input: the chart is redrawn from it, never typed in. Each line is
one system's median query (analyse + vectorise + score + top 5, one query at a time, after warm-up) at each corpus
size, on log-log axes. Not part of the tests or CI.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
IMG = ROOT / "docs" / "img"
LINES = {  # system in the benchmark -> label, colour, marker
    "ours-numpy": ("iom-bot, numpy (default install)", "#5865f2", "o"),
    "ours": ("iom-bot, numba (the [fast] extra)", "#248046", "s"),
    "bm25s-numba": ("bm25s, numba backend", "#da373c", "^"),
}


def series(results: list[dict[str, Any]]) -> dict[str, list[tuple[int, float]]]:
    """system -> [(passages, p50 µs)], smallest corpus first; rows without a p50 left out."""
    rows_of = {r["size"]: r["rows"] for r in results if r.get("rows")}
    out: dict[str, list[tuple[int, float]]] = {}
    for r in results:
        if r.get("system") in LINES and r.get("p50_us") is not None and rows_of.get(r["size"]):
            out.setdefault(r["system"], []).append((rows_of[r["size"]], r["p50_us"]))
    return {system: sorted(points) for system, points in out.items()}


def size_label(passages: int) -> str:
    """23 -> "23\n(the bundled KB)", 10000 -> "10k", 1000000 -> "1M"."""
    if passages < 1000:
        return f"{passages}\n(the bundled KB)"
    if passages < 1_000_000:
        return f"{passages // 1000:,}k"
    return f"{passages / 1_000_000:g}M"


def draw(data: dict[str, Any], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    lines = series(data["results"])
    if not lines:
        raise SystemExit("no p50 numbers in the results: run bench_retrieval.py with --json first")
    figure, axes = plt.subplots(figsize=(7.5, 4.5), dpi=150)
    for system, (label, colour, marker) in LINES.items():
        if system in lines:
            xs, ys = zip(*lines[system], strict=True)
            axes.plot(xs, ys, marker=marker, color=colour, label=label, linewidth=1.8)
    axes.set_xscale("log")
    axes.set_yscale("log")
    sizes = sorted({x for points in lines.values() for x, _ in points})
    axes.set_xticks(sizes, [size_label(x) for x in sizes])
    axes.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    axes.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda y, _: f"{y:,.0f}"))
    axes.yaxis.set_minor_formatter(
        matplotlib.ticker.FuncFormatter(lambda y, _: f"{y:,.0f}" if str(y)[0] in "25" else "")
    )
    axes.set_xlabel("passages in the index")
    axes.set_ylabel("search latency, median (µs)")
    axes.set_title("One query, top 5 passages, one thread")
    axes.grid(True, which="major", alpha=0.3)
    axes.legend(frameon=False)
    info = data.get("machine", {})
    note = ", ".join(
        f"{key} {info[key]}" for key in ("cores", "python", "numpy", "numba", "bm25s") if info.get(key) is not None
    )
    figure.text(0.01, 0.01, f"benchmarks/bench_retrieval.py; {note}", fontsize=7, color="#666666")
    figure.tight_layout(rect=(0, 0.03, 1, 1))
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out)
    plt.close(figure)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=IMG / "search-latency.json", help="bench_retrieval.py --json")
    parser.add_argument("--out", type=Path, default=IMG / "search-latency.png", help="the PNG to write")
    args = parser.parse_args(argv)
    draw(json.loads(args.results.read_text("utf-8")), args.out)
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
