"""The command line: run the bot, or ask, search, chat, check and evaluate offline (without discord).

Only `run` imports discord (lazily, through bot.client); every other command uses knowledge/ alone. This module
parses the arguments; the commands are in bot.cli_answer (ask, search, chat) and bot.cli_ops (the rest), imported
when one runs, so that `--help` imports neither. Exit codes: 0 ok, 1 "no" (search found nothing, eval under
--fail-under), 2 usage or input errors (one line per problem on stderr, no traceback), 130 interrupted. Global
options go before or after the command.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from .cli_base import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, CliError

# Each command's handler, "module:function", imported only when that command runs.
HANDLERS = {
    "ask": "bot.cli_answer:ask",
    "search": "bot.cli_answer:search",
    "chat": "bot.cli_answer:chat",
    "check": "bot.cli_ops:check",
    "eval": "bot.cli_ops:evaluate",
    "build-index": "bot.cli_ops:build_index",
    "report": "bot.cli_ops:report",
    "run": "bot.cli_ops:run",
    "init-config": "bot.cli_ops:init_config",
}


def _duration(text: str) -> float:
    """'7d', '12h', '30m' -> seconds."""
    match = re.fullmatch(r"(\d+)([dhm])", text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"expected a duration like 7d, 12h or 30m, not {text!r}")
    return int(match[1]) * {"d": 86_400, "h": 3_600, "m": 60}[match[2]]


def _shard_list(text: str) -> tuple[int, ...]:
    try:
        ids = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected shard numbers like 0,1 — got {text!r}") from None
    if not ids or min(ids) < 0:
        raise argparse.ArgumentTypeError(f"expected shard numbers (0 or more) like 0,1 — got {text!r}")
    return ids


def _version() -> str:
    import importlib.metadata  # 50 ms: only for --version

    try:
        return importlib.metadata.version("iom-bot")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def _safe_streams() -> None:
    """Never crash on a terminal that cannot encode an answer's quotes or dashes."""
    for stream in (sys.stdin, sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")


class _PrintVersion(argparse.Action):
    """--version, reading the installed version only when asked."""

    def __call__(self, parser: argparse.ArgumentParser, *args: object, **kwargs: object) -> None:
        print(f"{parser.prog} {_version()}")
        parser.exit()


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
  iom-bot ask --json "How many Member States does IOM have?"
  echo '{"id": 1, "question": "What is IOM?"}' | iom-bot ask --batch""",
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
    parser.add_argument("--version", action=_PrintVersion, nargs=0, help="print the version and exit")
    _global_options(parser, after=False)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name,
            parents=[common],
            help=help_text,
            description=help_text,
            epilog=EXAMPLES[name],
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.set_defaults(handler=HANDLERS[name])
        return sub

    sub = add("ask", "Answer one question, with where the answer comes from.")
    sub.add_argument("question", nargs="*", metavar="QUESTION", help="the question (quotes optional)")
    sub.add_argument("--json", action="store_true", help="print one JSON object (the answer contract)")
    sub.add_argument("--batch", action="store_true", help='read JSON lines {"id", "question"} on stdin')

    sub = add("search", "List the passages that best match a query (exit 1 when none does).")
    sub.add_argument("query", nargs="*", metavar="QUERY")
    sub.add_argument("-k", type=_positive_int, default=5, metavar="N", help="how many passages (default 5)")
    sub.add_argument("--json", action="store_true", help="print one JSON object")

    add("chat", "Ask questions line by line (Ctrl-D or 'quit' ends).")

    sub = add("check", "Validate the sources (and the bot config) and print a summary.")
    sub.add_argument("--config", type=Path, metavar="PATH", help="also validate this bot config (token not needed)")

    sub = add("eval", "Run a question set (eval/dev.yaml format) and print the metrics.")
    sub.add_argument("set", type=Path, metavar="SET.yaml")
    sub.add_argument("--json", action="store_true", help="print the report as one JSON object")
    sub.add_argument("--failures", action="store_true", help="also list every item answered wrongly")
    sub.add_argument(
        "--fail-under", type=float, metavar="PCT", help="exit 1 when under PCT %% of the answers are correct (e2e)"
    )

    add("build-index", "Index the sources and save the index to --index DIR.")

    sub = add("report", "Print the unanswered questions and the feedback stored by the bot; chart them.")
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

    sub = add("run", "Run the Discord bot.")
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

    sub = add("init-config", "Write the commented example config, to edit.")
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
    module, _, function = args.handler.partition(":")
    try:
        return getattr(importlib.import_module(module), function)(args)
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
