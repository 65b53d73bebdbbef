"""YAML as the sources, glossary and config use it: plain data, without anchors and aliases.

An alias repeats a node without repeating its text: nine lines of "&a [*b, *b, ...]" (a "billion laughs")
expand to millions of nodes, and any message that prints the value runs to tens of megabytes. No source,
glossary or config needs them, so a document that uses one is refused before it is built.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.events import AliasEvent, NodeEvent

ALIAS_PROBLEM = "YAML anchors and aliases ('&name', '*name') are not allowed"


class _NoAliasLoader(yaml.SafeLoader):
    """SafeLoader that refuses an anchor or an alias where it first meets one."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, AliasEvent) or (isinstance(event, NodeEvent) and event.anchor is not None):
            raise ComposerError(None, None, ALIAS_PROBLEM, event.start_mark)
        return super().compose_node(parent, index)


def load(text: str) -> Any:
    """yaml.safe_load without anchors and aliases (ComposerError names the line of the first one)."""
    return yaml.load(text, Loader=_NoAliasLoader)
