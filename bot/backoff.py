"""Waiting out outages: exponential backoff with jitter, and the errors that mean "Discord is unreachable".

A bot started while the network or Discord is down logs one line per attempt and keeps trying; only a
problem that a retry cannot fix (a token Discord refuses, a refused intent, bad config) ends the process.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable

import aiohttp
import discord

log = logging.getLogger(__name__)

FIRST_DELAY_S = 1.0
MAX_DELAY_S = 300.0  # five minutes between attempts at most: an outage of hours costs a dozen lines an hour
JITTER = 0.5  # each delay is drawn from [(1 - JITTER) * d, d]: processes restarted together do not retry together

# Network errors, timeouts and Discord's own 5xx: worth another try. LoginFailure (401), a refused intent or a
# 4xx are not: they are raised as they are.
RETRYABLE: tuple[type[BaseException], ...] = (
    OSError,
    aiohttp.ClientError,
    asyncio.TimeoutError,
    discord.DiscordServerError,
    discord.GatewayNotFound,
)


class Backoff:
    """Delays of FIRST_DELAY_S, doubling up to MAX_DELAY_S, each shortened by a random part of up to JITTER."""

    def __init__(
        self,
        first_s: float = FIRST_DELAY_S,
        max_s: float = MAX_DELAY_S,
        *,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.first_s = first_s
        self.max_s = max_s
        self.attempts = 0
        self._rng = rng

    def next(self) -> float:
        """The delay before the next attempt (seconds)."""
        ceiling = min(self.max_s, self.first_s * 2 ** min(self.attempts, 32))
        self.attempts += 1
        return ceiling * (1.0 - JITTER * self._rng())

    def reset(self) -> None:
        self.attempts = 0


def describe(error: BaseException) -> str:
    """One line about a network error: its type and message, never a traceback."""
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


async def retry(
    attempt: Callable[[], Awaitable[None]],
    what: str,
    *,
    backoff: Backoff | None = None,
    before_retry: Callable[[], Awaitable[None]] | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Await attempt() until it returns; a RETRYABLE error is one warning line, a wait, and another attempt."""
    backoff = backoff or Backoff()
    while True:
        try:
            await attempt()
            return
        except RETRYABLE as error:
            delay = backoff.next()
            log.warning(
                "cannot %s (%s); retrying in %.1f s (attempt %d)", what, describe(error), delay, backoff.attempts
            )
        if before_retry is not None:
            await before_retry()
        await sleep(delay)
