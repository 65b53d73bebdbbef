"""The CLI commands that operate: check, eval, build-index, report, init-config and run (the Discord bot)."""

from __future__ import annotations

import argparse
import importlib.resources
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from knowledge import SourceError, citation_label

from .cli_base import (
    EXIT_CHECKS_FAILED,
    EXIT_NO,
    EXIT_OK,
    CliError,
    load_config,
    load_kb,
    print_json,
    with_knowledge,
    with_shards,
)

if TYPE_CHECKING:
    from knowledge import KnowledgeBase

log = logging.getLogger(__name__)

EXAMPLE_CONFIG = "config.example.yaml"  # in the bot package


def check(args: argparse.Namespace) -> int:
    """Validate the sources (and, with --config, the bot config) and print a summary."""
    sources, index = args.sources, args.index
    if args.config is not None:
        config = load_config(args.config, require_token=False)
        sources = sources if sources is not None else config.knowledge.sources
        index = index if index is not None else config.knowledge.index
    kb = load_kb(sources, index)
    print(
        f"ok: {len(kb.documents)} document(s), {len(kb.passages)} passages, "
        f"{kb.cited_sentence_count} of {kb.sentence_count} sentences with citations, "
        f"{len(kb.cited_articles())} cited articles, version {kb.version}"
    )
    print(f"sources    {kb.sources_dir}")
    for document in kb.documents:
        print(f'document   {document.id}: "{document.title}" ({kb.passage_count(document.id)} passages)')
    for line in _cited_article_lines(kb):
        print(f"articles   {line}")
    print(f"glossary   {len(kb.glossary.instruments)} instruments")
    if index is not None:
        print(f"index      {index}: {_index_state(kb, index)}")
    if args.config is not None:
        print(f"config     {args.config}: ok")
    print(f"built in   {kb.build_seconds:.2f} s")
    return _run_checks(kb)


def _run_checks(kb: KnowledgeBase) -> int:
    """The sources' checks.yaml, run and printed; exit 1 when one fails (a reload would be refused)."""
    from knowledge import load_checks, run_checks

    try:
        checks = load_checks(kb.sources_dir)
    except SourceError as error:
        raise CliError(str(error)) from None
    report = run_checks(kb, checks)
    print(f"checks     {report.summary()}" + ("" if checks else " (add checks.yaml to the sources: see docs)"))
    for result in report.failed:
        print(f"  FAILED   {result.question}")
    return EXIT_CHECKS_FAILED if report.failed else EXIT_OK


def _index_state(kb: KnowledgeBase, index: Path) -> str:
    matches = kb.saved_index_matches(index)
    if matches:
        return "matches the sources"
    if matches is None and not index.exists():
        return "not built yet (the bot builds and saves it when it starts)"
    if matches is None:
        return "no readable saved index (the bot rebuilds it when it starts)"
    return "built from other sources (the bot rebuilds it when it starts)"


def _cited_article_lines(kb: KnowledgeBase) -> list[str]:
    by_instrument: dict[str | None, list[str]] = {}
    for instrument, number in kb.cited_articles():
        by_instrument.setdefault(instrument, []).append(number)
    return [citation_label(symbol, articles, kb.glossary) for symbol, articles in by_instrument.items()]


def run(args: argparse.Namespace) -> int:
    """Run the Discord bot (the only command that imports discord)."""
    config = load_config(args.config, require_token=True)
    if args.sources is not None or args.index is not None:
        config = with_knowledge(config, sources=args.sources, index=args.index)
    if args.shard_count is not None or args.shards is not None:
        config = with_shards(config, count=args.shard_count, ids=args.shards)
    if args.processes > 1:
        if config.discord.shard_count is None:
            raise CliError("--processes needs shards to share out: --shard-count N or discord.shard_count")
        shards = config.discord.shard_ids or range(config.discord.shard_count)
        if len(shards) < args.processes:
            raise CliError(f"--processes {args.processes} is more than the {len(shards)} shards to share out")
        from bot import cluster  # lazily: the offline commands must not import discord

        return cluster.run_processes(config, args.processes, sync_global=args.sync, verbose=args.verbose)
    from bot import client  # lazily: the offline commands must not import discord

    return client.run_bot(config, sync_global=args.sync, verbose=args.verbose)


