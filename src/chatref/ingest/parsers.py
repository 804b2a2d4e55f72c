"""Parsers: a document's bytes -> its title and text blocks that know where they came from.

Every parser raises ``DocumentError`` with a reason a person can act on (corrupt, encrypted,
empty, undecodable) and nothing else; ingestion reports it and goes on with the next file.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from chatref.errors import DocumentError
from chatref.ingest.limits import DEFAULT_LIMITS, MB, FileLimits, count_pdf_pages, over


@dataclass(frozen=True)
class Block:
    """A paragraph-sized piece of text with its page (PDF) or section (heading path)."""

    text: str
    page: int | None = None
    section: str | None = None


@dataclass(frozen=True)
class ParsedDocument:
    title: str
    blocks: list[Block]


SUPPORTED_SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf", ".docx")

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
FENCE = re.compile(r"^\s*(```|~~~)")  # opens or closes a Markdown code block


class _Headings:
    """The path of headings above the current line: ``Guide > Install > Linux``."""

    def __init__(self) -> None:
        self._stack: list[tuple[int, str]] = []

    def push(self, level: int, name: str) -> None:
        while self._stack and self._stack[-1][0] >= level:
            self._stack.pop()
        self._stack.append((level, name))

    @property
    def section(self) -> str | None:
        return " > ".join(name for _, name in self._stack) or None


def decode_text(path: Path, data: bytes) -> str:
    """UTF-8 (with or without BOM) or UTF-16 with a BOM; anything else is undecodable."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise DocumentError(path, f"undecodable UTF-16 text ({exc.reason})") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(
            path, f"not UTF-8 text: byte 0x{data[exc.start]:02x} at offset {exc.start} "
            "(save it as UTF-8)"
        ) from exc


def _paragraphs(text: str, **where: str | int | None) -> list[Block]:
    return [
        Block(text=para.strip(), **where)  # type: ignore[arg-type]
        for para in _PARAGRAPH_BREAK.split(text)
        if para.strip()
    ]


def _require_text(path: Path, blocks: list[Block], what: str = "no text") -> list[Block]:
    if not any(b.text.strip() for b in blocks):
        raise DocumentError(path, f"empty: {what}")
    return blocks


def parse_text(path: Path, data: bytes) -> ParsedDocument:
    text = decode_text(path, data)
    blocks = _require_text(path, _paragraphs(text))
    first = blocks[0].text.splitlines()[0].strip()
    title = first if 0 < len(first) <= 120 else path.stem
    return ParsedDocument(title=title, blocks=blocks)


def parse_markdown(path: Path, data: bytes) -> ParsedDocument:
    """Headings become the section path ("Guide > Install"); a fenced code block is one block,
    fences included, whatever blank lines or '#' lines it holds (chunking keeps it fenced)."""
    text = decode_text(path, data)
    title: str | None = None
    headings = _Headings()
    blocks: list[Block] = []
    buffer: list[str] = []
    in_fence = False

    def flush() -> None:
        if in_fence:
            if any(line.strip() and not FENCE.match(line) for line in buffer):
                blocks.append(Block(text="\n".join(buffer), section=headings.section))
        else:
            blocks.extend(_paragraphs("\n".join(buffer), section=headings.section))
        buffer.clear()

    for line in text.splitlines():
        if FENCE.match(line):
            if not in_fence:
                flush()  # the prose before it
                in_fence = True
                buffer.append(line)
            else:
                buffer.append(line)
                flush()  # the code block, its fences included
                in_fence = False
            continue
        heading = None if in_fence else _HEADING.match(line)
        if heading:
            flush()
            level, name = len(heading.group(1)), heading.group(2).strip()
            if level == 1 and title is None:
                title = name
            headings.push(level, name)
            continue
        buffer.append(line)
    flush()
    _require_text(path, blocks, "no text outside headings")
    return ParsedDocument(title=title or path.stem, blocks=blocks)


