"""The gold data in eval/*.yaml: every span is in the source, every gold article is cited by its sentence.

Runs eval/validate.py's checks over the question sets, and shows on small broken copies that each check
can fail.
"""

from __future__ import annotations

import copy
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from knowledge.evaluation import load_eval_set

ROOT = Path(__file__).resolve().parents[1]
EVAL_DIR = ROOT / "eval"
SETS = ("dev.yaml", "chat.yaml")


def load_validator() -> ModuleType:
    """eval/ is not a package: load validate.py by path."""
    spec = importlib.util.spec_from_file_location("eval_validate", EVAL_DIR / "validate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


validate = load_validator()


@pytest.fixture(scope="module")
def source() -> Any:
    return validate.load_source()


def read_set(name: str) -> dict[str, Any]:
    return validate.load_set(EVAL_DIR / name)


# ---------------------------------------------------------------- the real sets


@pytest.mark.parametrize("name", SETS)
def test_set_is_valid(name: str, source: Any) -> None:
    report = validate.check_set(read_set(name), source, name)

    assert report.errors == []


def test_no_question_is_asked_twice_across_sets(source: Any) -> None:
    report = validate.check_files([EVAL_DIR / name for name in SETS], source)

    assert report.errors == []


@pytest.mark.parametrize("name", SETS)
def test_set_loads_in_the_eval_runner(name: str) -> None:
    loaded = load_eval_set(EVAL_DIR / name)

    assert len(loaded.items) == len(read_set(name)["items"])


def test_chat_set_has_the_promised_shape() -> None:
    data = read_set("chat.yaml")
    categories = [item["category"] for item in data["items"]]

    assert data["meta"]["name"] == "chat"
    assert len(categories) >= 60
    assert categories.count("out_of_scope") >= 15
    assert set(categories) == validate.CATEGORIES - {"smalltalk"}


def test_cli_accepts_the_real_sets(capsys: pytest.CaptureFixture[str]) -> None:
    status = validate.main([str(EVAL_DIR / name) for name in SETS])

    assert status == 0, capsys.readouterr().err


# ---------------------------------------------------------------- how the source's citations resolve


@pytest.mark.parametrize(
    ("span", "year", "articles"),
    [
        ("IOM agreed to participate and cooperate with any UN bodies", "2016", {"3"}),
        ("particularly in the field of statistics", "2016", {"3"}),  # bare "See id." repeats art. 3
        ("attend UN Security Council meetings by invite", "2016", {"4", "5"}),
        ("None of the provisions require either party to breech confidentiality", "2016", {"13"}),
        ("only required to invite the other to their meetings", "1996", {"2"}),
        ("only required to invite the other to their meetings", "2016", set()),
        ("could share specialized studies", "1996", {"3"}),  # "See id. at art. 3; ... Agreement ..., art. 7."
        ("could share specialized studies", "2016", {"7"}),
        ("IOM has held observer status at the UN since 1992", "2016", set()),  # [UN News Centre: IOM]
    ],
)
def test_articles_a_span_rests_on(source: Any, span: str, year: str, articles: set[str]) -> None:
    assert source.articles_for(span, year) == articles


# ---------------------------------------------------------------- each check can fail

GOOD_ITEM = {
    "id": "x1",
    "question": "which art covers sharing facilities",
    "category": "article",
    "gold_spans": ["establishes administrative cooperation, such as sharing services and facilities"],
    "gold_articles": ["art. 8"],
    "abstain": False,
}
GOOD_MULTI = {
    "id": "x2",
    "question": "arts 8 and 10?",
    "category": "multi",
    "gold_spans": ["sharing services and facilities", "consult on the exchange of personnel"],
    "gold_groups": [["sharing services and facilities"], ["consult on the exchange of personnel"]],
    "gold_articles": ["art. 8", "art. 10"],
    "abstain": False,
}
GOOD_OUT = {
    "id": "x3",
    "question": "who is the iom dg",
    "category": "out_of_scope",
    "gold_spans": [],
    "gold_articles": [],
    "abstain": True,
}


def one_set(*items: dict[str, Any]) -> dict[str, Any]:
    return {"meta": {"name": "t", "version": 1, "source": "x"}, "items": [copy.deepcopy(i) for i in items]}


def test_the_hand_made_set_is_valid(source: Any) -> None:
    assert validate.check_set(one_set(GOOD_ITEM, GOOD_MULTI, GOOD_OUT), source).errors == []


def test_spans_match_after_whitespace_normalisation(source: Any) -> None:
    item = {**GOOD_ITEM, "gold_spans": ["establishes administrative\n   cooperation,  such as sharing"]}

    assert validate.check_set(one_set(item), source).errors == []


@pytest.mark.parametrize(
    ("base", "change", "expected"),
    [
        (GOOD_ITEM, {"gold_spans": ["establishes administrative cooperation, like sharing"]}, "not in the source"),
        (GOOD_ITEM, {"gold_spans": ["explicitly preserves each entity's mandate"]}, "not in the source"),  # ' for ’
        (GOOD_ITEM, {"gold_articles": ["art. 9"]}, "art. 9 (A/70/976) is not cited"),
        (GOOD_ITEM, {"gold_articles": ["article 8"]}, "is not written like 'art. 11'"),
        (GOOD_ITEM, {"article_source": "1996"}, "art. 8 (E/1996/90) is not cited"),
        (GOOD_ITEM, {"article_source": "2001"}, "article_source '2001'"),
        (GOOD_ITEM, {"category": "trivia"}, "category 'trivia'"),
        (GOOD_ITEM, {"gold_spans": []}, "needs at least one gold span"),
        (GOOD_ITEM, {"abstain": True}, "only out_of_scope and smalltalk items abstain"),
        (GOOD_ITEM, {"answer": "x"}, "unknown field 'answer'"),
        (GOOD_ITEM, {"gold_groups": [["a"], ["b"]]}, "gold_groups belong to multi items only"),
        (GOOD_MULTI, {"gold_groups": None}, "needs gold_groups with at least two groups"),
        (GOOD_MULTI, {"gold_groups": [["sharing services and facilities"], ["staffing"]]}, "not in gold_spans"),
        (GOOD_OUT, {"abstain": False}, "must have abstain: true"),
        (GOOD_OUT, {"gold_spans": ["sharing services and facilities"]}, "must have no gold_spans"),
        (GOOD_OUT, {"gold_articles": ["art. 8"]}, "must have no gold_articles"),
    ],
)
def test_a_broken_item_is_reported(source: Any, base: dict[str, Any], change: dict[str, Any], expected: str) -> None:
    item = {**copy.deepcopy(base), **change}

    errors = validate.check_set(one_set(item), source).errors

    assert any(expected in error for error in errors), errors


def test_a_missing_field_is_reported(source: Any) -> None:
    item = {key: value for key, value in GOOD_ITEM.items() if key != "gold_articles"}

    assert any("missing field 'gold_articles'" in e for e in validate.check_set(one_set(item), source).errors)


def test_duplicate_ids_and_questions_are_reported(source: Any) -> None:
    twin = {**GOOD_ITEM, "question": "WHICH art covers  sharing facilities"}

    errors = validate.check_set(one_set(GOOD_ITEM, twin), source).errors

    assert any("duplicate id" in e for e in errors)
    assert any("same question" in e for e in errors)


def test_a_stale_source_hash_is_reported(source: Any) -> None:
    data = one_set(GOOD_ITEM)
    data["meta"]["source_sha256"] = "0" * 64

    assert any("source_sha256" in e for e in validate.check_set(data, source).errors)


def test_cli_exits_non_zero_and_names_the_item(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(one_set({**GOOD_ITEM, "gold_spans": ["not in the article at all"]})))

    status = validate.main([str(path)])

    assert status == 1
    assert "x1: gold span not in the source: 'not in the article at all'" in capsys.readouterr().err
