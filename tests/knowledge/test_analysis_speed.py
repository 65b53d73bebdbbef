"""The C pieces that make analysis fast give what the pure-Python ones gave: PyStemmer's stems and libyaml's data."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from snowballstemmer.english_stemmer import EnglishStemmer  # the pure-Python Snowball stemmer, not PyStemmer

from knowledge import text, yamltext

ROOT = Path(__file__).resolve().parents[2]
BUNDLED_TEXT = [
    *sorted((ROOT / "knowledge" / "sources").iterdir()),
    ROOT / "knowledge" / "language.yaml",
    *sorted((ROOT / "eval").rglob("*.yaml")),
]
YAML_FILES = [path for path in BUNDLED_TEXT if path.suffix == ".yaml"]


def bundled_words() -> list[str]:
    found: set[str] = set()
    for path in BUNDLED_TEXT:
        found.update(text.words(path.read_text("utf-8")))
    return sorted(w for w in found if not w[0].isdigit())


def test_pystemmer_gives_the_pure_python_stems_of_every_bundled_word() -> None:
    reference = EnglishStemmer()
    vocabulary = bundled_words()
    assert len(vocabulary) > 1000  # the sources, language.yaml and the eval sets
    differ = [(w, text.stem(w), reference.stemWord(w)) for w in vocabulary if text.stem(w) != reference.stemWord(w)]
    assert differ == []


def test_the_stemmer_is_the_compiled_one() -> None:
    text.stem.cache_clear()
    assert text.stem("migrations") == "migrat"
    assert type(text._stemmers.english).__module__ == "Stemmer"


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: p.name)
def test_libyaml_reads_every_bundled_yaml_file_as_the_python_loader_does(path: Path) -> None:
    raw = path.read_text("utf-8")
    assert yamltext.load(raw) == yamltext.load(raw, c_loader=False)


@pytest.mark.skipif(yamltext.CLoader is None, reason="PyYAML was built without libyaml")
def test_libyaml_refuses_an_alias_on_its_line() -> None:
    with pytest.raises(yaml.composer.ComposerError, match="anchors and aliases") as raised:
        yamltext.load("a: 1\nb: &x [1]\nc: *x\n")
    assert raised.value.problem_mark.line == 1  # 0-based: the anchor on line 2


def test_a_yaml_error_is_the_python_loaders_error() -> None:
    bad = "id: x\ntitle: [unclosed\n"
    with pytest.raises(yaml.YAMLError) as c_error:
        yamltext.load(bad)
    with pytest.raises(yaml.YAMLError) as python_error:
        yamltext.load(bad, c_loader=False)
    assert str(c_error.value) == str(python_error.value)


def test_nesting_too_deep_is_the_python_loaders_recursion_error() -> None:
    deep = "a: " + "[" * 3000 + "]" * 3000  # past libyaml's nesting limit and Python's recursion limit
    with pytest.raises(RecursionError):
        yamltext.load(deep, c_loader=False)
    with pytest.raises(RecursionError):
        yamltext.load(deep)


def _texts_to_analyse() -> list[str]:
    from knowledge.base import read_sources
    from knowledge.indexing import index_texts

    units, passages = index_texts(read_sources().passages)
    questions = [line for path in YAML_FILES for line in path.read_text("utf-8").splitlines()]
    odd = [
        "wat r ppl sayin abt the govt's info on arts. 4, 5 and 6a b4 1.5 million Ü\u200bber-Caf\u00e9s",
        "x" * 60 + " IOM's staff and the I.O.M.'s",
        "",
        "the of and",
        "Director General of the International Organization for Migration under art. 7",
    ]
    return units + passages + questions + odd


@pytest.mark.parametrize("glossary", [True, False], ids=["glossary", "no glossary"])
def test_the_memoised_analysis_gives_the_terms_of_the_full_one(glossary: bool) -> None:
    from knowledge.glossary import load_glossary

    synonyms = load_glossary(ROOT / "knowledge" / "sources").synonyms if glossary else text.Synonyms()
    fast, full = text.Analyzer(synonyms), text.Analyzer(synonyms)
    texts = _texts_to_analyse()
    for sample in texts + texts:  # the second time every token is in the memos
        assert fast(sample) == full.analyze(sample).terms, sample
    assert fast.terms_memo and len(fast.terms_memo) == len(fast.stems_memo)


def test_full_memos_start_over(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(text, "TERM_MEMO_SIZE", 3)
    analyzer = text.Analyzer()
    assert analyzer("the migrants' rights") == ["migrant", "right"]
    assert analyzer("new words here now") == analyzer.analyze("new words here now").terms
    assert len(analyzer.terms_memo) <= 4
