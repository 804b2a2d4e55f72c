from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from chatref.errors import DocumentError
from chatref.ingest.parsers import _pdfium_texts, parse_document
from tests.ingest import documents


def parse(path: Path):  # type: ignore[no-untyped-def]
    return parse_document(path, path.read_bytes())


def test_markdown_keeps_title_and_heading_path(tmp_path: Path) -> None:
    parsed = parse(documents.write_markdown(tmp_path / "guide.md"))
    assert parsed.title == "Storage Guide"
    sections = {b.text.split()[0]: b.section for b in parsed.blocks}
    assert sections["Zone-redundant"] == "Storage Guide > Replication"
    assert sections["Customer-initiated"] == "Storage Guide > Replication > Failover"
    # a '#' line inside a fenced block is code, not a heading
    assert any("# not a heading" in b.text for b in parsed.blocks)


def test_a_fenced_block_is_one_block_whatever_blank_lines_it_holds(tmp_path: Path) -> None:
    path = tmp_path / "run.md"
    path.write_text("# Run\n\nRun this:\n\n```sh\nchatref ingest docs\n\n# then\nchatref serve\n"
                    "```\n\nDone.\n", encoding="utf-8")
    assert [b.text for b in parse(path).blocks] == [
        "Run this:", "```sh\nchatref ingest docs\n\n# then\nchatref serve\n```", "Done."]


def test_text_title_is_first_line(tmp_path: Path) -> None:
    parsed = parse(documents.write_text(tmp_path / "runbook.txt"))
    assert parsed.title == "Runbook: rotating secrets"
    assert parsed.blocks[-1].text == "Rotate the client secret every ninety days."


def test_html_drops_scripts_and_tracks_sections(tmp_path: Path) -> None:
    parsed = parse(documents.write_html(tmp_path / "net.html"))
    assert parsed.title == "Network Design"
    text = " ".join(b.text for b in parsed.blocks)
    assert "ignored script" not in text
    endpoint = next(b for b in parsed.blocks if "private endpoint" in b.text)
    assert endpoint.section == "Network Design > Private endpoints"
    assert any(b.text == "Key Vault" for b in parsed.blocks)


def test_pdf_blocks_carry_page_numbers(tmp_path: Path) -> None:
    parsed = parse(documents.write_pdf(tmp_path / "dr.pdf"))
    assert parsed.title == "Disaster Recovery Plan"
    pages = {b.page for b in parsed.blocks if "objective" in b.text}
    assert pages == {1, 2}


def test_pdf_text_is_pdfiums_with_the_words_pypdf_reads(tmp_path: Path) -> None:
    pages = ["Recovery time objective is four hours for the chat service, and the "
             "failover runbook is tested every quarter by the on-call engineer. " * 4,
             "Second page.\n\nA new paragraph with naïve accents (Latin-1)."]
    data = documents.pdf_bytes(pages)
    assert _pdfium_texts(data, 2) is not None  # PDFium read it: not pypdf's fallback
    parsed = parse_document(Path("two.pdf"), data)
    reader = PdfReader(io.BytesIO(data))
    for number, page in enumerate(reader.pages, start=1):
        ours = " ".join(b.text for b in parsed.blocks if b.page == number).split()
        assert ours == (page.extract_text() or "").split()


def test_pypdf_reads_a_pdf_whose_pages_pdfium_counts_otherwise(tmp_path: Path) -> None:
    data = documents.pdf_bytes(["One page."])
    assert _pdfium_texts(data, 2) is None  # parse_pdf then extracts with pypdf
    assert _pdfium_texts(data, 1) == ["One page."]


def test_docx_headings_tables_and_title(tmp_path: Path) -> None:
    parsed = parse(documents.write_docx(tmp_path / "access.docx"))
    assert parsed.title == "Access Policy"
    glass = next(b for b in parsed.blocks if "Emergency" in b.text)
    assert glass.section == "Access Policy > Break glass"
    assert any(b.text == "Role | Approver" for b in parsed.blocks)


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("corrupt_pdf", "corrupt PDF"),
        ("corrupt_docx", "corrupt or not a .docx"),
        ("encrypted_pdf", "encrypted PDF"),
        ("scanned_pdf", "no extractable text"),
        ("empty", "empty"),
        ("blank", "empty"),
        ("undecodable", "not UTF-8"),
    ],
)
def test_bad_documents_raise_document_error_with_reason(
    tmp_path: Path, case: str, reason: str
) -> None:
    path = documents.write_all_bad(tmp_path)[case]
    with pytest.raises(DocumentError) as caught:
        parse(path)
    assert reason in caught.value.reason
    assert caught.value.path == str(path)


def test_unsupported_suffix_is_named(tmp_path: Path) -> None:
    path = tmp_path / "slides.pptx"
    path.write_bytes(b"whatever")
    with pytest.raises(DocumentError, match=r"unsupported file type '\.pptx'"):
        parse(path)
