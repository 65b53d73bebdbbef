"""Per-user rate limits, declared on each command with ``@rate_limited(ASKING)`` or ``@rate_limited(LIGHT)``.

ASKING is the configured cooldown (asking.cooldown), one bucket per user shared by every way of asking: /ask,
/search, /article, the message menu, mentions, DMs and answer channels. LIGHT is a looser limit of its own for the
cheap requests (/help, /sources, autocomplete), which stay open to a user waiting out ASKING. The buckets live on
the bot (``bot.limits``); a command over its limit raises CommandOnCooldown, which the tree's on_error answers.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, Literal, TypeVar

import discord
from discord import app_commands

from .config import CooldownConfig

T = TypeVar("T")
Kind = Literal["asking", "light"]
ASKING: Kind = "asking"
LIGHT: Kind = "light"
LIGHT_RATE = (30, 10.0)  # requests, seconds
COOLDOWN_PRUNE_AT = 1000  # buckets kept before the idle ones are dropped


class UserCooldowns:
    """One cooldown bucket per user (count per seconds; count 0 means off)."""

    def __init__(
        self,
        count: int,
        seconds: float,
        clock: Callable[[], float] = time.monotonic,
        on_limited: Callable[[], None] | None = None,
    ) -> None:
        self.count = count
        self.seconds = seconds
        self._clock = clock
        self._on_limited = on_limited  # called for each request over the limit (metrics)
        self._buckets: dict[int, app_commands.Cooldown] = {}
        self._told_until: dict[int, float] = {}  # user id -> when the wait they were told about ends
        self._prune_at = COOLDOWN_PRUNE_AT
        self.prunes = 0  # passes over the buckets so far

    def hit(self, user_id: int) -> float | None:
        """Count one request; the seconds to wait when the user is over the limit, else None."""
        if self.count <= 0:
            return None
        now = self._clock()
        if len(self._buckets) >= self._prune_at:  # forget users whose window has passed
            self._buckets = {k: b for k, b in self._buckets.items() if b.get_tokens(now) < b.rate}
            self._told_until = {k: t for k, t in self._told_until.items() if t > now}
            # Next time at twice what is left: a pass over n users once per n new ones, O(1) per request.
            self._prune_at = max(COOLDOWN_PRUNE_AT, 2 * len(self._buckets))
            self.prunes += 1
        bucket = self._buckets.setdefault(user_id, app_commands.Cooldown(self.count, self.seconds))
        retry_after = bucket.update_rate_limit(now)
        if retry_after is not None and self._on_limited is not None:
            self._on_limited()
        return retry_after

    def first_notice(self, user_id: int, retry_after: float) -> bool:
        """Whether to tell a user over the limit to wait: once per wait, so that spam is not answered with spam."""
        now = self._clock()
        if self._told_until.get(user_id, 0.0) > now:
            return False
        self._told_until[user_id] = now + retry_after
        return True

    def check(self, user_id: int) -> None:
        """Count one request; raise CommandOnCooldown when the user must wait."""
        retry_after = self.hit(user_id)
        if retry_after is not None:
            raise app_commands.CommandOnCooldown(self._buckets[user_id], retry_after)


class Limits:
    """A bot's per-user limits: ``asking`` from the config, ``light`` at LIGHT_RATE."""

    def __init__(self, cooldown: CooldownConfig, *, on_limited: Callable[[], None] | None = None) -> None:
        self.asking = UserCooldowns(cooldown.count, cooldown.seconds, on_limited=on_limited)
        self.light = UserCooldowns(*LIGHT_RATE)

    def __getitem__(self, kind: Kind) -> UserCooldowns:
        return self.asking if kind == ASKING else self.light


def rate_limit(kind: Kind) -> Callable[[discord.Interaction], Awaitable[bool]]:
    """The check that counts an interaction against its user's kind limit (for ``add_check`` on a context menu)."""

    async def predicate(interaction: discord.Interaction) -> bool:
        limits: Limits = interaction.client.limits  # type: ignore[attr-defined]
        limits[kind].check(interaction.user.id)
        return True

    predicate.rate_limit = kind  # type: ignore[attr-defined]  # read by rate_limit_of
    return predicate


def rate_limited(kind: Kind) -> Callable[[T], T]:
    """Decorate a command: each use counts against its user's kind limit; over it, CommandOnCooldown."""
    return app_commands.check(rate_limit(kind))


def rate_limit_of(command: Any) -> Kind | None:
    """The kind of limit a command (or context menu) is declared with, or None."""
    return next((check.rate_limit for check in command.checks if hasattr(check, "rate_limit")), None)
