"""A fake Discord on 127.0.0.1 for the end-to-end tests: the REST routes discord.py uses plus a gateway websocket.

The fake owns a small world (one guild with an admin and a plain member, two text channels, DM channels made on
demand), records every REST request, keeps the messages the bot posts or edits, and lets a test inject gateway
events (messages, DMs, slash commands, autocomplete, context menus, button clicks) and then await what the bot
did about them. Every wait is bounded and fails with a summary of the latest requests. Faults for reliability
tests: make a route answer 429 (with ``retry_after``) or 5xx, answer slowly, drop or invalidate the gateway.

It speaks Discord's protocol as discord.py 2.7 expects it (see /work/shared/fake_discord/NOTES.md); it never
imports discord, so it also checks the bot from the outside.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import re
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from aiohttp import WSMsgType, web

log = logging.getLogger(__name__)

T = TypeVar("T")

API_PREFIX = "/api/v10"
GATEWAY_PATH = "/gateway"
DEFAULT_TIMEOUT_S = 10.0
INTERACTION_DEADLINE_S = 3.0  # Discord forgets an interaction that is not answered within 3 s
HEARTBEAT_INTERVAL_MS = 41_250
DISCORD_EPOCH_MS = 1_420_070_400_000
JSON_TYPE = "application/json"  # exactly: discord.py only parses JSON when there is no charset suffix

# Permission bits (https://discord.com/developers/docs/topics/permissions).
ADMINISTRATOR = 1 << 3
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
USE_EXTERNAL_EMOJIS = 1 << 18
ADD_REACTIONS = 1 << 6
USE_APPLICATION_COMMANDS = 1 << 31
SEND_MESSAGES_IN_THREADS = 1 << 38
ALL_PERMISSIONS = (1 << 51) - 1
MEMBER_PERMISSIONS = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | ADD_REACTIONS
    | USE_EXTERNAL_EMOJIS
    | USE_APPLICATION_COMMANDS
    | SEND_MESSAGES_IN_THREADS
)

# Gateway intents the fake honours when it delivers messages.
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_DIRECT_MESSAGES = 1 << 12
INTENT_MESSAGE_CONTENT = 1 << 15

# Message flags.
EPHEMERAL = 1 << 6
LOADING = 1 << 7

# Interaction types and callback types.
APPLICATION_COMMAND = 2
MESSAGE_COMPONENT = 3
AUTOCOMPLETE = 4
CALLBACK_MESSAGE = 4
CALLBACK_DEFERRED_MESSAGE = 5
CALLBACK_DEFERRED_UPDATE = 6
CALLBACK_UPDATE_MESSAGE = 7
CALLBACK_AUTOCOMPLETE = 8

# Application command option types.
SUB_COMMAND = 1
SUB_COMMAND_GROUP = 2


class _Snowflakes:
    """Increasing, well-formed snowflakes (their timestamps are now)."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)

    def __call__(self) -> int:
        return ((int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22) | (next(self._counter) & 0x3FFFFF)


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


def _json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    if payload is None:
        return web.Response(status=204, headers=headers)
    return web.Response(
        body=json.dumps(payload).encode(), status=status, headers={"Content-Type": JSON_TYPE, **(headers or {})}
    )


def _error(status: int, message: str, code: int = 0) -> tuple[int, dict[str, Any]]:
    return status, {"message": message, "code": code}


# --------------------------------------------------------------------------------------------------------------
# The world


@dataclass(frozen=True, slots=True)
class User:
    id: int
    name: str
    bot: bool = False

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "username": self.name,
            "global_name": self.name,
            "discriminator": "0",
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
        }


@dataclass(frozen=True, slots=True)
class Role:
    id: int
    name: str
    permissions: int
    position: int = 1

    @property
    def mention(self) -> str:
        return f"<@&{self.id}>"

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "name": self.name,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": False,
            "mentionable": True,
            "flags": 0,
        }


@dataclass(frozen=True, slots=True)
class Channel:
    id: int
    name: str
    guild_id: int | None  # None: a DM channel
    recipient: User | None = None

    @property
    def is_dm(self) -> bool:
        return self.guild_id is None

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    def payload(self) -> dict[str, Any]:
        if self.guild_id is None:
            assert self.recipient is not None
            return {
                "id": str(self.id),
                "type": 1,
                "last_message_id": None,
                "recipients": [self.recipient.payload()],
                "flags": 0,
            }
        return {
            "id": str(self.id),
            "type": 0,
            "guild_id": str(self.guild_id),
            "name": self.name,
            "position": 0,
            "permission_overwrites": [],
            "parent_id": None,
            "nsfw": False,
            "topic": None,
            "rate_limit_per_user": 0,
            "last_message_id": None,
            "flags": 0,
        }


class World:
    """One guild (an admin, a plain member, the bot), two text channels, DM channels on demand."""

    def __init__(self, snowflake: Callable[[], int], *, bot: User | None = None, guild_id: int | None = None) -> None:
        """bot and guild_id: for a second guild of the same bot (tests/e2e/fake_shards.py)."""
        self._snowflake = snowflake
        self.bot = bot or User(snowflake(), "IOM Answers", bot=True)
        self.application_id = self.bot.id  # as on Discord: a bot's user id is its application id
        self.owner = User(snowflake(), "owner")
        self.guild_id = guild_id or snowflake()
        self.guild_name = "IOM study group"
        self.everyone_role = Role(self.guild_id, "@everyone", MEMBER_PERMISSIONS, position=0)
        self.admin_role = Role(snowflake(), "Admins", ADMINISTRATOR, position=2)
        self.bot_role = Role(snowflake(), "IOM Answers", MEMBER_PERMISSIONS, position=1)
        self.roles = [self.everyone_role, self.admin_role, self.bot_role]
        self.admin = User(snowflake(), "ada_admin")
        self.member = User(snowflake(), "max_member")
        self._member_roles: dict[int, list[int]] = {
            self.bot.id: [self.bot_role.id],
            self.admin.id: [self.admin_role.id],
            self.member.id: [],
            self.owner.id: [],
        }
        self.users: dict[int, User] = {u.id: u for u in (self.bot, self.owner, self.admin, self.member)}
        self.general = Channel(snowflake(), "general", self.guild_id)
        self.random = Channel(snowflake(), "random", self.guild_id)
        self.channels: dict[int, Channel] = {c.id: c for c in (self.general, self.random)}
        self._dms: dict[int, Channel] = {}

    def new_member(self, name: str, *, admin: bool = False) -> User:
        """Add a guild member (a fresh user id: independent of other tests' cooldowns)."""
        user = User(self._snowflake(), name)
        self.users[user.id] = user
        self._member_roles[user.id] = [self.admin_role.id] if admin else []
        return user

    def new_channel(self, name: str) -> Channel:
        channel = Channel(self._snowflake(), name, self.guild_id)
        self.channels[channel.id] = channel
        return channel

    def dm_channel(self, user: User) -> Channel:
        if user.id not in self._dms:
            channel = Channel(self._snowflake(), f"dm-{user.name}", None, recipient=user)
            self._dms[user.id] = channel
            self.channels[channel.id] = channel
        return self._dms[user.id]

    def is_member(self, user: User) -> bool:
        return user.id in self._member_roles

    def role_ids(self, user: User) -> list[int]:
        return self._member_roles.get(user.id, [])

    def permissions(self, user: User) -> int:
        """What Discord sends as ``member.permissions``: all bits for an administrator."""
        value = self.everyone_role.permissions
        for role in self.roles:
            if role.id in self.role_ids(user):
                value |= role.permissions
        return ALL_PERMISSIONS if value & ADMINISTRATOR else value

    def member_payload(self, user: User, *, with_user: bool = True, permissions: bool = False) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "roles": [str(r) for r in self.role_ids(user)],
            "nick": None,
            "avatar": None,
            "joined_at": "2024-01-01T00:00:00+00:00",
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
        }
        if with_user:
            payload["user"] = user.payload()
        if permissions:
            payload["permissions"] = str(self.permissions(user))
        return payload

    def guild_payload(self) -> dict[str, Any]:
        members = [u for u in self.users.values() if self.is_member(u)]
        return {
            "id": str(self.guild_id),
            "name": self.guild_name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner.id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "preferred_locale": "en-US",
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "vanity_url_code": None,
            "features": [],
            "roles": [r.payload() for r in self.roles],
            "emojis": [],
            "stickers": [],
            "channels": [c.payload() for c in self.channels.values() if not c.is_dm],
            "threads": [],
            "members": [self.member_payload(u) for u in members],
            "member_count": len(members),
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "large": False,
            "unavailable": False,
            "joined_at": "2024-01-01T00:00:00+00:00",
        }


