"""QABot and run_bot: intents, mention safety, extensions, command sync, logging, signals and exit codes."""

from __future__ import annotations

import dataclasses
import logging
import os
import queue
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import IO, Any

import discord
import pytest

from bot.client import EXTENSIONS, QABot, RedactFilter, run_bot, setup_logging
from bot.config import Config, DiscordConfig, Secret
from bot.store import KnowledgeStore
from bot.tree import QATree
from knowledge.base import KnowledgeBase

from .conftest import GUILD_ID

ROOT = Path(__file__).parents[2]
TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.Gabcde.fake-token-for-tests_0123456789"
EXPECTED_COMMANDS = {"ask", "search", "article", "sources", "help", "kb", "Ask IOM bot"}


class SyncRecorder:
    """Stands in for CommandTree.sync: records which commands would go where."""

    def __init__(self, tree: QATree) -> None:
        self.tree = tree
        self.calls: list[tuple[int | None, list[str]]] = []

    async def __call__(self, *, guild: discord.abc.Snowflake | None = None) -> list[Any]:
        names = sorted(command.name for command in self.tree.get_commands(guild=guild))
        self.calls.append((guild.id if guild else None, names))
        return names


def make_bot(kb: KnowledgeBase, config: Config, *, sync_global: bool = False) -> tuple[QABot, SyncRecorder]:
    bot = QABot(config, sync_global=sync_global, store=KnowledgeStore(None, knowledge=kb))
    recorder = SyncRecorder(bot.tree)  # type: ignore[arg-type]
    bot.tree.sync = recorder  # type: ignore[method-assign]
    return bot, recorder


def test_the_client_can_ping_nobody() -> None:
    bot = QABot(Config())

    assert bot.allowed_mentions is not None
    assert bot.allowed_mentions.to_dict() == {"parse": []}
    assert not bot.allowed_mentions.replied_user


@pytest.mark.parametrize(("answer_channels", "message_content"), [((), False), ((123,), True)])
def test_message_content_intent_only_for_answer_channels(
    answer_channels: tuple[int, ...], message_content: bool
) -> None:
    bot = QABot(Config(discord=DiscordConfig(answer_channels=answer_channels)))

    assert bot.intents.message_content is message_content
    assert not bot.intents.members and not bot.intents.presences  # the other privileged intents, never


def test_the_tree_is_the_error_handling_tree() -> None:
    assert isinstance(QABot(Config()).tree, QATree)


async def test_setup_hook_loads_every_extension_and_syncs_to_the_guilds(kb: KnowledgeBase) -> None:
    bot, recorder = make_bot(kb, Config(discord=DiscordConfig(guild_ids=(GUILD_ID, GUILD_ID + 1))))

    await bot.setup_hook()

    assert set(bot.extensions) == set(EXTENSIONS)
    assert recorder.calls == [(GUILD_ID, sorted(EXPECTED_COMMANDS)), (GUILD_ID + 1, sorted(EXPECTED_COMMANDS))]
    await bot.close()


async def test_global_sync_only_when_asked_and_it_clears_the_guild_copies(kb: KnowledgeBase) -> None:
    bot, recorder = make_bot(kb, Config(discord=DiscordConfig(guild_ids=(GUILD_ID,))), sync_global=True)

    await bot.setup_hook()

    assert recorder.calls == [(None, sorted(set(EXPECTED_COMMANDS) - {"kb"})), (GUILD_ID, ["kb"])]
    await bot.close()


async def test_kb_is_registered_only_in_the_admin_guilds(kb: KnowledgeBase) -> None:
    config = Config(discord=DiscordConfig(guild_ids=(GUILD_ID, GUILD_ID + 1), admin_guilds=(GUILD_ID + 2,)))
    bot, recorder = make_bot(kb, config)

    await bot.setup_hook()

    others = sorted(set(EXPECTED_COMMANDS) - {"kb"})
    assert recorder.calls == [(GUILD_ID, others), (GUILD_ID + 1, others), (GUILD_ID + 2, ["kb"])]
    await bot.close()


async def test_without_guilds_or_sync_nothing_is_synced_and_it_says_so(
    kb: KnowledgeBase, caplog: pytest.LogCaptureFixture
) -> None:
    bot, recorder = make_bot(kb, Config())

    with caplog.at_level(logging.WARNING, logger="bot.client"):
        await bot.setup_hook()

    assert recorder.calls == []
    assert "slash commands were not synced" in caplog.text
    await bot.close()


async def test_setup_hook_loads_the_knowledge_base_when_not_loaded() -> None:
    bot = QABot(Config())
    bot.tree.sync = SyncRecorder(bot.tree)  # type: ignore[method-assign,arg-type]

    await bot.setup_hook()

    assert bot.knowledge.passages
    await bot.close()


async def test_schedule_reload_runs_the_same_reload_as_the_command(kb: KnowledgeBase) -> None:
    bot, _ = make_bot(kb, Config())

    result = await bot.schedule_reload("SIGHUP")

    assert result.ok and result.trigger == "SIGHUP"
    assert bot.store.last_reload is result


