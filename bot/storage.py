"""Storage: answers, votes and doubtful questions in one SQLite file, written by one thread, never by the loop.

An answer never waits for the database: ``record_answer`` and ``record_vote`` put a row on a queue and return.
One writer thread takes the rows in batches (every FLUSH_S, or BATCH_MAX rows) and writes each batch in one
transaction, in WAL mode: a SIGKILL loses at most the batch not yet written and never corrupts the file. Reads
(the admin views) go through the same thread, after the rows queued before them.

Faults (the file locked by another process, a full disk, a corrupt file, a read-only directory) put storage in
a *degraded* state: one warning is logged, the batch is dropped, answers go on, ``/kb status`` says so, and the
next batch that is written clears it. User ids are never written: the writer stores an HMAC of each, keyed by a
random salt kept in the database. Question text is stored only with ``storage.record_questions: true``;
otherwise a doubtful question is stored as its analysed terms.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import hmac
import logging
import queue
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
SCHEMA_VERSION = 2
FLUSH_S = 0.25  # the longest a queued row waits before it is written
BATCH_MAX = 500
QUEUE_MAX = 50_000  # rows waiting while the database is unavailable; beyond, new rows are dropped
BUSY_TIMEOUT_S = 0.2  # how long a write waits for another process's lock before the batch is dropped
DAY_S = 86_400
USER_HASH_HEX = 16
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "CREATE TABLE answers (id TEXT PRIMARY KEY, at REAL NOT NULL, kb_version TEXT NOT NULL,"
        " passage_ids TEXT NOT NULL, articles TEXT NOT NULL, confidence REAL NOT NULL, abstained INTEGER NOT NULL,"
        " reason TEXT, guild_id INTEGER, channel_id INTEGER, question TEXT, terms TEXT)",
        "CREATE TABLE votes (answer_id TEXT NOT NULL, user_hash TEXT NOT NULL, vote INTEGER NOT NULL,"
        " at REAL NOT NULL, guild_id INTEGER, channel_id INTEGER, PRIMARY KEY (answer_id, user_hash))",
    ),
    2: (  # the 👎 reason ("wrong article"), which answers were doubtful, and indexes for the time windows
        "ALTER TABLE votes ADD COLUMN reason TEXT",
        "ALTER TABLE answers ADD COLUMN doubtful INTEGER NOT NULL DEFAULT 0",
        "CREATE INDEX answers_at ON answers (at)",
        "CREATE INDEX votes_at ON votes (at)",
    ),
}


class StorageError(Exception):
    """The database cannot be used (the message is safe to show an admin)."""


@dataclass(frozen=True, slots=True)
class AnswerRow:
    id: str
    at: float
    kb_version: str
    passage_ids: str  # space-separated
    articles: str  # "A/70/976 art. 11; ..."
    confidence: float
    abstained: bool
    reason: str | None
    guild_id: int | None
    channel_id: int | None
    doubtful: bool
    question: str | None  # only with record_questions
    terms: str | Callable[[], str] | None  # the analysed terms of a doubtful question (worked out by the writer)


@dataclass(frozen=True, slots=True)
class VoteRow:
    answer_id: str
    user_id: int  # hashed by the writer; never written
    vote: int  # +1 or -1
    reason: str | None
    at: float
    guild_id: int | None
    channel_id: int | None


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema up to SCHEMA_VERSION, one version per transaction; return the version it was at."""
    found = conn.execute("PRAGMA user_version").fetchone()[0]
    if found > SCHEMA_VERSION:
        raise StorageError(f"the database has schema version {found}, newer than this bot's {SCHEMA_VERSION}")
    for version in range(found + 1, SCHEMA_VERSION + 1):
        with conn:
            for statement in MIGRATIONS[version]:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version}")
    return found


