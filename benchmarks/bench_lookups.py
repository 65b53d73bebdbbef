"""What each lookup and escaper costs per request at 100k passages: every one should be O(1) or O(its output).

    python benchmarks/bench_lookups.py                    # 100k passages (the first run builds and saves an index)
    python benchmarks/bench_lookups.py --passages 5000    # smaller

The knowledge base is a synthetic sources directory (benchmarks/synthetic.py) with the bundled glossary, its
index saved beside it and reused. Each row is the median of --rounds calls, in ms: the /article autocomplete
(number: nothing typed, "1" and "art. 12"; instrument), /help, /sources and /article replies rendered (and
/article's lookup of the sentences alone), a document looked up per citation, the cooldown's check at 10k
active users, the markdown escaper on 4,000-character hostile questions (the longest a question can be), and
refusing a source whose front matter is a 451-byte YAML alias bomb.
Targets: autocomplete and /help at most 5 ms at 100k passages.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

import synthetic  # noqa: E402

from bot import render  # noqa: E402
from bot.catalog import catalog  # noqa: E402
from bot.config import Config, CooldownConfig  # noqa: E402
from bot.escape import escape_markdown  # noqa: E402
from bot.exts.ask import ARTICLE_MENTIONS_MAX, Ask  # noqa: E402
from bot.limits import Limits, UserCooldowns  # noqa: E402
from bot.store import build_knowledge  # noqa: E402
from knowledge.base import BUNDLED_SOURCES, KnowledgeBase  # noqa: E402
from knowledge.documents import SourceError, load_document  # noqa: E402
from knowledge.lookups import CitedArticles  # noqa: E402

HOSTILE = {
    "escape '[](' x1333": "[](" * 1333,
    "escape '[' x4000": "[" * 3990 + "](x)",
    "escape newlines": "\n" * 3999 + "-",
    "escape '*' x4000": "*" * 4000,
    "escape '<' x4000": "<" * 4000,
}


def median_ms(call: Callable[[], Any], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def refuse(path: Path) -> None:
    try:
        load_document(path)
    except SourceError as error:
        assert len(str(error)) < 400, str(error)
    else:
        raise AssertionError("the alias bomb was loaded")


def rows(knowledge: KnowledgeBase, rounds: int) -> list[tuple[str, float]]:
    limits = Limits(CooldownConfig(count=0))
    limits.light = UserCooldowns(0, 1.0)  # off: measure the lookup, not the limit
    bot = SimpleNamespace(config=Config(), knowledge=knowledge, user=None, limits=limits)
    cog = Ask(bot)  # type: ignore[arg-type]
    commands = catalog([*cog.get_app_commands(), cog.ask_message_menu])
    user = SimpleNamespace(id=1)
    interaction = SimpleNamespace(user=user, namespace=SimpleNamespace(instrument=None))
    loop = asyncio.new_event_loop()
    passage = knowledge.passages[len(knowledge.passages) // 2]
    cooldowns = UserCooldowns(5, 60.0)
    for user_id in range(10_000):
        cooldowns.hit(user_id)
    users = iter(range(10_000, 10**9))
    number = knowledge.cited_articles()[0][1]
    bomb = Path(tempfile.mkdtemp()) / "bomb.md"
    levels = ['&a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    levels += [f"&{n} [{','.join([f'*{p}'] * 9)}]" for n, p in zip("bcdefgh", "abcdefg", strict=True)]
    bomb.write_text(f"---\nid: [{', '.join(levels)}]\ntitle: T\n---\nBody.\n", "utf-8")

    def article(wanted: str) -> list[Any]:
        return knowledge.article(wanted, limit=ARTICLE_MENTIONS_MAX)

    def complete(typed: str) -> Callable[[], Any]:
        return lambda: loop.run_until_complete(cog.number_autocomplete(interaction, typed))  # type: ignore[arg-type]

    measured = [
        ("/article autocomplete (number '')", complete("")),
        ("/article autocomplete (number '1')", complete("1")),
        ("/article autocomplete (number 'art. 12')", complete("art. 12")),
        (
            "/article autocomplete (instrument)",
            lambda: loop.run_until_complete(cog.instrument_autocomplete(interaction, "")),
        ),
        ("/help", lambda: render.help_embed(knowledge, commands, bot_name="b", answer_dms=True, answer_channels=())),
        ("/sources", lambda: render.sources_embed(knowledge)),
        (f"/article {number}", lambda: render.article_embed(number, None, article(number), knowledge)),
        (f"/article {number}: the sentences alone", lambda: article(number)),
        ("citations of a passage", lambda: knowledge.citations_for(passage)),
        ("passage by id", lambda: knowledge.passage(passage.id)),
        ("cooldown check, 10k users", lambda: cooldowns.hit(next(users))),
    ]
    # The synthetic sources cite few articles: the index's own cost, at one cited article per passage.
    symbols = [i.symbol for i in knowledge.glossary.instruments] or ["A/1/2"]
    per = max(len(knowledge.passages) // len(symbols), 1)
    big = CitedArticles([(s, str(n)) for s in sorted(symbols) for n in range(1, per + 1)], knowledge.glossary)
    measured += [
        (f"cited-article prefix '1', {len(big):,} cited", lambda: big.starting_with("1")),
        (f"cited-article prefix '12' of one, {len(big):,}", lambda: big.starting_with("12", symbols[0])),
        (f"the same by a scan (the old way), {len(big):,}", lambda: [p for p in big if p.number.startswith("1")][:25]),
    ]
    measured += [(name, lambda text=text: escape_markdown(text)) for name, text in HOSTILE.items()]
    measured.append(("render.safe, 4000-char question", lambda: render.safe("[](" * 1333)))
    measured.append(("refuse a 451-byte YAML alias bomb", lambda: refuse(bomb)))
    out = [(name, median_ms(call, rounds)) for name, call in measured]
    loop.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    cache = Path(tempfile.gettempdir()) / "iom-bot-bench"
    sources = synthetic.cached_sources(args.passages, cache, BUNDLED_SOURCES / "glossary.yaml")
    started = time.perf_counter()
    knowledge = build_knowledge(sources, sources.parent / f"{sources.name}-index")
    print(
        f"{len(knowledge.passages):,} passages, {len(knowledge.documents)} documents, "
        f"{len(knowledge.cited_articles())} cited articles; loaded in {time.perf_counter() - started:.1f} s"
    )
    print(f"{'request':44} {'median ms':>10}")
    for name, ms in rows(knowledge, args.rounds):
        print(f"{name:44} {ms:10.3f}")


if __name__ == "__main__":
    main()
