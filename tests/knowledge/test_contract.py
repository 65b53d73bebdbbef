"""The JSON contract of `iom-bot ask --json` and `--batch`: other tools parse it, so every field's type is fixed."""

from __future__ import annotations

import io
import json
import queue
import subprocess
import sys
import threading
from typing import Any

import pytest

from bot.cli import main
from knowledge.base import KnowledgeBase

ANSWER_KEYS = {
    "question", "answer", "abstained", "score", "citations", "passages",
    "confidence", "reason", "reason_text", "alternatives", "unanswered",
}  # fmt: skip
CITATION_KEYS = {"source", "title", "section", "url", "articles", "instrument", "passage_id"}
PASSAGE_KEYS = {"id", "text", "score", "source", "section"}
ANSWERED = "Can IOM staff use a UN laissez-passer as a travel document?"
OUT_OF_SCOPE = "What is the capital of Australia?"
NEAREST = "Where is the headquarters of UNHCR located?"  # out of scope, yet near the UNHCR passage
READ_TIMEOUT_S = 30


def assert_contract(data: dict[str, Any]) -> None:
    assert set(data) == ANSWER_KEYS
    assert isinstance(data["question"], str)
    assert isinstance(data["abstained"], bool)
    assert isinstance(data["score"], float)
    assert isinstance(data["citations"], list)
    assert isinstance(data["passages"], list) and len(data["passages"]) <= 5
    if data["abstained"]:
        assert data["answer"] is None and data["citations"] == []
    else:
        assert isinstance(data["answer"], str) and data["answer"]
    for citation in data["citations"]:
        assert set(citation) == CITATION_KEYS
        assert all(isinstance(citation[key], str) for key in ("source", "title", "passage_id"))
        assert all(citation[key] is None or isinstance(citation[key], str) for key in ("section", "url", "instrument"))
        assert isinstance(citation["articles"], list)
        assert all(isinstance(a, str) and a.startswith("art. ") for a in citation["articles"])
    for passage in data["passages"]:
        assert set(passage) == PASSAGE_KEYS
        assert all(isinstance(passage[key], str) for key in ("id", "text", "source"))
        assert isinstance(passage["score"], float)
        assert passage["section"] is None or isinstance(passage["section"], str)


def ask_json(capsys: pytest.CaptureFixture[str], question: str) -> dict[str, Any]:
    assert main(["ask", "--json", question]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1, "exactly one JSON object on one line"
    return json.loads(out)


def test_answered_question_follows_the_contract(capsys):
    data = ask_json(capsys, ANSWERED)
    assert_contract(data)
    assert data["question"] == ANSWERED
    assert data["abstained"] is False
    assert "laissez-passer" in data["answer"]
    assert {"instrument": "A/70/976", "articles": ["art. 11"]}.items() <= data["citations"][0].items()
    assert data["passages"], "the passages the answer was drawn from"


@pytest.mark.parametrize("question", [OUT_OF_SCOPE, NEAREST])
def test_abstention_follows_the_contract(capsys, question):
    data = ask_json(capsys, question)
    assert_contract(data)
    assert data["abstained"] is True


def test_abstention_still_lists_the_nearest_passages(capsys):
    data = ask_json(capsys, NEAREST)
    assert data["passages"] and "UNHCR" in data["passages"][0]["text"]


def test_batch_echoes_ids_in_order_with_errors_in_band(capsys, monkeypatch):
    lines = [
        {"id": "a", "question": ANSWERED},
        "not json",
        {"id": 2, "question": ""},
        {"id": 3},
        ["not", "an", "object"],
        {"id": None, "question": OUT_OF_SCOPE},
        {"question": OUT_OF_SCOPE},
    ]
    stdin = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n\n"
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    assert main(["ask", "--batch"]) == 0
    replies = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [reply["id"] for reply in replies] == ["a", None, 2, 3, None, None, None]
    assert_contract({k: v for k, v in replies[0].items() if k != "id"})
    assert replies[1] == {"id": None, "error": "line 2: not JSON (Expecting value)"}
    assert replies[2] == {"id": 2, "error": "line 3: the question is empty"}
    assert replies[3] == {"id": 3, "error": "line 4: 'question' must be a string"}
    assert set(replies[4]) == {"id", "error"}
    assert replies[5]["abstained"] is True and replies[6]["abstained"] is True


def test_batch_survives_a_question_that_breaks_the_knowledge_base(capsys, monkeypatch):
    answer = KnowledgeBase.answer

    def fragile(self, question, **kwargs):
        if question == "boom":
            raise RuntimeError("index corrupted")
        return answer(self, question, **kwargs)

    monkeypatch.setattr(KnowledgeBase, "answer", fragile)
    requests = [{"id": 1, "question": "boom"}, {"id": 2, "question": ANSWERED}]
    monkeypatch.setattr(sys, "stdin", io.StringIO("".join(json.dumps(r) + "\n" for r in requests)))
    assert main(["ask", "--batch"]) == 0
    first, second = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert first == {"id": 1, "error": "line 1: internal error (RuntimeError)"}
    assert second["id"] == 2 and second["abstained"] is False


def test_batch_flushes_each_reply_before_reading_the_next_line():
    """A client can write one question, wait for its answer, then write the next (a real pipe, a real process)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "ask", "--batch"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    replies: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [replies.put(line) for line in proc.stdout], daemon=True)
    reader.start()
    try:
        for request_id, question in [(1, ANSWERED), ("two", OUT_OF_SCOPE), (3, "What does Article 8 provide?")]:
            proc.stdin.write(json.dumps({"id": request_id, "question": question}) + "\n")
            proc.stdin.flush()
            reply = json.loads(replies.get(timeout=READ_TIMEOUT_S))
            assert reply["id"] == request_id
            assert reply["question"] == question
        proc.stdin.close()
        assert proc.wait(timeout=READ_TIMEOUT_S) == 0
    finally:
        proc.kill()
        proc.wait()
    assert replies.empty()
