"""Start the real bot in its own process against a FakeDiscord, and stop it.

``launch()`` copies the bundled sources to a temporary directory (a test may corrupt the copy), writes a config
that points at the copy and at the fake's guild, starts ``python tests/e2e/launcher.py run --config ...`` with
its output in a log file, and returns once the bot has synced its commands and received its guild. If the
process dies first, it fails at once with the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from fake_discord import FakeDiscord, User

REPO = Path(__file__).resolve().parents[2]
LAUNCHER = Path(__file__).with_name("launcher.py")
BUNDLED_SOURCES = REPO / "knowledge" / "sources"
START_TIMEOUT_S = 30.0  # interpreter, discord.py, scikit-learn and the index: a few seconds, more on a busy CI box
STOP_TIMEOUT_S = 5.0
LOG_TAIL_LINES = 120
STACKS_TIMEOUT_S = 2.0
STACKS_SETTLE_S = 0.3
OUTPUT_LINE_LIMIT = 1024 * 1024  # a log line may quote a 10,000-character question

COOLDOWN_COUNT, COOLDOWN_SECONDS = 5, 60  # questions per user: tests ask as fresh users (Harness.new_member)

LAUNCHED: list[BotProcess] = []  # for the failure report in conftest.py


class BotProcess:
    """The bot's process, its output (pumped into a log file and kept in memory) and the files it was started with."""

    def __init__(self, process: asyncio.subprocess.Process, log_path: Path, config_path: Path, sources: Path) -> None:
        self.process = process
        self.log_path = log_path
        self.config_path = config_path
        self.sources = sources
        self.started_at = time.monotonic()
        self.ended_at: float | None = None
        self.lines: list[str] = []
        self._new_output = asyncio.Event()
        self._output_closed = False
        assert process.stdout is not None
        self._pump = asyncio.ensure_future(self._read_output(process.stdout))

    async def _read_output(self, stream: asyncio.StreamReader) -> None:
        with self.log_path.open("ab") as log_file:
            while line := await stream.readline():
                log_file.write(line)
                log_file.flush()
                self.lines.append(line.decode("utf-8", errors="replace").rstrip("\n"))
                self._new_output.set()
        self._output_closed = True
        self._new_output.set()

    @property
    def running(self) -> bool:
        return self.process.returncode is None

    def log(self) -> str:
        return "\n".join(self.lines)

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        return "\n".join(self.lines[-lines:])

    async def wait_for_log(self, pattern: str, timeout: float = 10.0) -> str:
        """The first output line matching the regex pattern: the bot has got that far (e.g. stored a view)."""
        regex = re.compile(pattern)
        deadline = asyncio.get_running_loop().time() + timeout
        seen = 0
        while True:
            self._new_output.clear()
            for line in self.lines[seen:]:
                if regex.search(line):
                    return line
            seen = len(self.lines)
            remaining = deadline - asyncio.get_running_loop().time()
            if self._output_closed or remaining <= 0:
                raise AssertionError(f"no log line matching {pattern!r} within {timeout:g} s:\n{self.log_tail()}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_output.wait(), remaining)

    async def stacks(self) -> str:
        """The log after asking the (hung) process for every thread's stack: where it is stuck."""
        if self.running:
            seen = len(self.lines)
            self.process.send_signal(signal.SIGUSR1)
            with contextlib.suppress(AssertionError):
                await self.wait_for_log(r"^(Current thread|Thread) 0x", STACKS_TIMEOUT_S)
                await asyncio.sleep(STACKS_SETTLE_S)  # failure path only: the rest of the dump is on its way
            return "\n".join(self.lines[max(seen - LOG_TAIL_LINES, 0) :])
        return self.log_tail()

    async def wait(self, timeout: float) -> int:
        """The exit code; AssertionError with the log (and stacks) if the process still runs after timeout seconds."""
        try:
            code = await asyncio.wait_for(self.process.wait(), timeout)
        except TimeoutError:
            raise AssertionError(f"the bot did not exit within {timeout:g} s\n{await self.stacks()}") from None
        self.ended_at = self.ended_at or time.monotonic()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._pump, 1.0)  # the last lines of output
        return code

    async def terminate(self, timeout: float = STOP_TIMEOUT_S) -> int:
        """SIGTERM, then the exit code (SIGKILL after timeout so that no test leaves a process behind)."""
        if self.running:
            self.process.send_signal(signal.SIGTERM)
        try:
            return await self.wait(timeout)
        except AssertionError:
            self.process.kill()
            await self.process.wait()
            raise