# --------------------------------------------------------------------------------------------------------------
# What the fake records


@dataclass(slots=True)
class Recorded:
    """One REST request as the fake received it (the JSON body, or a multipart request's payload_json)."""

    seq: int
    method: str
    path: str  # without the /api/v10 prefix
    query: dict[str, str]
    json: Any
    files: list[str]
    received_at: float  # loop time
    status: int = 0
    response: Any = None
    fault: str | None = None
    sent: list[Sent] = field(default_factory=list)  # the messages this request made or changed
    interaction: Interaction | None = None  # the interaction this request is a callback to

    def __str__(self) -> str:
        body = json.dumps(self.json)[:300] if self.json is not None else ""
        fault = f" [{self.fault}]" if self.fault else ""
        return f"#{self.seq} {self.method} {self.path} -> {self.status}{fault} {body}"


@dataclass(slots=True)
class Sent:
    """A message the bot made visible or changed: a channel post, an interaction response, a follow-up, an edit."""

    kind: str  # "message" | "response" | "followup" | "edit"
    message: dict[str, Any]  # the message as a user now sees it (a snapshot)
    request: Recorded
    body: dict[str, Any]  # the message part of the request body
    interaction_id: int | None = None
    reply_to: int | None = None

    @property
    def id(self) -> int:
        return int(self.message["id"])

    @property
    def channel_id(self) -> int:
        return int(self.message["channel_id"])

    @property
    def content(self) -> str:
        return self.message.get("content") or ""

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return self.message.get("embeds") or []

    @property
    def flags(self) -> int:
        return int(self.message.get("flags") or 0)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def loading(self) -> bool:
        return bool(self.flags & LOADING)

    @property
    def allowed_mentions(self) -> dict[str, Any] | None:
        return self.body.get("allowed_mentions")

    @property
    def components(self) -> list[dict[str, Any]]:
        """Every interactive component (buttons, selects), flattened out of their rows."""
        return interactive_components(self.message)

    @property
    def buttons(self) -> list[dict[str, Any]]:
        return [c for c in self.components if c.get("type") == 2]

    @property
    def text(self) -> str:
        """Everything a user reads in the message: content, then each embed's text, in display order."""
        parts = [self.content]
        for embed in self.embeds:
            parts.append((embed.get("author") or {}).get("name", ""))
            parts.append(embed.get("title", ""))
            parts.append(embed.get("description", ""))
            for embed_field in embed.get("fields") or []:
                parts.append(embed_field.get("name", ""))
                parts.append(embed_field.get("value", ""))
            parts.append((embed.get("footer") or {}).get("text", ""))
        return "\n".join(p for p in parts if p)

    def __str__(self) -> str:
        return f"<Sent {self.kind} id={self.id} flags={self.flags} text={self.text[:200]!r}>"


def interactive_components(message: dict[str, Any]) -> list[dict[str, Any]]:
    """A message's buttons and selects, in display order, out of their rows (and containers and sections)."""
    found: list[dict[str, Any]] = []
    stack = list(message.get("components") or [])
    while stack:
        component = stack.pop(0)
        if component.get("type") in (1, 9, 17):  # action row, section, container
            stack[:0] = [*([component["accessory"]] if component.get("accessory") else []), *component["components"]]
        else:
            found.append(component)
    return found


@dataclass(slots=True)
class Interaction:
    """An interaction the fake dispatched, and what the bot answered to it."""

    id: int
    token: str
    type: int
    payload: dict[str, Any]
    dispatched_at: float  # loop time
    message_id: int | None = None  # for a component: the message it was attached to
    callbacks: list[Recorded] = field(default_factory=list)  # answered callbacks, in order
    acknowledged: bool = False  # a callback has succeeded: another one is refused, follow-ups are allowed
    original_id: int | None = None  # the response message, once there is one


@dataclass(slots=True)
class Fault:
    """Make matching requests fail or stall: ``times`` requests (None: until removed)."""

    path: re.Pattern[str]
    method: str | None
    status: int | None  # None: answer normally (after ``delay_s``)
    delay_s: float = 0.0
    retry_after_s: float = 0.0
    is_global: bool = False
    times: int | None = 1
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        return (self.method is None or self.method == method) and bool(self.path.search(path))


# --------------------------------------------------------------------------------------------------------------
# The server


