"""knowledge.evalset and .evaluation: loading question sets, judging answers, the metrics on a hand-made set."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from knowledge.answer import Answer, AnswerPart, Citation, Hit
from knowledge.base import BUNDLED_SOURCES
from knowledge.chunking import Passage
from knowledge.evalset import EvalError, EvalItem, load_eval_set, parse_eval_set
from knowledge.evaluation import format_failures, format_table, instrument_symbol, run_eval
from knowledge.glossary import EMPTY_GLOSSARY, GlossaryFile, load_glossary

DEV_SET = Path(__file__).resolve().parents[2] / "eval" / "dev.yaml"
NEW, OLD = "A/70/976", "E/1996/90"


def passage(text: str, ordinal: int = 0) -> Passage:
    return Passage(f"doc#p-{ordinal}", "doc", "Details", "text", (), text, 0, len(text), ordinal)


def citation(instrument: str | None = None, *articles: str) -> Citation:
    return Citation("doc", "Title", "Details", None, "Pub", "doc#p-0", tuple(articles), instrument)


def answered(text: str, citations: tuple[Citation, ...] = (), hits: tuple[str, ...] = ()) -> Answer:
    part = AnswerPart(text, passage(text), citations)
    return Answer("q", (part,), False, 0.5, tuple(Hit(passage(h, i), 0.5) for i, h in enumerate(hits)))


def abstained(hits: tuple[str, ...] = ()) -> Answer:
    return Answer("q", (), True, 0.1, tuple(Hit(passage(h, i), 0.1) for i, h in enumerate(hits)), reason="weak")


@dataclass
class ScriptedKB:
    """A knowledge base that gives a fixed answer per question."""

    answers: dict[str, Answer]
    glossary: GlossaryFile = field(default_factory=lambda: load_glossary(BUNDLED_SOURCES))
    version: str = "scripted"

    def answer(self, question: str) -> Answer:
        return self.answers[question]


# Seven items whose outcomes cover every metric; the expected numbers below are counted by hand.
HAND_MADE: list[tuple[EvalItem, Answer]] = [
    (  # all correct; the span crosses a line break in the answer
        EvalItem("i1", "laissez-passer?", "lexical", ("use a UN laissez-passer",), gold_articles=("11",)),
        answered("to use a UN\nlaissez-passer as", (citation(NEW, "11"),), hits=("use a UN laissez-passer", "x")),
    ),
    (  # right text, but cites art. 10 too (spurious); the span is only in the 2nd passage
        EvalItem("i2", "services?", "lexical", ("sharing services",), gold_articles=("8",)),
        answered("sharing services and", (citation(NEW, "8", "10"),), hits=("x", "sharing services", "y")),
    ),
    (  # 1996 article: its art. 3 is cited; the 2016 art. 7 is another instrument's, not spurious
        EvalItem("i3", "1996 art 3?", "article", ("specialized studies",), gold_articles=("3",), article_source="1996"),
        answered(
            "share specialized studies",
            (citation(OLD, "3"), citation(NEW, "7")),
            hits=("a", "b", "c", "specialized studies"),
        ),
    ),
    (  # abstained on an in-scope item although the top passage holds the span
        EvalItem("i4", "agenda?", "article", ("propose agenda items",), gold_articles=("6",)),
        abstained(hits=("may propose agenda items", "z")),
    ),
    (  # multi: only one of two groups answered
        EvalItem("i5", "a and b?", "multi", ("alpha", "beta"), gold_groups=(("alpha",), ("beta",))),
        answered("alpha only", hits=("alpha", "beta")),
    ),
    (EvalItem("i6", "capital?", "out_of_scope", abstain=True), abstained()),
    (EvalItem("i7", "laptop?", "out_of_scope", abstain=True), answered("something", hits=("something",))),
]


@pytest.fixture
def report():
    kb = ScriptedKB({item.question: answer for item, answer in HAND_MADE})
    return run_eval(kb, [item for item, _ in HAND_MADE], name="hand")


def test_overall_metrics_on_the_hand_made_set(report):
    overall = report.overall
    assert overall.n == 7
    assert (overall.hit_at_1.hits, overall.hit_at_1.total) == (3, 5)
    assert (overall.hit_at_3.hits, overall.hit_at_3.total) == (4, 5)
    assert (overall.answer_hit.hits, overall.answer_hit.total) == (4, 5)
    assert (overall.complete.hits, overall.complete.total) == (0, 1)
    assert (overall.article.hits, overall.article.total) == (3, 5)
    assert (overall.abstain_tp, overall.abstain_fp, overall.abstain_fn) == (1, 1, 1)
    assert (overall.abstain_precision, overall.abstain_recall, overall.abstain_f1) == (0.5, 0.5, 0.5)
    assert (overall.e2e.hits, overall.e2e.total) == (3, 7)


def test_per_category_metrics_on_the_hand_made_set(report):
    lexical, article, multi, out = (report.categories[c] for c in ("lexical", "article", "multi", "out_of_scope"))
    assert list(report.categories) == ["lexical", "article", "multi", "out_of_scope"]
    assert (lexical.hit_at_1.value, lexical.hit_at_3.value, lexical.article.value, lexical.e2e.value) == (
        0.5,
        1.0,
        0.5,
        0.5,
    )
    assert (lexical.abstain_precision, lexical.abstain_recall, lexical.abstain_f1) == (None, None, None)
    assert (article.hit_at_1.value, article.hit_at_3.value, article.answer_hit.value) == (0.5, 0.5, 0.5)
    assert (article.article.value, article.e2e.value) == (0.5, 0.5)
    assert (article.abstain_precision, article.abstain_recall, article.abstain_f1) == (0.0, None, 0.0)
    assert (multi.answer_hit.value, multi.complete.value, multi.e2e.value) == (1.0, 0.0, 0.0)
    assert out.hit_at_1.value is None and out.article.value is None
    assert (out.abstain_precision, out.abstain_recall, out.abstain_f1) == (1.0, 0.5, pytest.approx(2 / 3))
    assert out.e2e.value == 0.5


@pytest.mark.parametrize(
    ("item_id", "correct", "problems"),
    [
        ("i1", True, []),
        ("i2", False, ["spurious art. 10 (A/70/976)"]),
        ("i3", True, ["no gold span in the top 3 passages"]),
        ("i4", False, ["abstained (weak; score 0.100)", "missing art. 6 (A/70/976)"]),
        ("i5", False, ["incomplete: misses a gold group"]),
        ("i6", True, []),
        ("i7", False, ["answered an out-of-scope question (score 0.500)"]),
    ],
)
def test_item_verdicts_and_problems(report, item_id, correct, problems):
    result = next(r for r in report.results if r.item.id == item_id)
    assert result.correct is correct
    assert result.problems() == problems


def test_1996_item_is_judged_against_e_1996_90(report):
    result = next(r for r in report.results if r.item.id == "i3")
    assert result.instrument == OLD
    assert result.article_correct is True


def test_table_rows_show_the_numbers(report):
    lines = format_table(report).splitlines()
    overall = next(line for line in lines if line.startswith("overall")).split()
    assert overall[:11] == ["overall", "7", "0.60", "0.80", "0.80", "0.00", "0.60", "0.50", "0.50", "0.50", "0.43"]
    lexical = next(line for line in lines if line.startswith("lexical")).split()
    assert lexical[:11] == ["lexical", "2", "0.50", "1.00", "1.00", "-", "0.50", "-", "-", "-", "0.50"]


def test_failures_list_ids_questions_and_problems(report):
    text = format_failures(report)
    assert [line.split()[0] for line in text.splitlines() if not line.startswith(" ")] == ["i2", "i4", "i5", "i7"]
    assert "i2 [lexical] services?" in text
    assert "    - spurious art. 10 (A/70/976)" in text


def test_report_to_dict_counts(report):
    data = report.to_dict()
    assert data["overall"]["e2e"] == {"value": 0.4286, "hits": 3, "total": 7}
    assert data["overall"]["abstention"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "tp": 1, "fp": 1, "fn": 1}
    assert [item["id"] for item in data["items"]] == [f"i{n}" for n in range(1, 8)]
    assert data["items"][2]["cited"] == ["E/1996/90 art. 3", "A/70/976 art. 7"]


@pytest.mark.parametrize(
    ("year", "symbol"), [("1996", OLD), ("2016", NEW), ("1996 agreement", OLD), (None, NEW), ("A/RES/1/2", "A/RES/1/2")]
)
def test_instrument_symbol_via_the_glossary(year, symbol):
    assert instrument_symbol(ScriptedKB({}).glossary, year) == symbol


@pytest.mark.parametrize(("year", "symbol"), [("A/RES/70/130", "A/RES/70/130"), (None, None)])
def test_instrument_symbol_without_a_glossary_is_the_items_own(year, symbol):
    assert instrument_symbol(EMPTY_GLOSSARY, year) == symbol


def test_the_dev_set_loads():
    eval_set = load_eval_set(DEV_SET)
    by_id = {item.id: item for item in eval_set.items}
    assert eval_set.name == "dev"
    assert len(eval_set.items) == 38
    assert by_id["d014"].article_source == "1996" and by_id["d014"].gold_articles == ("3",)
    assert by_id["d030"].gold_groups[1] == ("consult on the exchange of personnel and matters relating to staffing",)
    assert by_id["d033"].abstain and not by_id["d033"].gold_spans


def test_run_eval_on_the_bundled_sources_is_consistent(kb):
    items = load_eval_set(DEV_SET).items
    report = run_eval(kb, items)
    assert report.overall.n == len(items)
    assert sum(m.n for m in report.categories.values()) == len(items)
    for result in report.results:
        assert result.latency_s > 0
        if result.correct and not result.item.abstain:
            assert result.answer_hit and not result.answer.abstained


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("items: [\n", "set.yaml:2: bad YAML"),
        ("[]", "set.yaml: expected a non-empty list of items"),
        ("items:\n- {id: a, question: q, gold_span: [x]}", "set.yaml: item 1 (a): unknown key 'gold_span'"),
        ("- {id: a, question: q, gold_spans: [x]}\n- {id: a, question: r, gold_spans: [y]}", "duplicate id 'a'"),
        ("- {id: a, question: q}", "set.yaml: item 1 (a): an in-scope item needs at least one gold span"),
        ("- {id: a, question: '  ', abstain: true}", "needs a non-empty 'question'"),
        ("- {id: a, question: q, gold_spans: [x], gold_articles: [eleven]}", "'eleven' is not an article"),
        ("- {id: a, question: q, abstain: 'yes'}", "'abstain' must be true or false"),
        ("meta: {}\nitemz: []", "unknown key 'itemz'"),
    ],
)
def test_bad_sets_raise_one_line_errors(tmp_path, text, message):
    path = tmp_path / "set.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(EvalError) as caught:
        load_eval_set(path)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_missing_set_file(tmp_path):
    with pytest.raises(EvalError, match=r"nope\.yaml: no such file"):
        load_eval_set(tmp_path / "nope.yaml")


def test_a_bare_list_and_article_labels_parse():
    eval_set = parse_eval_set([{"id": 7, "question": "q", "gold_spans": ["x"], "gold_articles": ["Article 11", "4"]}])
    assert eval_set.items[0].id == "7"
    assert eval_set.items[0].gold_articles == ("11", "4")
    assert eval_set.items[0].article_source is None  # the glossary's default instrument
