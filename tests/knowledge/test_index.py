"""TfidfIndex: equal to scikit-learn's TF-IDF and cosine, exact top k on every scoring path, saved and loaded."""

from __future__ import annotations

import json
import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from knowledge import persist, scoring
from knowledge.index import FORMAT_VERSION, HEADER_FILE, IndexFormatError, TfidfIndex
from knowledge.text import Analyzer

WORDS = [f"w{i}" for i in range(300)]
COMMON = WORDS[:6]  # in most rows, like stopwords the analyser keeps ("not", "which")
TOLERANCE = 1e-6  # float32: scikit-learn sums in float32, this index in float64


def identity(terms: list[str]) -> list[str]:
    return terms


def random_corpus(rng: random.Random, n_rows: int) -> list[list[str]]:
    rows = []
    for _ in range(n_rows):
        vocabulary = WORDS[: rng.choice([20, 100, 300])]
        rows.append(
            [rng.choice(COMMON) if rng.random() < 0.4 else rng.choice(vocabulary) for _ in range(rng.randint(0, 25))]
        )
    rows += [list(row) for row in rows[: rng.randint(0, 5)]]  # exact duplicates: exact ties
    if not any(rows):
        rows.append(["w7"])
    return rows


def random_query(rng: random.Random) -> list[str]:
    query = [rng.choice(WORDS[: rng.choice([6, 40, 300])]) for _ in range(rng.randint(0, 8))]
    if rng.random() < 0.3:
        query.append(rng.choice(COMMON))  # a stopword-like term, as people type
    if rng.random() < 0.2:
        query.append("unknown-term")
    return query


def reference(corpus: list[list[str]]) -> tuple[TfidfVectorizer, np.ndarray]:
    vectorizer = TfidfVectorizer(analyzer=identity, sublinear_tf=True, dtype=np.float32)
    return vectorizer, vectorizer.fit_transform(corpus)


def expected_top_k(matrix, vectorizer: TfidfVectorizer, query: list[str], k: int) -> tuple[list, np.ndarray]:
    scores = np.asarray((matrix @ vectorizer.transform([query]).T).todense()).ravel()
    order = np.lexsort((np.arange(scores.shape[0]), -scores))[:k]
    return [(int(i), float(scores[i])) for i in order if scores[i] > 0], scores


def assert_same_ranking(got: list[tuple[int, float]], want: list[tuple[int, float]], scores: np.ndarray) -> None:
    """Same scores at every rank; a different row only where float32 cannot tell the two apart."""
    assert len(got) == len(want)
    for (row, score), (wanted_row, wanted_score) in zip(got, want, strict=True):
        assert score == pytest.approx(wanted_score, abs=TOLERANCE)
        if row != wanted_row:
            assert abs(scores[row] - scores[wanted_row]) <= TOLERANCE


ENGINES = ["numpy-dense", "numpy-bounded", "numba"]


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """A scoring path: numpy with bincount (small corpora), numpy term at a time with bounds, numba."""
    if request.param == "numba":
        pytest.importorskip("numba")
        return "numba"
    monkeypatch.setattr(scoring, "DENSE_MAX_ROWS", 10**9 if request.param == "numpy-dense" else 0)
    return "numpy"


def test_matrix_idf_and_vocabulary_equal_scikit_learn() -> None:
    rng = random.Random(1)
    for _ in range(20):
        corpus = random_corpus(rng, rng.randint(1, 120))
        vectorizer, matrix = reference(corpus)
        index = TfidfIndex.from_terms(corpus, engine="numpy")
        assert index.vocabulary == vectorizer.vocabulary_
        np.testing.assert_array_equal(index.idf, vectorizer.idf_)
        expected = matrix.tocsc()
        expected.sort_indices()
        np.testing.assert_array_equal(index.matrix.indptr, expected.indptr)
        np.testing.assert_array_equal(index.matrix.indices, expected.indices)
        np.testing.assert_allclose(index.matrix.data, expected.data, rtol=1e-6)


def test_build_from_text_equals_vectoriser_with_the_analyser() -> None:
    texts = [
        "IOM joined the United Nations system in 2016 as a related organization.",
        "Article 5 of the Agreement: privileges and immunities; art. 8 covers cooperation.",
        "Migrants, migration and migrating: the organization's mandate.",
        "",
    ]
    analyzer = Analyzer()
    index = TfidfIndex.build(texts, analyzer, engine="numpy")
    vectorizer = TfidfVectorizer(analyzer=analyzer, sublinear_tf=True, dtype=np.float32)
    expected = vectorizer.fit_transform(texts).toarray()
    np.testing.assert_allclose(index.matrix.toarray(), expected, rtol=1e-6)
    assert index.vocabulary == vectorizer.vocabulary_


