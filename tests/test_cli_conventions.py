"""CLI conventions: --version, global options on either side of the command, examples in every help, exit codes
like grep's, every config mistake at once, init-config, run -v and --shards, line editing in chat."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot import cli
from bot.cli import main

REPO = Path(__file__).resolve().parents[1]
TINY_SET = """\
meta: {name: tiny}
items:
- id: t1
  question: "What is the capital of Australia?"
  category: out_of_scope
  abstain: true
"""
PLAIN_NOTE = "# Field notes\n\nIOM opened an office in Geneva in 1951.\n"
PTY_TIMEOUT_S = 60.0


def run_main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def plain_sources(tmp_path: Path) -> Path:
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "field-notes.md").write_text(PLAIN_NOTE, encoding="utf-8")
    return sources


def test_version_prints_the_installed_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--version"])

    assert caught.value.code == 0
    assert capsys.readouterr().out.strip() == f"iom-bot {cli._version()}"
    assert cli._version()[0].isdigit()


COMMANDS = ["ask", "search", "chat", "check", "eval", "build-index", "run", "init-config"]


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_every_help_shows_examples(capsys: pytest.CaptureFixture[str], command: str | None) -> None:
    with pytest.raises(SystemExit) as caught:
        main([command, "--help"] if command else ["--help"])

    out = capsys.readouterr().out
    assert caught.value.code == 0
    assert "examples:\n  iom-bot " + (command or "") in out


@pytest.mark.parametrize(
    "argv",
    [
        ["-v", "check", "--sources", "{sources}"],
        ["--sources", "{sources}", "check", "-v"],
        ["check", "-v", "--sources", "{sources}"],
    ],
)
def test_global_options_go_before_or_after_the_command(plain_sources: Path, argv: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", *(arg.format(sources=plain_sources) for arg in argv)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=PTY_TIMEOUT_S,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert 'document   field-notes: "Field notes"' in result.stdout
    assert "no front matter; assumed title 'Field notes' (from its first heading)" in result.stderr  # -v counted


def test_an_option_after_the_command_wins(capsys: pytest.CaptureFixture[str], plain_sources: Path, tmp_path) -> None:
    code, out, _ = run_main(capsys, "--sources", str(tmp_path / "nowhere"), "check", "--sources", str(plain_sources))

    assert code == 0 and "field-notes" in out


def test_search_exits_1_when_nothing_matches(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_main(capsys, "search", "zqxjkvw")[:2] == (1, "No passage matches.\n")
    assert run_main(capsys, "search", "--json", "zqxjkvw")[:2] == (1, '{"query": "zqxjkvw", "hits": []}\n')
    assert run_main(capsys, "search", "laissez-passer")[0] == 0


@pytest.mark.parametrize(("bar", "code"), [("0", 0), ("100", 0), ("100.1", 1)])
def test_eval_fail_under_exits_1_below_the_bar(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, bar: str, code: int
) -> None:
    tiny = tmp_path / "tiny.yaml"
    tiny.write_text(TINY_SET, encoding="utf-8")

    got, _, err = run_main(capsys, "eval", str(tiny), "--json", "--fail-under", bar)

    assert got == code
    assert ("fail: 100.0% correct (e2e) is under --fail-under 100.1" in err) == (code == 1)


def test_every_config_mistake_is_reported_at_once(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("discord:\n  guild_ids: [x]\nasking:\n  answer_words: 5\nlogging:\n  level: LOUD\nmetric: {}\n")

    code, out, err = run_main(capsys, "check", "--config", str(config))

    assert code == 2 and out == ""
    assert err.splitlines() == [
        "error: metric: unknown key 'metric' (did you mean 'metrics'?)",
        "error: discord.guild_ids[0]: expected a Discord id (a positive whole number), got 'x'",
        "error: asking.answer_words: must be between 10 and 400, got 5",
        "error: logging.level: expected one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got 'LOUD'",
    ]


def test_run_passes_verbose_and_shards(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls = []
    monkeypatch.setenv("IOM_TEST_TOKEN", "abc.def")
    monkeypatch.setattr("bot.client.run_bot", lambda config, **kwargs: calls.append((config, kwargs)) or 0)
    config = tmp_path / "config.yaml"
    config.write_text("discord:\n  token_env: IOM_TEST_TOKEN\n  shard_count: 2\n", encoding="utf-8")

    assert main(["-v", "run", "--config", str(config), "-v", "--shard-count", "4", "--shards", "3,2"]) == 0

    [(loaded, kwargs)] = calls
    assert kwargs == {"sync_global": False, "verbose": 2}
    assert (loaded.discord.shard_count, loaded.discord.shard_ids) == (4, (2, 3))


def test_run_refuses_a_shard_that_does_not_exist(capsys: pytest.CaptureFixture[str], monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("IOM_TEST_TOKEN", "abc.def")
    config = tmp_path / "config.yaml"
    config.write_text("discord:\n  token_env: IOM_TEST_TOKEN\n", encoding="utf-8")

    code, _, err = run_main(capsys, "run", "--config", str(config), "--shard-count", "2", "--shards", "0,2")

    assert code == 2
    assert err == "error: --shards: shard 2 does not exist with shard_count 2 (shards are numbered 0 to 1)\n"


def test_init_config_writes_the_commented_example(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"

    assert run_main(capsys, "init-config", str(path))[0] == 0
    assert path.read_text(encoding="utf-8") == (REPO / "bot" / "config.example.yaml").read_text(encoding="utf-8")
    assert run_main(capsys, "check", "--config", str(path))[0] == 0

    code, _, err = run_main(capsys, "init-config", str(path))
    assert code == 2 and err == f"error: {path.absolute()} exists; give another PATH or --force to overwrite it\n"
    assert run_main(capsys, "init-config", str(path), "--force")[0] == 0


def test_the_repository_example_is_the_packaged_one() -> None:
    assert (REPO / "config.example.yaml").resolve() == (REPO / "bot" / "config.example.yaml").resolve()


def read_until(fd: int, marker: bytes, seen: bytearray, count: int = 1) -> None:
    """Read the terminal's output until marker has appeared count times (bounded by PTY_TIMEOUT_S)."""
    deadline = time.monotonic() + PTY_TIMEOUT_S
    while seen.count(marker) < count:
        remaining = deadline - time.monotonic()
        assert remaining > 0, (
            f"{marker!r} not shown {count}x within {PTY_TIMEOUT_S} s:\n{seen.decode(errors='replace')}"
        )
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            try:
                seen.extend(os.read(fd, 65536))
            except OSError:  # the other side closed
                break


