"""The CLI commands that answer: ask (one question, or JSON lines with --batch), search and chat."""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
import textwrap
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from .cli_base import EXIT_NO, EXIT_OK, CliError, load_kb, print_json
from .cli_text import render_answer, source_lines

if TYPE_CHECKING:
    from knowledge import KnowledgeBase

log = logging.getLogger(__name__)

WRAP_COLUMNS = 100  # search hits print the whole passage, wrapped
INDENT = "   "
QUIT_WORDS = frozenset({"quit", "exit", "q", ":q", "bye"})
EMPTY_QUESTION = 'the question is empty; try: iom-bot ask "What does article 11 of the Agreement provide?"'
HISTORY_LINES = 1000  # kept in chat's history file


def ask(args: argparse.Namespace) -> int:
    if args.batch:
        if args.question:
            raise CliError("--batch reads its questions from stdin; give no QUESTION")
        return _ask_batch(load_kb(args.sources, args.index), sys.stdin, sys.stdout)
    question = _question(args.question)
    kb = load_kb(args.sources, args.index)
    answer = kb.answer(question)
    if args.json:
        print_json(answer.to_dict())
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
        print_json({"query": query, "hits": results})
        return EXIT_OK if hits else EXIT_NO
    if not hits:
        print("No passage matches.")
        return EXIT_NO
    for rank, hit in enumerate(hits, start=1):
        print(f"{rank}. [{hit.score:.3f}] {hit.passage.id}")
        for line in source_lines(kb.citations_for(hit.passage), kb.glossary):
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