def init_config(args: argparse.Namespace) -> int:
    """Write the commented example config (every key, its default and what it does) to PATH."""
    path: Path = args.path
    if path.exists() and not args.force:
        raise CliError(f"{path.absolute()} exists; give another PATH or --force to overwrite it")
    text = importlib.resources.files("bot").joinpath(EXAMPLE_CONFIG).read_text(encoding="utf-8")
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise CliError(f"cannot write {path.absolute()}: {error.strerror or error}") from None
    print(f"wrote {path}; edit it, set DISCORD_TOKEN, then: iom-bot check --config {path}")
    return EXIT_OK


def evaluate(args: argparse.Namespace) -> int:
    from knowledge import EvalError, format_failures, format_table, load_eval_set, run_eval

    try:
        eval_set = load_eval_set(args.set)
    except EvalError as error:
        raise CliError(str(error)) from None
    kb = load_kb(args.sources, args.index)
    sha = eval_set.source_sha256
    if sha and all(document.sha256 != sha for document in kb.documents):
        print(f"warning: {args.set} was written for a source text (sha256 {sha[:12]}...) not loaded", file=sys.stderr)
    report = run_eval(kb, eval_set.items, name=eval_set.name)
    if args.json:
        print_json(report.to_dict())
    else:
        print(f"{eval_set.name or args.set}: {len(eval_set.items)} questions, knowledge base {kb.version}")
        print(format_table(report))
        if args.failures:
            print()
            print(format_failures(report))
    return _under_the_bar(report.overall.e2e.value, args.fail_under)


def _under_the_bar(correct: float | None, fail_under: float | None) -> int:
    """EXIT_NO (and one line on stderr) when the share of correct answers is below --fail-under PCT."""
    if fail_under is None:
        return EXIT_OK
    percent = 100.0 * (correct or 0.0)
    if percent < fail_under:
        print(f"fail: {percent:.1f}% correct (e2e) is under --fail-under {fail_under:g}", file=sys.stderr)
        return EXIT_NO
    return EXIT_OK


def build_index(args: argparse.Namespace) -> int:
    if args.index is None:
        raise CliError("build-index needs --index DIR: where to write the index")
    from knowledge import scorer_engine  # numpy: only for the commands that build

    # It searches only to check that the index finds its own first passage: numpy does that as well as numba
    # (bit-identical), without numba's import and kernel load.
    with scorer_engine("numpy"):
        kb = load_kb(args.sources)
    try:
        kb.save_index(args.index)
    except OSError as error:
        raise CliError(f"cannot write the index to {args.index}: {error.strerror or error}") from None
    print(f"ok: indexed {len(kb.passages)} passages (version {kb.version}) in {kb.build_seconds:.2f} s -> {args.index}")
    return EXIT_OK


def report(args: argparse.Namespace) -> int:
    """Print what people asked that the bot could not answer and how they rated answers; chart them per day."""
    import sqlite3
    import time

    from bot import storage
    from knowledge import cluster

    if not args.database.is_file():
        raise CliError(f"{args.database}: no such file")
    try:
        conn = storage.open_database(str(args.database), read_only=True)
        since = time.time() - args.since
        days = storage.daily(conn, since)
        unanswered = storage.unanswered(conn, since)
        rated = storage.feedback(conn, since)
    except sqlite3.Error as error:
        raise CliError(f"{args.database}: cannot read it ({error})") from None
    print(f"since {time.strftime('%Y-%m-%d %H:%M', time.gmtime(since))} UTC")
    print("\nday          answers  abstentions  thumbs-down")
    for day, answers, abstentions, down in days:
        print(f"{day}  {answers:>7}  {abstentions:>11}  {down:>11}")
    print("\nunanswered and doubtful questions (groups, most frequent first)")
    for group in cluster([text for text, _, _ in unanswered]):
        print(f"{group.count:>5}  {group.example}")
    print("\nworst-rated answers")
    for row in rated:
        print(f"{row['up']:>3} up {row['down']:>3} down  {row['passage_ids'] or '-'}  {row['articles']}")
    if args.chart is not None:
        _chart(days, args.chart)
    return EXIT_OK


def _chart(days: list[tuple[str, int, int, int]], path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("no chart: it needs matplotlib (pip install 'iom-bot[report]')", file=sys.stderr)
        return
    figure, axes = plt.subplots(figsize=(8, 4))
    labels = [day for day, *_ in days]
    for column, name in ((1, "answers"), (2, "abstentions"), (3, "thumbs down")):
        axes.plot(labels, [row[column] for row in days], marker="o", label=name)
    axes.set_xlabel("day (UTC)")
    axes.legend()
    figure.autofmt_xdate()
    figure.savefig(path, format="png")
    plt.close(figure)
    print(f"\nchart      {path}")
