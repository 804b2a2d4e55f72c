"""Paragraph-aware chunking with overlap.

Blocks (paragraphs) are packed into chunks of at most ``max_chars``; a chunk never spans two
pages or two sections, so every citation points at one place. A paragraph longer than a chunk is
split at sentence ends. Consecutive chunks of one place share ``overlap_chars`` of trailing text,
so a fact that straddles a boundary is whole in at least one chunk.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from chatref.ingest.parsers import FENCE, Block

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Chunk:
    text: str
    page: int | None
    section: str | None


def _code_pieces(text: str, max_chars: int) -> list[str]:
    """Split one over-long fenced code block at line ends, each piece fenced again as it was
    opened (a line longer than a piece is cut), so that every chunk's Markdown is balanced: a
    piece read alone is still code, never prose (docs/policy.md's sample run was quoted as a
    sentence when its second half lost its fence)."""
    lines = text.split("\n")
    opening = lines[0]
    fence = FENCE.match(opening)
    closing = fence.group(1) if fence else "```"
    body = lines[1:-1] if len(lines) > 1 and FENCE.match(lines[-1]) else lines[1:]
    room = max(max_chars - len(opening) - len(closing) - 2, 1)
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for whole in body:
        for line in [whole[i:i + room] for i in range(0, len(whole), room)] or [""]:
            if current and size + len(line) + 1 > room:
                pieces.append("\n".join([opening, *current, closing]))
                current, size = [], 0
            current.append(line)
            size += len(line) + 1
    if current:
        pieces.append("\n".join([opening, *current, closing]))
    return pieces


def _pieces(text: str, max_chars: int) -> list[str]:
    """Split one over-long paragraph at sentence ends (hard-wrapping a sentence if need be), or
    a fenced code block at line ends (``_code_pieces``)."""
    if len(text) <= max_chars:
        return [text]
    if FENCE.match(text):
        return _code_pieces(text, max_chars)
    pieces: list[str] = []
    current = ""
    for sentence in _SENTENCE_END.split(text):
        while len(sentence) > max_chars:
            cut = sentence.rfind(" ", 0, max_chars)
            cut = cut if cut > max_chars // 2 else max_chars
            head, sentence = sentence[:cut].rstrip(), sentence[cut:].lstrip()
            if current:
                pieces.append(current)
                current = ""
            pieces.append(head)
        if current and len(current) + 1 + len(sentence) > max_chars:
            pieces.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}" if current else sentence
    if current:
        pieces.append(current)
    return pieces


def _tail(text: str, overlap_chars: int) -> str:
    """The last ``overlap_chars`` of ``text``, starting at a word (or sentence) boundary."""
    if overlap_chars <= 0 or len(text) <= overlap_chars:
        return text if overlap_chars > 0 else ""
    window = text[-overlap_chars:]
    sentence = _SENTENCE_END.search(window)
    if sentence:
        return window[sentence.end():]
    space = window.find(" ")
    return window[space + 1:] if space >= 0 else window


def chunk_blocks(
    blocks: Iterable[Block], *, max_chars: int = 1200, overlap_chars: int = 200
) -> list[Chunk]:
    """Pack ``blocks`` into chunks.

    >>> blocks = [Block("One."), Block("Two.")]
    >>> [c.text for c in chunk_blocks(blocks, max_chars=20, overlap_chars=0)]
    ['One.\\n\\nTwo.']
    """
    if overlap_chars + 2 >= max_chars:
        raise ValueError("overlap_chars must be smaller than max_chars")
    chunks: list[Chunk] = []
    parts: list[str] = []
    size = 0
    place: tuple[int | None, str | None] | None = None
    fresh = False  # does the current chunk hold anything beyond the carried-over overlap?

    def emit() -> None:
        nonlocal parts, size, fresh
        if parts and fresh and place is not None:
            text = "\n\n".join(parts)
            chunks.append(Chunk(text=text, page=place[0], section=place[1]))
            carried = _tail(text, overlap_chars)
            if any(FENCE.match(line) for line in carried.split("\n")):
                carried = ""  # a carried fence would open (or close) the next chunk's code
            parts, size = ([carried], len(carried)) if carried else ([], 0)
        fresh = False

    for block in blocks:
        where = (block.page, block.section)
        if where != place:
            emit()
            parts, size, place = [], 0, where
        for piece in _pieces(block.text, max_chars - overlap_chars - 2):
            if size and size + 2 + len(piece) > max_chars:
                emit()
            parts.append(piece)
            size += len(piece) + (2 if size else 0)
            fresh = True
    emit()
    return chunks


def embedding_text(title: str, chunk: Chunk) -> str:
    """What is embedded for a chunk: its document's title and section give it context.

    >>> embedding_text("Runbook", Chunk("Rotate it.", None, "Secrets"))
    'Runbook\\nSecrets\\nRotate it.'
    """
    return f"{title}\n{chunk.section or ''}\n{chunk.text}"
