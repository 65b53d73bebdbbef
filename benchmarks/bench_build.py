"""Build benchmark: indexing N synthetic passages, this project against bm25s with PyStemmer, end to end.

    python benchmarks/bench_build.py                    # 100k passages: the index rows, then a knowledge base
    python benchmarks/bench_build.py --passages 10000   # a quicker run
    python benchmarks/bench_build.py --skip-kb          # the index rows only

Prints, for the same passages (benchmarks/synthetic.py, cached in --cache):

- ours end to end: TfidfIndex.build(texts, Analyzer()): normalise, tokenise, stem (PyStemmer), stopwords,
  then the TF-IDF matrix; and its two halves (analysis; TF-IDF from the terms);
- scikit-learn: TfidfVectorizer(sublinear_tf, float32) over the same terms, and whether it is identical;
- bm25s end to end: bm25s.tokenize(stopwords="en", stemmer=PyStemmer) and BM25().index;
- the knowledge base (unless --skip-kb): knowledge.build of a sources directory of the same passages (the
  three indexes in a child process, saved in --cache; once, unless --rebuild), then a start with that saved
  index, as a bot start or a reload of unchanged sources does it.

Needs the `bench` extra (bm25s, scikit-learn). Numbers on a shared machine are noisy: run it twice.
"""

from __future__ import annotations

import argparse
import gc
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

import os  # noqa: E402

os.environ.setdefault("IOM_BOT_SCORER", "numpy")  # as in a build's child process: nothing compiled, only built

import numpy as np  # noqa: E402
import synthetic  # noqa: E402

from knowledge.index import TfidfIndex  # noqa: E402
from knowledge.text import Analyzer  # noqa: E402

DEFAULT_CACHE = Path(tempfile.gettempdir()) / "iom-bot-bench"


def timed(label: str, results: dict[str, float], function, *args, **kwargs):
    gc.collect()
    started = time.perf_counter()
    value = function(*args, **kwargs)
    results[label] = time.perf_counter() - started
    print(f"  {label:<34} {results[label]:8.2f} s", flush=True)
    return value


def sklearn_index(terms: list[list[str]]):
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(analyzer=_same, sublinear_tf=True, dtype=np.float32)
    return vectorizer, vectorizer.fit_transform(terms).tocsc()


def _same(terms: list[str]) -> list[str]:
    return terms


def bm25s_end_to_end(texts: list[str]):
    import bm25s
    import Stemmer

    tokens = bm25s.tokenize(texts, stopwords="en", stemmer=Stemmer.Stemmer("english"), show_progress=False)
    retriever = bm25s.BM25()
    retriever.index(tokens, show_progress=False)
    return retriever


def identical(index: TfidfIndex, vectorizer, matrix) -> bool:
    ours = index.matrix
    return (
        index.vocabulary == vectorizer.vocabulary_
        and np.array_equal(index.idf, vectorizer.idf_.astype(np.float32))
        and np.array_equal(ours.indptr, matrix.indptr)
        and np.array_equal(ours.indices, matrix.indices)
        and np.array_equal(ours.data, matrix.data)
    )


def index_rows(n: int, cache: Path) -> dict[str, float]:
    import bm25s  # noqa: F401  imported before the clocks start, as scikit-learn is
    import sklearn.feature_extraction.text

    texts = synthetic.cached_passages(n, cache)
    print(f"{n:,} passages, {sum(map(len, texts)) / 1e6:.1f} MB of text")
    results: dict[str, float] = {}
    analyzer = Analyzer()
    timed("ours end to end", results, TfidfIndex.build, texts, analyzer)
    analyzer = Analyzer()  # its stem cache cold again, as in the end-to-end run
    terms = timed("  analysis (PyStemmer)", results, lambda: [analyzer(text) for text in texts])
    index = timed("  TF-IDF from terms (hand)", results, TfidfIndex.from_terms, terms)
    vectorizer, matrix = timed("  TF-IDF from terms (scikit-learn)", results, sklearn_index, terms)
    same = identical(index, vectorizer, matrix)
    print(f"  scikit-learn's matrix, vocabulary and idf identical to ours: {same}")
    del terms, index, vectorizer, matrix
    timed("bm25s + PyStemmer end to end", results, bm25s_end_to_end, texts)
    ratio = results["ours end to end"] / results["bm25s + PyStemmer end to end"]
    sklearn = results["  TF-IDF from terms (scikit-learn)"] / results["  TF-IDF from terms (hand)"]
    print(f"  ours / bm25s: {ratio:.2f}x   scikit-learn / hand (TF-IDF from terms): {sklearn:.2f}x")
    return results


def knowledge_base(n: int, cache: Path, rebuild: bool) -> dict[str, float]:
    """A knowledge base of n passages built (in a child process, saving its index in cache), then started again
    from that saved index, as a bot start or reload with unchanged sources is."""
    from knowledge import build, persist, saved
    from knowledge.glossary import load_glossary

    sources = synthetic.cached_sources(n, cache)
    index = cache / f"{sources.name}.index"
    print(f"knowledge base of {n:,} passages ({sources})")
    results: dict[str, float] = {}
    key = saved.files_key(saved.read_files(sources), load_glossary(sources))  # a set saved by other code: rebuilt
    if rebuild or persist.read_metadata(index) != key:
        shutil.rmtree(index, ignore_errors=True)  # in the cache: else build would start from it
        timed("build in a child, saving the index", results, build, sources, index_dir=index, progress=_quiet)
    timed("start with the matching saved index", results, build, sources, index_dir=index, progress=_quiet)
    return results


def _quiet(line: str) -> None:
    pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--skip-kb", action="store_true", help="time the index rows only")
    parser.add_argument("--skip-rows", action="store_true", help="time the knowledge base only")
    parser.add_argument("--rebuild", action="store_true", help="build the knowledge base even if its index is saved")
    args = parser.parse_args(argv)
    if not args.skip_rows:
        index_rows(args.passages, args.cache)
    if not args.skip_kb:
        knowledge_base(args.passages, args.cache, args.rebuild)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
