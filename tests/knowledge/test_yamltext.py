"""Every YAML file is read through knowledge.yamltext: any failure is one YamlError naming the line."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

from knowledge import yamltext
from knowledge.yamltext import YamlError

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("text", "problem", "line"),
    [
        ("a: [1,\n", "bad YAML: ", 2),
        ("a: " + "[" * 3000 + "]" * 3000, "bad YAML: nested too deeply", None),
        ("a: &x 1\nb: *x\n", "bad YAML: YAML anchors and aliases", 1),
        ("a: " + "9" * 5000, "bad YAML: Exceeds the limit", None),
    ],
)
def test_every_parse_failure_is_one_yaml_error(text: str, problem: str, line: int | None) -> None:
    with pytest.raises(YamlError) as caught:
        yamltext.parse(text)
    assert caught.value.problem.startswith(problem) and caught.value.line == line
    assert "\n" not in str(caught.value) and "\n" not in caught.value.at("f.yaml")


def test_a_part_of_a_file_names_itself_and_its_lines() -> None:
    with pytest.raises(YamlError) as caught:
        yamltext.parse("title: [unclosed\n", first_line=2, part="front matter")
    assert caught.value.at("doc.md").startswith("doc.md:3: bad YAML in front matter: expected")


@pytest.mark.parametrize(
    ("write", "problem"),
    [
        (None, "no such file"),
        (b"a: 1\n" * 100, "too large (the limit is 64 bytes)"),
        (b"a: \xe9\n", "not UTF-8"),
    ],
)
def test_file_failures_are_one_yaml_error(tmp_path: Path, write: bytes | None, problem: str) -> None:
    path = tmp_path / "f.yaml"
    if write is not None:
        path.write_bytes(write)
    with pytest.raises(YamlError) as caught:
        yamltext.read(path, 64)
    assert str(caught.value) == problem and caught.value.at(path) == f"{path}: {problem}"


def test_a_directory_is_not_a_yaml_file(tmp_path: Path) -> None:
    with pytest.raises(YamlError, match="not a regular file"):
        yamltext.read(tmp_path, 64)


def test_no_shipped_module_reads_yaml_but_yamltext() -> None:
    """yaml.load / safe_load / full_load are called in knowledge/yamltext.py only (eval/validate.py included)."""
    callers = []
    for path in [*ROOT.glob("knowledge/*.py"), *ROOT.glob("bot/**/*.py"), ROOT / "eval" / "validate.py"]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "yaml"
                and node.attr in {"load", "safe_load", "full_load", "unsafe_load", "load_all", "safe_load_all"}
            ):
                callers.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert {caller.split(":")[0] for caller in callers} == {"knowledge/yamltext.py"}, callers


@pytest.mark.parametrize(
    "text",
    ["a: &x 1\nb: *x\n", "- &anchor\n  k: v\n", "x: [*y]\n", "a: 'R&D & more'\nb: &z 2\n"],
)
def test_a_text_with_an_anchor_or_alias_is_refused_by_both_loaders(text: str) -> None:
    for c_loader in (True, False):
        with pytest.raises(yaml.YAMLError):
            yamltext.load(text, c_loader=c_loader)


def test_marks_inside_text_are_not_anchors() -> None:
    assert yamltext.load("q: 'migration & development * 2'\n") == {"q": "migration & development * 2"}
