"""Lookups answer from indexes made when the knowledge base is built: no request scans every passage (M5), and
the cheap requests (/help, /sources, autocomplete) have a limit of their own; the cooldown's upkeep is O(1) (L6)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import cli, cli_ops, render
from bot.exts.ask import Ask
from bot.limits import LIGHT_RATE, UserCooldowns
from bot.store import KnowledgeStore
from knowledge.base import KnowledgeBase
from knowledge.lookups import CitedArticles

from .conftest import FakeBot, FakeInteraction, FakeUser, invoke


class CountingTuple(tuple):
    """The passages, counting every pass over them."""

    passes = 0

    def __iter__(self) -> Iterator[object]:
        type(self).passes += 1
        return super().__iter__()


@pytest.fixture
def watched(kb: KnowledgeBase) -> Iterator[KnowledgeBase]:
    copy = dataclasses.replace(kb)  # lookups are made in __post_init__, from the real passages
    object.__setattr__(copy, "passages", CountingTuple(kb.passages))
    CountingTuple.passes = 0
    yield copy


async def test_no_lookup_scans_the_passages(watched: KnowledgeBase, bot: FakeBot) -> None:
    bot.store = KnowledgeStore(knowledge=watched)
    cog = Ask(bot)  # type: ignore[arg-type]
    passage = watched.passages[3]

    assert watched.document(passage.doc_id).id == passage.doc_id
    assert watched.passage(passage.id) is passage
    assert watched.citations_for(passage)
    assert watched.article("11") and watched.cited_articles()
    assert watched.passage_count(passage.doc_id) > 0
    render.help_embed(watched, bot_name="b", answer_dms=True, answer_channels=())
    render.sources_embed(watched)
    render.article_embed("11", None, watched.article("11"), watched)
    assert await cog.number_autocomplete(FakeInteraction(bot), "1")  # type: ignore[arg-type]
    assert await cog.instrument_autocomplete(FakeInteraction(bot), "")  # type: ignore[arg-type]

    assert CountingTuple.passes == 0


async def test_autocomplete_stops_suggesting_past_its_limit(ask_cog: Ask, bot: FakeBot) -> None:
    user = FakeUser(id=4242)
    suggestions = [
        await ask_cog.number_autocomplete(FakeInteraction(bot, user=user), "1")  # type: ignore[arg-type]
        for _ in range(LIGHT_RATE[0] + 1)
    ]

    assert all(suggestions[:-1]) and suggestions[-1] == []


async def test_help_has_a_limit_of_its_own(ask_cog: Ask, bot: FakeBot) -> None:
    user = FakeUser(id=4343)
    for _ in range(LIGHT_RATE[0]):
        [sent] = await invoke(ask_cog, ask_cog.help_, FakeInteraction(bot, command=ask_cog.help_, user=user))
        assert sent.embeds

    [last] = await invoke(ask_cog, ask_cog.help_, FakeInteraction(bot, command=ask_cog.help_, user=user))

    assert last.ephemeral and last.content.startswith("Slow down: try again in")


def test_the_cooldown_prunes_rarely_however_many_users_ask() -> None:
    now = [0.0]
    cooldowns = UserCooldowns(5, 60.0, clock=lambda: now[0])

    for user in range(20_000):  # all within one window: nobody can be forgotten yet
        now[0] += 0.001
        assert cooldowns.hit(user) is None

    assert cooldowns.prunes <= 5  # 1000, 2000, 4000, 8000, 16000: not one pass per request past 1000


def test_check_counts_each_documents_passages_without_a_pass_per_document(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for n in range(8):
        (tmp_path / f"doc{n}.txt").write_text(f"Document {n}\n\nIOM opened office number {n}.\n", "utf-8")
    loaded = KnowledgeBase.load(tmp_path)
    object.__setattr__(loaded, "passages", CountingTuple(loaded.passages))
    CountingTuple.passes = 0
    monkeypatch.setattr(cli_ops, "load_kb", lambda sources, index=None: loaded)

    assert cli.main(["check", "--sources", str(tmp_path)]) == 0

    assert 'doc3: "Document 3" (1 passages)' in capsys.readouterr().out
    assert CountingTuple.passes <= 3  # the summary's sentence counts; not one pass per document


@settings(max_examples=200, deadline=None)
@given(
    numbers=st.lists(st.from_regex(r"[1-9][0-9]{0,3}[a-c]?", fullmatch=True), unique=True, max_size=80),
    instruments=st.lists(st.sampled_from([None, "A/1/2", "E/2/3"]), min_size=80, max_size=80),
    typed=st.from_regex(r"[0-9]{0,3}[a-c]?", fullmatch=True),
    only=st.sampled_from([None, "A/1/2"]),
    limit=st.integers(1, 30),
)
def test_the_article_index_finds_what_a_scan_finds(
    kb: KnowledgeBase, numbers: list[str], instruments: list[str | None], typed: str, only: str | None, limit: int
) -> None:
    pairs = sorted(
        zip(instruments, numbers, strict=False), key=lambda p: (p[0] or "", int(re.sub(r"\D", "", p[1])), p[1])
    )
    scan = [p for p in pairs if (not only or p[0] == only) and p[1].lower().startswith(typed)][:limit]

    assert CitedArticles(pairs, kb.glossary).starting_with(typed.upper(), only, limit=limit) == scan
