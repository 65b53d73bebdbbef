"""The answer path, in stages: read -> retrieve -> select -> decide -> compose -> cite.

read      question.py, Retriever.read     the question's parts, what each wants, its terms (spelling mended)
retrieve  Retriever.candidates, articles  the candidate sentences of each part, with their passages
select    features.py, selector.py        each candidate's probability of answering its part
decide    decide.py                       answer, answer with an alternative, or abstain, and why
compose   compose.py                      the chosen sentences quoted whole, with the passages to check
cite      KnowledgeBase.citations_for     the document, section and articles each sentence rests on
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from .answer import Answer, AnswerPart, Hit
from .articles import ArticleChoice, choose_article_claims
from .compose import CitationsFor, nearest, quote, quoted_first
from .decide import FACT_NAMES, PartDecision, Reason, decide_part, reason
from .features import INDEX, Reading, candidate_features, char_grams, year_terms
from .question import WANTS_DATE, WANTS_NAME, WANTS_NUMBER, Question, read_question
from .selector import Selector, Thresholds, Verifier
from .text import is_article_term, is_concept_term, words

TYPED = frozenset({WANTS_DATE, WANTS_NUMBER, WANTS_NAME})  # wants whose answer must state a fact of that kind

if TYPE_CHECKING:
    from .candidates import Candidates
    from .retrieval import Retriever


class Prepared(NamedTuple):
    """A question read and ready for retrieval: its parts, and the claims citing any article it names."""

    q: Question
    terms: list[str]
    readings: list[Reading]
    articles: ArticleChoice | None


class Scored(NamedTuple):
    """One part of a question retrieved and scored: its candidate sentences and the selector's probabilities."""

    reading: Reading
    found: Candidates
    features: np.ndarray
    probabilities: np.ndarray


def prepare(r: Retriever, question: str) -> Prepared | Reason:
    """Read a question into parts; or the reason it is not one for the sources (small talk, off the topic, an
    article they never cite)."""
    q = read_question(question, r.glossary.resolve_instrument)
    if r.language.is_smalltalk(q.text):
        return reason("smalltalk")
    terms, units = r.read(q.text)
    if not terms:
        return reason("empty")
    vocabulary = r.unit_index.vocabulary
    if not any(u in vocabulary or is_concept_term(u) for u in units):
        return reason("off_topic")
    articles = None
    if q.articles:
        found = choose_article_claims(r, q, terms)
        if not isinstance(found, ArticleChoice):
            return found
        articles = found
    whole = (terms, units) if len(q.parts) == 1 else None
    asked = frozenset(articles.ranked) if articles else frozenset()
    instrument = q.instrument if q.instrument and q.instrument != r.glossary.default_instrument else ""
    readings: list[Reading] = []
    for part, own, want in zip(q.parts, q.own, q.wants, strict=True):
        reading = None
        if readings and own != part:
            # A later part that was given the first part's subject for saying too little of its own, but names a
            # concept or a name of its own ("..., and what does cmw do?"), asks about that: its own words.
            alone = _reading(r, own, want, None, asked)
            if set(_named(r, alone.units)) - set(readings[0].units):
                reading = alone
        readings.append((reading or _reading(r, part, want, whole, asked))._replace(instrument=instrument))
    if len(readings) > 1:
        # Later parts often point back ("... and why did he think it mattered?"): they keep the first part's
        # subject, its glossary concepts and names. A later part is on the topic when one of its own words is one
        # the sources use, a glossary concept, or one people asked with in a question the sources answer (the
        # examples): "... and what is the biggest driver of it?" has none of the sources' words, "... and what
        # colour is its flag?" none of either.
        first = readings[0]
        subject = _named(r, first.terms)
        readings[1:] = [
            reading._replace(
                terms=reading.terms + [t for t in subject if t not in reading.terms],
                units=reading.units + [t for t in subject if t not in reading.units],
                on_topic=any(u in vocabulary or is_concept_term(u) or r.examples.asks(u) for u in reading.units),
            )
            for reading in readings[1:]
        ]
    return Prepared(q, terms, readings, articles)


