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

from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.events import AliasEvent, NodeEvent

ALIAS_PROBLEM = "YAML anchors and aliases ('&name', '*name') are not allowed"
CLoader: type[Any] | None = getattr(yaml, "CSafeLoader", None)  # None: PyYAML built without libyaml


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
        for event in yaml.parse(text, Loader=CLoader):
            _refuse_alias(event)
        return yaml.load(text, Loader=CLoader)
    except yaml.YAMLError:
        # The pure-Python loader's error, as it always was: its marks quote the line (libyaml's may point a line
        # later), and a nesting too deep is its RecursionError, which the callers name as such.
        return yaml.load(text, Loader=_NoAliasLoader)
