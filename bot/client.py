"""QABot and run_bot: the Discord client, its start-up, its signals and its logging.

Start-up waits out outages: logging in and the first gateway connection are retried with backoff (bot.backoff),
one log line per attempt. With ``discord.shard_count`` the client is a ShardedQABot (an AutoShardedBot) running
``discord.shard_ids``; with ``metrics.listen``, /healthz and /metrics are served on the same event loop.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from typing import Any

import discord
from discord.ext import commands

from knowledge import KnowledgeBase, SourceError

from .backoff import RETRYABLE, Backoff, describe, retry
from .config import Config, ConfigError, Secret
from .limits import Limits
from .metrics import Metrics, MetricsServer
from .storage import Storage
from .store import KnowledgeStore, ReloadResult
from .tree import QATree
from .usage import Usage

log = logging.getLogger(__name__)

EXTENSIONS = ("bot.exts.ask", "bot.exts.admin")
CLOSE_TIMEOUT_S = 10.0
LOG_FORMAT = "%(asctime)s %(levelname)-8s %(name)s: %(message)s"
EXIT_OK, EXIT_FAILURE, EXIT_CONFIG = 0, 1, 2
# Gateway close codes after which discord.py gives up (https://discord.com/developers/docs/topics/opcodes-and-status-codes).
NOT_RESUMABLE = {
    4004: "authentication failed (the token was reset or revoked; check the variable named by discord.token_env)",
    4010: "invalid shard",
    4011: "sharding required",
    4012: "invalid API version",
    4013: "invalid intents",
}


class QABot(commands.Bot):
    """The question-answering bot: slash commands, mentions and DMs over one reloadable knowledge base."""

    def __init__(
        self, config: Config, *, sync_global: bool = False, store: KnowledgeStore | None = None, **options: Any
    ) -> None:
        intents = discord.Intents.default()
        intents.message_content = config.needs_message_content  # privileged: only for answer channels
        super().__init__(
            command_prefix=commands.when_mentioned,  # required by commands.Bot; no prefix commands are processed
            help_command=None,
            intents=intents,
            allowed_mentions=discord.AllowedMentions.none(),
            tree_cls=QATree,
            **options,
        )
        self.config = config
        self.sync_global = sync_global
        if store is None:
            knowledge = config.knowledge
            store = KnowledgeStore(
                knowledge.sources,
                index=knowledge.index,
                keep_versions=knowledge.keep_versions,
                min_check_pass=knowledge.min_check_pass,
            )
        self.store = store
        self.metrics = Metrics()
        self.metrics.watch(self)
        self.limits = Limits(config.asking.cooldown, on_limited=self.metrics.cooldown_hit)  # per user (bot.limits)
        store.on_reload.append(self.metrics.reloaded)
        self.usage = Usage()  # answers since start, for /kb status
        self.storage: Storage | None = None  # answers, votes and doubtful questions (storage.database)
        self._background: set[asyncio.Task[Any]] = set()
        # Before the first connection, connect() below says it all: one line per attempt, not two.
        self._first_attempts = _DropWhile(lambda: self.ws is None, "Attempting a reconnect")
        logging.getLogger("discord.client").addFilter(self._first_attempts)

    @property
    def knowledge(self) -> KnowledgeBase:
        """The knowledge base answering now."""
        return self.store.current

    async def setup_hook(self) -> None:
        if not self.store.loaded:
            await self.store.load()
        if self.config.storage.database is not None and self.storage is None:
            self.storage = Storage(self.config.storage.database, retention_days=self.config.storage.retention_days)
            self.storage.start()  # opens, migrates and prunes in its own thread
        for extension in EXTENSIONS:
            if extension not in self.extensions:  # a login retried after a network error runs this hook again
                await self.load_extension(extension)
        await self.sync_commands()

    async def start(self, token: str, *, reconnect: bool = True) -> None:
        """Log in (retried while Discord cannot be reached), then connect and stay connected (discord.py resumes)."""

        async def forget_session() -> None:
            # static_login makes a new HTTP session each time: close the failed one and its connector first.
            await self.http.close()
            self.http.connector = discord.utils.MISSING

        await retry(lambda: self.login(token), "log in to Discord", before_retry=forget_session)
        await self.connect(reconnect=reconnect)

    async def connect(self, *, reconnect: bool = True) -> None:
        """Connect to the gateway; a first connection that fails for the network is retried, one line per attempt."""
        backoff = Backoff()
        while True:
            try:
                await super().connect(reconnect=reconnect)
                return
            except AttributeError as error:
                # discord.py 2.7 retries a failed connection with the previous connection's session, and
                # before the first one there is none: it ends in AttributeError, the network error its context.
                cause = error.__context__
                if self.ws is not None or self.is_closed() or not isinstance(cause, RETRYABLE):
                    raise
                delay = backoff.next()
                log.warning(
                    "cannot connect to the Discord gateway (%s); retrying in %.1f s (attempt %d)",
                    describe(cause),
                    delay,
                    backoff.attempts,
                )
                await asyncio.sleep(delay)

    async def sync_commands(self) -> None:
        """Sync to the configured guilds (instant); globally only when asked (Discord rate-limits it).

        A sharded process syncs only the guilds its shards receive, and globally only if it runs shard 0, so
        that N processes do not repeat each other's (rate-limited) syncs.
        """
        config = self.config.discord
        guilds = [discord.Object(id=guild_id) for guild_id in config.guild_ids]
        # /kb is registered in the admin servers only (exts/admin.py): they are synced even when not in guild_ids.
        admin_only = [discord.Object(id=g) for g in config.admin_guild_ids if g not in config.guild_ids]
        if self.sync_global and config.shard_ids is not None and 0 not in config.shard_ids:
            log.info("commands are synced globally by the process that runs shard 0")
            return
        if self.sync_global:
            synced = await self.tree.sync()
            log.info("synced %d commands globally", len(synced))
            # Each guild gets exactly its own commands (/kb in admin servers, nothing elsewhere): this also removes
            # earlier copies of the global commands, which members would otherwise see twice.
            for guild in [*guilds, *admin_only]:
                await self._sync_guild(guild)
            return
        if not guilds:
            log.warning("no discord.guild_ids configured and no --sync: slash commands were not synced")
        guilds = [guild for guild in guilds if config.on_my_shards(guild.id)]  # each process syncs its own
        admin_only = [guild for guild in admin_only if config.on_my_shards(guild.id)]
        for guild in guilds:
            self.tree.copy_global_to(guild=guild)
            await self._sync_guild(guild)
        for guild in admin_only:
            await self._sync_guild(guild)

    async def _sync_guild(self, guild: discord.Object) -> None:
        try:
            synced = await self.tree.sync(guild=guild)
        except discord.Forbidden:
            log.error("cannot sync commands to guild %s: invite the bot with the applications.commands scope", guild.id)
        else:
            log.info("synced %d commands to guild %s", len(synced), guild.id)

    async def on_ready(self) -> None:
        assert self.user is not None
        log.info("ready as %s (%s) in %d guild(s)", self.user, self.user.id, len(self.guilds))

    async def on_message(self, message: discord.Message, /) -> None:
        """Do nothing here: no prefix commands. The Ask cog listens for questions."""

    def schedule_reload(self, trigger: str) -> asyncio.Task[ReloadResult]:
        """Reload the knowledge base in the background (SIGHUP); the store logs the result."""
        task = asyncio.create_task(self.store.reload(trigger), name=f"reload ({trigger})")
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    async def close(self) -> None:
        for task in list(self._background):
            task.cancel()
        logging.getLogger("discord.client").removeFilter(self._first_attempts)
        if self.storage is not None:
            await asyncio.to_thread(self.storage.close)  # writes what is queued
        await super().close()


class _DropWhile(logging.Filter):
    """Drop records whose message starts with prefix while condition() holds."""

    def __init__(self, condition: Callable[[], bool], prefix: str) -> None:
        super().__init__()
        self.condition = condition
        self.prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg.startswith(self.prefix) and self.condition())


class ShardedQABot(QABot, commands.AutoShardedBot):
    """The bot over several gateway shards (discord.shard_count, discord.shard_ids), in one process."""

    async def on_shard_ready(self, shard_id: int) -> None:
        log.info("shard %d of %s ready", shard_id, self.shard_count)

    async def on_shard_resumed(self, shard_id: int) -> None:
        log.info("shard %d resumed", shard_id)


def make_bot(config: Config, *, sync_global: bool = False, store: KnowledgeStore | None = None) -> QABot:
    """A QABot, or a ShardedQABot running the configured shards; store: a knowledge base already loaded."""
    shards = config.discord
    if shards.shard_count is None:
        return QABot(config, sync_global=sync_global, store=store)
    shard_ids = list(shards.shard_ids) if shards.shard_ids is not None else None
    return ShardedQABot(
        config, sync_global=sync_global, store=store, shard_count=shards.shard_count, shard_ids=shard_ids
    )


# -- running -------------------------------------------------------------------------------------------------------


class QuietDiscordFilter(logging.Filter):
    """discord.py's start-up voice warnings go (the bot has no voice), and its reconnect notices lose their traceback.

    A reconnect after a network error is expected, not a bug: one line naming the error says all there is.
    """

    VOICE = "voice will NOT be supported"
    RECONNECTS = ("Attempting a reconnect", "Failed to connect for shard_id")

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith("discord."):
            return True
        if isinstance(record.msg, str) and self.VOICE in record.msg:
            return False
        if isinstance(record.msg, str) and record.msg.startswith(self.RECONNECTS) and record.exc_info:
            error = record.exc_info[1]
            record.msg, record.args = f"{record.getMessage()} ({describe(error) if error else 'no error'})", None
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


class RedactFilter(logging.Filter):
    """Replace the secret wherever it would appear in a log line (belt and braces: nothing should log it)."""

    def __init__(self, secret: Secret | None) -> None:
        super().__init__()
        self._secret = secret.reveal() if secret is not None else None

    def filter(self, record: logging.LogRecord) -> bool:
        if self._secret:
            message = record.getMessage()
            if self._secret in message:
                record.msg, record.args = message.replace(self._secret, "***"), None
            if record.exc_info and not record.exc_text:  # the traceback's text, which Formatter would print as is
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            if record.exc_text and self._secret in record.exc_text:
                record.exc_text = record.exc_text.replace(self._secret, "***")
            if record.stack_info and self._secret in record.stack_info:
                record.stack_info = record.stack_info.replace(self._secret, "***")
        return True


def setup_logging(config: Config, verbose: int = 0) -> None:
    """Log to stderr at the configured level (-v: debug); discord.py's debug output (every payload) only at -vv."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "iom_bot", False)]:
        root.removeHandler(handler)
    handler = logging.StreamHandler()
    handler.iom_bot = True  # type: ignore[attr-defined]
    handler.addFilter(QuietDiscordFilter())
    handler.addFilter(RedactFilter(config.token))
    level = logging.DEBUG if verbose else config.logging.level_number
    discord.utils.setup_logging(handler=handler, formatter=logging.Formatter(LOG_FORMAT), level=level)
    logging.getLogger("discord").setLevel(level if verbose >= 2 else max(level, logging.INFO))