class FakeDiscord:
    """The fake: start(), point discord.py at ``api_base`` and ``gateway_url``, inject events, await replies."""

    def __init__(self, *, token: str = "e2e-token", interaction_deadline_s: float = INTERACTION_DEADLINE_S) -> None:
        self.token = token
        self.interaction_deadline_s = interaction_deadline_s
        self.snowflake = _Snowflakes()
        self.world = World(self.snowflake)
        self.requests: list[Recorded] = []
        self.sent: list[Sent] = []
        self.messages: dict[int, dict[str, Any]] = {}  # every message, the users' and the bot's, by id
        self.interactions: dict[int, Interaction] = {}
        self.commands: dict[int | None, list[dict[str, Any]]] = {}  # guild id (None: global) -> synced commands
        self.faults: list[Fault] = []
        self.identifies: list[dict[str, Any]] = []
        self.resumes: list[dict[str, Any]] = []
        self.presence_updates: list[dict[str, Any]] = []
        self.ready_count = 0  # GUILD_CREATEs sent after an IDENTIFY
        self.resumed_count = 0
        self.connections = 0
        self.connections_refused = 0
        self.heartbeats = 0
        self._ws: web.WebSocketResponse | None = None
        self._ws_lock = asyncio.Lock()
        self._live: web.WebSocketResponse | None = None  # the connection that identified or resumed: gets dispatches
        self._session_lock = asyncio.Lock()  # dispatches wait for an IDENTIFY or RESUME handshake in progress
        self._session_id: str | None = None
        self._seq = 0
        self._history: list[dict[str, Any]] = []  # dispatches of this session, for RESUME replays
        self._intents = 0
        self._echoed: set[int] = set()  # ids of the bot's messages already sent to it as MESSAGE_CREATE
        self._waiters: list[tuple[Callable[[], Any], asyncio.Future[Any]]] = []
        self._request_seq = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.port = 0  # set it before start() to listen on a chosen port (a test that starts the fake late)
        self.refuse_gateway = False  # True: the gateway answers 503 instead of a websocket (Discord unreachable)

    # -- lifecycle ---------------------------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get(GATEWAY_PATH, self._gateway)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        log.info("fake Discord listening on %s", self.base_url)

    async def close(self) -> None:
        if self._ws is not None and not self._ws.closed:
            await self._ws.close(code=1001)
        if self._runner is not None:
            await self._runner.cleanup()
        for _, future in self._waiters:
            if not future.done():
                future.cancel()

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        """What discord.http.Route.BASE must be."""
        return self.base_url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        """What discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY must be."""
        return f"ws://127.0.0.1:{self.port}{GATEWAY_PATH}"

    @property
    def connected(self) -> bool:
        return self._ws is not None and not self._ws.closed

    # -- waiting -----------------------------------------------------------------------------------------------

    def _notify(self) -> None:
        for lookup, future in list(self._waiters):
            if future.done():
                continue
            try:
                value = lookup()
            except Exception as exc:  # a broken predicate fails its waiter, not the server
                future.set_exception(exc)
                continue
            if value:
                future.set_result(value)

    async def wait_until(self, lookup: Callable[[], T | None], what: str, timeout: float = DEFAULT_TIMEOUT_S) -> T:
        """Await until lookup() returns something truthy (and return it); fail with context after timeout seconds."""
        value = lookup()
        if value:
            return value
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        entry = (lookup, future)
        self._waiters.append(entry)
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise AssertionError(f"timed out after {timeout:.1f}s waiting for {what}\n{self.summary()}") from None
        finally:
            self._waiters.remove(entry)

    def summary(self, last: int = 25) -> str:
        lines = [f"fake Discord: {len(self.requests)} requests, gateway connected={self.connected}; latest:"]
        lines += [f"  {r}" for r in self.requests[-last:]]
        return "\n".join(lines)

    async def wait_for_request(
        self,
        predicate: Callable[[Recorded], bool],
        what: str = "a matching request",
        timeout: float = DEFAULT_TIMEOUT_S,
        since: int = 0,
    ) -> Recorded:
        """The first recorded request (from index ``since``) for which predicate is true."""
        return await self.wait_until(
            lambda: next((r for r in self.requests[since:] if predicate(r)), None), what, timeout
        )

    async def wait_for_ready(self, count: int = 1, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        """Until the bot has identified ``count`` times and received its guild."""
        await self.wait_until(lambda: self.ready_count >= count, f"gateway ready #{count}", timeout)

    async def wait_for_commands(self, guild_id: int | None = None, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        """Until the bot has synced its commands (to guild_id, None: globally)."""
        where = "globally" if guild_id is None else f"to guild {guild_id}"
        await self.wait_until(lambda: guild_id in self.commands, f"commands synced {where}", timeout)

    async def wait_for_resume(self, count: int = 1, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        await self.wait_until(lambda: self.resumed_count >= count, f"gateway RESUMED #{count}", timeout)

    async def wait_for_sent(
        self,
        predicate: Callable[[Sent], bool],
        what: str = "a message from the bot",
        timeout: float = DEFAULT_TIMEOUT_S,
    ) -> Sent:
        return await self.wait_until(lambda: next((s for s in self.sent if predicate(s)), None), what, timeout)

    async def wait_for_reply(self, message_id: int, timeout: float = DEFAULT_TIMEOUT_S) -> Sent:
        """The bot's reply to message_id: a message that references it."""
        return await self.wait_for_sent(
            lambda s: s.kind == "message" and s.reply_to == message_id, f"a reply to message {message_id}", timeout
        )

    async def wait_for_message_in(self, channel_id: int, since: int = 0, timeout: float = DEFAULT_TIMEOUT_S) -> Sent:
        """The first message the bot posts in channel_id (from self.sent[since:])."""
        return await self.wait_until(
            lambda: next((s for s in self.sent[since:] if s.kind == "message" and s.channel_id == channel_id), None),
            f"a message in channel {channel_id}",
            timeout,
        )

    async def wait_for_callback(self, interaction: Interaction, timeout: float = DEFAULT_TIMEOUT_S) -> Recorded:
        """The bot's (first) callback to an interaction, whatever the fake answered it."""
        return await self.wait_until(
            lambda: interaction.callbacks[0] if interaction.callbacks else None,
            f"a callback to interaction {interaction.id} ({_describe(interaction)})",
            timeout,
        )

    async def wait_for_answer(self, interaction: Interaction, timeout: float = DEFAULT_TIMEOUT_S) -> Sent:
        """The first message a user sees for an interaction: a response, or a deferral's follow-up or edit."""
        return await self.wait_for_sent(
            lambda s: s.interaction_id == interaction.id and not s.loading,
            f"an answer to interaction {interaction.id} ({_describe(interaction)})",
            timeout,
        )

    async def wait_for_choices(self, interaction: Interaction, timeout: float = DEFAULT_TIMEOUT_S) -> list[Any]:
        """An autocomplete interaction's choices."""
        callback = await self.wait_for_callback(interaction, timeout)
        assert callback.json["type"] == CALLBACK_AUTOCOMPLETE, f"not an autocomplete result: {callback}"
        return callback.json["data"]["choices"]

    # -- faults (for reliability tests) ------------------------------------------------------------------------

    def fail(self, path: str, status: int = 500, *, method: str | None = None, times: int | None = 1) -> Fault:
        """Answer requests whose path matches the regex ``path`` with an error status."""
        return self._add_fault(Fault(re.compile(path), method, status, times=times))

    def rate_limit(
        self,
        path: str,
        retry_after_s: float = 0.2,
        *,
        method: str | None = None,
        times: int | None = 1,
        is_global: bool = False,
    ) -> Fault:
        """Answer matching requests with 429 and ``retry_after`` (discord.py waits, then retries)."""
        fault = Fault(re.compile(path), method, 429, retry_after_s=retry_after_s, is_global=is_global, times=times)
        return self._add_fault(fault)

    def slow(self, path: str, delay_s: float, *, method: str | None = None, times: int | None = None) -> Fault:
        """Answer matching requests normally, but only after delay_s seconds."""
        return self._add_fault(Fault(re.compile(path), method, None, delay_s=delay_s, times=times))

    def _add_fault(self, fault: Fault) -> Fault:
        self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        self.faults.clear()

    # -- the gateway -------------------------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.StreamResponse:
        if self.refuse_gateway:
            self.connections_refused += 1
            self._notify()
            return web.Response(status=503, text="gateway unavailable (refused by the test)")
        ws = web.WebSocketResponse(max_msg_size=16 * 1024 * 1024)
        await ws.prepare(request)
        previous, self._ws = self._ws, ws
        self._live = None  # until this connection identifies or resumes
        self.connections += 1
        if previous is not None and not previous.closed:
            await previous.close(code=4000)
        await self._send(ws, {"op": 10, "d": {"heartbeat_interval": HEARTBEAT_INTERVAL_MS}, "s": None, "t": None})
        try:
            async for frame in ws:
                if frame.type is WSMsgType.TEXT:
                    await self._on_gateway_message(ws, json.loads(frame.data))
                elif frame.type is WSMsgType.ERROR:
                    log.warning("gateway error: %s", ws.exception())
        finally:
            if self._ws is ws:
                self._ws = None
            self._notify()
        return ws

    async def _send(self, ws: web.WebSocketResponse, payload: dict[str, Any]) -> None:
        async with self._ws_lock:
            if not ws.closed:
                await ws.send_str(json.dumps(payload))

    async def _on_gateway_message(self, ws: web.WebSocketResponse, message: dict[str, Any]) -> None:
        op, data = message.get("op"), message.get("d")
        if op == 1:  # HEARTBEAT
            self.heartbeats += 1
            await self._send(ws, {"op": 11, "d": None, "s": None, "t": None})
        elif op == 2:  # IDENTIFY
            await self._identify(ws, data)
        elif op == 6:  # RESUME
            await self._resume(ws, data)
        elif op == 3:  # PRESENCE_UPDATE
            self.presence_updates.append(data)
        elif op == 8:  # REQUEST_GUILD_MEMBERS
            members = [self.world.member_payload(u) for u in self.world.users.values() if self.world.is_member(u)]
            chunk = {
                "guild_id": str(self.world.guild_id),
                "members": members,
                "chunk_index": 0,
                "chunk_count": 1,
                "not_found": [],
                "nonce": data.get("nonce"),
            }
            await self._dispatch_to(ws, "GUILD_MEMBERS_CHUNK", chunk)
        else:
            log.info("gateway: ignoring op %s", op)
        self._notify()

    async def _identify(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> None:
        self.identifies.append(data)
        if data.get("token") != self.token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return
        async with self._session_lock:
            await self._start_session(ws, data)

    async def _start_session(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> None:
        self._intents = int(data.get("intents", 0))
        self._session_id = secrets.token_hex(16)
        self._seq = 0
        self._history = []
        world = self.world
        ready = {
            "v": 10,
            "user": {**world.bot.payload(), "verified": True, "mfa_enabled": False, "flags": 0},
            "guilds": [{"id": str(world.guild_id), "unavailable": True}],
            "session_id": self._session_id,
            "session_type": "normal",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(world.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "geo_ordered_rtc_regions": [],
            "guild_join_requests": [],
            "user_settings": {},
        }
        await self._dispatch_to(ws, "READY", ready)
        await self._dispatch_to(ws, "GUILD_CREATE", world.guild_payload())
        self._live = ws
        self.ready_count += 1

    async def _resume(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> None:
        self.resumes.append(data)
        if data.get("token") != self.token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return
        if data.get("session_id") != self._session_id:
            await self._send(ws, {"op": 9, "d": False, "s": None, "t": None})  # INVALID_SESSION, not resumable
            return
        acknowledged = int(data.get("seq") or 0)
        async with self._session_lock:
            for event in self._history:  # what the bot missed while it was away
                if event["s"] > acknowledged:
                    await self._send(ws, event)
            await self._dispatch_to(ws, "RESUMED", {})
            self._live = ws
        self.resumed_count += 1

    async def _dispatch_to(self, ws: web.WebSocketResponse | None, event: str, data: dict[str, Any]) -> None:
        self._seq += 1
        payload = {"op": 0, "t": event, "s": self._seq, "d": data}
        self._history.append(payload)
        if ws is not None:
            await self._send(ws, payload)

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a dispatch event; while the bot is away it is kept and replayed when the bot resumes."""
        if self._session_id is None:
            raise RuntimeError(f"cannot dispatch {event}: the bot has not identified yet")
        async with self._session_lock:
            live = self._live if self._live is not None and not self._live.closed else None
            await self._dispatch_to(live, event, data)

    async def drop_gateway(self, code: int = 4000) -> None:
        """Close the bot's gateway connection (4000: discord.py reconnects and RESUMEs)."""
        ws = self._ws
        assert ws is not None, "the bot is not connected to the gateway"
        await ws.close(code=code, message=b"dropped by the test")

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT: discord.py closes and RESUMEs."""
        assert self._ws is not None, "the bot is not connected to the gateway"
        await self._send(self._ws, {"op": 7, "d": None, "s": None, "t": None})

    async def invalidate_session(self, resumable: bool = False) -> None:
        """Send op 9 INVALID_SESSION: a non-resumable one makes discord.py IDENTIFY again."""
        assert self._ws is not None, "the bot is not connected to the gateway"
        await self._send(self._ws, {"op": 9, "d": resumable, "s": None, "t": None})

    # -- injecting what users do -------------------------------------------------------------------------------

    def mention_bot(self, text: str = "") -> str:
        return f"{self.world.bot.mention} {text}".rstrip() if text else self.world.bot.mention

    def _message_payload(self, content: str, author: User, channel: Channel) -> dict[str, Any]:
        world = self.world
        user_ids = {int(m) for m in re.findall(r"<@!?(\d+)>", content)}
        role_ids = {int(m) for m in re.findall(r"<@&(\d+)>", content)}
        mentions = []
        for user_id in sorted(user_ids):
            user = world.users.get(user_id)
            if user is None:
                continue
            mentioned = user.payload()
            if not channel.is_dm and world.is_member(user):
                mentioned["member"] = world.member_payload(user, with_user=False)
            mentions.append(mentioned)
        payload: dict[str, Any] = {
            "id": str(self.snowflake()),
            "channel_id": str(channel.id),
            "author": author.payload(),
            "content": content,
            "timestamp": _now_iso(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": "@everyone" in content or "@here" in content,
            "mentions": mentions,
            "mention_roles": [str(r) for r in sorted(role_ids)],
            "mention_channels": [],
            "attachments": [],
            "embeds": [],
            "components": [],
            "reactions": [],
            "pinned": False,
            "type": 0,
            "flags": 0,
            "nonce": str(self.snowflake()),
        }
        if not channel.is_dm:
            payload["guild_id"] = str(world.guild_id)
            payload["member"] = world.member_payload(author, with_user=False)
        return payload

    async def send_message(
        self, content: str, *, author: User | None = None, channel: Channel | None = None
    ) -> dict[str, Any]:
        """A user posts content in a guild channel (default: the plain member in #general); returns the message.

        Mentions (<@id>, <@&id>, @everyone, @here) are resolved from the content, as Discord does. Without the
        message-content intent the bot gets an empty content unless the message mentions it, as on Discord.
        """
        author = author or self.world.member
        channel = channel or self.world.general
        payload = self._message_payload(content, author, channel)
        self.messages[int(payload["id"])] = payload
        if self._intents and not self._intents & INTENT_GUILD_MESSAGES:
            return payload  # the bot did not ask for guild messages: it never sees this one
        delivered = payload
        mentions_bot = any(int(m["id"]) == self.world.bot.id for m in payload["mentions"])
        if self._intents and not self._intents & INTENT_MESSAGE_CONTENT and not mentions_bot:
            delivered = {**payload, "content": "", "embeds": [], "attachments": [], "components": []}
        await self.dispatch("MESSAGE_CREATE", delivered)
        return payload

    async def send_dm(self, content: str, *, author: User | None = None) -> dict[str, Any]:
        """A user sends the bot a direct message; returns the message."""
        author = author or self.world.member
        payload = self._message_payload(content, author, self.world.dm_channel(author))
        self.messages[int(payload["id"])] = payload
        if self._intents and not self._intents & INTENT_DIRECT_MESSAGES:
            return payload
        await self.dispatch("MESSAGE_CREATE", payload)
        return payload

    def _interaction_payload(
        self, type_: int, data: dict[str, Any], user: User, channel: Channel
    ) -> tuple[int, str, dict[str, Any]]:
        world = self.world
        interaction_id = self.snowflake()
        token = f"tok.{interaction_id}.{secrets.token_urlsafe(12)}"
        channel_payload = channel.payload()
        payload: dict[str, Any] = {
            "id": str(interaction_id),
            "application_id": str(world.application_id),
            "type": type_,
            "data": data,
            "token": token,
            "version": 1,
            "attachment_size_limit": 10 * 1024 * 1024,
            "locale": "en-US",
            "entitlements": [],
            "app_permissions": str(world.permissions(world.bot)),
            "channel_id": str(channel.id),
            "channel": channel_payload,
        }
        if channel.is_dm:
            payload["user"] = user.payload()
            payload["context"] = 1  # bot DM
            payload["authorizing_integration_owners"] = {"0": "0"}
        else:
            payload["guild_id"] = str(world.guild_id)
            payload["guild_locale"] = "en-US"
            payload["guild"] = {"id": str(world.guild_id), "locale": "en-US", "features": []}
            payload["member"] = world.member_payload(user, permissions=True)
            payload["context"] = 0  # guild
            payload["authorizing_integration_owners"] = {"0": str(world.guild_id)}
            channel_payload["permissions"] = str(world.permissions(user))
        return interaction_id, token, payload

    async def _dispatch_interaction(
        self,
        type_: int,
        data: dict[str, Any],
        user: User | None,
        channel: Channel | None,
        *,
        dm: bool = False,
        message_id: int | None = None,
    ) -> Interaction:
        user = user or self.world.member
        if channel is None:
            channel = self.world.dm_channel(user) if dm else self.world.general
        interaction_id, token, payload = self._interaction_payload(type_, data, user, channel)
        if message_id is not None:
            payload["message"] = self.messages[message_id]
        interaction = Interaction(
            interaction_id, token, type_, payload, asyncio.get_running_loop().time(), message_id=message_id
        )
        self.interactions[interaction_id] = interaction
        await self.dispatch("INTERACTION_CREATE", payload)
        return interaction

    def find_command(self, name: str, type_: int = 1, *, dm: bool = False) -> tuple[int | None, dict[str, Any]]:
        """A synced command by top-level name: (the guild it was synced to, None: global; its definition)."""
        scopes: list[int | None] = [None] if dm else [self.world.guild_id, None]
        for scope in scopes:
            for command in self.commands.get(scope, []):
                if command["name"] == name and command.get("type", 1) == type_:
                    return scope, command
        synced = {scope: [c["name"] for c in commands] for scope, commands in self.commands.items()}
        raise AssertionError(f"command {name!r} (type {type_}) was never synced; synced: {synced}")

    def _command_data(
        self, path: str, options: dict[str, Any], *, dm: bool, focused: str | None = None
    ) -> dict[str, Any]:
        names = path.split()
        scope, command = self.find_command(names[0], dm=dm)
        definition = command
        nest: list[dict[str, Any]] = []
        for name in names[1:]:
            sub = next((o for o in definition.get("options", []) if o["name"] == name), None)
            assert sub is not None and sub["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP), (
                f"/{path}: {name!r} is not a subcommand of {definition['name']!r}"
            )
            nest.append({"name": name, "type": sub["type"], "options": []})
            definition = sub
        known = {o["name"]: o for o in definition.get("options", [])}
        leaf_options = []
        for name, value in options.items():
            assert name in known, f"/{path} has no option {name!r}; it has {sorted(known)}"
            option: dict[str, Any] = {"name": name, "type": known[name]["type"], "value": value}
            if name == focused:
                option["focused"] = True
            leaf_options.append(option)
        if nest:
            for outer, inner in itertools.pairwise(nest):
                outer["options"] = [inner]
            nest[-1]["options"] = leaf_options
            top_options = [nest[0]]
        else:
            top_options = leaf_options
        data: dict[str, Any] = {"id": command["id"], "name": names[0], "type": 1, "options": top_options}
        if scope is not None:
            data["guild_id"] = str(scope)
        return data

    async def send_command(
        self,
        path: str,
        *,
        user: User | None = None,
        channel: Channel | None = None,
        dm: bool = False,
        **options: Any,
    ) -> Interaction:
        """A user runs a slash command: ``send_command("kb reload")``, ``send_command("ask", question="...")``.

        Option names and types come from the commands the bot synced: a test cannot call what the bot never
        registered.
        """
        return await self._dispatch_interaction(
            APPLICATION_COMMAND, self._command_data(path, options, dm=dm), user, channel, dm=dm
        )

    async def send_autocomplete(
        self,
        path: str,
        focused: str,
        value: str,
        *,
        user: User | None = None,
        channel: Channel | None = None,
        dm: bool = False,
        **other_options: Any,
    ) -> Interaction:
        """A user types ``value`` into option ``focused`` of /path (Discord sends the partial text as a string)."""
        data = self._command_data(path, {**other_options, focused: value}, dm=dm, focused=focused)
        return await self._dispatch_interaction(AUTOCOMPLETE, data, user, channel, dm=dm)

    async def send_message_command(
        self, name: str, target: dict[str, Any], *, user: User | None = None, channel: Channel | None = None
    ) -> Interaction:
        """A user picks the message context menu ``name`` (Apps > name) on the message target."""
        scope, command = self.find_command(name, 3)
        data: dict[str, Any] = {
            "id": command["id"],
            "name": name,
            "type": 3,
            "target_id": target["id"],
            "resolved": {"messages": {target["id"]: target}},
        }
        if scope is not None:
            data["guild_id"] = str(scope)
        channel = channel or self.world.channels[int(target["channel_id"])]
        return await self._dispatch_interaction(APPLICATION_COMMAND, data, user, channel)

    async def click(
        self,
        message: Sent | dict[str, Any],
        label: str | None = None,
        *,
        custom_id: str | None = None,
        user: User | None = None,
    ) -> Interaction:
        """A user clicks the button with ``label`` (or ``custom_id``) on a message the bot sent."""
        message_id = message.id if isinstance(message, Sent) else int(message["id"])
        buttons = [c for c in interactive_components(self.messages[message_id]) if c.get("type") == 2]
        button = next(
            (
                b
                for b in buttons
                if (label is None or b.get("label") == label) and (custom_id is None or b.get("custom_id") == custom_id)
            ),
            None,
        )
        labels = [(b.get("label"), b.get("custom_id")) for b in buttons]
        assert button is not None, f"no button label={label!r} custom_id={custom_id!r} on {message_id}: {labels}"
        assert "custom_id" in button, f"button {button} is a link, it cannot be clicked"
        assert not button.get("disabled"), f"button {label or custom_id!r} is disabled"
        channel = self.world.channels[int(self.messages[message_id]["channel_id"])]
        data = {"custom_id": button["custom_id"], "component_type": 2}
        return await self._dispatch_interaction(
            MESSAGE_COMPONENT, data, user, channel, dm=channel.is_dm, message_id=message_id
        )

    async def choose(
        self, message: Sent | dict[str, Any], values: list[str], *, user: User | None = None
    ) -> Interaction:
        """A user picks values in the (first) string select of a message the bot sent."""
        message_id = message.id if isinstance(message, Sent) else int(message["id"])
        selects = [c for c in interactive_components(self.messages[message_id]) if c.get("type") == 3]
        assert selects, f"no select on message {message_id}"
        offered = [option["value"] for option in selects[0].get("options") or []]
        assert set(values) <= set(offered), f"{values} not among the options {offered}"
        channel = self.world.channels[int(self.messages[message_id]["channel_id"])]
        data = {"custom_id": selects[0]["custom_id"], "component_type": 3, "values": values}
        return await self._dispatch_interaction(
            MESSAGE_COMPONENT, data, user, channel, dm=channel.is_dm, message_id=message_id
        )

    # -- REST --------------------------------------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.Response:
        received_at = asyncio.get_running_loop().time()
        path = "/" + request.match_info["tail"]
        body, files = await _read_body(request)
        record = Recorded(next(self._request_seq), request.method, path, dict(request.query), body, files, received_at)
        status, payload, headers = await self._answer(request, record)
        record.status, record.response = status, payload
        response = _json_response(payload, status, headers)
        try:
            await response.prepare(request)
            await response.write_eof()
        except ConnectionResetError:  # the bot went away (killed, or it gave up on a slow answer)
            record.fault = f"{record.fault or ''} client gone".strip()
        # Only now may a test see the request: the bot has its answer on the wire (a user never sees a message
        # before Discord has confirmed it to the bot).
        self.requests.append(record)
        self.sent.extend(record.sent)
        if record.interaction is not None:
            record.interaction.callbacks.append(record)
        self._notify()
        await self._echo(record.sent)
        return response

    async def _echo(self, sent: list[Sent]) -> None:
        """As Discord does, tell the bot about its own visible messages (a bot that answers itself would loop)."""
        for message in sent:
            if message.ephemeral or self._session_id is None:
                continue
            event = "MESSAGE_UPDATE" if message.id in self._echoed else "MESSAGE_CREATE"
            self._echoed.add(message.id)
            await self.dispatch(event, message.message)

    async def _answer(self, request: web.Request, record: Recorded) -> tuple[int, Any, dict[str, str]]:
        for fault in self.faults:
            if fault.matches(record.method, record.path):
                fault.hits += 1
                if fault.delay_s:
                    record.fault = f"slow {fault.delay_s}s"
                    await asyncio.sleep(fault.delay_s)  # the fake answering slowly, not a test waiting
                if fault.status == 429:
                    record.fault = f"429 retry_after={fault.retry_after_s}"
                    body = {"message": "You are being rate limited.", "retry_after": fault.retry_after_s}
                    body["global"] = fault.is_global
                    headers = {"Via": "1.1 google", "Retry-After": str(fault.retry_after_s)}
                    headers["X-RateLimit-Scope"] = "global" if fault.is_global else "user"
                    return 429, body, headers
                if fault.status is not None:
                    record.fault = f"status {fault.status}"
                    return fault.status, {"message": f"{fault.status}: injected by the test", "code": 0}, {}
                break
        unauthenticated = record.path.startswith(("/interactions/", "/webhooks/"))
        if not unauthenticated and request.headers.get("Authorization") != f"Bot {self.token}":
            return (*_error(401, "401: Unauthorized"), {})
        for method, pattern, handler in self._routes():
            if method != record.method:
                continue
            match = pattern.fullmatch(record.path)
            if match:
                status, payload = handler(record, *match.groups())
                return status, payload, {}
        log.warning("fake Discord has no route for %s %s", record.method, record.path)
        return (*_error(404, f"404: the fake has no route for {record.method} {record.path}"), {})

    def _routes(self) -> Iterable[tuple[str, re.Pattern[str], Callable[..., tuple[int, Any]]]]:
        snowflake = r"(\d+)"
        token = r"([^/]+)"
        table = [
            ("GET", r"/users/@me", self._get_me),
            ("GET", r"/oauth2/applications/@me", self._get_application),
            ("GET", r"/applications/@me", self._get_application),
            ("GET", r"/gateway", self._get_gateway),
            ("GET", r"/gateway/bot", self._get_gateway),
            ("PUT", rf"/applications/{snowflake}/commands", self._put_global_commands),
            ("GET", rf"/applications/{snowflake}/commands", self._get_global_commands),
            ("PUT", rf"/applications/{snowflake}/guilds/{snowflake}/commands", self._put_guild_commands),
            ("GET", rf"/applications/{snowflake}/guilds/{snowflake}/commands", self._get_guild_commands),
            ("POST", rf"/channels/{snowflake}/messages", self._post_message),
            ("GET", rf"/channels/{snowflake}/messages/{snowflake}", self._get_message),
            ("PATCH", rf"/channels/{snowflake}/messages/{snowflake}", self._patch_message),
            ("DELETE", rf"/channels/{snowflake}/messages/{snowflake}", self._delete_message),
            ("PUT", rf"/channels/{snowflake}/messages/{snowflake}/reactions/{token}/@me", self._no_content),
            ("DELETE", rf"/channels/{snowflake}/messages/{snowflake}/reactions/{token}/@me", self._no_content),
            ("POST", rf"/channels/{snowflake}/typing", self._no_content),
            ("GET", rf"/channels/{snowflake}", self._get_channel),
            ("POST", r"/users/@me/channels", self._open_dm),
            ("GET", rf"/users/{snowflake}", self._get_user),
            ("GET", rf"/guilds/{snowflake}/members/{snowflake}", self._get_member),
            ("POST", rf"/interactions/{snowflake}/{token}/callback", self._interaction_callback),
            ("POST", rf"/webhooks/{snowflake}/{token}", self._post_followup),
            ("GET", rf"/webhooks/{snowflake}/{token}/messages/(@original|\d+)", self._get_webhook_message),
            ("PATCH", rf"/webhooks/{snowflake}/{token}/messages/(@original|\d+)", self._patch_webhook_message),
            ("DELETE", rf"/webhooks/{snowflake}/{token}/messages/(@original|\d+)", self._delete_webhook_message),
        ]
        return [(method, re.compile(pattern), handler) for method, pattern, handler in table]

    # identity

    def _get_me(self, record: Recorded) -> tuple[int, Any]:
        return 200, {**self.world.bot.payload(), "verified": True, "mfa_enabled": False, "flags": 0}

    def _get_application(self, record: Recorded) -> tuple[int, Any]:
        world = self.world
        return 200, {
            "id": str(world.application_id),
            "name": world.bot.name,
            "description": "Answers questions about IOM and the UN-IOM Agreement.",
            "icon": None,
            "bot_public": False,
            "bot_require_code_grant": False,
            "owner": world.owner.payload(),
            "team": None,
            "verify_key": "0" * 64,
            "flags": 0,
            "summary": "",
            "rpc_origins": [],
            "interactions_endpoint_url": None,
            "bot": world.bot.payload(),
        }

    def _get_gateway(self, record: Recorded) -> tuple[int, Any]:
        limits = {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}
        return 200, {"url": self.gateway_url, "shards": 1, "session_start_limit": limits}

    def _get_user(self, record: Recorded, user_id: str) -> tuple[int, Any]:
        user = self.world.users.get(int(user_id))
        return (200, user.payload()) if user else _error(404, "Unknown User", 10013)

    def _get_member(self, record: Recorded, guild_id: str, user_id: str) -> tuple[int, Any]:
        user = self.world.users.get(int(user_id))
        if user is None or not self.world.is_member(user):
            return _error(404, "Unknown Member", 10007)
        return 200, self.world.member_payload(user)

    def _get_channel(self, record: Recorded, channel_id: str) -> tuple[int, Any]:
        channel = self.world.channels.get(int(channel_id))
        return (200, channel.payload()) if channel else _error(404, "Unknown Channel", 10003)

    def _open_dm(self, record: Recorded) -> tuple[int, Any]:
        user = self.world.users.get(int(record.json["recipient_id"]))
        if user is None:
            return _error(404, "Unknown User", 10013)
        return 200, self.world.dm_channel(user).payload()

    def _no_content(self, record: Recorded, *args: str) -> tuple[int, Any]:
        return 204, None

    # commands

    def _store_commands(self, scope: int | None, commands: list[dict[str, Any]]) -> list[dict[str, Any]]:
        previous = {(c["name"], c.get("type", 1)): c["id"] for c in self.commands.get(scope, [])}
        stored = []
        for command in commands:
            key = (command["name"], command.get("type", 1))
            stored.append(
                {
                    **command,
                    "id": previous.get(key) or str(self.snowflake()),
                    "application_id": str(self.world.application_id),
                    "version": str(self.snowflake()),
                    "type": command.get("type", 1),
                    "guild_id": str(scope) if scope is not None else None,
                    "default_member_permissions": command.get("default_member_permissions"),
                    "nsfw": command.get("nsfw", False),
                    "description": command.get("description", ""),
                    "options": command.get("options", []),
                }
            )
        self.commands[scope] = stored
        return stored

    def _put_global_commands(self, record: Recorded, app_id: str) -> tuple[int, Any]:
        return 200, self._store_commands(None, record.json or [])

    def _get_global_commands(self, record: Recorded, app_id: str) -> tuple[int, Any]:
        return 200, self.commands.get(None, [])

    def _put_guild_commands(self, record: Recorded, app_id: str, guild_id: str) -> tuple[int, Any]:
        if int(guild_id) != self.world.guild_id:
            return _error(403, "Missing Access", 50001)
        return 200, self._store_commands(int(guild_id), record.json or [])

    def _get_guild_commands(self, record: Recorded, app_id: str, guild_id: str) -> tuple[int, Any]:
        return 200, self.commands.get(int(guild_id), [])

    # messages

    def _new_bot_message(self, channel_id: int, body: dict[str, Any], *, flags: int = 0) -> dict[str, Any]:
        channel = self.world.channels.get(channel_id)
        message: dict[str, Any] = {
            "id": str(self.snowflake()),
            "channel_id": str(channel_id),
            "author": self.world.bot.payload(),
            "content": body.get("content") or "",
            "embeds": body.get("embeds") or [],
            "components": body.get("components") or [],
            "attachments": [],
            "flags": int(body.get("flags") or 0) | flags,
            "timestamp": _now_iso(),
            "edited_timestamp": None,
            "tts": bool(body.get("tts")),
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "pinned": False,
            "type": 0,
        }
        if channel is not None and not channel.is_dm:
            message["guild_id"] = str(channel.guild_id)
        reference = body.get("message_reference")
        if reference and reference.get("message_id"):
            message["type"] = 19  # REPLY
            message["message_reference"] = {"channel_id": str(channel_id), **reference}
            referenced = self.messages.get(int(reference["message_id"]))
            if referenced is not None:
                message["referenced_message"] = referenced
        self.messages[int(message["id"])] = message
        return message

    def _record_sent(
        self,
        kind: str,
        message: dict[str, Any],
        record: Recorded,
        body: dict[str, Any],
        interaction: Interaction | None = None,
    ) -> None:
        reference = body.get("message_reference") or {}
        reply_to = int(reference["message_id"]) if reference.get("message_id") else None
        snapshot = json.loads(json.dumps(message))
        record.sent.append(Sent(kind, snapshot, record, body, interaction.id if interaction else None, reply_to))

    def _edit(self, message: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        for key in ("content", "embeds", "components", "attachments"):
            if key in body and body[key] is not None:
                message[key] = body[key]
        if "flags" in body and body["flags"] is not None:
            message["flags"] = (int(message.get("flags") or 0) & EPHEMERAL) | int(body["flags"])
        message["flags"] = int(message.get("flags") or 0) & ~LOADING
        message["edited_timestamp"] = _now_iso()
        return message

    def _post_message(self, record: Recorded, channel_id: str) -> tuple[int, Any]:
        body = record.json or {}
        if int(channel_id) not in self.world.channels:
            return _error(404, "Unknown Channel", 10003)
        if not any(body.get(k) for k in ("content", "embeds", "components", "sticker_ids")) and not record.files:
            return _error(400, "Cannot send an empty message", 50006)
        if len(body.get("content") or "") > 2000:
            return _error(400, "Invalid Form Body: content: Must be 2000 or fewer in length.", 50035)
        message = self._new_bot_message(int(channel_id), body)
        self._record_sent("message", message, record, body)
        return 200, message

    def _get_message(self, record: Recorded, channel_id: str, message_id: str) -> tuple[int, Any]:
        message = self.messages.get(int(message_id))
        return (200, message) if message else _error(404, "Unknown Message", 10008)

    def _patch_message(self, record: Recorded, channel_id: str, message_id: str) -> tuple[int, Any]:
        message = self.messages.get(int(message_id))
        if message is None:
            return _error(404, "Unknown Message", 10008)
        body = record.json or {}
        self._edit(message, body)
        self._record_sent("edit", message, record, body)
        return 200, message

    def _delete_message(self, record: Recorded, channel_id: str, message_id: str) -> tuple[int, Any]:
        return (204, None) if self.messages.pop(int(message_id), None) else _error(404, "Unknown Message", 10008)

    # interactions and their webhooks

    def _interaction_by_token(self, token: str) -> Interaction | None:
        return next((i for i in self.interactions.values() if i.token == token), None)

    def _interaction_callback(self, record: Recorded, interaction_id: str, token: str) -> tuple[int, Any]:
        interaction = self.interactions.get(int(interaction_id))
        if interaction is None or interaction.token != token:
            return _error(404, "Unknown interaction", 10062)
        record.interaction = interaction
        if record.received_at - interaction.dispatched_at > self.interaction_deadline_s:
            return _error(404, "Unknown interaction", 10062)  # too late: Discord has forgotten it
        if interaction.acknowledged:
            return _error(400, "Interaction has already been acknowledged.", 40060)
        callback_type = int(record.json["type"])
        data = record.json.get("data") or {}
        channel_id = int(interaction.payload["channel_id"])
        message: dict[str, Any] | None = None
        if callback_type == CALLBACK_MESSAGE:
            message = self._new_bot_message(channel_id, data)
            self._attach_interaction(message, interaction)
            interaction.original_id = int(message["id"])
            self._record_sent("response", message, record, data, interaction)
        elif callback_type == CALLBACK_DEFERRED_MESSAGE:
            message = self._new_bot_message(channel_id, {}, flags=LOADING | (int(data.get("flags") or 0)))
            self._attach_interaction(message, interaction)
            interaction.original_id = int(message["id"])
            self._record_sent("response", message, record, data, interaction)
        elif callback_type in (CALLBACK_UPDATE_MESSAGE, CALLBACK_DEFERRED_UPDATE):
            if interaction.message_id is None:
                return _error(400, "Interaction callback type 6/7 needs a component interaction", 50035)
            message = self.messages[interaction.message_id]
            interaction.original_id = interaction.message_id
            if callback_type == CALLBACK_UPDATE_MESSAGE:
                self._edit(message, data)
                self._record_sent("response", message, record, data, interaction)
        elif callback_type == CALLBACK_AUTOCOMPLETE:
            choices = data.get("choices")
            if not isinstance(choices, list) or len(choices) > 25:
                return _error(400, "Invalid Form Body: choices: 25 or fewer", 50035)
        interaction.acknowledged = True
        response: dict[str, Any] = {
            "interaction": {
                "id": str(interaction.id),
                "type": interaction.type,
                "response_message_id": message["id"] if message else None,
                "response_message_loading": bool(message and int(message["flags"]) & LOADING),
                "response_message_ephemeral": bool(message and int(message["flags"]) & EPHEMERAL),
            },
        }
        if message is not None:
            response["resource"] = {"type": callback_type, "message": message}
        return 200, response

    def _attach_interaction(self, message: dict[str, Any], interaction: Interaction) -> None:
        user = interaction.payload.get("member", {}).get("user") or interaction.payload.get("user")
        message["interaction_metadata"] = {
            "id": str(interaction.id),
            "type": interaction.type,
            "user": user,
            "authorizing_integration_owners": interaction.payload["authorizing_integration_owners"],
        }
        message["application_id"] = str(self.world.application_id)
        message["webhook_id"] = str(self.world.application_id)

    def _post_followup(self, record: Recorded, app_id: str, token: str) -> tuple[int, Any]:
        interaction = self._interaction_by_token(token)
        if interaction is None or not interaction.acknowledged:
            return _error(404, "Unknown Webhook", 10015)
        body = record.json or {}
        original = self.messages.get(interaction.original_id or 0)
        if original is not None and int(original.get("flags") or 0) & LOADING:
            # The first follow-up to a deferred response fills in the "thinking..." message.
            message = self._edit(original, {k: v for k, v in body.items() if k != "flags"})
        else:
            message = self._new_bot_message(int(interaction.payload["channel_id"]), body)
            self._attach_interaction(message, interaction)
        self._record_sent("followup", message, record, body, interaction)
        return 200, message

    def _webhook_message(self, token: str, message_id: str) -> tuple[Interaction | None, dict[str, Any] | None]:
        interaction = self._interaction_by_token(token)
        if interaction is None:
            return None, None
        wanted = interaction.original_id if message_id == "@original" else int(message_id)
        return interaction, self.messages.get(wanted or 0)

    def _get_webhook_message(self, record: Recorded, app_id: str, token: str, message_id: str) -> tuple[int, Any]:
        _, message = self._webhook_message(token, message_id)
        return (200, message) if message else _error(404, "Unknown Message", 10008)

    def _patch_webhook_message(self, record: Recorded, app_id: str, token: str, message_id: str) -> tuple[int, Any]:
        interaction, message = self._webhook_message(token, message_id)
        if message is None:
            return _error(404, "Unknown Message", 10008)
        body = record.json or {}
        self._edit(message, body)
        self._record_sent("edit", message, record, body, interaction)
        return 200, message

    def _delete_webhook_message(self, record: Recorded, app_id: str, token: str, message_id: str) -> tuple[int, Any]:
        _, message = self._webhook_message(token, message_id)
        if message is None:
            return _error(404, "Unknown Message", 10008)
        self.messages.pop(int(message["id"]), None)
        return 204, None

    # -- views for assertions ----------------------------------------------------------------------------------

    def bot_messages(self) -> list[Sent]:
        """Every message the bot posted, responded with, followed up with or edited, in order."""
        return list(self.sent)

    def message_bodies(self) -> list[tuple[Recorded, dict[str, Any]]]:
        """Every request body that carries message content (posts, responses, follow-ups, edits)."""
        bodies = []
        for record in self.requests:
            body = record.json if isinstance(record.json, dict) else None
            if body is None:
                continue
            if record.path.endswith("/callback"):
                if body.get("type") not in (CALLBACK_MESSAGE, CALLBACK_UPDATE_MESSAGE):
                    continue
                body = body.get("data") or {}
            elif not (
                (record.method == "POST" and re.fullmatch(r"/channels/\d+/messages|/webhooks/\d+/[^/]+", record.path))
                or (record.method == "PATCH" and "/messages/" in record.path)
            ):
                continue
            bodies.append((record, body))
        return bodies


def _describe(interaction: Interaction) -> str:
    data = interaction.payload.get("data") or {}
    if interaction.type == MESSAGE_COMPONENT:
        return f"click {data.get('custom_id')!r}"
    names = [data.get("name", "?")]
    options = data.get("options") or []
    while options and options[0].get("type") in (SUB_COMMAND, SUB_COMMAND_GROUP):
        names.append(options[0]["name"])
        options = options[0].get("options") or []
    kind = "autocomplete " if interaction.type == AUTOCOMPLETE else ""
    return f"{kind}/{' '.join(names)}"


async def _read_body(request: web.Request) -> tuple[Any, list[str]]:
    """The JSON body, or a multipart body's payload_json plus the names of its files."""
    if not request.can_read_body:
        return None, []
    if request.content_type.startswith("multipart/"):
        body: Any = None
        files: list[str] = []
        reader = await request.multipart()
        async for part in reader:
            if part.name == "payload_json":
                body = json.loads(await part.text())
            else:
                await part.read()
                files.append(part.filename or part.name or "")
        return body, files
    raw = await request.read()
    if not raw:
        return None, []
    try:
        return json.loads(raw), []
    except ValueError:
        return raw.decode(errors="replace"), []
