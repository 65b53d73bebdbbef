"""Rendering: what the answer embed says, the honest abstention, Discord's limits, and mentions that cannot ping."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import discord
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import render
from bot.display import display
from bot.store import ReloadResult
from knowledge.answer import Answer, AnswerPart, Citation, Hit
from knowledge.base import KnowledgeBase

LAISSEZ_PASSER = "It also affords IOM staff members entitlement to use a UN laissez-passer as a valid travel document."
MENTIONS = ["@everyone", "@here", "<@123456789012345678>", "<@!123456789012345678>", "<@&123456789012345678>"]


def assert_within_limits(*embeds: discord.Embed) -> None:
    """Every limit Discord enforces on the embeds of one message."""
    total = 0
    for embed in embeds:
        assert len(embed.title or "") <= render.EMBED_TITLE_LIMIT
        assert len(embed.description or "") <= render.EMBED_DESCRIPTION_LIMIT
        assert len(embed.footer.text or "") <= render.EMBED_FOOTER_LIMIT
        assert len(embed.author.name or "") <= render.EMBED_AUTHOR_LIMIT
        assert len(embed.fields) <= render.EMBED_FIELDS_MAX
        for item in embed.fields:
            assert 0 < len(item.name or "") <= render.EMBED_FIELD_NAME_LIMIT
            assert 0 < len(item.value or "") <= render.EMBED_FIELD_VALUE_LIMIT
        total += len(embed)
    assert total <= render.EMBED_TOTAL_LIMIT


def unquote(description: str) -> str:
    """The text of a block quote as Discord displays it (markers and escapes removed)."""
    text = " ".join(line.removeprefix("> ") for line in description.split("\n"))
    return re.sub(r"\\(.)", r"\1", text)


def laissez_passer(kb: KnowledgeBase, question: str = "What travel document can IOM staff use?") -> Answer:
    """The answer about article 11, built from the sources (not from ranking, which may change)."""
    mention = kb.article(11, "A/70/976")[0]
    part = AnswerPart(text=mention.sentence.text, passage=mention.passage, citations=(mention.citation,))
    return Answer(question, (part,), abstained=False, score=0.6, hits=(Hit(mention.passage, 0.6),))


def abstention(kb: KnowledgeBase, question: str = "Who is the president of France?") -> Answer:
    hits = tuple(Hit(passage, 0.2 - n / 100) for n, passage in enumerate(kb.passages[:4]))
    return Answer(question, (), abstained=True, score=0.1, hits=hits, reason="the sources do not answer the question")


def big_answer(kb: KnowledgeBase, *, parts: int, words: int, question: str = "q") -> Answer:
    passage = kb.passages[0]
    citation = Citation(
        source="x" * 300,
        title="T" * 3000,
        section="S" * 3000,
        url="https://example.org/" + "p" * 3000,
        publisher="P" * 500,
        passage_id=passage.id,
        articles=tuple(str(n) for n in range(1, 200)),
        instrument="A/70/976",
        others=tuple(f"other {n} " * 30 for n in range(40)),
    )
    text = " ".join(["word*_`|~"] * words)
    return Answer(
        question=question,
        parts=tuple(AnswerPart(text=f"{text} {n}", passage=passage, citations=(citation,)) for n in range(parts)),
        abstained=False,
        score=0.9,
        hits=tuple(Hit(passage, 0.5) for _ in range(30)),
    )


# -- the answer -----------------------------------------------------------------------------------------------------


def test_answer_embed_quotes_the_extract_verbatim_with_source_articles_and_version(kb: KnowledgeBase) -> None:
    answer = laissez_passer(kb)

    embed = render.answer_embed(answer, kb)

    assert embed.description is not None and embed.description.startswith("> ")
    assert unquote(embed.description) == answer.text == LAISSEZ_PASSER
    fields = {item.name: item.value for item in embed.fields}
    assert "Details of the Agreement" in fields["Source"]
    assert "International Organization for Migration to Join United Nations System" in fields["Source"]
    # The instrument links to the UN's document-symbol resolver (its url in glossary.yaml).
    assert fields["Agreement article"] == "[2016 Agreement (A/70/976)](https://undocs.org/A/70/976) art. 11"
    assert kb.version in (embed.footer.text or "")
    assert_within_limits(embed)


def test_answer_embed_links_the_title_when_the_url_is_known(kb: KnowledgeBase) -> None:
    citation = Citation("d", "A title", "Sec", "https://example.org/a", None, "p#1")

    assert render.citation_source(citation) == "[A title](https://example.org/a) · Sec"
    assert (
        render.citation_source(Citation("d", "A title", None, "javascript:alert(1)", "Pub", "p#1")) == "*A title*, Pub"
    )


@pytest.mark.parametrize(
    ("articles", "instrument", "label"),
    [
        (("11",), "A/70/976", "2016 Agreement (A/70/976) art. 11"),
        (("4", "5"), "A/70/976", "2016 Agreement (A/70/976) arts. 4, 5"),
        (("3",), "E/1996/90", "1996 Cooperation Agreement (E/1996/90) art. 3"),
        (("2",), "A/99/1", "A/99/1 art. 2"),
        (("2",), None, "art. 2"),
        ((), "A/70/976", None),
    ],
)
def test_articles_line_names_the_instrument(
    kb: KnowledgeBase, articles: tuple[str, ...], instrument: str | None, label: str | None
) -> None:
    citation = Citation("d", "T", None, None, None, "p#1", articles=articles, instrument=instrument)

    assert render.articles_line(citation, kb.glossary) == label


def test_abstention_is_honest_and_offers_the_nearest_sections(kb: KnowledgeBase) -> None:
    embed = render.answer_embed(abstention(kb), kb)

    assert embed.title == "I couldn't find that in my sources"
    assert "so I won't guess" in (embed.description or "")
    assert "*Why:* the sources do not answer the question." in (embed.description or "")
    names = [item.name for item in embed.fields]
    assert names == ["Nearest sections"]
    assert embed.fields[0].value == "\n".join(
        f"• {line}" for line in render.nearest_lines(display(abstention(kb), kb).nearest)
    )
    assert "Agreement article" not in names and "Source" not in names
    assert "Nothing guessed" in (embed.footer.text or "")


def test_abstention_without_any_hit_points_to_help(kb: KnowledgeBase) -> None:
    answer = Answer(question="zzz", parts=(), abstained=True, score=0.0, reason="the question has no words")

    embed = render.answer_embed(answer, kb)

    assert [item.name for item in embed.fields] == ["Try"]
    assert "the question has no words" in (embed.description or "")


def test_more_results_needs_several_good_passages(kb: KnowledgeBase) -> None:
    passage = kb.passages[0]
    answer = Answer("q", (AnswerPart("t", passage, ()),), False, 0.5, (Hit(passage, 0.4), Hit(passage, 0.05)))

    assert render.more_results(answer) == (Hit(passage, 0.4),)


# -- limits ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("parts", "words"), [(1, 2000), (40, 100), (3, 5)])
def test_answer_embed_respects_every_limit(kb: KnowledgeBase, parts: int, words: int) -> None:
    answer = big_answer(kb, parts=parts, words=words, question="why? " * 2000)

    embed = render.answer_embed(answer, kb)

    assert_within_limits(embed)
    assert (embed.title or "").endswith(render.ELLIPSIS)
    embed.to_dict()  # serialisable as sent


def test_search_and_passage_embeds_respect_every_limit(kb: KnowledgeBase) -> None:
    answer = big_answer(kb, parts=5, words=50)

    assert_within_limits(render.search_embed("q" * 5000, answer.hits, kb))
    assert_within_limits(*render.passage_embeds(answer, kb))


def test_every_lookup_embed_respects_the_limits(kb: KnowledgeBase) -> None:
    mentions = kb.article(3)
    embeds = [
        render.search_embed("agreement", kb.search("agreement", 10), kb),
        render.article_embed("3", None, mentions * 50, kb),
        render.sources_embed(kb),
        render.help_embed(kb, bot_name="IOM bot", answer_dms=True, answer_channels=tuple(range(1, 300))),
        render.status_embed(kb, None, reloading=True),
    ]
    for embed in embeds:
        assert_within_limits(embed)


@settings(max_examples=60, deadline=None)
@given(
    title=st.text(max_size=400),
    description=st.text(max_size=7000),
    fields=st.lists(st.tuples(st.text(max_size=400), st.text(max_size=1500)), max_size=40),
    footer=st.text(max_size=2500),
)
def test_fit_always_ends_within_the_limits(
    title: str, description: str, fields: list[tuple[str, str]], footer: str
) -> None:
    embed = discord.Embed(title=title or None, description=description or None)
    for name, value in fields:
        embed.add_field(name=name, value=value)
    embed.set_footer(text=footer or None)

    assert_within_limits(render.fit(embed))


@settings(max_examples=100, deadline=None)
@given(text=st.text(alphabet=st.sampled_from("ab\\ \n…"), max_size=60), limit=st.integers(1, 50))
def test_clip_never_exceeds_and_never_leaves_half_an_escape(text: str, limit: int) -> None:
    clipped = render.clip(text, limit)

    assert len(clipped) <= limit
    if clipped != text:
        assert clipped.endswith(render.ELLIPSIS)
        body = clipped.removesuffix(render.ELLIPSIS)
        assert (len(body) - len(body.rstrip("\\"))) % 2 == 0


def test_content_is_cut_to_2000_characters() -> None:
    assert len(render.content("x" * 5000)) == render.CONTENT_LIMIT


# -- mention safety -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mention", MENTIONS)
def test_safe_defuses_every_mention(mention: str) -> None:
    assert mention not in render.safe(f"hi {mention} there")


@pytest.mark.parametrize("mention", MENTIONS)
def test_a_question_with_mentions_is_echoed_defused(kb: KnowledgeBase, mention: str) -> None:
    abstained = abstention(kb, f"{mention} who is the president of France?")
    answered = laissez_passer(kb, f"{mention} travel?")

    for embed in (render.answer_embed(abstained, kb), render.answer_embed(answered, kb)):
        shown = str(embed.to_dict())
        assert mention not in shown


def test_markdown_in_user_text_is_shown_as_written(kb: KnowledgeBase) -> None:
    answer = laissez_passer(kb, "**bold** _it_ `code` ||spoiler||")

    title = render.answer_embed(answer, kb).title or ""

    assert "**bold**" not in title and r"\*\*bold\*\*" in title
    assert r"\|\|spoiler\|\|" in title


# -- lookups --------------------------------------------------------------------------------------------------------


def test_search_embed_lists_scores_sections_citations_and_ids(kb: KnowledgeBase) -> None:
    passage = kb.article(11, "A/70/976")[0].passage
    hits = [Hit(passage, 0.5), Hit(kb.passages[0], 0.25), Hit(kb.passages[1], 0.125)]

    embed = render.search_embed("laissez-passer travel document", hits, kb)

    assert len(embed.fields) == 3
    first = embed.fields[0]
    assert first.name == f"1. Details of the Agreement · score {hits[0].score:.3f}"
    assert "2016 Agreement (A/70/976) arts. 8, 10, 11" in (first.value or "")
    assert embed.fields[2].name is not None and embed.fields[2].name.endswith("score 0.125")
    assert f"`{hits[0].passage.id}`" in (first.value or "")


def test_search_embed_with_no_hits_says_so(kb: KnowledgeBase) -> None:
    assert render.search_embed("zzz", [], kb).description == "Nothing in my sources matches that."


def test_article_embed_quotes_every_citing_sentence(kb: KnowledgeBase) -> None:
    embed = render.article_embed("11", "A/70/976", kb.article(11, "A/70/976"), kb)

    assert embed.title == "Article 11 — 2016 Agreement (A/70/976)"
    assert unquote((embed.description or "").split("\n")[0]) == LAISSEZ_PASSER
    assert "Details of the Agreement" in (embed.description or "")


def test_article_embed_groups_instruments_when_none_is_named(kb: KnowledgeBase) -> None:
    description = render.article_embed("3", None, kb.article(3), kb).description or ""

    first = description.index("**2016 Agreement (A/70/976) art. 3**")
    second = description.index("**1996 Cooperation Agreement (E/1996/90) art. 3**")
    assert first < second  # the default instrument first


def test_article_never_cited_gets_an_honest_answer(kb: KnowledgeBase) -> None:
    embed = render.article_embed("12", "A/70/976", kb.article(12, "A/70/976"), kb)

    description = embed.description or ""
    assert description.startswith(
        "My sources never cite article 12 of the 2016 Agreement (A/70/976), so I can't tell you what it says."
    )
    assert "• 2016 Agreement (A/70/976): 2, 3, 4, 5, 6, 7, 8, 10, 11, 13" in description


def test_sources_embed_lists_title_publisher_link_and_passages(kb: KnowledgeBase) -> None:
    embed = render.sources_embed(kb)

    document = kb.documents[0]
    item = embed.fields[0]
    assert item.name == document.title
    assert "International Justice Resource Center (IJRC)" in (item.value or "")
    assert (
        "https://ijrcenter.org/2016/08/09/international-organization-for-migration-to-join-united-nations-system/"
        in (item.value or "")
    )
    assert f"{len(kb.passages)} passages" in (item.value or "")


def test_help_embed_mentions_only_enabled_ways_of_asking(kb: KnowledgeBase) -> None:
    quiet = str(render.help_embed(kb, bot_name="IOM bot", answer_dms=False, answer_channels=()).to_dict())
    open_ = str(render.help_embed(kb, bot_name="IOM bot", answer_dms=True, answer_channels=(42,)).to_dict())

    assert "direct message" not in quiet and "<#42>" not in quiet
    assert "direct message" in open_ and "<#42>" in open_
    assert "no guesses" in quiet


# -- admin ----------------------------------------------------------------------------------------------------------


def result(**changes: object) -> ReloadResult:
    values: dict[str, object] = dict(
        ok=True,
        trigger="SIGHUP",
        finished_at=datetime(2025, 1, 1, tzinfo=UTC),
        seconds=0.25,
        version="bbbbbbbbbbbb",
        previous_version="aaaaaaaaaaaa",
        documents=2,
        passages=30,
        added=7,
        removed=1,
        changed=2,
    )
    values.update(changes)
    return ReloadResult(**values)  # type: ignore[arg-type]


def test_reload_summary_counts_the_changes() -> None:
    assert render.reload_summary(result()) == (
        "Reloaded the knowledge base: version `bbbbbbbbbbbb` (was `aaaaaaaaaaaa`).\n"
        "2 documents, 30 passages; since the previous version 7 added, 1 removed, 2 changed. Built in 0.25 s."
    )


def test_reload_summary_of_a_failure_names_the_problem_and_what_still_answers() -> None:
    failed = result(ok=False, version="aaaaaaaaaaaa", error="bad.md:3: bad YAML in front matter: oops")

    assert render.reload_summary(failed) == (
        "Reload failed: bad.md:3: bad YAML in front matter: oops\n"
        "The previous knowledge base (version `aaaaaaaaaaaa`) is still answering."
    )


def test_status_embed_shows_version_size_and_last_reload(kb: KnowledgeBase) -> None:
    embed = render.status_embed(kb, result(ok=False, error="x.md: empty"), reloading=False)

    fields = {item.name: item.value or "" for item in embed.fields}
    assert fields["Version"] == f"`{kb.version}`"
    assert fields["Documents"] == str(len(kb.documents))
    assert fields["Passages"] == str(len(kb.passages))
    assert "Reload failed: x.md: empty" in fields["Last reload"]
    assert embed.colour == render.FAILURE_COLOUR
