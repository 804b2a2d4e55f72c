from __future__ import annotations

import pytest

from chatref.ingest.chunking import chunk_blocks
from chatref.ingest.parsers import Block


def test_small_paragraphs_are_packed_together() -> None:
    chunks = chunk_blocks([Block("One."), Block("Two."), Block("Three.")], max_chars=100,
                          overlap_chars=0)
    assert [c.text for c in chunks] == ["One.\n\nTwo.\n\nThree."]


def test_chunks_respect_the_size_limit_and_overlap() -> None:
    blocks = [Block(f"Sentence {i} is here. " * 8) for i in range(10)]
    chunks = chunk_blocks(blocks, max_chars=500, overlap_chars=100)
    assert len(chunks) > 2
    assert all(len(c.text) <= 500 for c in chunks)
    for previous, current in zip(chunks, chunks[1:], strict=False):
        # the next chunk starts with text the previous one ended with
        assert previous.text.endswith(current.text.split("\n\n")[0])


def test_a_chunk_never_spans_two_pages_or_sections() -> None:
    blocks = [Block("a on one", page=1), Block("b on one", page=1), Block("c on two", page=2),
              Block("d in s", section="S"), Block("e in t", section="T")]
    chunks = chunk_blocks(blocks, max_chars=1000, overlap_chars=50)
    assert [(c.page, c.section) for c in chunks] == [(1, None), (2, None), (None, "S"),
                                                     (None, "T")]
    assert chunks[0].text == "a on one\n\nb on one"


def test_an_overlong_paragraph_is_split_at_sentences() -> None:
    paragraph = " ".join(f"Fact number {i} is true." for i in range(200))
    chunks = chunk_blocks([Block(paragraph)], max_chars=300, overlap_chars=50)
    assert all(len(c.text) <= 300 for c in chunks)
    joined = " ".join(c.text for c in chunks)
    assert all(f"Fact number {i} is true." in joined for i in range(200))


def test_an_unbreakable_word_is_hard_wrapped() -> None:
    chunks = chunk_blocks([Block("x" * 2500)], max_chars=1000, overlap_chars=100)
    assert all(len(c.text) <= 1000 for c in chunks)
    assert sum(len(c.text) for c in chunks) >= 2500


def test_overlap_must_be_smaller_than_chunks() -> None:
    with pytest.raises(ValueError, match="overlap_chars"):
        chunk_blocks([Block("x")], max_chars=100, overlap_chars=100)
