"""Makers of real documents in every supported format, good and bad, for ingestion tests."""

from __future__ import annotations

import io
from pathlib import Path

import docx
from fpdf import FPDF
from pypdf import PdfReader, PdfWriter


def write_markdown(path: Path) -> Path:
    path.write_text(
        "# Storage Guide\n\nIntro paragraph about storage accounts.\n\n"
        "## Replication\n\nZone-redundant replication keeps three copies across zones.\n\n"
        "```\n# not a heading inside code\n```\n\n"
        "### Failover\n\nCustomer-initiated failover promotes the secondary region.\n",
        encoding="utf-8",
    )
    return path


def write_text(path: Path) -> Path:
    path.write_text("Runbook: rotating secrets\n\nRotate the client secret every ninety days.\n",
                    encoding="utf-8")
    return path


def write_html(path: Path) -> Path:
    path.write_text(
        "<html><head><title>Network Design</title><script>var x = 'ignored script';</script>"
        "</head><body><h1>Network Design</h1><p>The hub virtual network holds the firewall.</p>"
        "<h2>Private endpoints</h2><p>Every PaaS service gets a private endpoint.</p>"
        "<ul><li>Key Vault</li><li>Storage</li></ul></body></html>",
        encoding="utf-8",
    )
    return path


def pdf_bytes(pages: list[str], title: str = "Disaster Recovery Plan") -> bytes:
    pdf = FPDF()
    pdf.set_title(title)
    pdf.set_font("helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    return bytes(pdf.output())


def write_pdf(path: Path) -> Path:
    path.write_bytes(pdf_bytes([
        "Recovery time objective is four hours for the chat service.",
        "Recovery point objective is fifteen minutes for conversation history.",
    ]))
    return path


def write_docx(path: Path) -> Path:
    document = docx.Document()
    document.core_properties.title = "Access Policy"
    document.add_heading("Access Policy", level=1)
    document.add_paragraph("Only members of the platform team may approve production changes.")
    document.add_heading("Break glass", level=2)
    document.add_paragraph("Emergency accounts are reviewed monthly by security.")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "Role"
    table.rows[0].cells[1].text = "Approver"
    document.save(str(path))
    return path


def write_encrypted_pdf(path: Path) -> Path:
    reader = PdfReader(io.BytesIO(pdf_bytes(["Secret quarterly numbers."])))
    writer = PdfWriter()
    for page in reader.pages:
        writer.add_page(page)
    writer.encrypt(user_password="open-sesame", owner_password="owner", algorithm="RC4-128")
    with path.open("wb") as handle:
        writer.write(handle)
    return path


def write_scanned_pdf(path: Path) -> Path:
    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 60)  # a drawing, no text layer
    path.write_bytes(bytes(pdf.output()))
    return path


def write_all_good(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return {
        "md": write_markdown(folder / "storage.md"),
        "txt": write_text(folder / "runbook.txt"),
        "html": write_html(folder / "network.html"),
        "pdf": write_pdf(folder / "dr-plan.pdf"),
        "docx": write_docx(folder / "access.docx"),
    }


def write_all_bad(folder: Path) -> dict[str, Path]:
    """One file per bad-input case, each with the reason the report must give."""
    folder.mkdir(parents=True, exist_ok=True)
    corrupt_pdf = folder / "corrupt.pdf"
    corrupt_pdf.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 4)
    corrupt_docx = folder / "corrupt.docx"
    corrupt_docx.write_bytes(b"PK\x03\x04 this is not really a zip archive")
    empty = folder / "empty.md"
    empty.write_bytes(b"")
    blank = folder / "blank.txt"
    blank.write_text("   \n\n  \n", encoding="utf-8")
    latin1 = folder / "latin1.txt"
    latin1.write_bytes("Caf\xe9 cr\xe8me br\xfbl\xe9e".encode("latin-1"))
    return {
        "corrupt_pdf": corrupt_pdf,
        "corrupt_docx": corrupt_docx,
        "encrypted_pdf": write_encrypted_pdf(folder / "encrypted.pdf"),
        "scanned_pdf": write_scanned_pdf(folder / "scanned.pdf"),
        "empty": empty,
        "blank": blank,
        "undecodable": latin1,
    }
