"""Rigs for the reliability tests: the real bot process against the e2e fake Discord, set up the way a test needs.

The fake and the process wrapper come from tests/e2e (imported, never edited). What is added here: starting the
bot with a sources directory and token of the test's choosing (or without waiting for it to connect, when it is
meant to stop), extra roles in the fake's guild, a fake that judges a stalled interaction callback when the stall
ends, a guild command sent from a DM, and the assertions shared by the modules: nothing pings, the log is clean.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from pathlib import Path
from typing import Any

from fake_discord import APPLICATION_COMMAND, FakeDiscord, Interaction, Recorded, Role, User
from harness import REPO, BotProcess, start_bot
from harness import spawn as spawn  # re-exported: tests start processes meant to fail with rigs.spawn

BUNDLED_SOURCES = REPO / "knowledge" / "sources"
MANAGE_GUILD = 1 << 5
MANAGE_MESSAGES = 1 << 13
# What Discord turns into a ping in message content: @everyone, @here, <@id>, <@!id>, <@&id>.
LIVE_MENTION = re.compile(r"@(?:everyone|here)\b|<@[!&]?\d+>")
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (?P<level>[A-Z]+) +(?P<logger>\S+): (?P<message>.*)$")


# -- the bot process -----------------------------------------------------------------------------------------------


async def start(fake: FakeDiscord, directory: Path, sources: Path, **sections: dict[str, Any]) -> BotProcess:
    """spawn(), then wait until the bot has synced its commands and received its guild (or fail with its log)."""
    return await start_bot(fake, directory, sources, **sections)


async def stop(bot: BotProcess) -> None:
    if bot.running:
        await bot.terminate()


def copy_sources(target: Path) -> Path:
    """A writable copy of the bundled sources at target."""
    target.mkdir(parents=True, exist_ok=True)
    for path in BUNDLED_SOURCES.iterdir():
        if path.is_file():
            (target / path.name).write_bytes(path.read_bytes())
    return target


# -- the fake's world ----------------------------------------------------------------------------------------------


def add_role(fake: FakeDiscord, name: str, permissions: int = 0) -> Role:
    """A role in the fake's guild; add roles before the bot starts (its guild cache comes from GUILD_CREATE)."""
    role = Role(fake.snowflake(), name, permissions, position=len(fake.world.roles))
    fake.world.roles.append(role)
    return role


def new_member(fake: FakeDiscord, name: str, *roles: Role) -> User:
    """A guild member with exactly these roles (besides @everyone)."""
    user = fake.world.new_member(name)
    fake.world._member_roles[user.id] = [role.id for role in roles]  # the fake has no public setter for roles
    return user


async def send_guild_command_in_dm(fake: FakeDiscord, path: str, user: User, **options: Any) -> Interaction:
    """A guild command's interaction arriving from a DM: Discord never offers it there, a stale client or a forgery
    could (the tree finds the command by the guild id in its data)."""
    data = fake._command_data(path, options, dm=False)
    return await fake._dispatch_interaction(APPLICATION_COMMAND, data, user, None, dm=True)


class LateDiscord(FakeDiscord):
    """The fake, plus two things for fault tests: the requests it is answering right now (``in_flight``, so that a test
    can wait until a stall has begun), and a stalled interaction callback (``slow(...)``) judged when the stall ends, as
    if Discord got the request only then: past the 3 s window it answers 404 Unknown interaction (10062)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.in_flight: list[Recorded] = []

    async def _answer(self, request: Any, record: Recorded) -> tuple[int, Any, dict[str, str]]:
        self.in_flight.append(record)
        self._notify()
        try:
            return await super()._answer(request, record)
        finally:
            self.in_flight.remove(record)

    def _interaction_callback(self, record: Recorded, interaction_id: str, token: str) -> tuple[int, Any]:
        if record.fault and record.fault.startswith("slow"):
            record.received_at = asyncio.get_running_loop().time()
        return super()._interaction_callback(record, interaction_id, token)


class IdentifyRefusingDiscord(FakeDiscord):
    """The fake, but the gateway closes every IDENTIFY with 4004 (authentication failed) while REST accepts the token:
    the token was reset in the Developer Portal between login and connect."""

    async def _identify(self, ws: Any, data: dict[str, Any]) -> None:
        self.identifies.append(data)
        await ws.close(code=4004, message=b"Authentication failed.")


# -- what users see ------------------------------------------------------------------------------------------------


def assert_nobody_pinged(fake: FakeDiscord) -> int:
    """Every message the bot sent: mentions disabled in its request body and no live mention in what it shows.

    Returns how many message bodies were checked (so that a test can tell it checked something).
    """
    bodies = fake.message_bodies()
    for record, body in bodies:
        allowed = body.get("allowed_mentions")
        assert allowed is not None, f"no allowed_mentions in {record}"
        assert allowed.get("parse") == [], f"{record}: allowed_mentions {allowed}"
        assert not allowed.get("users") and not allowed.get("roles"), f"{record}: allowed_mentions {allowed}"
        assert allowed.get("replied_user", False) is False, f"{record}: allowed_mentions {allowed}"
    for sent in fake.sent:
        assert not LIVE_MENTION.search(sent.text), f"a live mention in what the bot showed: {sent}"
    return len(bodies)


# -- the log -------------------------------------------------------------------------------------------------------


def log_records(bot: BotProcess, since: int = 0) -> list[tuple[str, str, str]]:
    """(level, logger, message) of each log line from line index since (continuation lines are skipped)."""
    records = []
    for line in bot.lines[since:]:
        match = LOG_LINE.match(line)
        if match:
            records.append((match["level"], match["logger"], match["message"]))
    return records


async def wait_for_lines(
    bot: BotProcess, pattern: str, *, since: int, count: int = 1, timeout: float = 10.0
) -> list[str]:
    """The output lines from line index since that match the regex, once there are count of them.

    (BotProcess.wait_for_log returns the first match in the whole log: no good for a second reload.)
    """
    regex = re.compile(pattern)

    def found() -> list[str] | None:
        lines = [line for line in bot.lines[since:] if regex.search(line)]
        return lines if len(lines) >= count else None

    deadline = asyncio.get_running_loop().time() + timeout
    while (lines := found()) is None:
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0 or bot._output_closed:
            raise AssertionError(f"not {count} log lines matching {pattern!r} in {timeout:g} s:\n{bot.log_tail()}")
        bot._new_output.clear()
        if found() is None:  # a line may have come between the check and the clear
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(bot._new_output.wait(), remaining)
    return lines


async def wait_for_line(bot: BotProcess, pattern: str, *, since: int, timeout: float = 10.0) -> str:
    """The first output line from line index since that matches the regex."""
    return (await wait_for_lines(bot, pattern, since=since, timeout=timeout))[0]


def problems(bot: BotProcess, since: int = 0, *, expected: str | None = None) -> list[str]:
    """Log lines at WARNING or above, and any traceback, from line index since; but not those matching the regex
    expected, nor discord.py's start-up notes that voice needs PyNaCl and davey (the bot has no voice)."""
    allowed = re.compile("|".join(p for p in (expected, r"is not installed, voice will NOT be supported") if p))
    found = [line for line in bot.lines[since:] if line.startswith("Traceback")]
    found += [
        f"{level} {logger}: {message}"
        for level, logger, message in log_records(bot, since)
        if level in ("WARNING", "ERROR", "CRITICAL") and not allowed.search(message)
    ]
    return found
