"""/kb belongs to the admin servers: not registered in any other, and refused there even when forged.

The bot runs with the fake's guild as an ordinary server and another server as its only admin server
(``discord.admin_guilds``), as when the bot is in a community's server and is run from its maintainers' one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from fake_discord import APPLICATION_COMMAND, EPHEMERAL, SUB_COMMAND, Interaction, User
from harness import Harness, launch

pytestmark = pytest.mark.asyncio(loop_scope="module")

ADMIN_GUILD = 123456789012345678  # a server the fake does not have: the bot cannot sync to it (403), and says so


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def e2e(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Harness]:
    async with launch(tmp_path_factory.mktemp("admin-guilds"), discord={"admin_guilds": [ADMIN_GUILD]}) as harness:
        yield harness


async def forged_kb(e2e: Harness, sub: str, user: User) -> Interaction:
    """/kb <sub> arriving in the fake's guild as if it were registered there (a stale client, or a forgery)."""
    data = {
        "id": str(e2e.fake.snowflake()),
        "name": "kb",
        "type": 1,
        "options": [{"name": sub, "type": SUB_COMMAND, "options": []}],
        "guild_id": str(ADMIN_GUILD),  # where the bot registered /kb
    }
    return await e2e.fake._dispatch_interaction(APPLICATION_COMMAND, data, user, None)


async def test_kb_is_not_registered_in_an_ordinary_server(e2e: Harness) -> None:
    synced = {scope: sorted(c["name"] for c in commands) for scope, commands in e2e.fake.commands.items()}

    assert "kb" not in synced[e2e.fake.world.guild_id] and "ask" in synced[e2e.fake.world.guild_id]
    assert "kb" not in synced.get(None, [])
    with pytest.raises(AssertionError, match="never synced"):
        e2e.fake.find_command("kb")


@pytest.mark.parametrize("sub", ["reload", "status"])
async def test_an_admin_of_another_server_is_refused(e2e: Harness, sub: str) -> None:
    owner = e2e.new_member("other-server-owner", admin=True)  # Administrator and the admin role, in this server
    lines = len(e2e.bot.lines)

    interaction = await forged_kb(e2e, sub, owner)
    answer = await e2e.fake.wait_for_answer(interaction)

    assert answer.flags & EPHEMERAL and answer.content == "Only admins can use this command."
    assert [c.json["type"] for c in interaction.callbacks] == [4]  # refused at once, nothing deferred or reloaded
    assert not [line for line in e2e.bot.lines[lines:] if "reload (" in line or "Traceback" in line]