def run_bot(config: Config, *, sync_global: bool = False, verbose: int = 0) -> int:
    """Run the bot until SIGTERM or SIGINT (exit 0); SIGHUP reloads the knowledge base. Returns the exit code."""
    setup_logging(config, verbose)
    if config.token is None:
        log.error("%s is not set (the variable named by discord.token_env)", config.discord.token_env)
        return EXIT_CONFIG
    return asyncio.run(_serve(config, config.token, sync_global=sync_global))


async def _serve(config: Config, token: Secret, *, sync_global: bool, store: KnowledgeStore | None = None) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    def on_stop(signum: signal.Signals) -> None:
        log.info("%s received: closing the connection", signum.name)
        stop.set()

    async with make_bot(config, sync_global=sync_global, store=store) as bot:
        server = None
        if config.metrics.address is not None:
            server = MetricsServer(bot, *config.metrics.address)
            try:
                await server.start()
            except OSError as error:
                log.error("cannot serve metrics on %s: %s", config.metrics.listen, error.strerror or error)
                return EXIT_CONFIG
        handled = [signal.SIGTERM, signal.SIGINT]
        for signum in handled:
            loop.add_signal_handler(signum, on_stop, signum)
        if hasattr(signal, "SIGHUP"):
            handled.append(signal.SIGHUP)
            loop.add_signal_handler(signal.SIGHUP, _on_sighup, bot)
        runner = asyncio.create_task(bot.start(token.reveal()), name="discord")
        stopper = asyncio.create_task(stop.wait(), name="stop")
        try:
            await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if stopper.done():
                await bot.close()
                try:
                    await asyncio.wait_for(runner, CLOSE_TIMEOUT_S)
                except (TimeoutError, asyncio.CancelledError, discord.DiscordException, OSError) as error:
                    log.debug("the client ended with %r while closing", error)
                log.info("closed")
                return EXIT_OK
            return _exit_code(runner)
        finally:
            stopper.cancel()
            for signum in handled:
                loop.remove_signal_handler(signum)
            if server is not None:
                await server.close()