def parse_html(path: Path, data: bytes) -> ParsedDocument:
    from bs4 import BeautifulSoup

    text = decode_text(path, data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # bs4 warns about markup that looks like a filename
        soup = BeautifulSoup(text, "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "nav", "svg"]):
        tag.decompose()
    title_tag = soup.find("title")
    h1 = soup.find("h1")
    title = (title_tag.get_text(" ", strip=True) if title_tag else "") or (
        h1.get_text(" ", strip=True) if h1 else ""
    )
    headings = _Headings()
    blocks: list[Block] = []
    body = soup.body or soup
    for element in body.find_all(
        ["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "pre", "td", "th", "blockquote", "dd", "dt"]
    ):
        content = element.get_text(" ", strip=True)
        if not content:
            continue
        name = str(element.name)
        if name.startswith("h") and name[1:].isdigit():
            headings.push(int(name[1:]), content)
            continue
        if element.find_parent(["li", "td", "th", "blockquote", "pre"]) and name != "pre":
            continue  # nested: its text was already taken with the parent
        blocks.append(Block(text=content, section=headings.section))
    if not blocks:  # markup without block elements: fall back to all visible text
        blocks = _paragraphs(body.get_text("\n\n", strip=True))
    _require_text(path, blocks)
    return ParsedDocument(title=title or path.stem, blocks=blocks)


def parse_pdf(path: Path, data: bytes, limits: FileLimits = DEFAULT_LIMITS) -> ParsedDocument:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError, PyPdfError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted:
                try:
                    opened = reader.decrypt("")  # many PDFs are "encrypted" with no password
                except Exception as exc:  # noqa: BLE001 - pypdf raises many types here
                    reason = f"encrypted PDF that cannot be opened: {exc}"
                    raise DocumentError(path, reason) from exc
                if not opened:
                    raise DocumentError(path, "encrypted PDF: it needs a password")
            pages = count_pdf_pages(reader.root_object.get("/Pages"), limits.max_pdf_pages)
            if pages > limits.max_pdf_pages:
                raise DocumentError(path, over("pages", pages, limits.max_pdf_pages))
            texts = _pdfium_texts(data, pages) or (p.extract_text() or "" for p in reader.pages)
            blocks: list[Block] = []
            for number, text in enumerate(texts, start=1):
                blocks.extend(_paragraphs(text, page=number))
            meta_title = (reader.metadata.title if reader.metadata else None) or ""
    except DocumentError:
        raise
    except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise DocumentError(path, f"corrupt PDF: {exc}") from exc
    _require_text(path, blocks, "no extractable text (a scanned PDF needs OCR first)")
    return ParsedDocument(title=str(meta_title).strip() or path.stem, blocks=blocks)


def _pdfium_texts(data: bytes, pages: int) -> list[str] | None:
    """Each page's text by PDFium (three times faster than pypdf's extraction, the same words on
    SciFact's abstracts), once pypdf has checked the file; None if PDFium cannot open it or
    counts other pages than pypdf's walk (pypdf's extraction is then used)."""
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError:
        return None
    try:
        if len(document) != pages:
            return None
        texts = []
        for index in range(pages):
            page = document[index]
            textpage = page.get_textpage()
            texts.append(textpage.get_text_range().replace("\r\n", "\n").replace("\r", "\n"))
            textpage.close()
            page.close()
        return texts
    except pdfium.PdfiumError:
        return None
    finally:
        document.close()


def parse_docx(path: Path, data: bytes, limits: FileLimits = DEFAULT_LIMITS) -> ParsedDocument:
    """Headings become the section path; table rows read "cell | cell", in document order."""
    from chatref.ingest.wordml import WordDocument

    document = WordDocument(path, io.BytesIO(data), limits)
    title = document.title
    headings = _Headings()
    blocks: list[Block] = []
    for kind, content, style in document.items():
        if kind == "p" and style == "title" and not title:
            title = content
            continue
        level = _heading_level(style) if kind == "p" else None
        if level is not None:
            headings.push(level, content)
            if level == 1 and not title:
                title = content
            continue
        blocks.append(Block(text=content, section=headings.section))
    _require_text(path, blocks)
    return ParsedDocument(title=title or path.stem, blocks=blocks)


def _heading_level(style: str) -> int | None:
    """1 for "heading 1", None for a style that is not a heading."""
    if not style.startswith("heading"):
        return None
    digits = style[len("heading"):].strip()
    return int(digits) if digits.isdigit() else 1


PARSERS: dict[str, Callable[[Path, bytes], ParsedDocument]] = {
    ".md": parse_markdown,
    ".markdown": parse_markdown,
    ".txt": parse_text,
    ".html": parse_html,
    ".htm": parse_html,
}


def parse_document(
    path: Path, data: bytes, limits: FileLimits = DEFAULT_LIMITS
) -> ParsedDocument:
    """Parse ``data`` (the bytes of ``path``) by its suffix, within ``limits``."""
    suffix = path.suffix.lower()
    if len(data) > limits.max_file_bytes:
        raise DocumentError(path, over("in size", len(data) / MB, limits.max_file_mb, " MB"))
    if suffix in (".pdf", ".docx") and data.strip():
        return (parse_pdf if suffix == ".pdf" else parse_docx)(path, data, limits)
    parser = PARSERS.get(suffix)
    if parser is None:
        raise DocumentError(path, f"unsupported file type {path.suffix or '(none)'!r}; "
                            f"supported: {', '.join(SUPPORTED_SUFFIXES)}")
    if not data.strip():
        raise DocumentError(path, "empty file")
    return parser(path, data)
