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