def test_redact_filter_hides_the_token_in_any_log_line(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.redact")
    redact = RedactFilter(Secret(TOKEN))
    caplog.handler.addFilter(redact)
    try:
        with caplog.at_level(logging.INFO, logger="test.redact"):
            logger.info("payload %s", {"token": TOKEN})
            logger.info(f"raw {TOKEN}")
    finally:
        caplog.handler.removeFilter(redact)

    assert TOKEN not in caplog.text
    assert caplog.text.count("***") == 2


def test_setup_logging_uses_the_configured_level() -> None:
    config = dataclasses.replace(Config(), logging=dataclasses.replace(Config().logging, level="DEBUG"))
    root = logging.getLogger()
    before = (root.level, list(root.handlers))
    try:
        setup_logging(config)
        setup_logging(config)  # twice: still one handler of ours

        ours = [h for h in root.handlers if getattr(h, "iom_bot", False)]
        assert len(ours) == 1
        assert root.level == logging.DEBUG
        assert logging.getLogger("discord").level == logging.INFO  # its debug output is every gateway payload
    finally:
        for handler in [h for h in root.handlers if getattr(h, "iom_bot", False)]:
            root.removeHandler(handler)
        root.setLevel(before[0])
        logging.getLogger("discord").setLevel(logging.NOTSET)


def test_run_bot_without_a_token_exits_2(caplog: pytest.LogCaptureFixture) -> None:
    root = logging.getLogger()
    try:
        assert run_bot(Config()) == 2
    finally:
        for handler in [h for h in root.handlers if getattr(h, "iom_bot", False)]:
            root.removeHandler(handler)


LAUNCHER = """
import asyncio, sys
import discord
from bot.client import QABot, run_bot
from bot.config import load_config

async def start(self, token, *, reconnect=True):
    # Stands in for login + connect: start-up work, then the connection "runs" until close().
    assert token == {token!r}
    if sys.argv[2:] == ["reject"]:
        raise discord.LoginFailure("Improper token has been passed.")
    await self.setup_hook()
    print("READY", flush=True)
    while not self.is_closed():
        await asyncio.sleep(0.01)

async def sync(*, guild=None):
    return []

QABot.start = start
original_init = QABot.__init__
def init(self, *args, **kwargs):
    original_init(self, *args, **kwargs)
    self.tree.sync = sync
QABot.__init__ = init
sys.exit(run_bot(load_config(sys.argv[1])))
"""


class LineReader:
    """Reads a pipe in a thread, so a test can wait for a line with a timeout."""

    def __init__(self, stream: IO[str]) -> None:
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self._queue.put(line)
        self._queue.put(None)

    def wait_for(self, marker: str, *, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._queue.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                break
            self.lines.append(line)
            if marker in line:
                return
        raise AssertionError(f"{marker!r} not logged within {timeout_s} s:\n{self.text}")

    def rest(self, timeout_s: float) -> str:
        self._thread.join(timeout_s)
        while not self._queue.empty():
            line = self._queue.get()
            if line is not None:
                self.lines.append(line)
        return self.text

    @property
    def text(self) -> str:
        return "".join(self.lines)


def test_run_bot_reloads_on_sighup_and_exits_0_on_sigterm(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("logging:\n  level: DEBUG\n", encoding="utf-8")
    launcher = tmp_path / "launch.py"
    launcher.write_text(textwrap.dedent(LAUNCHER.format(token=TOKEN)), encoding="utf-8")
    env = {**os.environ, "DISCORD_TOKEN": TOKEN, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, str(launcher), str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert process.stdout is not None and process.stderr is not None
    stderr_lines = LineReader(process.stderr)
    try:
        assert process.stdout.readline().strip() == "READY"
        process.send_signal(signal.SIGHUP)
        stderr_lines.wait_for("reload (SIGHUP): version", timeout_s=30)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    finally:
        process.kill()
    stderr = stderr_lines.rest(timeout_s=10)

    assert process.returncode == 0, stderr
    assert "SIGHUP received: reloading the knowledge base" in stderr
    assert "SIGTERM received: closing the connection" in stderr
    assert "closed" in stderr
    assert TOKEN not in stderr
    assert "Traceback" not in stderr


@pytest.mark.parametrize(
    ("case", "config_text", "message"),
    [
        ("reject", "", "Discord rejected the token (check the variable named by discord.token_env)"),
        ("sources", "knowledge:\n  sources: empty\n", "/empty: no source files"),
    ],
)
def test_start_up_failures_are_one_line_and_exit_2(tmp_path: Path, case: str, config_text: str, message: str) -> None:
    (tmp_path / "empty").mkdir()
    config = tmp_path / "config.yaml"
    config.write_text(config_text, encoding="utf-8")
    launcher = tmp_path / "launch.py"
    launcher.write_text(textwrap.dedent(LAUNCHER.format(token=TOKEN)), encoding="utf-8")
    env = {**os.environ, "DISCORD_TOKEN": TOKEN, "PYTHONPATH": str(ROOT)}

    result = subprocess.run(
        [sys.executable, str(launcher), str(config), case],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr and TOKEN not in result.stderr
