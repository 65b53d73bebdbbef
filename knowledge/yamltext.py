"""YAML as the sources, glossary and config use it: plain data, without anchors and aliases.

An alias repeats a node without repeating its text: nine lines of "&a [*b, *b, ...]" (a "billion laughs")
expand to millions of nodes, and any message that prints the value runs to tens of megabytes. No source,
glossary or config needs them, so a document that uses one is refused before it is built.

libyaml's parser (``yaml.CSafeLoader``) reads where PyYAML was built with it, the pure-Python one elsewhere;
both give the same data. The C composer cannot be hooked, so with it the events are scanned for an anchor or
an alias first (in C too) and the document is only composed without them. A document libyaml refuses is read
again by the pure-Python loader, whose error messages quote the line.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.events import AliasEvent, NodeEvent

from .files import FileTooLarge, NotRegularFile, read_limited

ALIAS_PROBLEM = "YAML anchors and aliases ('&name', '*name') are not allowed"
CLoader: type[Any] | None = getattr(yaml, "CSafeLoader", None)  # None: PyYAML built without libyaml
# An anchor ("&name") or an alias ("*name") is its mark followed at once by its name: a text without one of these
# marks before a non-space character has neither.
MAY_ALIAS = re.compile(r"[&*]\S")


class _NoAliasLoader(yaml.SafeLoader):
    """SafeLoader that refuses an anchor or an alias where it first meets one."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        _refuse_alias(self.peek_event())
        return super().compose_node(parent, index)


def _refuse_alias(event: Any) -> None:
    if isinstance(event, AliasEvent) or (isinstance(event, NodeEvent) and event.anchor is not None):
        raise ComposerError(None, None, ALIAS_PROBLEM, event.start_mark)


def load(text: str, *, c_loader: bool = True) -> Any:
    """yaml.safe_load without anchors and aliases (ComposerError names the line of the first one).

    c_loader: use libyaml when PyYAML has it (False: the pure-Python loader, e.g. to compare the two).
    """
    if CLoader is None or not c_loader:
        return yaml.load(text, Loader=_NoAliasLoader)
    try:
        if MAY_ALIAS.search(text):  # else no anchor or alias can be in it: no need to look at every event
            for event in yaml.parse(text, Loader=CLoader):
                _refuse_alias(event)
        return yaml.load(text, Loader=CLoader)
    except yaml.YAMLError:
        # The pure-Python loader's error, as it always was: its marks quote the line (libyaml's may point a line
        # later), and a nesting too deep is its RecursionError, which the callers name as such.
        return yaml.load(text, Loader=_NoAliasLoader)


class YamlError(ValueError):
    """A YAML file that cannot be read, in one line: the problem and, when known, its 1-based line."""

    def __init__(self, problem: str, line: int | None = None) -> None:
        self.problem = problem
        self.line = line
        super().__init__(f"{line}: {problem}" if line is not None else problem)

    def at(self, path: Path | str) -> str:
        """ "path:line: problem", as every file error is named."""
        return f"{path}:{self.line}: {self.problem}" if self.line is not None else f"{path}: {self.problem}"


def parse(text: str, *, first_line: int = 1, part: str | None = None) -> Any:
    """load(text) with every failure as one YamlError: bad syntax, an alias, nesting too deep for the parser, an
    integer too long to convert. first_line: the file's line number of text's first line; part: the part of the
    file text is, as the problem names it ("bad YAML in front matter: ...")."""
    bad = f"bad YAML in {part}" if part else "bad YAML"
    try:
        return load(text)
    except RecursionError:  # "[[[[..." nested a thousand deep exhausts the parser's stack
        raise YamlError(f"{bad}: nested too deeply", first_line if part else None) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + first_line if mark is not None else None
        raise YamlError(f"{bad}: {getattr(error, 'problem', None) or 'invalid YAML'}", line) from None
    except ValueError as error:  # an int of more than 4,300 digits
        raise YamlError(f"{bad}: {str(error)[:80]}", first_line if part else None) from None


def read_text(path: Path | str, max_bytes: int) -> str:
    """A YAML file's text, at most max_bytes of UTF-8; YamlError naming why not."""
    try:
        return read_limited(path, max_bytes).decode("utf-8")
    except FileNotFoundError:
        raise YamlError("no such file") from None
    except FileTooLarge:
        raise YamlError(f"too large (the limit is {max_bytes:,} bytes)") from None
    except NotRegularFile:
        raise YamlError("not a regular file") from None
    except UnicodeDecodeError:
        raise YamlError("not UTF-8") from None
    except OSError as error:
        raise YamlError(f"cannot read: {error.strerror or error}") from None


def read(path: Path | str, max_bytes: int) -> Any:
    """parse(read_text(path, max_bytes)): the data of a YAML file, or one YamlError."""
    return parse(read_text(path, max_bytes))