@dataclass
class Harness:
    """A fake Discord and the bot connected to it."""

    fake: FakeDiscord
    bot: BotProcess

    def new_member(self, name: str = "member", *, admin: bool = False) -> User:
        """A fresh member: each test asks as its own user, so no test uses up another's cooldown."""
        return self.fake.world.new_member(name, admin=admin)


def write_config(fake: FakeDiscord, directory: Path, sources: Path, **sections: dict[str, Any]) -> Path:
    """A config for the fake's guild; sections override the defaults key by key."""
    world = fake.world
    config: dict[str, Any] = {
        "discord": {
            "token_env": "DISCORD_TOKEN",
            "guild_ids": [world.guild_id],
            "admin_roles": [world.admin_role.id],
            "answer_dms": True,
        },
        "asking": {"cooldown": {"count": COOLDOWN_COUNT, "seconds": COOLDOWN_SECONDS}},
        "knowledge": {"sources": str(sources)},
        "logging": {"level": "INFO"},
    }
    for section, values in sections.items():
        config.setdefault(section, {}).update(values)
    path = directory / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


async def spawn(
    fake: FakeDiscord,
    directory: Path,
    sources: Path,
    *,
    token: str | None = None,
    args: tuple[str, ...] = (),
    **sections: dict[str, Any],
) -> BotProcess:
    """Start `python tests/e2e/launcher.py run` against fake with sources; return at once (it may be meant to fail)."""
    directory.mkdir(parents=True, exist_ok=True)
    config_path = write_config(fake, directory, sources, **sections)
    log_path = directory / "bot.log"
    log_path.write_bytes(b"")
    env = {
        **os.environ,
        "DISCORD_TOKEN": fake.token if token is None else token,
        "FAKE_DISCORD_URL": fake.base_url,
        "PYTHONUNBUFFERED": "1",
        "PYTHONFAULTHANDLER": "1",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(LAUNCHER),
        "run",
        "--config",
        str(config_path),
        *args,  # more options of `run`
        cwd=REPO,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        limit=OUTPUT_LINE_LIMIT,
    )
    bot = BotProcess(process, log_path, config_path, sources)
    LAUNCHED.append(bot)  # a failing test's report shows its log tail
    return bot


async def start_bot(
    fake: FakeDiscord, directory: Path, sources: Path | None = None, **sections: dict[str, Any]
) -> BotProcess:
    """Start the bot against fake (default: a fresh copy of the sources); return once it is connected and synced."""
    directory.mkdir(parents=True, exist_ok=True)
    if sources is None:
        sources = directory / "sources"
        shutil.copytree(BUNDLED_SOURCES, sources)
    ready_count = fake.ready_count + 1
    bot = await spawn(fake, directory, sources, **sections)
    process = bot.process
    ready = asyncio.ensure_future(_connected(fake, ready_count))
    exited = asyncio.ensure_future(process.wait())
    try:
        done, _ = await asyncio.wait({ready, exited}, timeout=START_TIMEOUT_S, return_when=asyncio.FIRST_COMPLETED)
        if exited in done:
            raise AssertionError(f"the bot exited with {process.returncode} while starting:\n{bot.log_tail()}")
        if ready not in done:
            raise AssertionError(f"the bot did not connect within {START_TIMEOUT_S:g} s:\n{await bot.stacks()}")
        ready.result()  # an AssertionError from the fake's wait
    except BaseException:
        if bot.running:
            process.kill()
            await process.wait()
        raise
    finally:
        for task in (ready, exited):
            task.cancel()
    return bot


async def _connected(fake: FakeDiscord, ready_count: int) -> None:
    await fake.wait_for_commands(fake.world.guild_id, timeout=START_TIMEOUT_S)
    await fake.wait_for_ready(ready_count, timeout=START_TIMEOUT_S)


@asynccontextmanager
async def launch(directory: Path, **sections: dict[str, Any]) -> AsyncIterator[Harness]:
    """A fake Discord and the bot connected to it; on exit the bot gets SIGTERM and the fake closes."""
    async with FakeDiscord() as fake:
        bot = await start_bot(fake, directory, **sections)
        try:
            yield Harness(fake, bot)
        finally:
            if bot.running:
                await bot.terminate()
