"""A fake Discord that knows shards: one gateway session per shard, guild events routed as Discord routes them.

IDENTIFY carries ``shard: [shard_id, shard_count]``; the session gets READY and a GUILD_CREATE for each guild
whose ``(guild_id >> 22) % shard_count`` is its shard id, and every later event of a guild goes to that shard's
session only (DMs to shard 0, as on Discord). A shard_count other than the fake's is refused with close code
4010 (invalid shard). Everything else (REST, the recorded requests, the waits) is FakeDiscord's.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web
from fake_discord import DISCORD_EPOCH_MS, HEARTBEAT_INTERVAL_MS, FakeDiscord, User, World

INVALID_SHARD = 4010


@dataclass
class ShardSession:
    """One shard's gateway session: what it was sent (for RESUME), and its live connection."""

    shard_id: int
    session_id: str
    ws: web.WebSocketResponse | None
    seq: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)


class ShardedDiscord(FakeDiscord):
    """FakeDiscord with shard_count shards and any number of guilds (``add_guild``) of the same bot."""

    def __init__(self, shard_count: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.shard_count = shard_count
        self.worlds: list[World] = [self.world]
        self.sessions: dict[int, ShardSession] = {}
        self.delivered: list[tuple[int, str, str | None]] = []  # (shard id, event, guild id) of every dispatch

    # -- guilds and shards -------------------------------------------------------------------------------------

    def shard_of(self, guild_id: int) -> int:
        """Discord's routing: https://discord.com/developers/docs/topics/gateway#sharding."""
        return (guild_id >> 22) % self.shard_count

    def add_guild(self, shard_id: int) -> World:
        """Another guild of the same bot (own channels, members and roles), whose events go to shard_id."""
        now_ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        timestamp = now_ms + (shard_id - now_ms) % self.shard_count  # (id >> 22) is the timestamp
        world = World(self.snowflake, bot=self.world.bot, guild_id=(timestamp << 22) | (self.snowflake() & 0x3FFFFF))
        world.guild_name = f"guild on shard {shard_id}"
        self.worlds.append(world)
        return world

    def world_of_guild(self, guild_id: int) -> World | None:
        return next((world for world in self.worlds if world.guild_id == guild_id), None)

    def world_of_channel(self, channel_id: int) -> World:
        return next((world for world in self.worlds if channel_id in world.channels), self.world)

    @contextlib.contextmanager
    def acting_in(self, world: World) -> Iterator[None]:
        """FakeDiscord's handlers read self.world: point it at world for one synchronous call."""
        saved, self.world = self.world, world
        try:
            yield
        finally:
            self.world = saved

    @property
    def identified_shards(self) -> list[list[int]]:
        return sorted(identify.get("shard") or [0, 1] for identify in self.identifies)

    # -- the gateway -------------------------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.StreamResponse:
        if self.refuse_gateway:
            return web.Response(status=503, text="gateway unavailable (refused by the test)")
        ws = web.WebSocketResponse(max_msg_size=16 * 1024 * 1024)
        await ws.prepare(request)
        self._ws = ws
        self.connections += 1
        await self._send(ws, {"op": 10, "d": {"heartbeat_interval": HEARTBEAT_INTERVAL_MS}, "s": None, "t": None})
        try:
            async for frame in ws:
                if frame.type is WSMsgType.TEXT:
                    await self._on_shard_message(ws, json.loads(frame.data))
        finally:
            for session in self.sessions.values():
                if session.ws is ws:
                    session.ws = None
            self._notify()
        return ws

    async def _on_shard_message(self, ws: web.WebSocketResponse, message: dict[str, Any]) -> None:
        op, data = message.get("op"), message.get("d")
        if op == 1:  # HEARTBEAT
            self.heartbeats += 1
            await self._send(ws, {"op": 11, "d": None, "s": None, "t": None})
        elif op == 2:  # IDENTIFY
            await self._identify_shard(ws, data)
        elif op == 6:  # RESUME
            await self._resume_shard(ws, data)
        self._notify()

    async def _identify_shard(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> None:
        self.identifies.append(data)
        if data.get("token") != self.token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return
        shard_id, count = data.get("shard") or [0, 1]
        if count != self.shard_count or not 0 <= shard_id < count:
            await ws.close(code=INVALID_SHARD, message=b"Invalid shard.")
            return
        self._intents = int(data.get("intents", 0))
        session = ShardSession(shard_id, secrets.token_hex(16), None)
        self.sessions[shard_id] = session
        guilds = [world for world in self.worlds if self.shard_of(world.guild_id) == shard_id]
        bot = self.world.bot
        ready = {
            "v": 10,
            "user": {**bot.payload(), "verified": True, "mfa_enabled": False, "flags": 0},
            "guilds": [{"id": str(world.guild_id), "unavailable": True} for world in guilds],
            "session_id": session.session_id,
            "session_type": "normal",
            "resume_gateway_url": self.gateway_url,
            "shard": [shard_id, count],
            "application": {"id": str(self.world.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "geo_ordered_rtc_regions": [],
            "guild_join_requests": [],
            "user_settings": {},
        }
        session.ws = ws
        await self._dispatch_on(session, "READY", ready)
        for world in guilds:
            await self._dispatch_on(session, "GUILD_CREATE", world.guild_payload())
        self.ready_count += 1

    async def _resume_shard(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> None:
        self.resumes.append(data)
        session = next((s for s in self.sessions.values() if s.session_id == data.get("session_id")), None)
        if data.get("token") != self.token or session is None:
            await self._send(ws, {"op": 9, "d": False, "s": None, "t": None})  # INVALID_SESSION
            return
        acknowledged = int(data.get("seq") or 0)
        for event in session.history:
            if event["s"] > acknowledged:
                await self._send(ws, event)
        session.ws = ws
        await self._dispatch_on(session, "RESUMED", {})
        self.resumed_count += 1

    async def _dispatch_on(self, session: ShardSession, event: str, data: dict[str, Any]) -> None:
        session.seq += 1
        payload = {"op": 0, "t": event, "s": session.seq, "d": data}
        session.history.append(payload)
        self.delivered.append((session.shard_id, event, data.get("guild_id") if isinstance(data, dict) else None))
        if session.ws is not None and not session.ws.closed:
            await self._send(session.ws, payload)

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send an event to the shard that owns its guild (DMs: shard 0); kept for a RESUME while it is away."""
        guild_id = data.get("guild_id")
        shard_id = self.shard_of(int(guild_id)) if guild_id else 0
        session = self.sessions.get(shard_id)
        if session is None:
            raise RuntimeError(f"cannot dispatch {event}: shard {shard_id} has not identified")
        await self._dispatch_on(session, event, data)

    async def _echo(self, sent: list[Any]) -> None:
        for message in sent:  # the bot's visible messages come back to it, through its guild's shard
            if not message.ephemeral:
                await self.dispatch("MESSAGE_CREATE", message.message)

    async def close(self) -> None:
        for session in self.sessions.values():
            if session.ws is not None and not session.ws.closed:
                await session.ws.close(code=1001)
        await super().close()

    # -- users and the REST routes that read self.world --------------------------------------------------------

    async def send_in(self, world: World, content: str, *, author: User) -> dict[str, Any]:
        """A member of world posts content in its #general."""
        with self.acting_in(world):
            payload = self._message_payload(content, author, world.general)
        self.messages[int(payload["id"])] = payload
        await self.dispatch("MESSAGE_CREATE", payload)
        return payload

    def _post_message(self, record: Any, channel_id: str) -> tuple[int, Any]:
        with self.acting_in(self.world_of_channel(int(channel_id))):
            return super()._post_message(record, channel_id)

    def _put_guild_commands(self, record: Any, app_id: str, guild_id: str) -> tuple[int, Any]:
        with self.acting_in(self.world_of_guild(int(guild_id)) or self.world):
            return super()._put_guild_commands(record, app_id, guild_id)


async def wait_for_shards(fake: ShardedDiscord, count: int, timeout: float) -> None:
    """Until count shards have identified and received their guilds."""
    await fake.wait_until(lambda: fake.ready_count >= count, f"{count} shards ready", timeout)
