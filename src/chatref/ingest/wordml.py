"""A streaming .docx reader: paragraphs, headings and table rows, in document order.

python-docx builds the whole XML tree (3.5 million empty paragraphs took 1.26 GB) and looks up
each paragraph's style by scanning every style (200k paragraphs took minutes). This reader
streams the main document part with lxml's ``iterparse``, frees each paragraph once read, maps
style ids to names once, and counts paragraphs and elements against ``FileLimits`` as it goes,
so a hostile file is refused after reading only as much as the limit allows.
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import IO, Any

from lxml import etree

from chatref.errors import DocumentError
from chatref.ingest.limits import FileLimits, check_zip, over

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_OFFICE_DOCUMENT = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
)
_DC_TITLE = "{http://purl.org/dc/elements/1.1/}title"
_SMALL_PART_BYTES = 16 * 1024 * 1024  # styles, relationships, core properties


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def _small_part(archive: zipfile.ZipFile, name: str) -> Any:
    """Parse a small part (styles, relationships); None when absent or oversized."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        return None
    if info.file_size > _SMALL_PART_BYTES:
        return None
    return etree.fromstring(archive.read(info), _parser())


def _main_part(archive: zipfile.ZipFile) -> str:
    rels = _small_part(archive, "_rels/.rels")
    if rels is not None:
        for rel in rels.iter(f"{_RELS}Relationship"):
            if rel.get("Type") == _OFFICE_DOCUMENT and rel.get("Target"):
                return str(PurePosixPath(rel.get("Target").lstrip("/")))
    return "word/document.xml"


def _style_names(archive: zipfile.ZipFile, main: str) -> dict[str, str]:
    """style id -> lower-case style name ("Heading1" -> "heading 1")."""
    folder = str(PurePosixPath(main).parent)
    styles = _small_part(archive, f"{folder}/styles.xml" if folder != "." else "styles.xml")
    names: dict[str, str] = {}
    if styles is None:
        return names
    for style in styles.iter(f"{W}style"):
        style_id = style.get(f"{W}styleId")
        name = style.find(f"{W}name")
        if style_id and name is not None and name.get(f"{W}val"):
            names[style_id] = str(name.get(f"{W}val")).lower()
    return names


def _core_title(archive: zipfile.ZipFile) -> str:
    core = _small_part(archive, "docProps/core.xml")
    if core is None:
        return ""
    title = core.find(_DC_TITLE)
    return (title.text or "").strip() if title is not None else ""


def _text(paragraph: Any) -> str:
    parts: list[str] = []
    for node in paragraph.iter(f"{W}t", f"{W}tab", f"{W}br", f"{W}cr"):
        if node.tag == f"{W}t":
            parts.append(node.text or "")
        elif node.tag == f"{W}tab":
            parts.append("\t")
        else:
            parts.append("\n")
    return "".join(parts).strip()


class WordDocument:
    """The text of a .docx as (kind, text, style) items, read with the limits enforced."""

    def __init__(self, path: Path, data: IO[bytes], limits: FileLimits) -> None:
        self._path = path
        self._limits = limits
        try:
            self._archive = zipfile.ZipFile(data)
        except (zipfile.BadZipFile, ValueError) as exc:
            raise DocumentError(path, f"corrupt or not a .docx file: {exc}") from exc
        check_zip(path, self._archive, limits)
        try:
            self._main = _main_part(self._archive)
            self._archive.getinfo(self._main)
            self.styles = _style_names(self._archive, self._main)
            self.title = _core_title(self._archive)
        except (KeyError, etree.XMLSyntaxError) as exc:
            raise DocumentError(path, f"corrupt or not a .docx file: {exc}") from exc

    def _count_paragraphs(self) -> int:
        """``<w:p>`` tags in the main part, counted on the raw bytes (fast, C speed) before any
        XML is parsed; a file that spells the prefix differently is still caught, more slowly,
        by the count in ``items``."""
        count, tail = 0, b""
        with self._archive.open(self._main) as stream:
            while block := stream.read(4 * 1024 * 1024):
                window = tail + block
                count += sum(window.count(tag) for tag in (b"<w:p>", b"<w:p ", b"<w:p/>"))
                tail = window[-5:]
                count -= sum(tail.count(tag) for tag in (b"<w:p>", b"<w:p ", b"<w:p/>"))
        return count + sum(tail.count(tag) for tag in (b"<w:p>", b"<w:p ", b"<w:p/>"))

    def items(self) -> list[tuple[str, str, str]]:
        """("p", text, style) for body paragraphs and ("row", "a | b", "") for table rows."""
        try:
            paragraphs = self._count_paragraphs()
        except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as exc:
            raise DocumentError(self._path, f"corrupt or not a .docx file: {exc}") from exc
        if paragraphs > self._limits.max_docx_paragraphs:
            raise DocumentError(self._path, over(
                "paragraphs", paragraphs, self._limits.max_docx_paragraphs))
        try:
            with self._archive.open(self._main) as stream:
                return self._read(stream)
        except (etree.XMLSyntaxError, zipfile.BadZipFile, zlib.error, EOFError,
                ValueError) as exc:
            raise DocumentError(self._path, f"corrupt or not a .docx file: {exc}") from exc

    def _read(self, stream: IO[bytes]) -> list[tuple[str, str, str]]:
        """The streaming pass over the main part, counting elements and paragraphs as it goes
        and freeing each paragraph or row once read, so memory stays flat."""
        items: list[tuple[str, str, str]] = []
        paragraphs = elements = 0
        table_depth = 0
        limits = self._limits
        for event, element in etree.iterparse(
            stream, events=("start", "end"), resolve_entities=False, no_network=True,
            huge_tree=False,
        ):
            if event == "start":
                elements += 1
                if elements > limits.max_docx_elements:
                    raise DocumentError(self._path, over(
                        "XML elements", elements, limits.max_docx_elements))
                if element.tag == f"{W}tbl":
                    table_depth += 1
                continue
            tag = element.tag
            if tag == f"{W}p":
                paragraphs += 1
                if paragraphs > limits.max_docx_paragraphs:
                    raise DocumentError(self._path, over(
                        "paragraphs", paragraphs, limits.max_docx_paragraphs))
                if table_depth:
                    continue  # read with its row
                text = _text(element)
                if text:
                    items.append(("p", text, self._style(element)))
                _free(element)
            elif tag == f"{W}tr" and table_depth == 1:
                row = _row_text(element)
                if row:
                    items.append(("row", row, ""))
                _free(element)
            elif tag == f"{W}tbl":
                table_depth -= 1
                if not table_depth:
                    _free(element)
        return items

    def _style(self, paragraph: Any) -> str:
        found = paragraph.find(f"{W}pPr/{W}pStyle")
        style_id = str(found.get(f"{W}val") or "") if found is not None else ""
        return self.styles.get(style_id, style_id.lower())


def _row_text(row: Any) -> str:
    """A table row as "cell | cell", empty cells left out."""
    cells = [" ".join(_text(p) for p in cell.iter(f"{W}p")).strip() for cell in row.iter(f"{W}tc")]
    return " | ".join(c for c in cells if c)


def _free(element: Any) -> None:
    """Drop a read element and its already-read siblings, so memory stays flat."""
    element.clear()
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]
