"""Candidate answer sentences: the compiled kernel and numpy agree bit for bit, and both equal the formula."""

from __future__ import annotations

import random

import numpy as np
import pytest

from knowledge import candidates
from knowledge.candidates import Sentences, Weights, score_candidates
from knowledge.index import TfidfIndex

WORDS = [f"w{i}" for i in range(200)]
COMMON = WORDS[:5]  # in most rows: long posting lists, as the stopword-like terms people type
WEIGHTS = Weights(sentence=0.45, passage=0.25, coverage=0.3, own_share=0.6, context_factor=0.85, want_bonus=0.08)


def random_sentences(rng: random.Random, engine: str, n_units: int) -> Sentences:
    """Units grouped into passages (a passage indexes the joined text of its units), with kinds and facts."""
    units, passage_of, passages = [], [], []
    while len(units) < n_units:
        size = rng.randint(1, 6)
        rows = [
            [rng.choice(COMMON) if rng.random() < 0.3 else rng.choice(WORDS) for _ in range(rng.randint(1, 15))]
            for _ in range(size)
        ]
        rows += [list(rows[0])] if rng.random() < 0.2 else []  # an exact duplicate: exact ties
        passage_of += [len(passages)] * len(rows)
        passages.append([term for row in rows for term in row])
        units += rows
    return Sentences(
        index=TfidfIndex.from_terms(units, engine=engine),
        passage_index=TfidfIndex.from_terms(passages, engine=engine),
        passage=np.array(passage_of, np.int32),
        kind=np.array([rng.choice([0, 0, 0, 1, 2]) for _ in units], np.int8),
        facts=np.array([rng.randrange(64) for _ in units], np.int32),
    )


def random_question(rng: random.Random) -> tuple[list[str], dict[str, float], float]:
    """(terms, cover, total): some terms are units of meaning with weights, some units the sources lack."""
    terms = [rng.choice(WORDS[: rng.choice([5, 40, 200])]) for _ in range(rng.randint(1, 8))]
    if rng.random() < 0.2:
        terms.append("unknown-term")
    cover: dict[str, float] = {}
    for term in terms:
        if rng.random() < 0.7:
            cover[term] = cover.get(term, 0.0) + rng.uniform(0.5, 6.0)
    missing = rng.uniform(0.5, 6.0) if rng.random() < 0.3 else 0.0  # a unit no source has: only in the total
    return terms, cover, sum(cover.values()) + missing


def random_factors(rng: random.Random) -> np.ndarray:
    return np.array([rng.choice([0.0, 0.35, 0.85, 1.0]) for _ in range(6)], np.float32)


@pytest.mark.parametrize("dense_postings", [0, 10**9], ids=["maxscore", "one-pass"])
def test_the_compiled_path_equals_numpy_bit_for_bit(dense_postings: int, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("numba")
    monkeypatch.setattr(candidates, "DENSE_POSTINGS", dense_postings)
    rng = random.Random(7)
    for _ in range(6):
        seed = rng.randrange(10**6)
        n_units = rng.randint(20, 400)
        fast = random_sentences(random.Random(seed), "numba", n_units)
        slow = random_sentences(random.Random(seed), "numpy", n_units)
        for _ in range(40):
            terms, cover, total = random_question(rng)
            k, hits, factors, want_bit = (
                rng.choice([1, 5, 40]),
                rng.choice([1, 5]),
                random_factors(rng),
                rng.choice([0, 1, 8]),
            )
            got = score_candidates(fast, terms, cover, total, k, factors, want_bit, WEIGHTS, hits)
            want = score_candidates(slow, terms, cover, total, k, factors, want_bit, WEIGHTS, hits)
            assert got == want
            assert got.hits == slow.passage_index.search(terms, hits)


def expected(
    sentences: Sentences,
    terms: list[str],
    cover: dict[str, float],
    total: float,
    k: int,
    factors: np.ndarray,
    want_bit: int,
) -> list[tuple[int, float, float]]:
    """The formula of knowledge.candidates, sentence by sentence, from the dense scores of every row."""
    unit_scores = sentences.index.scores(terms)
    passage_scores = sentences.passage_index.scores(terms)
    unit_rows = sentences.index.matrix.tocsr()
    passage_rows = sentences.passage_index.matrix.tocsr()
    unit_terms = {t: c for t, c in sentences.index.vocabulary.items()}
    passage_terms = {t: c for t, c in sentences.passage_index.vocabulary.items()}

    def covered(row: int, matrix, columns: dict[str, int]) -> float:
        held = set(matrix.indices[matrix.indptr[row] : matrix.indptr[row + 1]].tolist())
        weight = sum(weight for term, weight in cover.items() if columns.get(term) in held)
        return weight / total if total else weight

    out = []
    for row in np.argsort(-unit_scores, kind="stable")[:k]:
        if unit_scores[row] <= 0:
            break
        own = covered(row, unit_rows, unit_terms)
        passage = int(sentences.passage[row])
        context = covered(passage, passage_rows, passage_terms)
        carries = bool(sentences.facts[row] & want_bit)
        factor = float(factors[sentences.kind[row] * 2 + carries])
        if factor == 0:
            continue
        score = (
            WEIGHTS.sentence * float(unit_scores[row])
            + WEIGHTS.passage * float(passage_scores[passage])
            + WEIGHTS.coverage * (WEIGHTS.own_share * own + (1 - WEIGHTS.own_share) * context)
        ) * factor + WEIGHTS.want_bonus * carries
        out.append((int(row), score, max(own, WEIGHTS.context_factor * context)))
    return sorted(out, key=lambda c: (-c[1], c[0]))


@pytest.mark.parametrize("engine", ["numpy", "numba"])
def test_candidates_follow_the_formula(engine: str) -> None:
    rng = random.Random(11)
    for _ in range(5):
        sentences = random_sentences(rng, engine, rng.randint(20, 300))
        for _ in range(40):
            terms, cover, total = random_question(rng)
            factors, want_bit = random_factors(rng), rng.choice([0, 1, 8])
            got = score_candidates(sentences, terms, cover, total, 40, factors, want_bit, WEIGHTS)
            want = expected(sentences, terms, cover, total, 40, factors, want_bit)
            assert len(got.rows) == len(want)
            assert got.scores == pytest.approx([score for _, score, _ in want], rel=1e-5)
            assert got.coverage == pytest.approx([coverage for _, _, coverage in want], rel=1e-9)
            for rank, (row, score, _) in enumerate(want):
                # The same sentence at each rank, but where float32 cannot tell two scores apart.
                assert got.rows[rank] == row or abs(got.scores[rank] - score) < 1e-5


def test_a_query_the_sources_do_not_know_finds_nothing() -> None:
    sentences = random_sentences(random.Random(3), "numpy", 30)
    found = score_candidates(sentences, ["nowhere"], {"nowhere": 2.0}, 2.0, 40, np.ones(6, np.float32), 0, WEIGHTS)
    assert found == ([], [], [], [])
