"""What every CLI command shares: exit codes, CliError (a user mistake: one line, exit 2), loading the knowledge
base and the config, and printing JSON."""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.config import Config
    from knowledge import KnowledgeBase

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_NO = 1  # like grep: nothing matched, or a measured quality under the bar
EXIT_USAGE = 2
EXIT_CHECKS_FAILED = 1  # `check`: the sources load, but a check of checks.yaml fails
EXIT_INTERRUPTED = 130


class CliError(Exception):
    """A user mistake (bad input, sources or config): printed as one line, exit code 2."""


def load_kb(sources: Path | None, index: Path | None = None) -> KnowledgeBase:
    """Load the knowledge base (bundled sources by default); bad sources are a user error.

    index: a saved index set (`build-index`), used when it matches the sources, else they are indexed anew.
    """
    from knowledge import KnowledgeBase, SourceError  # numpy: only for the commands that answer

    try:
        kb = KnowledgeBase.load(sources, index_dir=index, warm=False)  # a command asks a few questions at most
    except SourceError as error:
        raise CliError(str(error)) from None
    log.info("loaded %d passages (version %s) in %.2f s", len(kb.passages), kb.version, kb.build_seconds)
    return kb


def load_config(path: Path, *, require_token: bool) -> Config:
    from bot.config import ConfigError, load_config  # lazily: only check --config and run need it

    try:
        return load_config(path, require_token=require_token)
    except ConfigError as error:
        raise CliError(str(error)) from None


def with_knowledge(config: Config, *, sources: Path | None, index: Path | None) -> Config:
    """The config with --sources and --index, when given, in place of knowledge.sources and knowledge.index."""
    from bot.config import ConfigError

    changes = {key: path.absolute() for key, path in (("sources", sources), ("index", index)) if path is not None}
    try:
        return dataclasses.replace(config, knowledge=dataclasses.replace(config.knowledge, **changes))
    except ConfigError as error:
        raise CliError(str(error)) from None


def with_shards(config: Config, *, count: int | None, ids: tuple[int, ...] | None) -> Config:
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


def print_json(value: Any) -> None:
    # ASCII escapes keep the JSON lossless on any terminal encoding.
    print(json.dumps(value))
