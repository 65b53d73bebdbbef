"""The compiled scorer: knowledge.scoring's MaxScore search as one numba function (imported only if numba is).

One call per query, a few ns per posting read, no allocation proportional to the corpus. It must add the same
numbers in the same order, rounding to float32 at the same steps, as the numpy path in scoring.py: the tests
compare the two bit for bit.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .scoring import BOUND_SLACK, BOUND_TINY, LOOKUP_MIN, PASS_COST, RESET_SHARE, SEARCH_COST


@njit(cache=True, nogil=True)
def _insert(rows, scores, count, d, s):  # pragma: no cover - compiled
    """Insert (d, s) into the best-first arrays holding count entries (capacity len(rows)); new count."""
    kk = rows.shape[0]
    if count == kk and (s < scores[kk - 1] or (s == scores[kk - 1] and d > rows[kk - 1])):
        return count
    pos = count if count < kk else kk - 1
    while pos > 0 and (scores[pos - 1] < s or (scores[pos - 1] == s and rows[pos - 1] > d)):
        scores[pos] = scores[pos - 1]
        rows[pos] = rows[pos - 1]
        pos -= 1
    scores[pos] = s
    rows[pos] = d
    return count + 1 if count < kk else count


@njit(cache=True, nogil=True)
def _lookup(indices, data, lo, hi, d):  # pragma: no cover - compiled
    """X[d, column] for the column whose postings are indices[lo:hi] (0 when d is not among them)."""
    a = lo
    b = hi
    while a < b:
        mid = (a + b) >> 1
        if indices[mid] < d:
            a = mid + 1
        else:
            b = mid
    if a < hi and indices[a] == d:
        return np.float64(data[a])
    return 0.0


@njit(cache=True, nogil=True)
def _offer(rows, scores, count, d, s):  # pragma: no cover - compiled
    """Row d's score rose to s: keep rows/scores the k best rows (distinct), best first; the new count."""
    kk = rows.shape[0]
    if count == kk and (s < scores[kk - 1] or (s == scores[kk - 1] and d > rows[kk - 1])):
        return count
    for i in range(count):  # already in: take it out, it goes back in at its new place
        if rows[i] == d:
            for r in range(i, count - 1):
                rows[r] = rows[r + 1]
                scores[r] = scores[r + 1]
            count -= 1
            break
    return _insert(rows, scores, count, d, s)


@njit(cache=True, nogil=True)
def _exact_min(indptr, indices, data, cols, order, q, j, acc, rows, count):  # pragma: no cover - compiled
    """The least final score among rows[:count]: their partial scores completed with terms j.. by lookup,
    rounded to float32 after each term exactly as the main loop will round them."""
    theta = np.inf
    for r in range(count):
        d = rows[r]
        s = acc[d]
        for t in range(j, order.shape[0]):
            c = cols[order[t]]
            x = _lookup(indices, data, indptr[c], indptr[c + 1], d)
            if x > 0.0:
                s = np.float32(s + x * q[order[t]])
        theta = min(theta, np.float64(s))
    return theta


@njit(cache=True, nogil=True)
def _add(acc, out_rows, out_scores, count, d, x, w):  # pragma: no cover - compiled
    """Add x * w to row d (touched before) and offer its new score to the k best; the new count."""
    acc[d] = acc[d] + x * w
    s = np.float64(acc[d])
    if s >= out_scores[out_rows.shape[0] - 1]:
        count = _offer(out_rows, out_scores, count, d, s)
    return count