def retrieve(
    r: Retriever,
    reading: Reading,
    articles: ArticleChoice | None = None,
    used: frozenset[str] | None = None,
    known: frozenset[int] | None = None,
) -> tuple[Candidates, np.ndarray]:
    """A part's candidate sentences (with the claims citing an article the question names, and those answering an
    example asked in these very words: known) and their features
    (all of them, or those a selector weighs: used); for a part that asks for a date, a number or a name, only
    the sentences that state one of their own."""
    found = r.candidates(reading)
    if known:  # the sentences answering an example asked in these very words are candidates, however far
        found = _with_rows(found, [(row, 0.0) for row in sorted(known)])
    if articles is not None:
        found = _with_rows(found, list(zip(articles.ranked, articles.scores, strict=True)))
    if reading.want in TYPED:
        # Answer-type matching: "how many" needs a number next to what is counted, "when" a date, "who is the
        # Director General" a person's name; one the question gives already does not answer it.
        keep = [i for i, row in enumerate(found.rows) if _states_wanted_fact(r, reading, row)]
        found = found._replace(
            rows=[found.rows[i] for i in keep],
            scores=[found.scores[i] for i in keep],
            coverage=[found.coverage[i] for i in keep],
        )
    features = candidate_features(r, reading, found.rows, found.scores, used)
    return found, features


def _with_rows(found: Candidates, extra: list[tuple[int, float]]) -> Candidates:
    """found with the (row, score) pairs of extra it lacks after its own, their coverage 0."""
    have = set(found.rows)
    extra = [(row, score) for row, score in extra if row not in have]
    return found._replace(
        rows=found.rows + [row for row, _ in extra],
        scores=found.scores + [score for _, score in extra],
        coverage=found.coverage + [0.0] * len(extra),
    )


class Staged(NamedTuple):
    """A question read, retrieved and scored: all but the decision, which the thresholds make."""

    question: str
    prepared: Prepared
    scored: list[Scored]
    model: Selector  # the model chosen for the question (its thresholds decide)
    known: frozenset[int] | None  # the answer of an example asked in these very words (examples.recall)


def answer(r: Retriever, selector: Selector, question: str, citations_for: CitationsFor, max_words: int) -> Answer:
    """An extractive, cited answer to question, or an abstention with its reason and the nearest passages."""
    staged = stage(r, selector, question, citations_for, max_words)
    if isinstance(staged, Answer):
        return staged
    return respond(r, staged, decisions(staged, staged.model.thresholds), citations_for, max_words)


def stage(
    r: Retriever, selector: Selector, question: str, citations_for: CitationsFor, max_words: int
) -> Staged | Answer:
    """A question up to its decision; or its answer, when no threshold plays a part in it (small talk, off the
    topic, a lookup of the articles it names). Training decides one staged question under many thresholds."""
    prepared = prepare(r, question)
    if isinstance(prepared, Reason):
        hits = () if prepared.code in ("smalltalk", "empty") else r.hits(r.terms(question))
        return _abstain(question, prepared, hits)
    known = r.examples.recall(prepared.q.text)  # an example question asked in these very words
    if prepared.articles is not None and _only_names_articles(r, prepared.terms):
        # "What does art. 4 say?" asks for nothing but the article: a lookup, like /article.
        return _unless_unanswered(_lookup(r, selector, prepared, question, citations_for, max_words), known)
    parts = [(reading, *retrieve(r, reading, prepared.articles, selector.used, known)) for reading in prepared.readings]
    model = selector.model_for(r.examples.answered, parts[0][1].rows, parts[0][2])
    scored = [Scored(reading, found, features, model.probabilities(features)) for reading, found, features in parts]
    return Staged(question, prepared, scored, model, known)


def decisions(staged: Staged, thresholds: Thresholds, verifier: Verifier | None = None) -> list[PartDecision]:
    """Each part's decision under thresholds (a question naming an article needs less evidence), on how likely its
    best candidate answers it: by verifier (default: the model's own; training tries others)."""
    if staged.prepared.articles is not None:  # it names an article the sources cite
        thresholds = thresholds.scaled(thresholds.named_article)
    verifier = verifier or staged.model.verifier
    first = staged.scored[0]
    confidences: list[float | None] = [None] * len(staged.scored)  # later parts: on the topic once the first is
    if verifier is not None and first.probabilities.shape[0]:
        confidences[0] = verifier.confidence(first.features, first.probabilities)
    decided = _decide(staged.scored, thresholds, confidences)
    return _recalled(staged.scored, decided, staged.known) if staged.known else decided