def test_chat_on_a_terminal_recalls_the_previous_question_with_the_up_arrow(tmp_path: Path) -> None:
    controller, terminal = pty.openpty()
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path), "TERM": "xterm", "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "chat"], stdin=terminal, stdout=terminal, stderr=terminal, env=env, cwd=tmp_path
    )
    os.close(terminal)
    seen = bytearray()
    try:
        read_until(controller, b"> ", seen)
        os.write(controller, b"zqxjkvw\r")
        read_until(controller, b"\n> ", seen, count=2)  # answered, and readline waits at the next prompt
        os.write(controller, b"\x1b[A\r")  # Up, Enter: the same question again
        read_until(controller, b"\n> ", seen, count=3)
        os.write(controller, b"quit\r")
        assert process.wait(PTY_TIMEOUT_S) == 0
    finally:
        if process.poll() is None:
            process.kill()
        os.close(controller)

    assert b"^[[A" not in seen and seen.count(b"zqxjkvw") >= 2  # the question redrawn, not the escape echoed
    # Python's readline keeps one copy of a line repeated at once.
    assert (tmp_path / "iom-bot" / "chat_history").read_text().split() == ["zqxjkvw", "quit"]


def test_the_package_declares_its_licence_and_classifiers() -> None:
    import importlib.metadata

    metadata = importlib.metadata.metadata("iom-bot")

    assert metadata["License-Expression"] == "MIT"
    assert "LICENSE" in (metadata.get_all("License-File") or [])
    assert "Programming Language :: Python :: 3.11" in metadata.get_all("Classifier")
    assert metadata["Author"] or metadata["Author-email"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--processes", "2"],
            "error: --processes needs shards to share out: --shard-count N or discord.shard_count\n",
        ),
        (["--processes", "3", "--shard-count", "2"], "error: --processes 3 is more than the 2 shards to share out\n"),
    ],
)
def test_processes_need_enough_shards(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, argv: list[str], message: str
) -> None:
    monkeypatch.setenv("IOM_TEST_TOKEN", "abc.def")
    config = tmp_path / "config.yaml"
    config.write_text("discord:\n  token_env: IOM_TEST_TOKEN\n", encoding="utf-8")

    assert run_main(capsys, "run", "--config", str(config), *argv) == (2, "", message)
