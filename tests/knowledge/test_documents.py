"""Loading sources: the bundled document is verbatim; every kind of bad file is named, nothing half-loads."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import pytest

from knowledge.base import BUNDLED_SOURCES
from knowledge.documents import CAPTION_SECTION, SourceError, load_documents

SHARED_SOURCE = Path(__file__).resolve().parents[3] / "shared" / "sources" / "iom-joins-un-system.txt"
BODY = "First paragraph about IOM. It has two sentences.\n\nHeading One\n\nSecond paragraph here.\n"


def test_bundled_body_is_the_shared_source_byte_for_byte() -> None:
    (document,) = load_documents(BUNDLED_SOURCES)
    assert document.sha256 == "ac5634dfee5f0c5115aeaae4bb850dec3070f466c02eebd334f2fc18f80bcc1c"
    assert hashlib.sha256(document.body.encode()).hexdigest() == document.sha256
    if SHARED_SOURCE.exists():  # beside a checkout; CI has its copy of shared/ there too
        assert document.body == SHARED_SOURCE.read_text(encoding="utf-8")


def test_bundled_metadata_is_honest() -> None:
    (document,) = load_documents(BUNDLED_SOURCES)
    assert document.title == "International Organization for Migration to Join United Nations System"
    assert "IJRC" in (document.publisher or "")
    assert (
        document.url
        == "https://ijrcenter.org/2016/08/09/international-organization-for-migration-to-join-united-nations-system/"
    )  # where IJRC published it (given with issue 14)
    assert "breech" in document.body and "\u00a0" in document.body and "’" in document.body


def test_bundled_sections_and_caption() -> None:
    (document,) = load_documents(BUNDLED_SOURCES)
    assert document.sections == (
        CAPTION_SECTION,
        "Details of the Agreement",
        "The International Organization for Migration",
        "UN Mechanisms Operating in the Field of Migration",
        "Developments in Refugee and Migration Issues",
        "Additional Information",
    )
    captions = [block for block in document.blocks if block.kind == "caption"]
    assert len(captions) == 1 and captions[0].text.startswith("After receiving Humanitarian aid")
    # Headings and the title line are not passages of text.
    texts = [block.text for block in document.blocks]
    assert "Details of the Agreement" not in texts
    assert document.title not in texts
    for block in document.blocks:
        assert document.body[block.start : block.start + len(block.text)] == block.text


def test_markdown_headings_mark_sections(write_source, front_matter) -> None:
    path = write_source("a.md", front_matter("# T\n\nLead text.\n\n## Part Two\n\nMore text.\n", id="a", title="T"))
    (document,) = load_documents(path.parent)
    assert [(block.section, block.text) for block in document.blocks] == [
        (None, "Lead text."),
        ("Part Two", "More text."),
    ]


def test_txt_title_is_first_line(write_source) -> None:
    path = write_source("note.txt", "My Title\n\nA paragraph of text.\n\nShort Heading\n\nAnother one.\n")
    (document,) = load_documents(path.parent)
    assert document.title == "My Title"
    assert document.id == "note"
    assert [(block.section, block.text) for block in document.blocks] == [
        (None, "A paragraph of text."),
        ("Short Heading", "Another one."),
    ]


@pytest.mark.parametrize(
    ("name", "content", "problem", "line"),
    [
        ("bad.md", "---\nid: x\ntitle: [unclosed\n---\nBody.\n", "bad YAML", 3),
        ("notitle.md", "---\nid: x\n---\nBody text.\n", "missing title", None),
        ("empty.md", "---\nid: x\ntitle: T\n---\n\n  \n", "empty body", 5),
        ("nofm.md", "# Only a heading\n", "no paragraphs of text", 1),
        ("open.md", "---\nid: x\ntitle: T\nBody\n", "not closed", 1),
        ("key.md", "---\nid: x\ntitle: T\nauthor: me\n---\nBody.\n", "unknown front-matter key 'author'", 4),
        ("badid.md", "---\nid: Has Spaces\ntitle: T\n---\nBody.\n", "bad id", None),
        ("url.md", "---\nid: x\ntitle: T\nurl: not a url\n---\nBody.\n", "url must be", None),
        ("empty.txt", "", "empty body", 1),
    ],
)
def test_bad_source_names_file_and_problem(write_source, name, content, problem, line) -> None:
    path = write_source(name, content)
    with pytest.raises(SourceError) as raised:
        load_documents(path.parent)
    assert raised.value.path.name == name
    assert problem in str(raised.value)
    assert str(raised.value).startswith(str(path) if line is None else f"{path}:{line}")  # the whole path


@pytest.mark.parametrize(
    ("name", "content", "title", "doc_id", "assumed"),
    [
        ("iom-history.md", "# IOM at seventy\n\nIOM was founded in 1951.\n", "IOM at seventy", "iom-history",
         "assumed title 'IOM at seventy' (from its first heading) and id 'iom-history'"),
        ("Field_Notes 2024.md", "IOM was founded in 1951.\n\n## Later\n\nIt joined the UN in 2016.\n",
         "Field Notes 2024", "field_notes-2024",
         "assumed title 'Field Notes 2024' (from its file name) and id 'field_notes-2024'"),
    ],
)  # fmt: skip
def test_plain_markdown_without_front_matter_is_accepted(
    write_source, caplog: pytest.LogCaptureFixture, name: str, content: str, title: str, doc_id: str, assumed: str
) -> None:
    path = write_source(name, content)

    with caplog.at_level(logging.INFO, logger="knowledge.documents"):
        (document,) = load_documents(path.parent)

    assert (document.title, document.id) == (title, doc_id)
    assert "IOM was founded in 1951." in [block.text for block in document.blocks]
    assert title not in [block.text for block in document.blocks]
    assert [r.getMessage() for r in caplog.records] == [f"{path}: no front matter; {assumed} (from its file name)"]


def test_non_utf8_names_the_line(write_source) -> None:
    path = write_source("latin.txt", "Title\n\nGood line.\nCaf\xe9 bad\n".encode("latin-1"))
    with pytest.raises(SourceError, match=r"latin.txt:4: not UTF-8 \(bad byte 0xe9\)"):
        load_documents(path.parent)


def test_binary_file_is_refused(write_source) -> None:
    path = write_source("blob.md", b"---\x00\x01\x02")
    with pytest.raises(SourceError, match="blob.md: binary file"):
        load_documents(path.parent)


def test_duplicate_ids_are_refused(write_source, front_matter) -> None:
    write_source("one.md", front_matter("Text one.\n", id="same", title="One"))
    path = write_source("two.md", front_matter("Text two.\n", id="same", title="Two"))
    with pytest.raises(SourceError, match=r"two.md: duplicate id 'same' \(also in one.md\)"):
        load_documents(path.parent)


def test_edited_verbatim_body_is_detected(sources_copy: Path) -> None:
    path = sources_copy / "iom-joins-un-system.md"
    path.write_text(path.read_text(encoding="utf-8").replace("breech", "breach"), encoding="utf-8")
    with pytest.raises(SourceError, match="body_sha256"):
        load_documents(sources_copy)


def test_one_bad_file_fails_the_whole_directory(sources_copy: Path) -> None:
    (sources_copy / "zz-broken.md").write_text("---\ntitle: [\n---\nx\n", encoding="utf-8")
    with pytest.raises(SourceError, match="zz-broken.md"):
        load_documents(sources_copy)


def test_empty_or_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no source files"):
        load_documents(tmp_path)
    with pytest.raises(SourceError, match="not a directory"):
        load_documents(tmp_path / "nope")


def test_dangling_link_is_named(write_source) -> None:
    path = write_source("ok.txt", "Title\n\nText.\n")
    (path.parent / "gone.md").symlink_to(path.parent / "missing.md")
    with pytest.raises(SourceError, match="gone.md"):
        load_documents(path.parent)


def test_oversized_file_is_refused(write_source) -> None:
    path = write_source("huge.txt", "Title\n\n" + "word " * 1_100_000)
    with pytest.raises(SourceError, match="huge.txt: too large"):
        load_documents(path.parent)


def test_an_unquoted_date_in_front_matter_is_read_as_written(tmp_path: Path) -> None:
    (tmp_path / "dated.md").write_text("---\nid: dated\ntitle: Dated\ndate: 2016-07-08\n---\nBody text.\n", "utf-8")

    [document] = load_documents(tmp_path)

    assert document.date == "2016-07-08"
