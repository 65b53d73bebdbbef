"""Source documents: loading a directory of Markdown (with or without front matter) or plain-text files, all or nothing.

A Markdown file without front matter takes its title from its first heading (else from its file name) and its id
from its file name; the loader logs what it assumed (INFO: `-v` on the command line).
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .files import FileTooLarge, NotRegularFile, read_limited

SOURCE_SUFFIXES = (".md", ".txt")
MAX_SOURCE_BYTES = 5 * 1024 * 1024  # one article is ~12 KB; a 5 MB file is a mistake, not a source
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")
FRONT_MATTER_KEYS = frozenset({"id", "title", "publisher", "url", "sections", "caption", "body_sha256", "date"})
# The title ends at its last character that is not a space or a closing '#': no lazy match before a trailing run
# of the same characters, which would take quadratic time on a long line.
MARKDOWN_HEADING = re.compile(r"^#{1,6}[ \t]+(?P<title>\S(?:.*[^ \t#\n])?)[ \t#]*$")
CAPTION_SECTION = "Photo caption"
PROBLEM_MAX_CHARS = 300  # of a SourceError's problem: it is logged and shown to admins, whatever the file holds
VALUE_MAX_CHARS = 60  # of a value quoted in a problem

log = logging.getLogger(__name__)


class SourceError(ValueError):
    """A source file that cannot be loaded; the message names the file (and line where known)."""

    def __init__(self, path: Path | str, problem: str, line: int | None = None) -> None:
        self.path = Path(path)
        if len(problem) > PROBLEM_MAX_CHARS:
            problem = problem[: PROBLEM_MAX_CHARS - 1] + "…"
        self.problem = problem
        self.line = line
        where = f"{self.path}:{line}" if line is not None else str(self.path)  # the whole path: no guessing which
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True, slots=True)
class Block:
    """A run of body text with one role: a paragraph of a section, or the photo caption."""

    text: str
    start: int  # offset of text in Document.body
    section: str | None
    kind: str = "text"  # "text" or "caption"


@dataclass(frozen=True, slots=True)
class Document:
    id: str
    title: str
    body: str
    path: Path
    sha256: str  # of the body, UTF-8
    publisher: str | None = None
    url: str | None = None
    date: str | None = None
    blocks: tuple[Block, ...] = ()
    file_sha256: str = ""  # of the file's bytes, front matter and all: what a saved set is keyed by

    @property
    def sections(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for block in self.blocks:
            if block.section is not None:
                seen.setdefault(block.section)
        return tuple(seen)


def load_documents(directory: Path | str) -> tuple[Document, ...]:
    """Load every source in directory, or raise SourceError for the first bad one: never a partial set."""
    documents = [load_document(path) for path in source_paths(directory)]
    by_id: dict[str, Path] = {}
    for document in documents:
        if document.id in by_id:
            raise SourceError(document.path, f"duplicate id {document.id!r} (also in {by_id[document.id].name})")
        by_id[document.id] = document.path
    return tuple(documents)


def source_paths(directory: Path | str) -> list[Path]:
    """The source files of directory in load order; SourceError when there are none or one is not a file."""
    directory = Path(directory)
    if not directory.is_dir():
        raise SourceError(directory, "not a directory of sources")
    paths = sorted(_source_paths(directory))
    if not paths:
        raise SourceError(directory, f"no source files ({', '.join(SOURCE_SUFFIXES)}) in the directory")
    return paths


def _source_paths(directory: Path) -> Iterable[Path]:
    try:
        entries = list(os.scandir(directory))
    except OSError as error:
        raise SourceError(directory, f"cannot read the directory: {error.strerror or error}") from None
    for entry in entries:
        if entry.name.startswith(".") or not entry.name.endswith(SOURCE_SUFFIXES):
            continue
        path = Path(entry.path)
        try:
            is_file = entry.is_file()  # follows symlinks; a loop or dangling link raises or is False
        except OSError as error:
            raise SourceError(path, f"cannot read: {error.strerror or error}") from error
        if not is_file:
            raise SourceError(path, "not a regular file (a dangling or looping link?)")
        check_inside(directory, path)
        yield path


def check_inside(directory: Path, path: Path) -> None:
    """Raise SourceError if path (a link, or a link's target) leads out of directory: a source is never a
    link to /etc/passwd or another user's files, which /search would quote back."""
    try:
        target = path.resolve(strict=True)
        root = directory.resolve(strict=True)
    except (OSError, RuntimeError) as error:
        raise SourceError(path, f"cannot resolve the link: {getattr(error, 'strerror', None) or error}") from None
    if not target.is_relative_to(root):
        raise SourceError(path, "a link that leads out of the sources directory: copy the file in instead")


def load_document(path: Path, raw: bytes | None = None) -> Document:
    """Load one source file (.md with YAML front matter, or .txt whose first line is the title); raw: its bytes,
    when already read (read_source)."""
    raw = read_source(path) if raw is None else raw
    if b"\x00" in raw:
        raise SourceError(path, "binary file (contains NUL bytes), not text")
    try:
        text = source_text(raw)
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise SourceError(path, f"not UTF-8 (bad byte 0x{raw[error.start]:02x})", line) from None
    if "\r" in text and "\n" not in text:
        raise SourceError(path, "the lines end with a carriage return only (CR): save the file with LF line endings", 1)
    if path.suffix == ".md" and text.split("\n", 1)[0].rstrip("\r") == "---":
        meta, body, body_line = _split_front_matter(path, text)
    elif path.suffix == ".md":
        meta, body, body_line = _plain_markdown(path, text), text, 1
    else:
        meta, body, body_line = {}, text, 1
    document = _build_document(path, meta, body, body_line)
    return replace(document, file_sha256=hashlib.sha256(raw).hexdigest())


def source_text(raw: bytes) -> str:
    """A source file's text as its body is cut from (UnicodeDecodeError when it is not UTF-8)."""
    return raw.decode("utf-8").removeprefix("\ufeff")


def read_source(path: Path) -> bytes:
    """A source file's bytes; SourceError when it is too large or cannot be read."""
    try:
        size = path.stat().st_size
        if size > MAX_SOURCE_BYTES:
            raise SourceError(path, f"too large ({size:,} bytes; the limit is {MAX_SOURCE_BYTES:,})")
        return read_limited(path, MAX_SOURCE_BYTES)
    except FileTooLarge:
        raise SourceError(path, f"too large (the limit is {MAX_SOURCE_BYTES:,} bytes)") from None
    except NotRegularFile:
        raise SourceError(path, "not a regular file") from None
    except FileNotFoundError:
        raise SourceError(path, "disappeared while loading") from None
    except OSError as error:
        raise SourceError(path, f"cannot read: {error.strerror or error}") from error


def _split_front_matter(path: Path, text: str) -> tuple[dict[str, Any], str, int]:
    lines = text.split("\n")
    if not lines or lines[0].rstrip("\r") != "---":
        raise SourceError(path, "missing YAML front matter (the file must start with a '---' line)", 1)
    for index in range(1, len(lines)):
        if lines[index].rstrip("\r") == "---":
            break
    else:
        raise SourceError(path, "front matter is not closed by a '---' line", 1)
    header = "\n".join(lines[1:index])
    from . import yamltext  # here, not at the top: `iom-bot --help` imports SourceError and should not import PyYAML

    try:
        meta = yamltext.parse(header, first_line=2, part="front matter")  # line 1 is the opening '---'
    except yamltext.YamlError as error:
        raise SourceError(path, error.problem, error.line) from None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise SourceError(path, "front matter must be a mapping of keys to values", 2)
    unknown = sorted(set(map(str, meta)) - FRONT_MATTER_KEYS)
    if unknown:
        raise SourceError(path, f"unknown front-matter key {unknown[0]!r}", _key_line(lines, unknown[0]))
    return meta, "\n".join(lines[index + 1 :]), index + 2


def shown(value: object) -> str:
    """A value as a problem quotes it: its repr, cut to VALUE_MAX_CHARS (a list or string may be huge)."""
    if isinstance(value, str | int | float | bool) or value is None:
        text = repr(value[: VALUE_MAX_CHARS + 1] if isinstance(value, str) else value)
    else:
        text = f"a {type(value).__name__}"
    return text if len(text) <= VALUE_MAX_CHARS else text[: VALUE_MAX_CHARS - 1] + "…"


def _plain_markdown(path: Path, text: str) -> dict[str, Any]:
    """What a Markdown file without front matter is taken to be: title from its first heading or file name."""
    first = next((line.strip() for line in text.split("\n") if line.strip()), "")
    heading = MARKDOWN_HEADING.match(first)
    title = heading.group("title") if heading else _title_from_name(path)
    doc_id = _id_from_name(path)
    source = "its first heading" if heading else "its file name"
    log.info(
        "%s: no front matter; assumed title %r (from %s) and id %r (from its file name)", path, title, source, doc_id
    )
    return {"title": title, "id": doc_id}


def _title_from_name(path: Path) -> str:
    words = re.sub(r"[-_.]+", " ", path.stem).strip()
    return words[:1].upper() + words[1:] if words else path.stem


def _id_from_name(path: Path) -> str:
    """The file name as an id: lowercase, runs of other characters as one '-' (a bad id is still refused later)."""
    return re.sub(r"[^a-z0-9._-]+", "-", path.stem.lower()).strip("-._")[:100] or path.stem.lower()


def _key_line(lines: list[str], key: str) -> int | None:
    for number, line in enumerate(lines, start=1):
        if line.startswith(f"{key}:"):
            return number
    return None


def _optional_str(path: Path, meta: dict[str, Any], key: str) -> str | None:
    value = meta.get(key)
    if value is None:
        return None
    if isinstance(value, (int, float, datetime.date)) and key == "date":
        return value.isoformat() if isinstance(value, datetime.date) else str(value)  # date: 2016-07-08, unquoted
    if not isinstance(value, str) or not value.strip():
        raise SourceError(path, f"front-matter {key!r} must be a non-empty string or null")
    return value.strip()


def _build_document(path: Path, meta: dict[str, Any], body: str, body_line: int) -> Document:
    if not body.strip():
        raise SourceError(path, "empty body: the file has no text to answer from", body_line)
    title = _optional_str(path, meta, "title")
    lines = body.split("\n")
    if path.suffix == ".txt":
        title = lines[0].strip() or None
    if not title:
        raise SourceError(path, "missing title (front-matter 'title', or the first line of a .txt file)")
    doc_id = meta.get("id", path.stem.lower())
    if not isinstance(doc_id, str) or not ID_PATTERN.match(doc_id):
        raise SourceError(path, f"bad id {shown(doc_id)}: use lowercase letters, digits, '.', '_' or '-'")
    url = _optional_str(path, meta, "url")
    if url is not None and not re.match(r"^https?://\S+$", url):
        raise SourceError(path, f"url must be an http(s) address or null, not {shown(url)}")
    sha = hashlib.sha256(body.encode("utf-8")).hexdigest()
    expected = meta.get("body_sha256")
    if expected is not None and expected != sha:
        raise SourceError(path, "body does not match its body_sha256: the verbatim text was edited")
    blocks = _blocks(path, meta, body)
    if not any(block.kind == "text" for block in blocks):
        raise SourceError(path, "no paragraphs of text besides the title and headings", body_line)
    return Document(
        id=doc_id,
        title=title,
        body=body,
        path=path,
        sha256=sha,
        publisher=_optional_str(path, meta, "publisher"),
        url=url,
        date=_optional_str(path, meta, "date"),
        blocks=blocks,
    )


def _blocks(path: Path, meta: dict[str, Any], body: str) -> tuple[Block, ...]:
    """Split the body into paragraphs, each tagged with its section; headings and the title line are not text."""
    headings = meta.get("sections") or []
    if not isinstance(headings, list) or not all(isinstance(h, str) and h.strip() for h in headings):
        raise SourceError(path, "front-matter 'sections' must be a list of heading lines")
    heading_set = {h.strip() for h in headings}
    caption = meta.get("caption")
    if caption is not None and (not isinstance(caption, str) or not caption.strip()):
        raise SourceError(path, "front-matter 'caption' must be the caption's text")
    caption_span = _find_caption(path, body, caption)
    title = (meta.get("title") or "").strip()
    blocks: list[Block] = []
    section: str | None = None
    first_line = True
    for start, paragraph in _paragraphs(body):
        if caption_span and caption_span[0] <= start < caption_span[1]:
            blocks.append(Block(paragraph, start, CAPTION_SECTION, "caption"))
            continue
        stripped = paragraph.strip()
        heading = MARKDOWN_HEADING.match(stripped) if path.suffix == ".md" else None
        is_title = first_line and (stripped == title or path.suffix == ".txt" or heading is not None)
        first_line = False
        if is_title and "\n" not in stripped:
            continue
        if stripped in heading_set:
            section = stripped
        elif heading is not None and "\n" not in stripped:
            section = heading.group("title")
        elif path.suffix == ".txt" and _looks_like_heading(stripped):
            section = stripped
        else:
            blocks.append(Block(paragraph, start, section, "text"))
    return tuple(blocks)


def _find_caption(path: Path, body: str, caption: str | None) -> tuple[int, int] | None:
    if caption is None:
        return None
    start = body.find(caption.strip())
    if start < 0:
        raise SourceError(path, "front-matter 'caption' does not occur verbatim in the body")
    return start, start + len(caption.strip())


def _paragraphs(body: str) -> Iterable[tuple[int, str]]:
    """Yield (offset, paragraph) for each blank-line separated paragraph, and each line of a caption."""
    for match in re.finditer(r"[^\n]+(?:\n(?![ \t]*\n)[^\n]*)*", body):
        text = match.group(0)
        if text.strip():
            lead = len(text) - len(text.lstrip())
            yield match.start() + lead, text.strip()


def _looks_like_heading(line: str) -> bool:
    """A plain-text heading: one short line without closing punctuation."""
    return "\n" not in line and len(line.split()) <= 10 and not re.search(r"[.!?:;,”\"')\]]$", line)