@njit(cache=True, nogil=True)
def top_k(indptr, indices, data, col_max, cols, q, k, acc, touched, out_rows, out_scores):  # pragma: no cover
    m = cols.shape[0]
    order = _rarest_first(indptr, cols)
    rest = np.zeros(m + 1)  # the most terms j.. can add to any row
    remaining = np.zeros(m + 1, np.int64)  # postings of terms j..
    for j in range(m - 1, -1, -1):
        c = cols[order[j]]
        rest[j] = rest[j + 1] + q[order[j]] * np.float64(col_max[c])
        remaining[j] = remaining[j + 1] + indptr[c + 1] - indptr[c]
    # out_rows/out_scores: the k best rows so far, kept current as scores rise (no final pass over rows).
    count = 0
    n = 0
    theta = 0.0
    j = 0
    # Phase 1: every posting of each term; any row may enter.
    while j < m:
        c = cols[order[j]]
        lo = indptr[c]
        hi = indptr[c + 1]
        if count == k and hi - lo > LOOKUP_MIN:
            theta = max(theta, _exact_min(indptr, indices, data, cols, order, q, j, acc, out_rows, count))
            if (rest[j] + BOUND_TINY) * (1 + BOUND_SLACK) < theta:
                break
        w = q[order[j]]
        for p in range(lo, hi):
            d = indices[p]
            if acc[d] == 0.0:
                touched[n] = d
                n += 1
            acc[d] = acc[d] + data[p] * w
            if count < k or acc[d] >= out_scores[k - 1]:
                count = _offer(out_rows, out_scores, count, d, np.float64(acc[d]))
        j += 1
    # Phase 2: no row untouched so far can reach the top k; the remaining terms only add to touched rows.
    if j < m and n * PASS_COST < remaining[j]:
        # Few rows: list those that can still reach theta once, then look the remaining terms up for them.
        live = np.empty(n, np.int32)
        n_live = 0
        for i in range(n):
            d = touched[i]
            if (acc[d] + rest[j] + BOUND_TINY) * (1 + BOUND_SLACK) >= theta:
                live[n_live] = d
                n_live += 1
        while j < m:
            c = cols[order[j]]
            lo = indptr[c]
            hi = indptr[c + 1]
            w = q[order[j]]
            if n_live * (np.log2(hi - lo) + 1) * SEARCH_COST < hi - lo:
                for i in range(n_live):
                    x = _lookup(indices, data, lo, hi, live[i])
                    if x > 0.0:
                        count = _add(acc, out_rows, out_scores, count, live[i], x, w)
            else:
                for p in range(lo, hi):
                    if acc[indices[p]] > 0.0:
                        count = _add(acc, out_rows, out_scores, count, indices[p], np.float64(data[p]), w)
            j += 1
            if j < m:
                theta = max(theta, _exact_min(indptr, indices, data, cols, order, q, j, acc, out_rows, count))
                kept = 0
                for i in range(n_live):
                    if (acc[live[i]] + rest[j] + BOUND_TINY) * (1 + BOUND_SLACK) >= theta:
                        live[kept] = live[i]
                        kept += 1
                n_live = kept
    else:
        while j < m:
            c = cols[order[j]]
            w = q[order[j]]
            for p in range(indptr[c], indptr[c + 1]):
                if acc[indices[p]] > 0.0:
                    count = _add(acc, out_rows, out_scores, count, indices[p], np.float64(data[p]), w)
            j += 1
    if n * RESET_SHARE > acc.shape[0]:
        acc[:] = 0.0
    else:
        for i in range(n):
            acc[touched[i]] = 0.0
    return count


@njit(cache=True, nogil=True)
def _rarest_first(indptr, cols):  # pragma: no cover - compiled
    """The order of cols by posting-list length, ties to the lower column: scoring.Scorer._ordered's order."""
    m = cols.shape[0]
    order = np.empty(m, np.int64)
    for i in range(m):
        order[i] = i
    for i in range(1, m):
        o = order[i]
        df = indptr[cols[o] + 1] - indptr[cols[o]]
        j = i - 1
        while j >= 0:
            p = order[j]
            dp = indptr[cols[p] + 1] - indptr[cols[p]]
            if dp > df or (dp == df and cols[p] > cols[o]):
                order[j + 1] = p
                j -= 1
            else:
                break
        order[j + 1] = o
    return order


@njit(cache=True, nogil=True)
def gather(indptr, indices, data, cols, q, cover, rows, out_scores, out_cover):  # pragma: no cover - compiled
    """For each of rows: its score (terms rarest first, float32 after each, as top_k) and its covered weight
    (the sum of cover[t] over the terms t the row holds, float64): scoring.Scorer.gather's numpy loop."""
    order = _rarest_first(indptr, cols)
    for i in range(rows.shape[0]):
        out_scores[i], out_cover[i] = _row(indptr, indices, data, cols, q, cover, order, rows[i])


@njit(cache=True, nogil=True)
def scores(indptr, indices, data, cols, q, out):  # pragma: no cover - compiled
    """Every row's score into out (float32, zero on entry), terms rarest first, rounded to float32 after each
    term: scoring.Scorer.scores' numpy loop."""
    for t in _rarest_first(indptr, cols):
        c = cols[t]
        w = q[t]
        for p in range(indptr[c], indptr[c + 1]):
            d = indices[p]
            out[d] = out[d] + data[p] * w


@njit(cache=True, nogil=True)
def best_rows(acc, out_rows, out_scores):  # pragma: no cover - compiled
    """The len(out_rows) best rows of a score array, zeros left out, best first, ties to the lower row: how
    many. scoring.Scorer.best_rows' numpy path."""
    k = out_rows.shape[0]
    count = 0
    for d in range(acc.shape[0]):
        s = acc[d]
        # Rows come in ascending order: one tying the k-th comes after it, so only a higher score gets in.
        if s > 0.0 and (count < k or s > out_scores[k - 1]):
            count = _insert(out_rows, out_scores, count, d, s)
    return count


@njit(cache=True, nogil=True)
def _row(indptr, indices, data, cols, q, cover, order, d):  # pragma: no cover - compiled
    """Row d's (score, covered weight) for the query, each term looked up in its postings, rarest first."""
    s = np.float32(0.0)
    covered = 0.0
    for t in order:
        c = cols[t]
        x = _lookup(indices, data, indptr[c], indptr[c + 1], d)
        if x > 0.0:
            s = np.float32(s + x * q[t])
            covered += cover[t]
    return s, covered


