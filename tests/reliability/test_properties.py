"""Property tests of the text path, from a source file or a question to the message Discord receives.

Arbitrary Unicode (zero-width and bidi marks, emoji sequences, combining marks, control characters, markdown and
mention syntax) never makes the loader, chunker, citation parser, query analyser, answer composer or renderer
raise anything but a SourceError that names the file; every rendered message fits Discord's limits and pings no
one. 100,000-character inputs are explicit examples (and their speed is asserted), not random draws.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import discord
import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st
from rigs import LIVE_MENTION

from bot import render
from bot.store import ReloadResult
from knowledge.answer import Answer, AnswerPart, Hit
from knowledge.base import BUNDLED_SOURCES, KnowledgeBase
from knowledge.chunking import chunk, split_sentences
from knowledge.citations import CitationContext, article_numbers, is_citation_sentence, parse_citation_sentence
from knowledge.documents import Document, SourceError, load_document
from knowledge.text import Analyzer

PROPERTY = settings.get_profile("reliability")
LONG = 100_000

# Pasted from other apps and invisible: zero-width characters, the soft hyphen, bidi marks, embeddings and isolates.
INVISIBLE_MARKS = [
    *"\u200b\u200c\u200d\u2060\ufeff\u00ad",
    *"\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069",
]
HOSTILE = [
    *INVISIBLE_MARKS,
    "\x00", "\x01", "\x07", "\x1b", "\x7f", "\x85", "\r", "\n", "\t", "\u2028", "\u2029", "\ufffd",
    "\u0301", "\u0308", "\u20dd",  # combining marks
    "\u05d0", "\u0627", "\u0661",  # Hebrew and Arabic letters, an Arabic-Indic digit
    "😀", "👩‍👩‍👧", "🇺🇳", "🏳️‍🌈", "1️⃣", "\U000e0067",  # emoji, ZWJ sequences, a flag, a keycap, a tag
    "ﬁ", "Ⅻ", "①", "ｗ", "\u00a0",  # compatibility forms NFKC rewrites
    "*", "_", "`", "~", "|", ">", "\\", "[", "]", "(", ")", "#", "-", "---",
    "@everyone", "@here", "<@123456789012345678>", "<@!123456789012345678>", "<@&123456789012345678>", "@",
    "art. 5", "arts. 4 and 5", "See id.", "See id. at art. 3.", "UN Doc. A/70/976", "[UN News Centre: IOM]",
]  # fmt: skip
PIECES = st.one_of(st.characters(exclude_categories=("Cs",)), st.sampled_from(HOSTILE))


def texts(max_size: int) -> st.SearchStrategy[str]:
    """Text of up to max_size pieces: any character but a lone surrogate, or a hostile piece."""
    return st.lists(PIECES, max_size=max_size).map("".join)


TEXT = texts(300)
LONG_TEXTS = [
    "x" * LONG,
    ("a" * (LONG - 3)) + "! B",  # one sentence-ending word: quadratic before the fix
    "# a" + " " * LONG + "b",  # a heading line with a long trailing run: quadratic before the fix
    "\u200b" * LONG,
    "😀" * (LONG // 2),
    "art. 1, " * (LONG // 8),
    "See id. at art. 3. " * (LONG // 19),
    "@everyone <@&123456789012345678> " * (LONG // 33),
    ("IOM staff\u200b\u202e travel? " * (LONG // 20))[:LONG],
]

# Discord's message limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits).
CONTENT_LIMIT = 2000
EMBEDS_TOTAL = 6000
EMBEDS_MAX = 10
LIMITS = {"title": 256, "description": 4096, "footer": 2048, "author": 256, "field.name": 256, "field.value": 1024}


def assert_message_ok(content: str | None = None, embeds: list[discord.Embed] = ()) -> None:
    """A message Discord accepts (lengths, counts, no empty field) and that cannot ping anyone."""
    shown: list[str] = []
    if content is not None:
        assert 0 < len(content) <= CONTENT_LIMIT, len(content)
        shown.append(content)
    assert len(embeds) <= EMBEDS_MAX
    total = 0
    for embed in embeds:
        data = embed.to_dict()
        parts = {
            "title": data.get("title", ""),
            "description": data.get("description", ""),
            "footer": (data.get("footer") or {}).get("text", ""),
            "author": (data.get("author") or {}).get("name", ""),
        }
        for key, value in parts.items():
            assert len(value) <= LIMITS[key], (key, len(value))
        fields = data.get("fields") or []
        assert len(fields) <= 25
        for field in fields:
            assert 0 < len(field["name"]) <= LIMITS["field.name"], len(field["name"])
            assert 0 < len(field["value"]) <= LIMITS["field.value"], len(field["value"])
            parts[f"field {field['name'][:20]}"] = field["name"] + "\n" + field["value"]
        total += len(embed)
        shown.extend(parts.values())
    assert total <= EMBEDS_TOTAL, total
    for text in shown:
        assert not LIVE_MENTION.search(text), text


# Words of the bundled sources: questions made of them reach the answer path, not only abstentions.
VOCABULARY = sorted({word for path in BUNDLED_SOURCES.glob("*.md") for word in path.read_text("utf-8").split()})
WORDS = st.lists(st.one_of(st.sampled_from(VOCABULARY), st.sampled_from(HOSTILE), TEXT), max_size=25)
QUESTIONS = st.one_of(TEXT, WORDS.map(" ".join), WORDS.map("".join))


# -- loader and chunker --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str, bytes], Path]]:
    directory = tmp_path_factory.mktemp("sources")

    def write(name: str, data: bytes) -> Path:
        path = directory / name
        path.write_bytes(data)
        return path

    yield write


def check_document(document: Document) -> None:
    """What chunking promises for any loaded document: verbatim offsets, unique stable ids, sentences inside."""
    for block in document.blocks:
        assert document.body[block.start : block.start + len(block.text)] == block.text
    passages = chunk([document])
    assert len({p.id for p in passages}) == len(passages)
    assert [p.ordinal for p in passages] == list(range(len(passages)))
    for passage in passages:
        assert document.body[passage.start : passage.end] == passage.text
        for sentence in passage.sentences:
            assert passage.start <= sentence.start <= sentence.end <= passage.end
            assert document.body[sentence.start : sentence.end] == sentence.text
    assert chunk([document]) == passages  # the same source text always gives the same passages


@PROPERTY
@given(body=TEXT, title=TEXT, suffix=st.sampled_from([".md", ".txt"]), front_matter=st.booleans())
@example(body="# a" + " " * LONG + "b\n\nText here.", title="T", suffix=".md", front_matter=True)
@example(body=("a" * LONG) + "! Bee.", title="T", suffix=".md", front_matter=True)
@example(body="\u200b" * LONG, title="T", suffix=".txt", front_matter=False)
@example(body="x\n\n" + "See id. at art. 3. " * 5000, title="T", suffix=".md", front_matter=True)
def test_loader_and_chunker_never_raise_but_name_the_file(
    scratch: Callable[[str, bytes], Path], body: str, title: str, suffix: str, front_matter: bool
) -> None:
    header = f"---\ntitle: {title!r}\n---\n" if front_matter else ""
    path = scratch(f"source{suffix}", (header + body).encode("utf-8"))
    try:
        document = load_document(path)
    except SourceError as error:
        assert str(error).startswith(f"{path}:"), error  # the whole path
        return
    check_document(document)


@PROPERTY
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".md", ".txt"]))
@example(data=b"---\ntitle: " + b"[" * 1200 + b"\n---\nBody.\n", suffix=".md")  # RecursionError before the fix
@example(data=b"---\ntitle: x\n---\n" + b"\xff\xfe" * 1000, suffix=".md")
@example(data=b"\x89PNG\r\n\x1a\n\x00\x00", suffix=".md")
@example(data=b"\xef\xbb\xbf---\ntitle: BOM\n---\nBody text.\n", suffix=".md")
def test_loader_on_arbitrary_bytes_loads_or_names_the_file(
    scratch: Callable[[str, bytes], Path], data: bytes, suffix: str
) -> None:
    path = scratch(f"bytes{suffix}", data)
    try:
        document = load_document(path)
    except SourceError as error:
        assert str(error).startswith(f"{path}:"), error  # the whole path
        return
    check_document(document)


@pytest.mark.parametrize(
    "line",
    [("a" * 30_000) + "! B", ("a" * 30_000) + " x. B", "art. 1 " * 5_000, ("a." * 15_000) + "? B"],
    ids=["word-then-bang", "long-word-then-abbreviation", "many-abbreviations", "dotted-run"],
)
def test_sentence_splitting_is_linear_in_the_length(line: str) -> None:
    started = time.perf_counter()
    pieces = split_sentences(line)
    assert time.perf_counter() - started < 1.0  # seconds to minutes with the quadratic search
    assert "".join(text for text, _, _ in pieces).replace(" ", "") == line.replace(" ", "")


@pytest.mark.parametrize("line", ["# a" + " " * 30_000 + "b", "# a" + " #" * 15_000 + "x"], ids=["spaces", "hashes"])
def test_markdown_headings_are_read_in_linear_time(scratch: Callable[[str, bytes], Path], line: str) -> None:
    path = scratch("heading.md", f"---\ntitle: Long\n---\nLead text.\n\n{line}\n\nSome text.\n".encode())
    started = time.perf_counter()
    document = load_document(path)
    assert time.perf_counter() - started < 1.0
    assert document.sections == (line.removeprefix("# ").rstrip(" #"),)


# -- citations -----------------------------------------------------------------------------------------------------


@PROPERTY
@given(sentences=st.lists(TEXT, max_size=6))
@example(sentences=["See id.", "See id. at art. " + "1, " * 30_000 + "2."])
@example(sentences=["See UN Doc. " + "A/" * (LONG // 2)])
@example(sentences=["[" + "x" * LONG + "]"])
def test_citation_parser_never_raises_and_cites_only_numbers_in_the_text(sentences: list[str]) -> None:
    context = CitationContext()  # "id." refers back, so numbers may come from an earlier sentence
    text = " ".join(sentences).lower()
    for sentence in sentences:
        references = parse_citation_sentence(sentence, context) if is_citation_sentence(sentence) else ()
        for reference in references:
            assert all(number.lower() in text for number in reference.articles), reference
        assert all(number.lower() in sentence.lower() for number in article_numbers(sentence))


# -- the query analyser --------------------------------------------------------------------------------------------


@PROPERTY
@given(text=TEXT, where=st.lists(st.integers(0, 300), max_size=8), marks=st.lists(st.sampled_from(INVISIBLE_MARKS)))
@example(text="cafe\u0301 staff", where=[4], marks=["\u200b"])  # a mark between a letter and its accent
@example(text="laissez-passer", where=[3], marks=["\u2066"])  # a bidi isolate inside a word
@example(text="art. 11", where=[1, 5], marks=["\u200d", "\u061c"])
def test_invisible_marks_never_change_what_a_question_means(
    kb: KnowledgeBase, text: str, where: list[int], marks: list[str]
) -> None:
    analyzer = Analyzer(kb.glossary.synonyms)
    marked = text
    for position, mark in zip(sorted(where, reverse=True), marks or ["\u200b"], strict=False):
        marked = marked[:position] + mark + marked[position:]

    terms = analyzer(text)

    assert analyzer(marked) == terms
    assert analyzer.query_units(marked) == analyzer.query_units(text)
    assert all(isinstance(term, str) and term for term in terms)


@pytest.mark.parametrize("text", LONG_TEXTS, ids=lambda t: repr(t[:12]))
def test_analyser_reads_100k_characters_quickly(kb: KnowledgeBase, text: str) -> None:
    analyzer = Analyzer(kb.glossary.synonyms)
    started = time.perf_counter()
    analyzer(text)
    analyzer.query_units(text)
    split_sentences(text)
    article_numbers(text)
    assert time.perf_counter() - started < 2.0


# -- answers and what Discord receives -----------------------------------------------------------------------------


def check_answer(kb: KnowledgeBase, answer: Answer, k: int) -> None:
    assert len(answer.hits) <= max(k, len(answer.parts))
    assert all(math.isfinite(hit.score) for hit in answer.hits)
    if answer.abstained:
        assert answer.text is None
    for part in answer.parts:  # extractive: each part is a verbatim sentence (or a prefix of one, cut at a word)
        quoted = part.text.removesuffix(" …")
        assert quoted in part.passage.text, part.text
        assert part.passage in kb.passages
        assert part.citations and all(c.passage_id == part.passage.id for c in part.citations)


def check_rendered(kb: KnowledgeBase, question: str, answer: Answer) -> None:
    assert_message_ok(embeds=[render.answer_embed(answer, kb)])
    if answer.parts:
        assert_message_ok(embeds=render.passage_embeds(answer, kb))
    hits = kb.search(question, 10)
    assert_message_ok(embeds=[render.search_embed(question, hits, kb)])
    assert_message_ok(embeds=[render.search_embed(question, list(answer.hits), kb, title="More results")])


@PROPERTY
@given(question=QUESTIONS, words=st.integers(10, 400))
@example(question="Can IOM staff travel on a UN laissez-passer?", words=10)
@example(question="@everyone what does art. 11 of the 2016 agreement say? <@&123>", words=60)
def test_answers_are_extractive_and_render_within_discord_limits(kb: KnowledgeBase, question: str, words: int) -> None:
    answer = kb.answer(question, max_words=words)

    check_answer(kb, answer, 5)
    check_rendered(kb, question, answer)


@pytest.mark.parametrize("text", [t for t in LONG_TEXTS if max(map(len, t.split())) < 100], ids=lambda t: repr(t[:12]))
def test_100k_character_questions_are_answered_and_rendered(kb: KnowledgeBase, text: str) -> None:
    """100k characters of many words. Not one 100k-letter word: the speller takes time quadratic in a word's length
    (knowledge/spelling.py, reported); the bot reads at most asking.max_question_length characters (4000 at most)."""
    started = time.perf_counter()
    answer = kb.answer(text)
    check_answer(kb, answer, 5)
    check_rendered(kb, text, answer)
    assert time.perf_counter() - started < 5.0


@PROPERTY
@given(
    number=TEXT,
    instrument=st.one_of(st.none(), st.just("A/70/976"), TEXT),
    error=TEXT,
    trigger=TEXT,
    bot_name=TEXT,
    seconds=st.floats(min_value=0, max_value=1e9, allow_nan=False),
)
@example(
    number="11" * LONG,
    instrument="@everyone" * 1000,
    error="x" * LONG,
    trigger="<@&1>" * LONG,
    bot_name="@here" * 999,
    seconds=0,
)
def test_lookups_and_admin_replies_fit_and_ping_nobody(
    kb: KnowledgeBase, number: str, instrument: str | None, error: str, trigger: str, bot_name: str, seconds: float
) -> None:
    mentions = kb.article(number, instrument)
    assert_message_ok(embeds=[render.article_embed(number, instrument, mentions, kb)])
    assert_message_ok(embeds=[render.article_embed("11", "A/70/976", kb.article("11", "A/70/976"), kb)])
    failed = ReloadResult(False, trigger, discord.utils.utcnow(), seconds, "0123456789ab", "0123456789ab", error=error)
    assert_message_ok(content=render.reload_summary(failed))
    assert_message_ok(embeds=[render.status_embed(kb, failed, reloading=True)])
    assert_message_ok(content=render.how_to_ask(bot_name))
    assert_message_ok(content=render.cooldown_notice(seconds))
    assert_message_ok(embeds=[render.help_embed(kb, bot_name=bot_name, answer_dms=True, answer_channels=(1, 2))])
    assert_message_ok(content=render.content(render.safe(error or "?")))


@PROPERTY
@given(
    embeds=st.lists(
        st.tuples(
            texts(300),
            texts(4200),
            st.lists(st.tuples(texts(270), texts(1100)), max_size=27),
            texts(2100),
        ),
        min_size=1,
        max_size=EMBEDS_MAX,
    )
)
def test_embeds_sent_together_fit_one_message(embeds: list[tuple[str, str, list[tuple[str, str]], str]]) -> None:
    built = []
    for title, description, fields, footer in embeds:
        embed = discord.Embed(title=render.safe(title) or None, description=render.safe(description) or None)
        for name, value in fields:
            embed.add_field(name=render.safe(name), value=render.safe(value))
        embed.set_footer(text=render.safe(footer) or None)
        built.append(embed)

    assert_message_ok(embeds=render.fit_all(built))


# -- a knowledge base of hostile sources ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    """30 documents whose titles, publishers, sections and text are long and full of mention and markdown syntax."""
    directory = tmp_path_factory.mktemp("hostile")
    noise = "@everyone <@&123456789012345678> **bold** ||x|| \u202e\u200b😀 "
    for number in range(30):
        title = (f"Title {number} " + noise * 12)[:300]
        body = "\n\n".join(
            f"## Section {s} {noise}\n\nParagraph {s} of document {number}: IOM staff {noise} travel. "
            f"See UN Doc. A/70/976, art. {s + 1}."
            for s in range(3)
        )
        meta = {
            "id": f"doc-{number:02}",
            "title": title,
            "publisher": noise * 20,
            "url": "https://example.org/" + "a" * 500,
        }
        front_matter = yaml.safe_dump(meta, allow_unicode=True, width=10_000)
        (directory / f"doc-{number:02}.md").write_text(f"---\n{front_matter}---\n{body}\n", encoding="utf-8")
    return KnowledgeBase.load(directory)


def test_sources_help_and_passages_of_hostile_sources_fit_and_ping_nobody(hostile_kb: KnowledgeBase) -> None:
    kb = hostile_kb
    assert len(kb.documents) == 30
    assert_message_ok(embeds=[render.sources_embed(kb)])
    assert_message_ok(embeds=[render.help_embed(kb, bot_name="IOM bot", answer_dms=True, answer_channels=())])
    assert_message_ok(embeds=[render.status_embed(kb, None, reloading=False)])
    # 90 sentences alike: the selector is rightly unsure, so the answer (with an alternative and a part it could
    # not answer, all of hostile text) is made here to render every field of an answer embed.
    first, second = kb.passages[0], kb.passages[1]
    answer = Answer(
        "Can IOM staff travel? " + first.text,
        (AnswerPart(first.claims[0].text, first, kb.citations_for(first, first.claims[0]), 0.9),),
        False,
        0.5,
        tuple(Hit(passage, 1.0) for passage in kb.passages[:5]),
        confidence=0.9,
        alternatives=(AnswerPart(second.claims[0].text, second, kb.citations_for(second, second.claims[0]), 0.5),),
        unanswered=(second.text,),
    )
    assert kb.answer("Can IOM staff travel?").abstained  # no sentence stands out among 90 alike
    assert_message_ok(embeds=[render.answer_embed(answer, kb)])
    assert_message_ok(embeds=render.passage_embeds(answer, kb))
    hits = [Hit(passage, 1.0) for passage in kb.passages[:25]]
    assert_message_ok(embeds=[render.search_embed("travel", hits, kb)])
    assert_message_ok(embeds=[render.article_embed("2", "A/70/976", kb.article("2", "A/70/976"), kb)])
    assert_message_ok(embeds=[render.article_embed("2", None, kb.article("2"), kb)])
