"""Select, part one: what is known of each candidate sentence as an answer to a question part, as numbers.

Every feature is general: it says how a question and a sentence relate (word and character overlap, how much of
the question's meaning the sentence and its passage hold, whether it carries the kind of fact asked for, where it
ranks) and nothing about what any source is about. The selector (selector.py) weighs them with a model trained
on question sets (eval/train.py); the names below are the columns of that model, in order.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from .question import WANTS_DATE, WANTS_NAME, WANTS_NUMBER, WANTS_PERSON, YEAR
from .text import is_article_term, is_concept_term, normalize

if TYPE_CHECKING:
    from .retrieval import Retriever

FEATURES = (
    "hand",  # the retriever's own blend of the scores below (see candidates.py)
    "sentence",  # TF-IDF cosine, question terms vs the sentence
    "passage",  # TF-IDF cosine, question terms vs the sentence's passage
    "own",  # idf-weighted share of the question's units of meaning the sentence holds
    "context",  # ... that its passage holds
    "own_previous",  # ... that it and the sentence before it hold ("Unlike the Board, its remit ...": "its" is there)
    "chars",  # TF-IDF cosine of character 4-grams (spelling variants, word forms)
    "neighbour",  # the best cosine of the sentences just before and after it in its passage
    "heading",  # share of the question's terms in its section heading
    "matched_idf",  # the idf of the question terms it holds, summed (BM25 of a short text with tf = 1)
    "log_length",  # log of its length in words
    "rank0",  # first by the retriever's blend
    "log_rank",
    "margin",  # its blend minus the best blend
    "sentence_margin",  # its cosine minus the best cosine among the candidates
    "chars_margin",
    "own_margin",
    "gap",  # its blend minus the best blend of the OTHER candidates: a clear first has a positive gap
    "claim",  # a claim (not a citation sentence or a caption)
    "citation",
    "caption",
    "carries",  # it carries the kind of fact asked for (a date, a number, a name)
    "lacks",  # the question wants such a fact and it carries none
    "new_fact",  # ... and it states one the question does not already give (a date, number or name of its own)
    "lacks_name",  # a who-question and the sentence names nobody the question does not name already
    "lacks_date",
    "lacks_number",
    "number_fits",  # a number of it stands next to what the question counts
    "names_share",  # share of the proper names of the question it mentions
    "modifier_ok",  # every "first / last / current ..." of the question is matched
    "year_ok",  # every year the question names is in it (or names an instrument)
    "instrument_ok",  # the question names no instrument but the default one, or it cites or names that one
    "miss_own",  # the idf of the rarest question term the sentence lacks (0: it lacks none), over the largest idf
    "miss_context",  # ... that neither the sentence nor its passage holds
    "missing_count",  # log of the number of the question's rarer terms (idf above the median) its passage lacks
    "q_terms",  # log of the number of question terms
    "q_unknown",  # idf-weighted share of the question's units that no source holds
    "q_unknown_concept",  # a domain concept of the glossary that no source mentions
    "q_best_sentence",  # the best cosine of any candidate: how close the sources come at all
    "q_best_own",
    "q_wants_fact",
    "q_oov",  # log of the number of question words that no source uses (after spelling is mended)
    "cites_asked",  # it cites an article the question names
    "q_names_article",  # the question names an article that the sources cite
    "example_known",  # some example question is answered by this sentence
    "example",  # the best cosine of the question with the example questions this sentence answers (examples.py)
    "example_other",  # ... with those that other sentences answer
    "q_example_none",  # ... with the example questions the sources do not answer
    "example_votes",  # the cosines of the nearest example questions it answers, over examples.VOTERS
    "q_example_none_votes",  # ... of those the sources do not answer
)
INDEX = {name: column for column, name in enumerate(FEATURES)}
# The features of whole arrays, in candidate_features' order; those of the question, the same for every row.
VECTOR_COLUMNS = [
    INDEX[name]
    for name in (
        "hand", "sentence", "passage", "own", "context", "chars", "neighbour", "rank0", "log_rank", "margin",
        "sentence_margin", "chars_margin", "own_margin", "gap", "claim", "citation", "caption",
    )
]  # fmt: skip
QUESTION_COLUMNS = [
    INDEX[name]
    for name in (
        "q_terms", "q_unknown", "q_unknown_concept", "q_best_sentence", "q_best_own", "q_wants_fact", "q_oov",
        "q_names_article",
    )
]  # fmt: skip
# The features worked out row by row, in candidate_features' order (then the lacks_* column of the part's want).
ROW_FEATURES = (
    "matched_idf", "own_previous", "miss_own", "miss_context", "missing_count", "log_length", "heading", "carries",
    "lacks", "new_fact", "number_fits", "names_share", "modifier_ok", "year_ok",
)  # fmt: skip
# The features whose direction is known: more of one of these can only make a sentence more (or less) likely to
# answer. Training drops a feature whose learned weight says otherwise (eval/train.py), so that no question set
# can teach the model that, say, holding every word of the question makes a sentence a worse answer.
RAISING = frozenset(
    "sentence passage own context own_previous chars neighbour heading matched_idf carries new_fact number_fits "
    "names_share modifier_ok year_ok instrument_ok cites_asked claim rank0 hand margin sentence_margin chars_margin "
    "own_margin gap q_best_sentence q_best_own example example_votes".split()
)
LOWERING = frozenset(
    "miss_own miss_context missing_count lacks lacks_name lacks_date lacks_number q_unknown q_unknown_concept q_oov "
    "log_rank example_other q_example_none q_example_none_votes".split()
)
CHAR_GRAM = 4


class Reading(NamedTuple):
    """One question part as the answer path reads it."""

    text: str  # the part, folded
    terms: list[str]  # query terms (spelling mended, frame words left out)
    units: list[str]  # units of meaning (glossary phrases as one concept)
    want: str  # WANTS_* or ""
    years: tuple[str, ...]
    grams: list[str]  # character n-grams of the part's content words
    asked: frozenset[int] = frozenset()  # the claims citing an article the question names (none named: empty)
    on_topic: bool = True  # False: none of the part's own words is one the sources or the examples use, nor a concept
    instrument: str = ""  # the instrument the question names, when not the default one ("the 1996 agreement")


def char_grams(words: Sequence[str], stopwords: frozenset[str]) -> list[str]:
    """Character 4-grams of each content word, padded with spaces (scikit-learn's "char_wb")."""
    grams: list[str] = []
    for word in words:
        if word not in stopwords and len(word) <= 40:
            grams.extend(_word_grams(word))
    return grams


@functools.lru_cache(maxsize=1 << 16)
def _word_grams(word: str) -> tuple[str, ...]:
    """A word's padded 4-grams (words repeat: a knowledge base's build asks for each one many times)."""
    padded = f" {word} "
    return tuple(padded[i : i + CHAR_GRAM] for i in range(max(1, len(padded) - CHAR_GRAM + 1)))


# Features worked out row by row that cost the most: left at 0 when the selector gives them no weight.
FACT_DETAIL = frozenset({"new_fact", "number_fits", "lacks_name", "lacks_date", "lacks_number"})
MISSING = frozenset({"miss_own", "miss_context", "missing_count"})
EXAMPLE_FEATURES = frozenset(
    {"example", "example_known", "example_other", "q_example_none", "example_votes", "q_example_none_votes"}
)


def candidate_features(
    retriever: Retriever,
    reading: Reading,
    rows: Sequence[int],
    hand: Sequence[float],
    used: frozenset[str] | None = None,
) -> np.ndarray:
    """The FEATURES of each candidate row (float64, one row per candidate, in the order given). With used
    (the features a selector weighs), the costly ones outside it are left at 0: the same probabilities."""
    r = retriever
    details = used is None or not used.isdisjoint(FACT_DETAIL)
    missing = used is None or not used.isdisjoint(MISSING)
    n = len(rows)
    out = np.zeros((n, len(FEATURES)))
    if not n:
        return out
    rows_a = np.asarray(rows, np.int32)
    terms = reading.terms
    cover, total = r.weigh(reading.units)
    total = total or 1.0
    sentence, own = r.unit_index.gather(terms, cover, rows_a)
    passage_rows = r.sentences.passage[rows_a]
    passage, context = r.passage_index.gather(terms, cover, passage_rows)
    chars = r.char_index.scores_of(reading.grams, rows_a) if reading.grams else np.zeros(n, np.float32)
    own = own / total
    hand_a = np.asarray(hand, np.float64)
    ranks = np.arange(n)
    kinds = r.sentences.kind[rows_a]
    columns = (
        hand_a, sentence, passage, own, context / total, chars, _neighbours(r, terms, rows), ranks == 0,
        np.log1p(ranks), hand_a - hand_a.max(), sentence - sentence.max(), chars - chars.max(), own - own.max(),
        _gaps(hand_a), kinds == 0, kinds == 1, kinds == 2,
    )  # fmt: skip
    for column, values in zip(VECTOR_COLUMNS, columns, strict=True):  # a column at a time: cheaper at this size
        out[:, column] = values
    idf = r.unit_index.idf_values
    vocabulary = r.unit_index.vocabulary
    term_idf = {t: idf[c] for t in set(terms) if (c := vocabulary.get(t)) is not None and not is_concept_term(t)}
    content = {t for t in terms if not is_concept_term(t) and not is_article_term(t)}
    # The weight of each content term: its idf, or (a word no source uses) the largest idf there is.
    weight = {t: term_idf.get(t, r.max_idf) / r.max_idf for t in content}
    rare = r.oov_idf / r.max_idf  # the median idf: terms above it say what the question is specifically about
    names = [t for t in dict.fromkeys(terms) if t in r.entities]
    modifiers = [r.language.modifier_groups[u] for u in reading.units if u in r.language.modifier_groups]
    want = reading.want
    fact = want in (WANTS_DATE, WANTS_NUMBER, WANTS_NAME, WANTS_PERSON)
    asked = set(terms)
    by_weight = sorted(weight.items(), key=lambda tw: -tw[1])
    rare_terms = [t for t, w in by_weight if w >= rare]
    columns = [INDEX[name] for name in ROW_FEATURES]
    columns.append(INDEX[{WANTS_DATE: "lacks_date", WANTS_NUMBER: "lacks_number"}.get(want, "lacks_name")])
    per_row = []
    for row in rows:  # plain Python over at most CANDIDATES rows; the columns are filled at once below
        unit = r.units[row]
        held = r.unit_terms[row]
        around = r.passage_terms[unit.passage_row]
        previous = r.unit_terms[row - 1] if row and r.units[row - 1].passage_row == unit.passage_row else held
        heading = r.heading_terms[unit.passage_row]
        carries = new = fits = False
        if fact:
            carries = want in unit.facts
            if details:
                new = bool(r.fact_terms(row).get(want, frozenset()) - asked)
                fits = want == WANTS_NUMBER and carries and r.number_fits(row, terms)
        text = unit.sentence.text
        per_row.append(
            (
                sum(w for t, w in term_idf.items() if t in held),
                sum(w for u, w in cover.items() if u in held or u in previous) / total,
                next((w for t, w in by_weight if t not in held), 0.0) if missing else 0.0,
                next((w for t, w in by_weight if t not in held and t not in around), 0.0) if missing else 0.0,
                math.log1p(sum(1 for t in rare_terms if t not in held and t not in around)) if missing else 0.0,
                math.log1p(text.count(" ") + 1),
                sum(1 for t in terms if t in heading) / len(terms) if heading and terms else 0.0,
                carries,
                fact and not carries,
                new,
                fits,
                sum(r.mentions(row, e) for e in names) / len(names) if names else 1.0,
                all(group & held for group in modifiers),
                all(y in text or r.glossary.resolve_instrument(y) for y in reading.years),
                fact and not new and details,
            )
        )
    out[:, columns] = per_row
    unknown = sum(w for u, w in cover.items() if u not in vocabulary and not is_article_term(u))
    out[:, QUESTION_COLUMNS] = (
        math.log1p(len(terms)),
        unknown / total,
        any(is_concept_term(u) and u not in vocabulary for u in reading.units),
        float(sentence.max()),
        float(own.max()),
        fact,
        math.log1p(sum(1 for t in content if t not in vocabulary)),
        bool(reading.asked),
    )
    if reading.asked:
        out[:, INDEX["cites_asked"]] = [row in reading.asked for row in rows]
    if reading.instrument:
        names = _instrument_names(r, reading.instrument)
        out[:, INDEX["instrument_ok"]] = [_on_instrument(r, row, reading.instrument, names) for row in rows]
    else:
        out[:, INDEX["instrument_ok"]] = 1.0
    if len(r.examples) and (used is None or not used.isdisjoint(EXAMPLE_FEATURES)):
        near = r.examples.near(terms, rows)
        out[:, INDEX["example"]] = near.best
        out[:, INDEX["example_known"]] = [row in r.examples.answered for row in rows]
        # The best of the other sentences' examples: the best overall, or for the best's own row the second best.
        ranked = [*sorted(near.by_row.items(), key=lambda pair: -pair[1])[:2], (-1, 0.0), (-1, 0.0)]
        (best_row, best), (_, second) = ranked[0], ranked[1]
        out[:, INDEX["example_other"]] = [second if row == best_row else best for row in rows]
        out[:, INDEX["q_example_none"]] = near.unanswered
        out[:, INDEX["example_votes"]] = [near.votes.get(row, 0.0) for row in rows]
        out[:, INDEX["q_example_none_votes"]] = near.unanswered_votes
    return out


def _instrument_names(r: Retriever, symbol: str) -> tuple[str, ...] | None:
    """How the glossary names an instrument (its name, aliases and year), normalised; None when it does not."""
    instrument = r.glossary.instrument(symbol)
    if instrument is None:
        return None
    return (normalize(instrument.name), *instrument.aliases, *([str(instrument.year)] if instrument.year else []))


def _on_instrument(r: Retriever, row: int, symbol: str, names: tuple[str, ...] | None) -> bool:
    """Whether a sentence is about the instrument: it cites it, or names it as the glossary does (any sentence
    is, for an instrument the glossary does not know)."""
    sentence = r.units[row].sentence
    if names is None or any(reference.instrument == symbol for reference in sentence.references):
        return True
    text = normalize(sentence.text)
    return any(name in text for name in names)


def _gaps(values: np.ndarray) -> np.ndarray:
    """Each value minus the largest of the others (a lone value leads by all of itself)."""
    if values.shape[0] < 2:
        return values.copy()
    first, second = np.argsort(-values, kind="stable")[:2]
    best_other = np.where(np.arange(values.shape[0]) == first, values[second], values[first])
    return values - best_other


def _neighbours(r: Retriever, terms: list[str], rows: Sequence[int]) -> list[float]:
    """The best cosine of each row's neighbours in the same passage (0 where it has none)."""
    units = r.units
    last = len(units) - 1
    asked: list[int] = []
    owner: list[int] = []
    for position, row in enumerate(rows):
        passage = units[row].passage_row
        for other in (row - 1, row + 1):
            if 0 <= other <= last and units[other].passage_row == passage:
                asked.append(other)
                owner.append(position)
    best = [0.0] * len(rows)
    if asked:
        for position, score in zip(owner, r.unit_index.scores_of(terms, asked).tolist(), strict=True):
            best[position] = max(best[position], score)
    return best


def year_terms(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(YEAR.findall(text)))