def _on_sighup(bot: QABot) -> None:
    log.info("SIGHUP received: reloading the knowledge base")
    bot.schedule_reload("SIGHUP")


def _exit_code(runner: asyncio.Task[None]) -> int:
    """The exit code for a client that stopped on its own: start-up problems are one line, bugs a traceback."""
    error = runner.exception()
    if error is None:
        log.info("the connection closed")
        return EXIT_OK
    if isinstance(error, discord.LoginFailure):
        log.error("Discord rejected the token (check the variable named by discord.token_env)")
        return EXIT_CONFIG
    if isinstance(error, discord.ConnectionClosed) and error.code in NOT_RESUMABLE:
        # Reconnecting would be refused the same way: exit (2 stops a systemd restart loop) rather than IDENTIFY again.
        log.error("Discord closed the connection: %s (close code %d)", NOT_RESUMABLE[error.code], error.code)
        return EXIT_CONFIG
    if isinstance(error, discord.PrivilegedIntentsRequired):
        log.error(
            "answer channels need the Message Content intent: enable it in the Developer Portal "
            "(Bot > Privileged Gateway Intents), or remove discord.answer_channels"
        )
        return EXIT_CONFIG
    if isinstance(error, SourceError):
        log.error("cannot load the knowledge base: %s", error)
        return EXIT_CONFIG
    if isinstance(error, ConfigError):
        log.error("bad config: %s", error)
        return EXIT_CONFIG
    log.error("the bot stopped on an unexpected error", exc_info=error)
    return EXIT_FAILURE
