"""The command line: run the bot, or ask, search, chat, check and evaluate offline (without discord).

Only `run` imports discord (lazily, through bot.client); every other command uses knowledge/ alone.
Exit codes: 0 ok, 1 "no" (search found nothing, eval under --fail-under), 2 usage or input errors (one line per
problem on stderr, no traceback), 130 interrupted. Global options go before or after the command.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.metadata
import importlib.resources
import json
import logging
import math
import os
import re
import sys
import textwrap
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from knowledge.answer import Answer, Citation
from knowledge.documents import SourceError
from knowledge.labels import citation_label

if TYPE_CHECKING:
    from bot.config import Config
    from knowledge.base import KnowledgeBase

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_NO = 1  # like grep: nothing matched, or a measured quality under the bar
EXIT_USAGE = 2
EXIT_CHECKS_FAILED = 1  # `check`: the sources load, but a check of checks.yaml fails
EXIT_INTERRUPTED = 130
NEAREST_SECTIONS = 3  # sections listed with an abstention
WRAP_COLUMNS = 100  # search hits print the whole passage, wrapped
INDENT = "   "
QUIT_WORDS = frozenset({"quit", "exit", "q", ":q", "bye"})
EMPTY_QUESTION = 'the question is empty; try: iom-bot ask "What does article 11 of the Agreement provide?"'
HISTORY_LINES = 1000  # kept in chat's history file
EXAMPLE_CONFIG = "config.example.yaml"  # in the bot package


SMALLTALK_LINE = "I answer questions about my sources, quoting and citing them: ask one, or see `iom-bot --help`."


class CliError(Exception):
    """A user mistake (bad input, sources or config): printed as one line, exit code 2."""


# ---------------------------------------------------------------- rendering answers as text


def render_answer(kb: KnowledgeBase, answer: Answer) -> str:
    """The answer and where it comes from, or an honest "not in my sources" with the nearest sections."""
    if answer.reason_code == "smalltalk":
        return SMALLTALK_LINE
    if answer.abstained or answer.text is None:
        return render_abstention(kb, answer)
    lines = [answer.text]
    lines.extend(f"— {line}" for line in _source_lines(kb, answer.citations))
    lines.extend(f"Not in my sources: {part}" for part in answer.unanswered)
    for alternative in answer.alternatives:
        lines.append(f"Also relevant: {alternative.text}")
        lines.extend(f"  — {line}" for line in _source_lines(kb, alternative.citations))
    return "\n".join(lines)


def render_abstention(kb: KnowledgeBase, answer: Answer) -> str:
    lines = [f"Not in my sources: {answer.reason}." if answer.reason else "Not in my sources."]
    sections = _nearest_sections(kb, answer)
    if sections:
        lines.append("Nearest sections:")
        lines.extend(f"  - {section}" for section in sections)
    return "\n".join(lines)


def _nearest_sections(kb: KnowledgeBase, answer: Answer) -> list[str]:
    seen: dict[tuple[str, str | None], str] = {}
    for hit in answer.hits:
        key = (hit.passage.doc_id, hit.passage.section)
        if key not in seen and len(seen) < NEAREST_SECTIONS:
            document = kb.document(hit.passage.doc_id)
            where = short_publisher(document.publisher) if document.publisher else document.id
            seen[key] = f"{_section_label(hit.passage.section)} ({where}, score {hit.score:.3f})"
    return list(seen.values())


def _source_lines(kb: KnowledgeBase, citations: Iterable[Citation]) -> list[str]:
    """One line per cited section: publisher, title, section, then each instrument with its articles."""
    by_section: dict[tuple[str, str | None], list[Citation]] = {}
    for citation in citations:
        by_section.setdefault((citation.source, citation.section), []).append(citation)
    lines = []
    for group in by_section.values():
        first = group[0]
        articles: dict[str | None, dict[str, None]] = {}
        for citation in group:
            if citation.instrument or citation.articles:
                articles.setdefault(citation.instrument, {}).update(dict.fromkeys(citation.articles))
        parts = [f"{_document_label(first.publisher, first.title)}, {_section_label(first.section)}"]
        parts.extend(citation_label(symbol, list(numbers), kb.glossary) for symbol, numbers in articles.items())
        parts.extend(dict.fromkeys(other for c in group for other in c.others))
        if first.url:
            parts.append(first.url)
        lines.append(" · ".join(parts))
    return lines


def _document_label(publisher: str | None, title: str) -> str:
    return f'{short_publisher(publisher)}, "{title}"' if publisher else f'"{title}"'


def short_publisher(publisher: str) -> str:
    """ "International Justice Resource Center (IJRC)" -> "IJRC"; a name without an abbreviation stays."""
    match = re.search(r"\(([^()]{2,20})\)\s*$", publisher)
    return match.group(1) if match else publisher


def _section_label(section: str | None) -> str:
    return f"§ {section}" if section else "opening paragraphs"


# ---------------------------------------------------------------- commands


def ask(args: argparse.Namespace) -> int:
    if args.batch:
        if args.question:
            raise CliError("--batch reads its questions from stdin; give no QUESTION")
        return _ask_batch(load_kb(args.sources, args.index), sys.stdin, sys.stdout)
    question = _question(args.question)
    kb = load_kb(args.sources, args.index)
    answer = kb.answer(question)
    if args.json:
        _print_json(answer.to_dict())
    else:
        print(render_answer(kb, answer))
    return EXIT_OK


def _question(words: Sequence[str]) -> str:
    question = " ".join(words).strip()
    if not question:
        raise CliError(EMPTY_QUESTION)
    return question


def _ask_batch(kb: KnowledgeBase, lines: TextIO, out: TextIO) -> int:
    """Answer JSON lines {"id", "question"} one by one; a bad line gets {"id", "error"}, the batch goes on."""
    for number, line in enumerate(lines, start=1):
        if line.strip():
            out.write(json.dumps(_batch_reply(kb, line, number), allow_nan=False) + "\n")
            out.flush()
    return EXIT_OK


def _batch_reply(kb: KnowledgeBase, line: str, number: int) -> dict[str, Any]:
    try:
        request = json.loads(line, parse_constant=_no_constant)
    except json.JSONDecodeError as error:
        return {"id": None, "error": f"line {number}: not JSON ({error.msg})"}
    except RecursionError:  # 100,000 nested brackets
        return {"id": None, "error": f"line {number}: not JSON (nested too deeply)"}
    except ValueError as error:  # NaN or Infinity, an int of more than 4,300 digits
        return {"id": None, "error": f"line {number}: not standard JSON ({str(error)[:80]})"}
    if not isinstance(request, dict):
        return {"id": None, "error": f'line {number}: expected an object like {{"id": 1, "question": "..."}}'}
    request_id, question = request.get("id"), request.get("question")
    if not _echoable(request_id):
        return {"id": None, "error": f"line {number}: 'id' must be a string, a finite number or null"}
    if not isinstance(question, str):
        return {"id": request_id, "error": f"line {number}: 'question' must be a string"}
    if not question.strip():
        return {"id": request_id, "error": f"line {number}: the question is empty"}
    try:
        answer = kb.answer(question)
    except Exception as error:  # one question that breaks the knowledge base must never end the batch
        log.exception("batch line %d failed", number)
        return {"id": request_id, "error": f"line {number}: internal error ({type(error).__name__})"}
    return {"id": request_id, **answer.to_dict()}


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _echoable(value: object) -> bool:
    """Whether an id can be echoed back as standard JSON (1e400 parses to infinity)."""
    if isinstance(value, float):
        return math.isfinite(value)
    return value is None or isinstance(value, str | int)


def search(args: argparse.Namespace) -> int:
    query = " ".join(args.query).strip()
    if not query:
        raise CliError('the query is empty; try: iom-bot search "laissez-passer"')
    kb = load_kb(args.sources, args.index)
    hits = kb.search(query, args.k)
    if args.json:
        results = [{**hit.to_dict(), "citations": [c.to_dict() for c in kb.citations_for(hit.passage)]} for hit in hits]
        _print_json({"query": query, "hits": results})
        return EXIT_OK if hits else EXIT_NO
    if not hits:
        print("No passage matches.")
        return EXIT_NO
    for rank, hit in enumerate(hits, start=1):
        print(f"{rank}. [{hit.score:.3f}] {hit.passage.id}")
        for line in _source_lines(kb, kb.citations_for(hit.passage)):
            print(f"{INDENT}{line}")
        print(
            textwrap.fill(
                " ".join(hit.passage.text.split()), WRAP_COLUMNS, initial_indent=INDENT, subsequent_indent=INDENT
            )
        )
    return EXIT_OK


def chat(args: argparse.Namespace) -> int:
    """Answer line by line until EOF, a quit word or Ctrl-C; prompts only on a terminal."""
    kb = load_kb(args.sources, args.index)
    interactive = sys.stdin.isatty()
    if interactive:
        print(f"Ask about IOM and the 2016 UN-IOM Agreement ({len(kb.passages)} passages). 'quit' or Ctrl-D ends.")
        with line_editing(history_path()):
            return _chat_loop(kb, interactive)
    return _chat_loop(kb, interactive)


def history_path() -> Path:
    """Where chat keeps its history: $XDG_STATE_HOME/iom-bot/chat_history (~/.local/state by default)."""
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "iom-bot" / "chat_history"


@contextmanager
def line_editing(history: Path) -> Iterator[None]:
    """Arrow keys, Ctrl-R and history in input() (GNU readline or libedit, where Python has it)."""
    try:
        import readline
    except ImportError:  # a Python built without readline: plain input() still works
        yield
        return
    readline.set_history_length(HISTORY_LINES)
    try:
        readline.read_history_file(history)
    except OSError:
        log.debug("no chat history at %s yet", history)
    try:
        yield
    finally:
        try:
            history.parent.mkdir(parents=True, exist_ok=True)
            readline.write_history_file(history)
        except OSError as error:
            log.info("could not save the chat history to %s: %s", history, error.strerror or error)


def _chat_loop(kb: KnowledgeBase, interactive: bool) -> int:
    while True:
        try:
            line = input("> " if interactive else "")
        except (EOFError, KeyboardInterrupt):
            if interactive:
                print()
            return EXIT_OK
        question = line.strip()
        if question.lower() in QUIT_WORDS:
            return EXIT_OK
        if question:
            print(render_answer(kb, kb.answer(question)))
            print()


def check(args: argparse.Namespace) -> int:
    """Validate the sources (and, with --config, the bot config) and print a summary."""
    sources, index = args.sources, args.index
    if args.config is not None:
        config = _load_config(args.config, require_token=False)
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
    from knowledge.checks import load_checks, run_checks

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
    config = _load_config(args.config, require_token=True)
    if args.sources is not None or args.index is not None:
        config = _with_knowledge(config, sources=args.sources, index=args.index)
    if args.shard_count is not None or args.shards is not None:
        config = _with_shards(config, count=args.shard_count, ids=args.shards)
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
    from knowledge import evaluation

    try:
        eval_set = evaluation.load_eval_set(args.set)
    except evaluation.EvalError as error:
        raise CliError(str(error)) from None
    kb = load_kb(args.sources, args.index)
    sha = eval_set.source_sha256
    if sha and all(document.sha256 != sha for document in kb.documents):
        print(f"warning: {args.set} was written for a source text (sha256 {sha[:12]}...) not loaded", file=sys.stderr)
    report = evaluation.run_eval(kb, eval_set.items, name=eval_set.name)
    if args.json:
        _print_json(report.to_dict())
    else:
        print(f"{eval_set.name or args.set}: {len(eval_set.items)} questions, knowledge base {kb.version}")
        print(evaluation.format_table(report))
        if args.failures:
            print()
            print(evaluation.format_failures(report))
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
    from knowledge.clusters import cluster

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


def _duration(text: str) -> float:
    """'7d', '12h', '30m' -> seconds."""
    match = re.fullmatch(r"(\d+)([dhm])", text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"expected a duration like 7d, 12h or 30m, not {text!r}")
    return int(match[1]) * {"d": 86_400, "h": 3_600, "m": 60}[match[2]]


# ---------------------------------------------------------------- shared plumbing


def load_kb(sources: Path | None, index: Path | None = None) -> KnowledgeBase:
    """Load the knowledge base (bundled sources by default); bad sources are a user error.

    index: a saved index set (`build-index`), used when it matches the sources, else they are indexed anew.
    """
    try:
        from knowledge.base import KnowledgeBase  # numpy and scipy: only for the commands that answer

        kb = KnowledgeBase.load(sources, index_dir=index)
    except SourceError as error:
        raise CliError(str(error)) from None
    log.info("loaded %d passages (version %s) in %.2f s", len(kb.passages), kb.version, kb.build_seconds)
    return kb


def _load_config(path: Path, *, require_token: bool) -> Config:
    from bot.config import ConfigError, load_config  # lazily: only check --config and run need it

    try:
        return load_config(path, require_token=require_token)
    except ConfigError as error:
        raise CliError(str(error)) from None


def _with_knowledge(config: Config, *, sources: Path | None, index: Path | None) -> Config:
    """The config with --sources and --index, when given, in place of knowledge.sources and knowledge.index."""
    from bot.config import ConfigError

    changes = {key: path.absolute() for key, path in (("sources", sources), ("index", index)) if path is not None}
    try:
        return dataclasses.replace(config, knowledge=dataclasses.replace(config.knowledge, **changes))
    except ConfigError as error:
        raise CliError(str(error)) from None


def _with_shards(config: Config, *, count: int | None, ids: tuple[int, ...] | None) -> Config:
    """The config with --shard-count and --shards, when given, in place of discord.shard_count and shard_ids."""
    from bot.config import ConfigError

    changes: dict[str, Any] = {}
    if count is not None:
        changes["shard_count"] = count
    if ids is not None:
        changes["shard_ids"] = ids
    try:
        return dataclasses.replace(config, discord=dataclasses.replace(config.discord, **changes))
    except ConfigError as error:
        raise CliError(
            str(error).replace("discord.shard_ids", "--shards").replace("discord.shard_count", "--shard-count")
        ) from None


def _shard_list(text: str) -> tuple[int, ...]:
    try:
        ids = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected shard numbers like 0,1 — got {text!r}") from None
    if not ids or min(ids) < 0:
        raise argparse.ArgumentTypeError(f"expected shard numbers (0 or more) like 0,1 — got {text!r}")
    return ids


def _version() -> str:
    try:
        return importlib.metadata.version("iom-bot")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def _print_json(value: Any) -> None:
    # ASCII escapes keep the JSON lossless on any terminal encoding.
    print(json.dumps(value))


def _safe_streams() -> None:
    """Never crash on a terminal that cannot encode an answer's quotes or dashes."""
    for stream in (sys.stdin, sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


EXAMPLES = {
    None: """examples:
  iom-bot ask "Can IOM staff travel on a UN laissez-passer?"
  iom-bot search laissez-passer -k 3
  iom-bot init-config config.yaml && iom-bot check --config config.yaml
  DISCORD_TOKEN=... iom-bot run --config config.yaml
Global options (--sources, --index, -v) go before or after the command. Exit codes: 0 ok, 1 no match or
under --fail-under, 2 a usage, config or source error, 130 interrupted.""",
    "ask": """examples:
  iom-bot ask "What does article 11 of the Agreement provide?"
  iom-bot ask --json "When did IOM join the UN system?"
  echo '{"id": 1, "question": "Who is IOM?"}' | iom-bot ask --batch""",
    "search": """examples:
  iom-bot search laissez-passer
  iom-bot search -k 10 --json "privileges and immunities"
exits 1 when no passage matches (like grep).""",
    "chat": """examples:
  iom-bot chat
  iom-bot chat --sources ./my-sources < questions.txt
On a terminal: arrow keys and Ctrl-R edit and recall earlier questions (history in
$XDG_STATE_HOME/iom-bot/chat_history).""",
    "check": """examples:
  iom-bot check
  iom-bot check --sources ./my-sources
  iom-bot check --config /etc/iom-bot/config.yaml
exits 1 when a check of the sources' checks.yaml fails (a reload would be refused).""",
    "report": """examples:
  iom-bot report --database /var/lib/iom-bot/iom-bot.sqlite3
  iom-bot report --database iom-bot.sqlite3 --since 30d --chart last-month.png
  iom-bot report --database iom-bot.sqlite3 --no-chart
The chart needs matplotlib: pip install 'iom-bot[report]'.""",
    "eval": """examples:
  iom-bot eval eval/dev.yaml
  iom-bot eval eval/dev.yaml --failures
  iom-bot eval eval/dev.yaml --fail-under 80    # exit 1 below 80 % correct (CI)""",
    "build-index": """examples:
  iom-bot build-index --index /var/lib/iom-bot/index
  iom-bot build-index --sources ./my-sources --index ./my-index""",
    "run": """examples:
  iom-bot run --config config.yaml                          # the token in $DISCORD_TOKEN (discord.token_env)
  iom-bot run --config config.yaml -v                       # debug logging
  iom-bot run --config config.yaml --shard-count 4 --shards 0,1
  iom-bot run --config config.yaml --shard-count 4 --processes 2  # one knowledge base in memory for both
  iom-bot run --config config.yaml --sync                   # sync the slash commands globally (rarely)""",
    "init-config": """examples:
  iom-bot init-config                      # writes ./config.yaml
  iom-bot init-config /etc/iom-bot/config.yaml""",
}


def _global_options(parser: argparse.ArgumentParser, *, after: bool) -> None:
    """--sources, --index and -v; after the command they override what was given before it."""
    default = argparse.SUPPRESS if after else None
    parser.add_argument(
        "--sources", type=Path, metavar="DIR", default=default, help="directory of sources (default: the bundled ones)"
    )
    parser.add_argument(
        "--index",
        type=Path,
        metavar="DIR",
        default=default,
        help="a saved index (build-index), used when it matches the sources; run rebuilds and rewrites it when not",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        dest="verbose_after" if after else "verbose",
        help="log more (-v: what was loaded and assumed; -vv: debug; run: -v debug, -vv discord.py too)",
    )


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    _global_options(common, after=True)

    parser = argparse.ArgumentParser(
        prog="iom-bot",
        description="Answer questions about IOM and the 2016 UN-IOM Agreement from cited sources.",
        epilog=EXAMPLES[None],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    _global_options(parser, after=False)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Callable[[argparse.Namespace], int], help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name,
            parents=[common],
            help=help_text,
            description=help_text,
            epilog=EXAMPLES[name],
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.set_defaults(handler=handler)
        return sub

    sub = add("ask", ask, "Answer one question, with where the answer comes from.")
    sub.add_argument("question", nargs="*", metavar="QUESTION", help="the question (quotes optional)")
    sub.add_argument("--json", action="store_true", help="print one JSON object (the answer contract)")
    sub.add_argument("--batch", action="store_true", help='read JSON lines {"id", "question"} on stdin')

    sub = add("search", search, "List the passages that best match a query (exit 1 when none does).")
    sub.add_argument("query", nargs="*", metavar="QUERY")
    sub.add_argument("-k", type=_positive_int, default=5, metavar="N", help="how many passages (default 5)")
    sub.add_argument("--json", action="store_true", help="print one JSON object")

    add("chat", chat, "Ask questions line by line (Ctrl-D or 'quit' ends).")

    sub = add("check", check, "Validate the sources (and the bot config) and print a summary.")
    sub.add_argument("--config", type=Path, metavar="PATH", help="also validate this bot config (token not needed)")

    sub = add("eval", evaluate, "Run a question set (eval/dev.yaml format) and print the metrics.")
    sub.add_argument("set", type=Path, metavar="SET.yaml")
    sub.add_argument("--json", action="store_true", help="print the report as one JSON object")
    sub.add_argument("--failures", action="store_true", help="also list every item answered wrongly")
    sub.add_argument(
        "--fail-under", type=float, metavar="PCT", help="exit 1 when under PCT %% of the answers are correct (e2e)"
    )

    add("build-index", build_index, "Index the sources and save the index to --index DIR.")

    sub = add("report", report, "Print the unanswered questions and the feedback stored by the bot; chart them.")
    sub.add_argument("--database", type=Path, metavar="FILE", required=True, help="the bot's storage.database")
    sub.add_argument("--since", type=_duration, default=7 * 86_400, metavar="7d", help="how far back (default 7d)")
    sub.add_argument(
        "--chart",
        type=Path,
        default=Path("iom-bot-report.png"),
        metavar="PNG",
        help="where to write the chart per day (default iom-bot-report.png; needs iom-bot[report])",
    )
    sub.add_argument("--no-chart", dest="chart", action="store_const", const=None, help="print the tables only")

    sub = add("run", run, "Run the Discord bot.")
    sub.add_argument("--config", type=Path, metavar="PATH", required=True)
    sub.add_argument("--sync", action="store_true", help="sync the slash commands globally (rate-limited; rarely)")
    sub.add_argument("--shard-count", type=_positive_int, metavar="N", help="shards in all (discord.shard_count)")
    sub.add_argument(
        "--shards", type=_shard_list, metavar="IDS", help="the shards this process runs, like 0,1 (discord.shard_ids)"
    )
    sub.add_argument(
        "--processes",
        type=_positive_int,
        default=1,
        metavar="N",
        help="load the knowledge base once and fork N processes sharing it, the shards dealt out among them",
    )

    sub = add("init-config", init_config, "Write the commented example config, to edit.")
    sub.add_argument("path", type=Path, nargs="?", default=Path("config.yaml"), metavar="PATH")
    sub.add_argument("--force", action="store_true", help="overwrite PATH if it exists")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    _safe_streams()
    args = build_parser().parse_args(argv)
    args.verbose += args.verbose_after  # -v before and after the command both count
    if args.command != "run":  # the bot sets up its own logging
        level = logging.WARNING - 10 * min(args.verbose, 2)
        logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        return args.handler(args)
    except CliError as error:
        for line in str(error).splitlines() or [""]:  # every config mistake, one line each
            print(f"error: {line}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`iom-bot search x | head -1`): stop quietly, as the Python docs advise.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