def test_query_vector_equals_transform() -> None:
    rng = random.Random(2)
    corpus = random_corpus(rng, 150)
    vectorizer, _ = reference(corpus)
    index = TfidfIndex.from_terms(corpus, engine="numpy")
    for _ in range(300):
        query = random_query(rng) + random_query(rng)[:2]  # repeats: tf > 1
        columns, weights = index.query_vector(query)
        expected = vectorizer.transform([query]).tocsr()
        expected.sort_indices()
        np.testing.assert_array_equal(columns, expected.indices)
        np.testing.assert_allclose(weights, expected.data, rtol=1e-6)


def test_search_equals_scikit_learn_top_k(engine: str) -> None:
    rng = random.Random(3)
    for _ in range(15):
        corpus = random_corpus(rng, rng.randint(1, 200))
        vectorizer, matrix = reference(corpus)
        index = TfidfIndex.from_terms(corpus, engine=engine)
        for _ in range(20):
            query = random_query(rng)
            k = rng.choice([1, 2, 5, 10, len(corpus), len(corpus) + 3])
            want, scores = expected_top_k(matrix, vectorizer, query, k)
            assert_same_ranking(index.search(query, k), want, scores)


def test_ties_go_to_the_lower_row(engine: str) -> None:
    corpus = [["x", "y"], ["a", "b"], ["x", "y"], ["x"], ["x", "y"], ["c"] * 3, ["x", "y"]] + [
        [f"f{i}"] for i in range(40)
    ]
    index = TfidfIndex.from_terms(corpus, engine=engine)
    hits = index.search(["x", "y"], 3)
    assert [row for row, _ in hits] == [0, 2, 4]
    assert hits[0][1] == hits[1][1] == hits[2][1]


@pytest.mark.parametrize("query", [[], ["unknown-term"], ["unknown-term", "other-unknown"]])
def test_a_query_without_known_terms_finds_nothing(engine: str, query: list[str]) -> None:
    index = TfidfIndex.from_terms([["a", "b"], ["b", "c"]], engine=engine)
    assert index.search(query, 5) == []
    assert not index.scores(query).any()


def test_k_zero_finds_nothing_and_k_past_the_rows_finds_every_match(engine: str) -> None:
    index = TfidfIndex.from_terms([["a", "b"], ["b", "c"], ["d"]], engine=engine)
    assert index.search(["b"], 0) == []
    assert [row for row, _ in index.search(["b", "d"], 10)] == [2, 0, 1]


def test_engines_return_bit_identical_results() -> None:
    pytest.importorskip("numba")
    rng = random.Random(4)
    for _ in range(10):
        corpus = random_corpus(rng, rng.randint(50, 300))
        fast = TfidfIndex.from_terms(corpus, engine="numba")
        slow = TfidfIndex.from_terms(corpus, engine="numpy")
        for _ in range(30):
            query, k = random_query(rng), rng.choice([1, 5, 20, 100])
            assert fast.search(query, k) == slow.search(query, k)


def test_engines_score_given_rows_bit_identically() -> None:
    pytest.importorskip("numba")
    rng = random.Random(6)
    for _ in range(10):
        corpus = random_corpus(rng, rng.randint(20, 300))
        fast = TfidfIndex.from_terms(corpus, engine="numba")
        slow = TfidfIndex.from_terms(corpus, engine="numpy")
        for _ in range(30):
            query = random_query(rng)
            rows = [rng.randrange(len(corpus)) for _ in range(rng.randint(0, 40))]  # repeats too
            cover = {term: rng.uniform(0.1, 5.0) for term in query if rng.random() < 0.7}
            fast_scores, fast_cover = fast.gather(query, cover, rows)
            slow_scores, slow_cover = slow.gather(query, cover, rows)
            np.testing.assert_array_equal(fast_scores, slow_scores)
            np.testing.assert_array_equal(fast_cover, slow_cover)
            np.testing.assert_array_equal(fast.scores_of(query, rows), slow.scores(query)[rows])
            np.testing.assert_array_equal(fast.scores(query), slow.scores(query))  # every row, compiled and not
            k = rng.choice([1, 5, 64])  # and the best of them, in top_k's order
            best = fast.scorer.best_rows(fast.scores(query), k)
            np.testing.assert_array_equal(best, slow.scorer.best_rows(slow.scores(query), k))
            assert [(row, score) for row, score in fast.search(query, k)] == [
                (row, float(fast.scores(query)[row])) for row in best.tolist()
            ]


