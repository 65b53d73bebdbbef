"""Secrets: run with a sentinel token, the token appears in no log line, no error message and no file written.

The sentinel is made fresh for each run, so no file that existed before can contain it by accident. discord.py
sends it to the fake in the Authorization header and in IDENTIFY and RESUME, as it must; the fake keeps it in
memory only. Scanned: the bot's output, the child runs' output, and every file written during the run under their
temporary directories and in the working tree.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import secrets
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import rigs
from fake_discord import FakeDiscord
from harness import REPO

from bot import cli
from bot.client import LOG_FORMAT, RedactFilter
from bot.config import Secret

E2E = REPO / "tests" / "e2e"
HERE = Path(__file__).parent
QUESTION = "Can IOM staff travel on a UN laissez-passer?"
CHILD_TIMEOUT_S = 110.0  # under pytest-timeout's 120 s: the e2e suite takes about 15 s


def sentinel() -> str:
    return f"SENTINEL.{secrets.token_urlsafe(18)}.zzzz"


def files_written(roots: list[Path], since: float) -> Iterator[Path]:
    """Files under roots changed at or after since (a second of slack for coarse timestamps); .git is not ours."""
    for root in roots:
        for directory, subdirectories, names in os.walk(root):
            subdirectories[:] = [d for d in subdirectories if d != ".git"]
            for name in names:
                path = Path(directory, name)
                try:
                    if path.lstat().st_mtime >= since - 1.0 and path.is_file():
                        yield path
                except OSError:  # removed while we walked
                    continue


def leaks(token: str, roots: list[Path], since: float) -> list[Path]:
    needle = token.encode()
    found = []
    for path in files_written(roots, since):
        try:
            if needle in path.read_bytes():
                found.append(path)
        except OSError:
            continue
    return found


async def run(*args: str, env: dict[str, str], cwd: Path = REPO, timeout: float = 30.0) -> tuple[int, str]:
    """Run a child process to the end; (exit code, stdout and stderr together)."""
    process = await asyncio.create_subprocess_exec(
        *args,
        cwd=cwd,
        env={**os.environ, **env},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        output, _ = await process.communicate()
        tail = output.decode(errors="replace")[-3000:]
        raise AssertionError(f"{args} did not finish in {timeout:g} s:\n{tail}") from None
    assert process.returncode is not None
    return process.returncode, output.decode("utf-8", errors="replace")


# -- the e2e suite -------------------------------------------------------------------------------------------------


async def test_the_e2e_suite_run_with_a_sentinel_token_leaks_it_nowhere(tmp_path: Path) -> None:
    token = sentinel()
    basetemp, scratch = tmp_path / "basetemp", tmp_path / "tmp"
    scratch.mkdir()
    started = time.time()

    code, output = await run(
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "sentinel_token",
        "-p",
        "no:cacheprovider",
        f"--basetemp={basetemp}",
        str(E2E),
        env={
            "RELIABILITY_SENTINEL_TOKEN": token,
            "PYTHONPATH": os.pathsep.join([str(E2E), str(HERE)]),
            "TMPDIR": str(scratch),
        },
        timeout=CHILD_TIMEOUT_S,
    )

    assert code in (0, 1), output[-3000:]  # 1: an e2e test failed; its report is scanned like the rest
    logs = list(basetemp.rglob("bot.log"))
    connected = [log for log in logs if "synced" in log.read_text("utf-8", errors="replace")]
    assert len(connected) >= 3, f"the bots never logged in with the sentinel token:\n{output[-3000:]}"
    assert token not in output
    assert leaks(token, [basetemp, scratch, REPO], started) == []


# -- one bot at DEBUG, through faults and errors -------------------------------------------------------------------


async def test_a_debug_run_through_errors_and_reconnects_leaks_the_token_nowhere(tmp_path: Path) -> None:
    token = sentinel()
    started = time.time()
    async with rigs.LateDiscord(token=token, interaction_deadline_s=0.5) as fake:
        bot = await rigs.start(fake, tmp_path, rigs.copy_sources(tmp_path / "sources"), logging={"level": "DEBUG"})
        try:
            member = fake.world.new_member("m")
            question = await fake.send_message(fake.mention_bot(QUESTION), author=member)
            await fake.wait_for_reply(int(question["id"]))
            fake.rate_limit(r"^/channels/\d+/messages$", retry_after_s=0.1, method="POST")
            question = await fake.send_message(fake.mention_bot(QUESTION), author=fake.world.new_member("m"))
            await fake.wait_for_reply(int(question["id"]))
            await fake.drop_gateway(4000)  # RESUME carries the token
            await fake.wait_for_resume(1)
            (bot.sources / "broken.md").write_bytes(b"---\ntitle: [unclosed\n---\nBody.\n")
            reload = await fake.send_command("kb reload", user=fake.world.new_member("a", admin=True))
            await fake.wait_for_answer(reload)
            fake.slow(r"^/interactions/\d+/[^/]+/callback$", 0.8, method="POST")  # an expired interaction
            late = await fake.send_command("ask", question=QUESTION, user=fake.world.new_member("m"))
            await fake.wait_until(lambda: late.callbacks, "the expired callback")
            await rigs.wait_for_line(bot, "not answered: the interaction expired", since=0)
        finally:
            code = await bot.terminate()
        summary = fake.summary(len(fake.requests))

    assert code == 0
    assert any(" DEBUG " in line for line in bot.lines), "the bot did not log at DEBUG"
    assert token not in bot.log()
    assert token not in summary  # what the e2e failure report would print about the fake
    assert leaks(token, [tmp_path, REPO], started) == []


# -- error messages ------------------------------------------------------------------------------------------------


class MalformedMe(FakeDiscord):
    """The fake, but GET /users/@me answers 200 with an empty object: discord.py fails with a traceback."""

    def _get_me(self, record: Any) -> tuple[int, Any]:
        return 200, {}


@pytest.mark.parametrize("fault", ["token rejected", "crash"])
async def test_start_up_failures_say_what_happened_without_the_token(tmp_path: Path, fault: str) -> None:
    """(A token refused by the gateway, 4004, is test_discord_faults.py's.)"""
    token = sentinel()
    started = time.time()
    fake = FakeDiscord(token="another") if fault == "token rejected" else MalformedMe(token=token)
    async with fake:
        bot = await rigs.spawn(fake, tmp_path, rigs.copy_sources(tmp_path / "sources"), token=token)
        try:
            code = await bot.wait(15.0)
        finally:
            await rigs.stop(bot)

    assert code == (1 if fault == "crash" else 2), bot.log_tail()
    errors = [message for level, _, message in rigs.log_records(bot) if level == "ERROR"]
    assert len(errors) == 1, bot.log_tail()
    assert token not in bot.log()
    assert leaks(token, [tmp_path, REPO], started) == []


@pytest.mark.parametrize(
    ("yaml_text", "token_value", "message"),
    [
        ("discord:\n  admin_role: [1]\n", None, "discord.admin_role: unknown key"),
        ("discord:\n  token: {token}\n", None, "discord.token: the token never goes in the YAML"),
        ("token: {token}\n", None, "token: the token never goes in the YAML"),
        ("logging:\n  level: LOUD\n", None, "logging.level: expected one of"),
        ("discord: [" + "[" * 1200 + "\n", None, "bad YAML"),
        ("logging: null\n", "{token} with a space", "DISCORD_TOKEN does not look like a bot token"),
    ],
    ids=["unknown-key", "token-in-discord", "token-at-top", "bad-level", "deep-yaml", "token-with-space"],
)
def test_config_errors_never_show_the_token(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    yaml_text: str,
    token_value: str | None,
    message: str,
) -> None:
    token = sentinel()
    config = tmp_path / "config.yaml"
    config.write_text(yaml_text.format(token=token), encoding="utf-8")
    monkeypatch.setenv("DISCORD_TOKEN", (token_value or "{token}").format(token=token))

    code = cli.main(["run", "--config", str(config)])  # a config error stops before anything imports discord

    captured = capsys.readouterr()
    assert code == 2 and captured.out == "", captured
    assert captured.err.startswith("error: ") and captured.err.count("\n") == 1, captured.err
    assert message in captured.err and token not in captured.err


def test_the_log_filter_redacts_the_token_in_messages_arguments_and_tracebacks() -> None:
    token = sentinel()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactFilter(Secret(token)))
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    logger = logging.getLogger("tests.reliability.secrets")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("token %s in an argument", token)
        logger.warning(f"token {token} in the message")
        try:
            raise ValueError(f"a library put the token {token} in its error")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)

    shown = stream.getvalue()
    assert "ValueError: a library put the token *** in its error" in shown
    assert shown.count("***") >= 3
    assert token not in shown
