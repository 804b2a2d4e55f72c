"""Makers of hostile documents: small files that cost a naive parser gigabytes or minutes."""

from __future__ import annotations

import zipfile
from pathlib import Path

_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships'
    '+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.wordprocessingml.document.main+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
)


def docx_with_body(
    path: Path, body_unit: str, repeat: int, extra: int = 0, prefix: str = "w"
) -> Path:
    """A minimal .docx whose body is ``body_unit`` repeated, streamed so the test stays small."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        with archive.open("word/document.xml", "w") as part:
            namespace = _W.replace("xmlns:w", f"xmlns:{prefix}")
            part.write(f'<?xml version="1.0" encoding="UTF-8"?><{prefix}:document {namespace}>'
                       f'<{prefix}:body>'.encode())
            block = (body_unit * 10_000).encode()
            for _ in range(repeat // 10_000):
                part.write(block)
            part.write((body_unit * (repeat % 10_000)).encode())
            part.write(f"</{prefix}:body></{prefix}:document>".encode())
        for i in range(extra):
            archive.writestr(f"customXml/item{i}.xml", "<a/>")
    return path


def empty_paragraphs_docx(path: Path, count: int = 3_500_000) -> Path:
    """About 70 KB on disk; 21 MB of XML; python-docx took 1.26 GB and 50 s on it."""
    return docx_with_body(path, "<w:p/>", count)


def many_paragraphs_docx(path: Path, count: int = 200_000) -> Path:
    """200k one-word paragraphs: python-docx took minutes (a style lookup per paragraph)."""
    return docx_with_body(path, "<w:p><w:r><w:t>word</w:t></w:r></w:p>", count)


def zip_bomb_docx(path: Path, megabytes: int = 300) -> Path:
    """A .docx carrying a part of ``megabytes`` of zeros (about 0.3 MB compressed)."""
    docx_with_body(path, "<w:p><w:r><w:t>Real text.</w:t></w:r></w:p>", 3)
    zeros = bytes(1024 * 1024)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open("word/media/bomb.bin", "w", force_zip64=True) as part:
            for _ in range(megabytes):
                part.write(zeros)
    return path


def many_entries_docx(path: Path, entries: int = 20_000) -> Path:
    return docx_with_body(path, "<w:p><w:r><w:t>Real text.</w:t></w:r></w:p>", 3, extra=entries)


def huge_page_tree_pdf(path: Path, fanout: int = 10, depth: int = 7) -> Path:
    """A PDF of a few hundred bytes whose page tree holds ``fanout ** depth`` pages: each
    ``/Pages`` node lists the next one ``fanout`` times, and ``/Count`` says 1."""
    objects: list[str] = ["<< /Type /Catalog /Pages 2 0 R >>"]
    for level in range(depth):
        number = 2 + level
        kids = " ".join([f"{number + 1} 0 R"] * fanout)
        parent = "" if level == 0 else f" /Parent {number - 1} 0 R"
        objects.append(f"<< /Type /Pages /Kids [{kids}] /Count 1{parent} >>")
    leaf_parent = 1 + depth
    objects.append(f"<< /Type /Page /Parent {leaf_parent} 0 R /MediaBox [0 0 612 792] >>")
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
            .encode())
    path.write_bytes(bytes(out))
    return path
