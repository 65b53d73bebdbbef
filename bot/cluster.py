"""Several shard processes from one loaded knowledge base: `iom-bot run --processes N` (Linux, fork).

Independent processes (one systemd unit each) share only the saved index's memory-mapped arrays; most of a
knowledge base is Python objects built at load time (passages, the speller's and the retriever's tables), and
each process holds its own. Here the parent loads the knowledge base once, moves it out of the garbage
collector's reach (gc.freeze: a collection never writes to those pages), and forks N processes, each running
an even share of the shards. The children read the parent's pages copy-on-write: N processes cost about one
copy (benchmarks/bench_shared_index.py measures it).

The parent only supervises: SIGTERM/SIGINT and SIGHUP go to every child; when a child stops on its own, the
others are stopped and the parent exits with the child's code (systemd restarts the whole set). A reload
builds a new knowledge base inside each child, which then holds its own copy until the next restart.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import logging
import os
import signal
from collections.abc import Callable, Sequence
from typing import Any

from knowledge import KnowledgeBase, SourceError

from .client import EXIT_CONFIG, EXIT_FAILURE, EXIT_OK, _serve, setup_logging
from .config import Config
from .store import KnowledgeStore, build_knowledge

log = logging.getLogger(__name__)

FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def shard_groups(shard_ids: Sequence[int], processes: int) -> list[tuple[int, ...]]:
    """shard_ids dealt out to processes in turn: [0, 1, 2, 3] over 2 -> [(0, 2), (1, 3)]."""
    return [tuple(shard_ids[i::processes]) for i in range(processes)]


def child_config(config: Config, shards: tuple[int, ...], number: int) -> Config:
    """The config of child number: its shards, and its own metrics port (listen port + number) if any."""
    discord = dataclasses.replace(config.discord, shard_ids=shards)
    metrics = config.metrics
    if metrics.address is not None and metrics.address[1] != 0:
        host, port = metrics.address
        metrics = dataclasses.replace(metrics, listen=f"{host}:{port + number}")
    return dataclasses.replace(config, discord=discord, metrics=metrics)


def load_shared(config: Config) -> KnowledgeBase:
    """Build the knowledge base as the bot does at start-up, then freeze it: every later page write is a child's."""
    knowledge = build_knowledge(config.knowledge.sources, config.knowledge.index)
    gc.collect()
    gc.freeze()
    log.info(
        "knowledge base %s loaded once for every process: %d documents, %d passages in %.2f s",
        knowledge.version,
        len(knowledge.documents),
        len(knowledge.passages),
        knowledge.build_seconds,
    )
    return knowledge


def fork_workers(work: Sequence[Callable[[], int]]) -> dict[int, int]:
    """Fork one child per callable, which runs it and exits with its result; {pid: index}."""
    children: dict[int, int] = {}
    for number, job in enumerate(work):
        pid = os.fork()
        if pid == 0:  # the child
            code = EXIT_FAILURE
            try:
                for signum in FORWARDED:
                    signal.signal(signum, signal.SIG_DFL)
                code = job()
            except BaseException:
                log.exception("process %d failed", number)
            finally:
                logging.shutdown()
                os._exit(code)
        children[pid] = number
    return children


def run_processes(config: Config, processes: int, *, sync_global: bool = False, verbose: int = 0) -> int:
    """Load once, fork `processes` bots over the configured shards, supervise them; the exit code."""
    setup_logging(config, verbose)
    token = config.token
    if token is None:
        log.error("%s is not set (the variable named by discord.token_env)", config.discord.token_env)
        return EXIT_CONFIG
    count = config.discord.shard_count
    assert count is not None, "the CLI requires a shard count with --processes"
    shard_ids = list(config.discord.shard_ids) if config.discord.shard_ids is not None else list(range(count))
    groups = shard_groups(shard_ids, processes)
    try:
        knowledge = load_shared(config)
    except (SourceError, TimeoutError) as error:
        log.error("cannot load the knowledge base: %s", error)
        return EXIT_CONFIG

    def bot(number: int, shards: tuple[int, ...]) -> Callable[[], int]:
        def serve() -> int:
            log.info("process %d of %d (pid %d) runs shards %s", number + 1, processes, os.getpid(), shards)
            store = KnowledgeStore(config.knowledge.sources, index=config.knowledge.index, knowledge=knowledge)
            mine = child_config(config, shards, number)
            return asyncio.run(_serve(mine, token, sync_global=sync_global and number == 0, store=store))

        return serve

    children = fork_workers([bot(number, shards) for number, shards in enumerate(groups)])
    return supervise(children)


def supervise(children: dict[int, int]) -> int:
    """Forward signals to the children; wait for them all. The first child to stop on its own stops the rest."""
    stopping = False

    def forward(signum: int, frame: Any) -> None:
        nonlocal stopping
        if signum != signal.SIGHUP:
            stopping = True
        for pid in children:
            os.kill(pid, signal.SIGTERM if signum == signal.SIGINT else signum)

    previous = {signum: signal.signal(signum, forward) for signum in FORWARDED}
    worst = EXIT_OK
    try:
        while children:
            pid, status = os.wait()
            number = children.pop(pid, None)
            if number is None:
                continue
            code = os.waitstatus_to_exitcode(status)
            worst = worst if code == EXIT_OK else (code if code > 0 else EXIT_FAILURE)
            if not stopping:
                log.error("process %d stopped with exit code %d: stopping the others", number + 1, code)
                stopping = True
                for other in children:
                    os.kill(other, signal.SIGTERM)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    log.info("every bot process stopped")
    return worst
