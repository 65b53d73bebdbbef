"""Citation forms of the sources, resolved in reading order: id., short forms, pinpoints, brackets."""

from __future__ import annotations

import pytest

from knowledge.chunking import chunk
from knowledge.citations import (
    CitationContext,
    Reference,
    article_number,
    article_numbers,
    is_citation_sentence,
    parse_citation_sentence,
)
from knowledge.documents import load_documents

AGREEMENT = (
    "UN General Assembly, Agreement concerning the Relationship between the United Nations and the "
    "International Organization for Migration"
)
FULL_2016 = f"See {AGREEMENT}, UN Doc. A/70/976, 8 July 2016."
FULL_1996 = (
    "See Economic and Social Council, Cooperation between the United Nations and the International "
    "Organization for Migration, UN Doc. E/1996/90, 18 July 1996."
)


def read(*sentences: str) -> list[tuple[Reference, ...]]:
    context = CitationContext()
    return [parse_citation_sentence(sentence, context) for sentence in sentences]


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("See id. at art. 3.", True),
        ("See id.", True),
        ("[UN News Centre: IOM]", True),
        ("See, e.g., UN General Assembly, Resolution 70/130, UN Doc. A/RES/70/130, 8 February 2016.", True),
        ("IOM staff may use a UN laissez-passer.", False),
        ("Seeing is believing.", False),
    ],
)
def test_citation_sentences_are_recognised(sentence: str, expected: bool) -> None:
    assert is_citation_sentence(sentence) is expected


def test_full_citation_gives_symbol_and_label() -> None:
    ((reference,),) = read(FULL_2016)
    assert reference.instrument == "A/70/976"
    assert reference.articles == ()
    assert reference.label == AGREEMENT


def test_id_with_pinpoint_uses_previous_authority() -> None:
    _, (reference,) = read(FULL_2016, "See id. at art. 3.")
    assert (reference.instrument, reference.articles) == ("A/70/976", ("3",))


def test_id_with_several_articles() -> None:
    _, (reference,) = read(FULL_2016, "See id. at arts. 4 and 5.")
    assert reference.articles == ("4", "5")


def test_bare_id_repeats_the_previous_pinpoint() -> None:
    _, _, (reference,) = read(FULL_2016, "See id. at art. 3.", "See id.")
    assert (reference.instrument, reference.articles) == ("A/70/976", ("3",))


def test_id_after_the_1996_citation_is_the_1996_agreement() -> None:
    _, _, (art_2_1996,) = read(FULL_2016, FULL_1996, "See id. at art. 2.")
    assert (art_2_1996.instrument, art_2_1996.articles) == ("E/1996/90", ("2",))
    _, (art_2_2016,) = read(FULL_2016, "See id. at art. 2.")
    assert (art_2_2016.instrument, art_2_2016.articles) == ("A/70/976", ("2",))


def test_short_form_by_title_resolves_to_the_symbol_given_earlier() -> None:
    _, (short,) = read(FULL_2016, f"See {AGREEMENT}.")
    assert short.instrument == "A/70/976"


def test_id_then_short_form_in_one_sentence() -> None:
    *_, refs = read(FULL_2016, FULL_1996, f"See id. at art. 3; {AGREEMENT}, art. 7.")
    assert [(r.instrument, r.articles) for r in refs] == [("E/1996/90", ("3",)), ("A/70/976", ("7",))]


def test_id_refers_to_the_last_authority_of_a_multi_part_citation() -> None:
    *_, refs = read(FULL_2016, FULL_1996, f"See id. at art. 3; {AGREEMENT}, art. 7.", "See id. at art. 9.")
    assert [(r.instrument, r.articles) for r in refs] == [("A/70/976", ("9",))]


def test_bracketed_and_web_sources() -> None:
    (bracket,), (web,) = read("[UN News Centre: IOM]", "See IOM, Our Work.")
    assert (bracket.label, bracket.instrument) == ("UN News Centre: IOM", None)
    assert (web.label, web.instrument, web.articles) == ("IOM, Our Work", None, ())


def test_resolution_symbol_with_e_g_signal() -> None:
    ((reference,),) = read(
        "See, e.g., UN General Assembly, Resolution 70/130, Violence against women migrant workers, "
        "UN Doc. A/RES/70/130, 8 February 2016."
    )
    assert reference.instrument == "A/RES/70/130"


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("What does Article 8 provide?", ("8",)),
        ("art. 5 and arts. 4 and 6", ("5", "4", "6")),
        ("articles 10, 11 or 13", ("10", "11", "13")),
        ("art 7", ("7",)),
        ("arts. 3–5 and art. 3 to art. 6", ("3", "5", "3", "6")),
        ("Art. 12A", ("12a",)),
        ("the article about staff", ()),
        ("article 2016 of the law", ()),  # a year, not an article
        # Spelled out, as people type and dictate them; a spelled number that counts something else is not one.
        ("what does article eight cover and what about article ten", ("8", "10")),
        ("Articles Eleven and twelve", ("11", "12")),
        ("article twenty-one", ("21",)),
        ("art. 5 and one more thing", ("5",)),
    ],
)
def test_articles_named_in_free_text(text: str, numbers: tuple[str, ...]) -> None:
    assert tuple(article_numbers(text)) == numbers


def test_one_grammar_reads_pinpoints_and_questions_alike() -> None:
    pinpoint = "See id. at arts. 4 and 5."
    _, (reference,) = read(FULL_2016, pinpoint)
    assert reference.articles == tuple(article_numbers(pinpoint)) == tuple(article_numbers("What do arts 4 and 5 say?"))


@pytest.mark.parametrize(
    ("label", "number"),
    [
        ("art. 11", "11"),
        ("Article 11", "11"),
        ("11", "11"),
        (" arts. 3a ", "3a"),
        ("Article eleven", None),
        ("art. 4 and 5", None),
        ("x", None),
    ],
)
def test_one_article_label(label: str, number: str | None) -> None:
    assert article_number(label) == number


def test_bundled_source_sentences_carry_the_right_articles() -> None:
    passages = chunk(load_documents_bundled())
    sentences = [s for p in passages for s in p.sentences]

    def find(prefix: str):
        return next(s for s in sentences if s.text.startswith(prefix))

    def articles(prefix: str) -> set[tuple[str | None, str]]:
        return set(find(prefix).articles)

    assert articles("It also affords IOM staff members") == {("A/70/976", "11")}
    assert articles("Under the old agreement") == {("E/1996/90", "2")}
    assert articles("The agreement will not affect the existing") == {("A/70/976", "2")}
    assert articles("Both parties to the agreement are entitled") == {("A/70/976", "3")}  # bare "See id."
    assert articles("Additionally, while the previous document") == {("E/1996/90", "3"), ("A/70/976", "7")}
    assert articles("IOM may also submit reports") == {("A/70/976", "4"), ("A/70/976", "5")}
    # A claim earlier in a run rests on the run's citation too; the one right before it is direct.
    secretary = find("The Secretary General of the UN is")
    director = find("The IOM Director General is entitled")
    assert secretary.articles == (("A/70/976", "5"),) and not secretary.cited_directly
    assert director.cited_directly


def load_documents_bundled():
    from knowledge.base import BUNDLED_SOURCES

    return load_documents(BUNDLED_SOURCES)