def respond(
    r: Retriever, staged: Staged, decided: Sequence[PartDecision], citations_for: CitationsFor, max_words: int
) -> Answer:
    """The answer those decisions make: the chosen sentences quoted, or the reason none is."""
    prepared, question, scored = staged.prepared, staged.question, staged.scored
    hits = nearest(r, scored[0].found.hits) if len(scored) == 1 else None
    taken: set[int] = set()
    parts: list[AnswerPart] = []
    alternatives: list[AnswerPart] = []
    unanswered: list[str] = []
    why: Reason | None = None
    score = 0.0
    for (reading, found, features, probabilities), decision in zip(scored, decided, strict=True):
        if decision.covered:
            continue
        if decision.best is None:
            unanswered.append(reading.text)
            why = why or _why_not(r, reading, features)
            continue
        row = found.rows[decision.best]
        taken.add(row)
        score = max(score, found.scores[decision.best])
        parts.append(quote(r, row, citations_for, max_words, decision.probability))
        if decision.runner_up is not None:
            p = float(probabilities[decision.runner_up])
            alternatives.append(quote(r, found.rows[decision.runner_up], citations_for, max_words, p))
    if parts and prepared.articles is not None:
        # Several articles asked for ("arts. 4 and 5"): the claims citing those no quoted sentence cites.
        for row in _uncovered(r, prepared.articles, taken):
            taken.add(row)
            parts.append(quote(r, row, citations_for, max_words, parts[0].confidence))
    if hits is None:
        hits = r.hits(prepared.terms)
    if not parts:
        return _abstain(question, why or reason("low_confidence"), hits)
    partial = reason("part_unanswered") if unanswered else None
    got = Answer(
        question,
        tuple(parts),
        False,
        score,
        quoted_first(r, parts, hits),
        reason=partial.text if partial else None,
        reason_code=partial.code if partial else None,
        confidence=min(part.confidence for part in parts),
        alternatives=tuple(alternatives),
        unanswered=tuple(unanswered),
    )
    return _unless_unanswered(got, staged.known)


def _unless_unanswered(got: Answer, known: frozenset[int] | None) -> Answer:
    """The answer, unless an example asked in these very words says the sources do not answer it."""
    if known is not None and not known and not got.abstained:
        return _abstain(got.question, reason("asked_unanswered"), got.hits)
    return got


def _decide(scored: list[Scored], thresholds: Thresholds, confidences: list[float | None]) -> list[PartDecision]:
    """Each part's decision; once one part is answered, the question is on the topic and the other parts need
    less evidence (thresholds.later_parts). Parts quote distinct sentences, the surest part choosing first."""
    decisions = _decide_all(scored, confidences, thresholds)
    if len(scored) > 1 and any(d.best is not None for d in decisions):
        relaxed = thresholds.scaled(thresholds.later_parts)
        decisions = _decide_all(scored, confidences, thresholds, relaxed, [d.best is not None for d in decisions])
    return decisions


def _recalled(scored: list[Scored], decisions: list[PartDecision], known: frozenset[int]) -> list[PartDecision]:
    """An example question asked again in its very words: each part quotes the likeliest of the example's
    sentences among its candidates, however likely; a part with none of them keeps its decision."""
    taken: set[int] = set()
    out = []
    for (_, found, _, probabilities), decision in zip(scored, decisions, strict=True):
        mine = [i for i, row in enumerate(found.rows) if row in known and row not in taken]
        if mine:
            best = max(mine, key=lambda i: (probabilities[i], -i))
            decision = PartDecision(best, float(probabilities[best]), None)
        elif decision.best is not None and found.rows[decision.best] in taken:
            decision = PartDecision(None, decision.probability, None, covered=True)
        if decision.best is not None:
            taken.add(found.rows[decision.best])
        out.append(decision)
    return out


