"""The fake itself, checked against discord.py (a small client in this process): what the bot's tests rely on.

Chiefly the fault hooks a reliability test will use (429 with retry_after, 5xx, slow answers, late interaction
callbacks), multipart bodies and token checks.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import discord
import discord.gateway
import discord.http
import pytest
import pytest_asyncio
import yarl
from fake_discord import FakeDiscord, Recorded

MESSAGES = r"^/channels/\d+/messages$"
Handler = Callable[[discord.Message], Awaitable[None]]


class EchoClient(discord.Client):
    """Replies "echo: <content>" to every message that is not its own, or runs a custom handler."""

    def __init__(self, guild_id: int, handler: Handler | None = None) -> None:
        super().__init__(intents=discord.Intents.default(), allowed_mentions=discord.AllowedMentions.none())
        self.tree = discord.app_commands.CommandTree(self)
        self.guild_id = guild_id
        self.handler = handler
        self.errors: asyncio.Queue[discord.HTTPException] = asyncio.Queue()

        @self.tree.command()
        async def ping(interaction: discord.Interaction) -> None:
            """Answer pong."""
            try:
                await interaction.response.send_message("pong")
            except discord.HTTPException as error:
                self.errors.put_nowait(error)

    async def setup_hook(self) -> None:
        guild = discord.Object(self.guild_id)
        self.tree.copy_global_to(guild=guild)
        await self.tree.sync(guild=guild)

    async def on_message(self, message: discord.Message) -> None:
        if message.author.id == self.user.id:
            return
        if self.handler is not None:
            await self.handler(message)
        else:
            await message.reply(f"echo: {message.content}")


@pytest_asyncio.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        monkeypatch.setattr(discord.http.Route, "BASE", server.api_base)
        monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(server.gateway_url))
        yield server


@pytest_asyncio.fixture
async def connect(fake: FakeDiscord) -> AsyncIterator[Callable[..., Awaitable[EchoClient]]]:
    clients: list[tuple[EchoClient, asyncio.Task[None]]] = []

    async def start(handler: Handler | None = None) -> EchoClient:
        client = EchoClient(fake.world.guild_id, handler)
        task = asyncio.create_task(client.start(fake.token))
        clients.append((client, task))
        await fake.wait_for_ready(len(clients))
        return client

    yield start
    for client, task in clients:
        await client.close()
        await asyncio.wait_for(task, 5)


def posts(fake: FakeDiscord) -> list[Recorded]:
    return [r for r in fake.requests if r.method == "POST" and r.path.endswith("/messages")]


async def test_heartbeat_is_acknowledged(fake: FakeDiscord, connect) -> None:
    client = await connect()
    await fake.wait_until(lambda: fake.heartbeats, "a heartbeat")  # discord.py beats once right after HELLO
    question = await fake.send_message(fake.mention_bot("after the ack"))  # ordered after the ACK on the socket

    await fake.wait_for_reply(int(question["id"]))

    assert client.latency < 1.0  # finite only once an ACK has arrived


async def test_rate_limited_post_is_retried_after_retry_after(fake: FakeDiscord, connect) -> None:
    await connect()
    limit = fake.rate_limit(MESSAGES, retry_after_s=0.3, method="POST")
    question = await fake.send_message(fake.mention_bot("hello"))

    reply = await fake.wait_for_reply(int(question["id"]))

    assert reply.content == f"echo: {question['content']}"
    first, second = posts(fake)
    assert (first.status, second.status) == (429, 200)
    assert second.received_at - first.received_at >= 0.3
    assert limit.hits == 1


async def test_server_error_is_retried(fake: FakeDiscord, connect) -> None:
    await connect()
    fake.fail(MESSAGES, 502, method="POST")
    question = await fake.send_message(fake.mention_bot("hello"))

    reply = await fake.wait_for_reply(int(question["id"]))

    assert reply.content == f"echo: {question['content']}"
    assert [r.status for r in posts(fake)] == [502, 200]


async def test_persistent_error_reaches_the_client(fake: FakeDiscord, connect) -> None:
    failures: asyncio.Queue[discord.HTTPException] = asyncio.Queue()

    async def handler(message: discord.Message) -> None:
        try:
            await message.reply("never delivered")
        except discord.HTTPException as error:
            failures.put_nowait(error)

    await connect(handler)
    fake.fail(MESSAGES, 403, method="POST", times=None)
    await fake.send_message("hello")

    error = await asyncio.wait_for(failures.get(), 10)

    assert error.status == 403
    assert [r.status for r in posts(fake)] == [403] and not fake.sent


async def test_slow_route_answers_late_but_answers(fake: FakeDiscord, connect) -> None:
    await connect()
    fake.slow(MESSAGES, 0.4, method="POST")
    question = await fake.send_message(fake.mention_bot("hello"))
    asked_at = asyncio.get_running_loop().time()

    reply = await fake.wait_for_reply(int(question["id"]))

    assert reply.content == f"echo: {question['content']}"
    assert asyncio.get_running_loop().time() - asked_at >= 0.4
    assert posts(fake)[0].fault == "slow 0.4s"


async def test_multipart_body_is_recorded_with_its_files(fake: FakeDiscord, connect) -> None:
    async def handler(message: discord.Message) -> None:
        await message.reply("with a file", file=discord.File(__file__, filename="answer.txt"))

    await connect(handler)
    question = await fake.send_message("hello")

    reply = await fake.wait_for_reply(int(question["id"]))

    assert reply.content == "with a file"
    assert reply.request.files == ["answer.txt"]
    assert reply.allowed_mentions == {"parse": []}


async def test_late_interaction_callback_is_refused(fake: FakeDiscord, connect) -> None:
    client = await connect()
    fake.interaction_deadline_s = 0.0  # every callback is late: Discord has forgotten the interaction

    interaction = await fake.send_command("ping")
    callback = await fake.wait_for_callback(interaction)

    assert callback.status == 404 and callback.response["code"] == 10062
    error = await asyncio.wait_for(client.errors.get(), 10)
    assert error.status == 404 and error.code == 10062
    assert not fake.sent


async def test_wrong_token_is_refused(fake: FakeDiscord) -> None:
    client = discord.Client(intents=discord.Intents.default())
    with pytest.raises(discord.LoginFailure):
        await client.login("not-the-token")
    await client.close()