def test_dense_scores_and_scores_of_rows_agree_with_search() -> None:
    rng = random.Random(5)
    corpus = random_corpus(rng, 120)
    vectorizer, matrix = reference(corpus)
    index = TfidfIndex.from_terms(corpus, engine="numpy")
    for _ in range(30):
        query = random_query(rng)
        _, want = expected_top_k(matrix, vectorizer, query, 1)
        np.testing.assert_allclose(index.scores(query), want, atol=TOLERANCE)
        rows = np.array([0, 3, 7, len(corpus) - 1])
        np.testing.assert_allclose(index.scores_of(query, rows), want[rows], atol=TOLERANCE)


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    rng = random.Random(6)
    corpus = random_corpus(rng, 200)
    index = TfidfIndex.from_terms(corpus, engine="numpy")
    index.save(tmp_path / "index", {"sources": "abc123"})
    loaded = TfidfIndex.load(tmp_path / "index", engine="numpy")
    assert loaded.vocabulary == index.vocabulary
    assert (loaded.matrix != index.matrix).nnz == 0
    np.testing.assert_array_equal(loaded.idf, index.idf)
    assert TfidfIndex.read_header(tmp_path / "index")["metadata"] == {"sources": "abc123"}
    for _ in range(50):
        query = random_query(rng)
        assert loaded.search(query, 5) == index.search(query, 5)
    assert not list((tmp_path / "index").glob("*.pkl"))


def test_load_rejects_another_format_version(tmp_path: Path) -> None:
    TfidfIndex.from_terms([["a", "b"]], engine="numpy").save(tmp_path)
    header = json.loads((tmp_path / HEADER_FILE).read_text("utf-8"))
    header["version"] = FORMAT_VERSION + 1
    (tmp_path / HEADER_FILE).write_text(json.dumps(header), "utf-8")
    with pytest.raises(IndexFormatError, match="format version"):
        TfidfIndex.load(tmp_path)


def test_load_rejects_an_array_that_does_not_match_its_header(tmp_path: Path) -> None:
    TfidfIndex.from_terms([["a", "b"], ["c"]], engine="numpy").save(tmp_path)
    np.save(tmp_path / "indices.npy", np.zeros(7, np.int32))
    with pytest.raises(IndexFormatError, match="indices"):
        TfidfIndex.load(tmp_path)


def test_a_saved_set_loads_only_for_the_same_metadata(tmp_path: Path) -> None:
    indexes = {"passages": TfidfIndex.from_terms([["a", "b"], ["b"]]), "units": TfidfIndex.from_terms([["c"]])}
    metadata = {"sources": persist.fingerprint(["a b", "b"]), "analyzer": persist.analyzer_fingerprint(Analyzer())}
    persist.save_indexes(tmp_path / "saved", indexes, metadata)
    loaded = persist.load_indexes(tmp_path / "saved", metadata)
    assert loaded is not None and set(loaded) == {"passages", "units"}
    assert loaded["passages"].search(["b"], 5) == indexes["passages"].search(["b"], 5)
    assert persist.load_indexes(tmp_path / "saved", {**metadata, "sources": "other"}) is None
    assert persist.load_indexes(tmp_path / "missing", metadata) is None
    persist.save_indexes(tmp_path / "saved", {"passages": indexes["units"]}, metadata)  # replaced whole
    assert set(persist.load_indexes(tmp_path / "saved", metadata) or {}) == {"passages"}


def test_the_analyser_fingerprint_changes_with_the_analyser() -> None:
    assert persist.analyzer_fingerprint(Analyzer()) == persist.analyzer_fingerprint(Analyzer())
    fewer = Analyzer(stopwords=Analyzer().stopwords - {"the"})
    assert persist.analyzer_fingerprint(fewer) != persist.analyzer_fingerprint(Analyzer())


def test_a_child_process_builds_an_equal_index(tmp_path: Path) -> None:
    texts = ["IOM joined the UN system in 2016.", "Article 5 covers privileges.", "Migration and migrants."] * 5
    path = tmp_path / "texts.txt"
    path.write_text("\n".join(texts) + "\n", "utf-8")
    child = persist.build_in_child(persist.index_text_file, str(path), timeout=60)
    assert child.metadata == {"texts": persist.fingerprint(texts)}
    built = child.indexes["texts"]
    here = TfidfIndex.build(texts, Analyzer())
    assert built.vocabulary == here.vocabulary
    assert (built.matrix != here.matrix).nnz == 0
    assert built.search(Analyzer()("privileges of IOM"), 3) == here.search(Analyzer()("privileges of IOM"), 3)


def test_a_failing_child_build_raises_with_its_error(tmp_path: Path) -> None:
    with pytest.raises(persist.ChildBuildError, match="FileNotFoundError"):
        persist.build_in_child(persist.index_text_file, str(tmp_path / "missing.txt"), timeout=60)


def test_threads_searching_one_index_get_the_answers_one_thread_gets(engine: str) -> None:
    rng = random.Random(7)
    index = TfidfIndex.from_terms(random_corpus(rng, 300), engine=engine)
    queries = [random_query(rng) for _ in range(200)]
    alone = [index.search(query, 5) for query in queries]
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(lambda query: index.search(query, 5), queries)) == alone


def test_the_engine_is_chosen_by_name_or_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert scoring.resolve_engine("numpy") == "numpy"
    monkeypatch.setenv(scoring.ENGINE_ENV, "numpy")
    assert scoring.resolve_engine(None) == "numpy"
    with pytest.raises(ValueError, match="unknown scorer engine"):
        scoring.resolve_engine("fortran")