def _decide_all(
    scored: list[Scored],
    confidences: list[float | None],
    thresholds: Thresholds,
    relaxed: Thresholds | None = None,
    answered: list[bool] | None = None,
) -> list[PartDecision]:
    taken: set[int] = set()
    decisions: list[PartDecision] = [PartDecision(None, 0.0, None)] * len(scored)

    # The part surest of its best sentence claims it first ("can the SG come to the Council? and the DG to the
    # GA?": the DG sentence goes to the part it answers best, and the other part takes its next sentence).
    def sureness(position: int) -> float:
        probabilities, confidence = scored[position].probabilities, confidences[position]
        return confidence if confidence is not None else float(probabilities.max(initial=0.0))

    for position in sorted(range(len(scored)), key=lambda p: (-sureness(p), p)):
        reading, found, _, probabilities = scored[position]
        use = thresholds if relaxed is None or (answered and answered[position]) else relaxed
        if not reading.on_topic:  # "... and what colour is its flag?": nothing the sources know of
            continue
        decision = decide_part(probabilities, found.rows, taken, use, confidences[position])
        if decision.best is not None:
            taken.add(found.rows[decision.best])
        decisions[position] = decision
    return decisions


def _reading(
    r: Retriever, part: str, want: str, whole: tuple[list[str], list[str]] | None, asked: frozenset[int]
) -> Reading:
    terms, units = whole if whole is not None else r.read(part)
    return Reading(part, terms, units, want, year_terms(part), char_grams(words(part), r.analyzer.stopwords), asked)


def _named(r: Retriever, terms: list[str]) -> list[str]:
    """The glossary concepts and the names among terms, once each, in order."""
    return [t for t in dict.fromkeys(terms) if is_concept_term(t) or t in r.entities]


def _uncovered(r: Retriever, articles: ArticleChoice, quoted: set[int]) -> list[int]:
    """The covering claims needed for asked articles that no quoted sentence cites."""
    cited = {n for row in quoted for i, n in r.units[row].sentence.articles if i == articles.instrument}
    extra = []
    for row in articles.covering:
        numbers = {n for i, n in r.units[row].sentence.articles if i == articles.instrument}
        if row not in quoted and numbers - cited and numbers & articles.asked:
            extra.append(row)
            cited |= numbers
    return extra


def _states_wanted_fact(r: Retriever, reading: Reading, row: int) -> bool:
    """The sentence states a fact of the kind the part wants that the part does not give itself."""
    stated = r.fact_terms(row).get(reading.want, frozenset())
    if not stated - set(reading.terms):
        return False
    return reading.want != WANTS_NUMBER or r.number_fits(row, reading.terms)


def _why_not(r: Retriever, reading: Reading, features: np.ndarray) -> Reason:
    """The reason a part goes unanswered, from what the question asks and its candidates lack."""
    vocabulary = r.unit_index.vocabulary
    missing = [u for u in reading.units if is_concept_term(u) and u not in vocabulary]
    if missing:
        return reason("unknown_concept", topic=missing[0].lstrip("≡").replace("_", " "))
    fact = FACT_NAMES.get(reading.want)
    if fact and (features.shape[0] == 0 if reading.want in TYPED else not features[:, INDEX["carries"]].any()):
        return reason("no_fact", fact=fact)
    return reason("low_confidence")


def _only_names_articles(r: Retriever, terms: list[str]) -> bool:
    """True when a question's terms name articles and instruments and nothing else ("art. 6 of the 1950 treaty")."""
    words_ = r.language.instrument_terms | r.glossary_instrument_terms
    return all(is_article_term(t) or t[0].isdigit() or t in words_ for t in terms if not is_concept_term(t))


def _lookup(
    r: Retriever, selector: Selector, prepared: Prepared, question: str, citations_for: CitationsFor, max_words: int
) -> Answer:
    """The claims citing the articles a question names and nothing else, best first."""
    assert prepared.articles is not None
    rows = prepared.articles.covering
    found, features = retrieve(r, prepared.readings[0], prepared.articles, selector.used)
    probabilities = selector.probabilities(features)
    confidence = {row: float(p) for row, p in zip(found.rows, probabilities, strict=True)}
    parts = [quote(r, row, citations_for, max_words, confidence[row]) for row in rows]
    hits = quoted_first(r, parts, r.hits(prepared.terms))
    return Answer(question, tuple(parts), False, prepared.articles.scores[0], hits, confidence=parts[0].confidence)


def _abstain(question: str, why: Reason, hits: tuple[Hit, ...] = ()) -> Answer:
    return Answer(question, (), True, 0.0, hits, reason=why.text, reason_code=why.code)