@njit(cache=True, nogil=True)
def _accumulate(indptr, indices, data, cols, q, cover, order, acc, touched, covered):  # pragma: no cover
    """Every posting of the query into acc (float32 after each term, as top_k) and covered; the rows touched."""
    n = 0
    for t in order:
        c = cols[t]
        w = q[t]
        v = cover[t]
        for p in range(indptr[c], indptr[c + 1]):
            d = indices[p]
            if acc[d] == 0.0:
                touched[n] = d
                n += 1
            acc[d] = acc[d] + data[p] * w
            covered[d] += v
    return n


@njit(cache=True, nogil=True)
def _postings(indptr, cols):  # pragma: no cover - compiled
    total = 0
    for c in cols:
        total += indptr[c + 1] - indptr[c]
    return total


@njit(cache=True, nogil=True)
def candidates(  # pragma: no cover - compiled
    u_indptr, u_indices, u_data, u_col_max, p_indptr, p_indices, p_data, p_col_max,
    unit_passage, unit_kind, unit_facts, cols, q, cover, p_cols, p_q, p_cover, k, acc, touched, covered,
    best_rows, best_scores, p_acc, p_touched, p_covered, hit_rows, hit_scores,
    factors, want_bit, weights, total, dense_postings, out_rows, out_scores, out_coverage,
):  # fmt: skip
    """knowledge.candidates.score_candidates in one call: the same numbers, in the same order and precision.

    A query with at most dense_postings postings is read whole into the accumulators (one pass: the k best
    rows and their coverage at once); one with more goes through top_k's MaxScore and looks the k best up.
    The passages' top len(hit_rows) (as top_k finds them) come out too, in hit_rows and hit_scores: the
    question's nearest passages, from the same pass. Returns the (candidates, hits) counts. acc, covered,
    p_acc and p_covered are zero on entry and are left zero.
    """
    order = _rarest_first(u_indptr, cols)
    p_order = _rarest_first(p_indptr, p_cols)
    dense = _postings(u_indptr, cols) <= dense_postings
    if dense:
        n_touched = _accumulate(u_indptr, u_indices, u_data, cols, q, cover, order, acc, touched, covered)
        n = 0
        for i in range(n_touched):
            n = _insert(best_rows, best_scores, n, touched[i], np.float64(acc[touched[i]]))
    else:
        n_touched = 0
        n = top_k(u_indptr, u_indices, u_data, u_col_max, cols, q, k, acc, touched, best_rows, best_scores)
    p_dense = _postings(p_indptr, p_cols) <= dense_postings
    p_touched_n = 0
    n_hits = 0
    if not p_dense:
        n_hits = top_k(p_indptr, p_indices, p_data, p_col_max, p_cols, p_q, hit_rows.shape[0], p_acc, p_touched,
                       hit_rows, hit_scores)  # fmt: skip
    else:
        p_touched_n = _accumulate(
            p_indptr, p_indices, p_data, p_cols, p_q, p_cover, p_order, p_acc, p_touched, p_covered
        )
    sentence_weight = np.float32(weights[0])
    passage_weight = np.float32(weights[1])
    coverage_weight = weights[2]
    own_share = weights[3]
    context_factor = weights[4]
    bonus = np.float32(weights[5])
    count = 0
    for i in range(n):
        d = best_rows[i]
        own = covered[d] if dense else _row(u_indptr, u_indices, u_data, cols, q, cover, order, d)[1]
        p = unit_passage[d]
        if p_dense:
            passage_score = p_acc[p]
            context = p_covered[p]
        else:
            passage_score, context = _row(p_indptr, p_indices, p_data, p_cols, p_q, p_cover, p_order, p)
        if total != 0.0:
            own /= total
            context /= total
        carries = (unit_facts[d] & want_bit) != 0
        factor = factors[unit_kind[d] * 2 + (1 if carries else 0)]
        if factor == 0.0:
            continue
        mixed = np.float32(coverage_weight * (own_share * own + (1 - own_share) * context))
        score = sentence_weight * np.float32(best_scores[i]) + passage_weight * passage_score + mixed
        score = score * factor + (bonus if carries else np.float32(0.0))
        coverage = max(own, context_factor * context)
        # Insert at its place, best first, ties to the lower row.
        at = count
        while at > 0 and (out_scores[at - 1] < score or (out_scores[at - 1] == score and out_rows[at - 1] > d)):
            out_rows[at] = out_rows[at - 1]
            out_scores[at] = out_scores[at - 1]
            out_coverage[at] = out_coverage[at - 1]
            at -= 1
        out_rows[at] = d
        out_scores[at] = score
        out_coverage[at] = coverage
        count += 1
    for i in range(n_touched):
        acc[touched[i]] = 0.0
        covered[touched[i]] = 0.0
    for i in range(p_touched_n):
        n_hits = _insert(hit_rows, hit_scores, n_hits, p_touched[i], np.float64(p_acc[p_touched[i]]))
    for i in range(p_touched_n):
        p_acc[p_touched[i]] = 0.0
        p_covered[p_touched[i]] = 0.0
    return count, n_hits
