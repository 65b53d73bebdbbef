"""The English words the speller leaves alone (knowledge/words.py, knowledge/english.txt.gz)."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge import KnowledgeBase
from knowledge.fingerprints import KEY_FILES
from knowledge.words import ENGLISH_FILE, English, load_english

DATA = Path(__file__).resolve().parents[1] / "data" / "fictional"
SAMPLE = "# a notice\n# of two lines\nbank\nbillion\nlong\n## a\nharbor\nlabor\n## b\nharbour\nlabour\n"


def test_the_file_format_is_read_with_its_varieties() -> None:
    english = English.parse(SAMPLE)
    assert english.words == {"bank", "billion", "long", "harbor", "labor", "harbour", "labour"}
    assert english.variety == {"harbor": "a", "labor": "a", "harbour": "b", "labour": "b"}


@pytest.mark.parametrize(
    ("word", "fix", "keeps"),
    [
        ("bank", "ban", True),  # a real word is no typo ...
        ("billion", "million", True),
        ("labour", "labor", False),  # ... but spelt the other way it is the sources' word
        ("harbor", "harbour", False),
        ("labour", "harbour", True),  # a British word into another British word: two words
        ("agrement", "agreement", False),  # not a word: mended
    ],
)
def test_a_real_word_is_kept_unless_the_fix_spells_it_the_other_way(word: str, fix: str, keeps: bool) -> None:
    assert English.parse(SAMPLE).keeps(word, fix) is keeps


def test_the_shipped_lists_are_english_in_both_spellings() -> None:
    english = load_english()
    assert len(english.words) > 60_000
    assert {"bank", "billion", "many", "part", "early", "word"} <= english.words
    assert english.variety["labor"] == "a" and english.variety["labour"] == "b"
    assert "agrement" not in english.words and not any(len(w) < 4 for w in english.words)
    # What the speller leaves alone decides how questions and examples are read: a change rebuilds saved sets.
    assert {"words.py", ENGLISH_FILE.name} <= set(KEY_FILES)


def test_the_speller_mends_typos_but_not_real_words() -> None:
    # "long" is one letter from the sources' "along", "keepers" one from "keeprs"; "harbor" is how Americans
    # spell the sources' "harbour".
    retriever = KnowledgeBase.load(DATA / "sources").retriever
    assert retriever.correct("how long is the term") == "how long is the term"
    assert retriever.correct("who are the keeprs") == "who are the keepers"
    assert retriever.correct("do they share the harbor") == "do they share the harbour"


@pytest.mark.parametrize(
    "question",
    [
        "lol ok but who keeps the keepers' records",
        "who keeps the keepers' records or nah",
        "hmm who keeps the keepers' records tho",
    ],
)
def test_chat_fillers_are_no_terms_of_a_question(question: str) -> None:
    # "lol", "nah", "hmm", "tho": words no source holds, which made a question look off its topic.
    retriever = KnowledgeBase.load(DATA / "sources").retriever
    assert retriever.read(question).terms == retriever.read("who keeps the keepers' records").terms