def open_database(path: str, *, read_only: bool = False) -> sqlite3.Connection:
    """A connection in WAL mode with the schema up to date (read_only: as it is, for the report)."""
    if read_only:
        conn = sqlite3.connect(f"file:{Path(path).absolute()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # a corrupt file fails here
        return conn
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")  # WAL: durable at checkpoints, never corrupt
        conn.isolation_level = ""  # `with conn:` transactions
        migrate(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def prune(conn: sqlite3.Connection, retention_days: int, now: float) -> int:
    """Delete answers and votes older than retention_days; return how many rows went."""
    cutoff = now - retention_days * DAY_S
    with conn:
        gone = conn.execute("DELETE FROM answers WHERE at < ?", (cutoff,)).rowcount
        gone += conn.execute("DELETE FROM votes WHERE at < ?", (cutoff,)).rowcount
    return gone


def salt(conn: sqlite3.Connection) -> bytes:
    """The database's random key for hashing user ids (made on first use)."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'user_salt'").fetchone()
    if row is None:
        with conn:
            conn.execute("INSERT OR IGNORE INTO meta VALUES ('user_salt', ?)", (secrets.token_hex(32),))
        row = conn.execute("SELECT value FROM meta WHERE key = 'user_salt'").fetchone()
    return bytes.fromhex(row[0])


class Storage:
    """The bot's database: a queue in front of one writer thread."""

    def __init__(self, path: Path | str, *, retention_days: int = 30, clock: Callable[[], float] = time.time) -> None:
        self.path = str(path)
        self.retention_days = retention_days
        self.clock = clock
        self.degraded: str | None = None  # why storage is not writing, for /kb status
        # A SimpleQueue, and a writer that sleeps between batches: a put never wakes the writer (a thread woken
        # for every answer would take the GIL from the event loop each time); only a read does (self._wake).
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._wake = threading.Event()
        self._conn: sqlite3.Connection | None = None
        self._salt = b""
        self._pruned_at = 0.0
        self._thread = threading.Thread(target=self._run, name="storage", daemon=True)
        self._stopping = threading.Event()

    # -- the loop's side: never blocks ---------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def record_answer(self, row: AnswerRow) -> None:
        self._put(row)

    def record_vote(self, row: VoteRow) -> None:
        self._put(row)

    def _put(self, item: object) -> None:
        if self._queue.qsize() >= QUEUE_MAX:
            self._degrade(f"{QUEUE_MAX:,} rows waiting: new rows are dropped")
            return
        self._queue.put(item)

    async def read(self, query: Callable[[sqlite3.Connection], T]) -> T:
        """Run query on the writer's connection, after every row queued before it (StorageError if degraded)."""
        import asyncio

        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._queue.put((query, future))
        self._wake.set()
        return await asyncio.wrap_future(future)

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued and stop the writer."""
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    # -- the writer thread ----------------------------------------------------------------------------------------

    def _run(self) -> None:
        self._connect()
        while True:
            stopping = self._stopping.is_set()
            self._wake.wait(FLUSH_S)
            self._wake.clear()
            rows: list[Any] = []
            while True:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if isinstance(item, tuple):  # a read: after the rows queued before it
                    self._write(rows)
                    rows = []
                    self._answer(*item)
                else:
                    rows.append(item)
                    if len(rows) >= BATCH_MAX:
                        self._write(rows)
                        rows = []
            self._write(rows)
            self._maybe_prune()
            if stopping and self._queue.empty():
                break
        if self._conn is not None:
            self._conn.close()

    def _connect(self) -> bool:
        if self._conn is not None:
            return True
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._conn = open_database(self.path)
            self._salt = salt(self._conn)
        except (sqlite3.Error, OSError, StorageError) as error:
            self._conn = None
            self._degrade(f"cannot open {self.path}: {error}")
            return False
        log.info("storage: %s open (schema version %d)", self.path, SCHEMA_VERSION)
        return True

    def _write(self, rows: list[Any]) -> None:
        if not rows or not self._connect():
            return
        assert self._conn is not None
        try:
            answers = [row for row in rows if isinstance(row, AnswerRow)]
            votes = [row for row in rows if not isinstance(row, AnswerRow)]
            with self._conn:  # one transaction; executemany loops in C, holding the GIL for less
                self._conn.executemany(
                    "INSERT OR REPLACE INTO answers (id, at, kb_version, passage_ids, articles, confidence,"
                    " abstained, reason, guild_id, channel_id, question, terms, doubtful)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (
                            r.id, r.at, r.kb_version, r.passage_ids, r.articles, r.confidence, r.abstained,
                            r.reason, r.guild_id, r.channel_id, r.question,
                            r.terms() if callable(r.terms) else r.terms, r.doubtful,
                        )
                        for r in answers
                    ],
                )  # fmt: skip
                self._conn.executemany(
                    "INSERT OR REPLACE INTO votes (answer_id, user_hash, vote, reason, at, guild_id, channel_id)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        (r.answer_id, self.user_hash(r.user_id), r.vote, r.reason, r.at, r.guild_id, r.channel_id)
                        for r in votes
                    ],
                )
        except (sqlite3.Error, OSError) as error:
            self._degrade(f"could not write {len(rows)} rows to {self.path}: {error}")
            if isinstance(error, sqlite3.DatabaseError) and "not a database" in str(error):
                self._conn.close()
                self._conn = None
            return
        if self.degraded is not None:
            log.info("storage: writing to %s again", self.path)
            self.degraded = None

    def _answer(self, query: Callable[[sqlite3.Connection], Any], future: concurrent.futures.Future[Any]) -> None:
        if not self._connect():
            future.set_exception(StorageError(self.degraded or "storage is unavailable"))
            return
        assert self._conn is not None
        try:
            future.set_result(query(self._conn))
        except (sqlite3.Error, OSError) as error:
            future.set_exception(StorageError(f"cannot read {self.path}: {error}"))

    def _maybe_prune(self) -> None:
        now = self.clock()
        if self._conn is None or now - self._pruned_at < DAY_S:
            return
        self._pruned_at = now
        try:
            gone = prune(self._conn, self.retention_days, now)
        except (sqlite3.Error, OSError) as error:
            self._degrade(f"could not prune {self.path}: {error}")
            return
        log.info("storage: pruned %d rows older than %d days", gone, self.retention_days)

    def _degrade(self, why: str) -> None:
        """Say once that storage is degraded (not once per question); it clears when a write succeeds."""
        if self.degraded is None:
            log.warning("storage degraded, answers go on without it: %s", why)
        self.degraded = why

    def user_hash(self, user_id: int) -> str:
        """A one-way hash of a user id, keyed by this database's salt (the same user, the same hash)."""
        return hmac.new(self._salt, str(user_id).encode(), hashlib.sha256).hexdigest()[:USER_HASH_HEX]


def analysed_terms(analyzer: Any, question: str) -> str:
    """A question as the index reads it (stems and glossary concepts), never its text: what is stored of it."""
    from knowledge import normalize, strip_mentions

    return " ".join(analyzer.analyze(normalize(strip_mentions(question))).terms)


# -- the admin views' queries (a connection in, plain rows out; used by the bot and `iom-bot report`) -------------


def unanswered(conn: sqlite3.Connection, since: float) -> list[tuple[str, float, bool]]:
    """(question or its terms, time, abstained) of the doubtful answers since."""
    rows = conn.execute(
        "SELECT COALESCE(question, terms, ''), at, abstained FROM answers WHERE doubtful = 1 AND at >= ? ORDER BY at",
        (since,),
    )
    return [(text, at, bool(abstained)) for text, at, abstained in rows]


def feedback(conn: sqlite3.Connection, since: float) -> list[dict[str, Any]]:
    """The rated answers' passages since, worst first: votes up and down, 'wrong article' reasons."""
    rows = conn.execute(
        "SELECT COALESCE(a.kb_version, ''), COALESCE(a.passage_ids, ''), COALESCE(a.articles, ''),"
        " SUM(v.vote > 0), SUM(v.vote < 0), SUM(v.reason = 'wrong_article'), AVG(a.confidence)"
        " FROM votes v LEFT JOIN answers a ON a.id = v.answer_id WHERE v.at >= ?"
        " GROUP BY a.kb_version, a.passage_ids, a.articles ORDER BY SUM(v.vote) ASC, SUM(v.vote < 0) DESC",
        (since,),
    )
    keys = ("kb_version", "passage_ids", "articles", "up", "down", "wrong_article", "confidence")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def daily(conn: sqlite3.Connection, since: float) -> list[tuple[str, int, int, int]]:
    """(day, answers, abstentions, 👎) per UTC day since."""
    days: dict[str, list[int]] = {}
    for day, answers, abstentions in conn.execute(
        "SELECT date(at, 'unixepoch'), COUNT(*), SUM(abstained) FROM answers WHERE at >= ? GROUP BY 1", (since,)
    ):
        days[day] = [answers, abstentions or 0, 0]
    for day, down in conn.execute(
        "SELECT date(at, 'unixepoch'), SUM(vote < 0) FROM votes WHERE at >= ? GROUP BY 1", (since,)
    ):
        days.setdefault(day, [0, 0, 0])[2] = down or 0
    return [(day, *values) for day, values in sorted(days.items())]  # type: ignore[misc]
