"""Storage: migrations, pruning, clustering, hashed users, faults that degrade once, and `iom-bot report`."""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path

import pytest

from bot import storage
from bot.cli import main
from bot.storage import SCHEMA_VERSION, AnswerRow, Storage, VoteRow
from knowledge.clusters import cluster

USER_ID = 123456789012345678
NOW = 1_800_000_000.0


def answer_row(answer_id: str = "a" * 16, *, at: float = NOW, question: str | None = None, abstained: bool = True):
    return AnswerRow(
        id=answer_id,
        at=at,
        kb_version="0123456789ab",
        passage_ids="doc#part-1",
        articles="A/70/976 art. 11",
        confidence=0.2,
        abstained=abstained,
        reason="low_confidence" if abstained else None,
        guild_id=1,
        channel_id=2,
        doubtful=True,
        question=question,
        terms="staff travel ≡laissez_passer",
    )


def test_an_old_schema_file_opens_and_upgrades(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    for statement in storage.MIGRATIONS[1]:
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    conn.execute("INSERT INTO votes (answer_id, user_hash, vote, at) VALUES ('x', 'h', -1, 1.0)")
    conn.commit()
    conn.close()

    upgraded = storage.open_database(str(path))

    assert upgraded.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert upgraded.execute("SELECT answer_id, vote, reason FROM votes").fetchall() == [("x", -1, None)]
    assert "doubtful" in [row[1] for row in upgraded.execute("PRAGMA table_info(answers)")]
    assert upgraded.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()

    with pytest.raises(storage.StorageError, match="newer than this bot's"):
        storage.open_database(str(path))


def test_pruning_deletes_only_rows_past_retention(tmp_path: Path) -> None:
    conn = storage.open_database(str(tmp_path / "db.sqlite3"))
    old, recent = NOW - 31 * storage.DAY_S, NOW - 29 * storage.DAY_S
    with conn:
        for answer_id, at in (("old", old), ("recent", recent)):
            row = answer_row(answer_id, at=at)
            conn.execute(
                "INSERT INTO answers (id, at, kb_version, passage_ids, articles, confidence, abstained)"
                " VALUES (?, ?, '', '', '', 0, 1)",
                (row.id, row.at),
            )
            conn.execute("INSERT INTO votes (answer_id, user_hash, vote, at) VALUES (?, 'h', 1, ?)", (answer_id, at))

    assert storage.prune(conn, 30, NOW) == 2
    assert [r[0] for r in conn.execute("SELECT id FROM answers")] == ["recent"]
    assert [r[0] for r in conn.execute("SELECT answer_id FROM votes")] == ["recent"]


def test_clusters_group_similar_questions_most_frequent_first() -> None:
    texts = [
        "Where is the headquarters of UNHCR?",
        "Where is UNHCR headquarters?",
        "Where is the headquarters of UNHCR?",
        "Who funds IOM?",
        "",
    ]

    groups = cluster(texts)

    assert [(g.count, g.example) for g in groups] == [(3, "Where is the headquarters of UNHCR?"), (1, "Who funds IOM?")]
    assert groups[0].texts == ("Where is the headquarters of UNHCR?", "Where is UNHCR headquarters?")
    assert cluster([]) == []


async def test_rows_are_written_in_the_background_and_read_back(tmp_path: Path) -> None:
    db = Storage(tmp_path / "db.sqlite3", clock=lambda: NOW)
    db.start()
    try:
        db.record_answer(answer_row(question=None))
        db.record_vote(VoteRow("a" * 16, USER_ID, -1, None, NOW, 1, 2))
        db.record_vote(VoteRow("a" * 16, USER_ID, -1, "wrong_article", NOW, 1, 2))  # the same user changes it

        rated = await db.read(lambda conn: storage.feedback(conn, 0))
        unanswered = await db.read(lambda conn: storage.unanswered(conn, 0))
    finally:
        db.close()

    assert rated == [
        {
            "kb_version": "0123456789ab",
            "passage_ids": "doc#part-1",
            "articles": "A/70/976 art. 11",
            "up": 0,
            "down": 1,
            "wrong_article": 1,
            "confidence": 0.2,
        }
    ]
    assert unanswered == [("staff travel ≡laissez_passer", NOW, True)]
    data = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert str(USER_ID).encode() not in data  # only a keyed hash of the user id


async def test_a_locked_database_degrades_once_and_answers_go_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "db.sqlite3"
    db = Storage(path, clock=lambda: NOW)
    db.start()
    await db.read(lambda conn: None)  # open
    locker = sqlite3.connect(path, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        with caplog.at_level(logging.WARNING, logger="bot.storage"):
            for n in range(50):
                db.record_answer(answer_row(f"{n:016x}"))  # returns at once: the writer waits, not the caller
            # WAL lets the writer's connection read while another holds the write lock: the batch was dropped.
            written = await db.read(lambda conn: conn.execute("SELECT count(*) FROM answers").fetchone()[0])
        warnings = [r for r in caplog.records if r.name == "bot.storage" and r.levelno == logging.WARNING]
        assert written == 0 and db.degraded is not None
        assert len(warnings) == 1 and "database is locked" in warnings[0].getMessage()  # once, not 50 times
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    db.record_answer(answer_row("f" * 16))
    count = await db.read(lambda conn: conn.execute("SELECT count(*) FROM answers").fetchone()[0])
    db.close()
    assert count >= 1 and db.degraded is None  # writing again clears it


@pytest.mark.parametrize("fault", ["corrupt", "read-only directory"])
async def test_an_unusable_file_degrades_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, fault: str
) -> None:
    if fault == "corrupt":
        path = tmp_path / "db.sqlite3"
        path.write_bytes(b"this is not a database" * 100)
    else:
        path = tmp_path / "missing" / "deeper" / "db.sqlite3"
        (tmp_path / "missing").write_text("a file where a directory should be", encoding="utf-8")
    db = Storage(path, clock=lambda: NOW)
    with caplog.at_level(logging.WARNING, logger="bot.storage"):
        db.start()
        for n in range(20):
            db.record_answer(answer_row(f"{n:016x}"))
        with pytest.raises(storage.StorageError):
            await db.read(lambda conn: None)
        db.close()

    assert db.degraded is not None
    assert len([r for r in caplog.records if r.name == "bot.storage" and r.levelno == logging.WARNING]) == 1


async def test_report_prints_the_tables_and_writes_a_chart(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "db.sqlite3"
    db = Storage(path, clock=time.time)
    db.start()
    db.record_answer(answer_row(at=time.time(), question="Where is the headquarters of UNHCR?"))
    db.record_vote(VoteRow("a" * 16, USER_ID, -1, "wrong_article", time.time(), 1, 2))
    await db.read(lambda conn: None)
    db.close()
    chart = tmp_path / "chart.png"

    code = main(["report", "--database", str(path), "--since", "7d", "--chart", str(chart)])

    out = capsys.readouterr().out
    assert code == 0
    assert "    1  Where is the headquarters of UNHCR?" in out
    assert "  0 up   1 down  doc#part-1  A/70/976 art. 11" in out
    assert chart.read_bytes().startswith(b"\x89PNG")


async def test_a_full_disk_degrades_with_one_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    db = Storage(tmp_path / "db.sqlite3", clock=lambda: NOW)
    db.start()
    pages = await db.read(lambda conn: conn.execute("PRAGMA page_count").fetchone()[0])
    await db.read(lambda conn: conn.execute(f"PRAGMA max_page_count = {pages}"))  # no room to grow: "disk full"
    with caplog.at_level(logging.WARNING, logger="bot.storage"):
        for n in range(2000):
            db.record_answer(answer_row(f"{n:016x}", question="x" * 500))
        await db.read(lambda conn: None)
    db.close()

    warnings = [r.getMessage() for r in caplog.records if r.name == "bot.storage" and r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "full" in warnings[0]
    assert db.degraded is not None


KILL_SCRIPT = """
import sys, time
sys.path.insert(0, sys.argv[1])
from bot.storage import AnswerRow, Storage
db = Storage(sys.argv[2])
db.start()
n = 0
while True:
    db.record_answer(AnswerRow(f"{n:016x}", time.time(), "v", "p", "", 0.1, True, None, 1, 2, True, None, "t"))
    n += 1
    if n == 2000:
        print("writing", flush=True)
    if n % 100 == 0:
        time.sleep(0.001)
"""


def test_sigkill_during_writes_never_corrupts_the_file(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys

    path = tmp_path / "db.sqlite3"
    repo = Path(__file__).resolve().parents[2]
    child = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, str(repo), str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == "writing\n"
        rows_before, deadline = 0, time.monotonic() + 30
        while rows_before == 0:  # wait until batches are on disk, then kill mid-stream
            assert time.monotonic() < deadline, "no batch was written"
            with sqlite3.connect(path, timeout=5) as conn:
                rows_before = conn.execute("SELECT count(*) FROM answers").fetchone()[0]
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(timeout=10)

    conn = storage.open_database(str(path))
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT count(*) FROM answers").fetchone()[0] >= rows_before
