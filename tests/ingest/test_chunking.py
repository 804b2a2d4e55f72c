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


FENCED = "\n".join(["```console", "$ chatref policy check infra/environments/dev",
                    *[f"FAILED (hard) CKV_CHATREF_{n:03} check number {n} of the regions"
                      for n in range(60)],
                    "", "# a comment line, then a line longer than a chunk:", "x" * 700, "```"])


def test_a_long_code_block_is_split_at_lines_and_every_piece_stays_fenced() -> None:
    chunks = chunk_blocks([Block("Run the check:"), Block(FENCED), Block("Then read it.")],
                          max_chars=500, overlap_chars=100)
    assert len(chunks) > 4 and all(len(c.text) <= 500 for c in chunks)
    lines: list[str] = []
    for chunk in chunks:
        fences = [line for line in chunk.text.split("\n") if line.startswith(("```", "~~~"))]
        assert len(fences) % 2 == 0, chunk.text  # balanced: read alone, code is code
        if fences:
            assert fences[0::2] == ["```console"] * (len(fences) // 2)
            body = chunk.text[chunk.text.index("```console\n") + 11:chunk.text.rindex("\n```")]
            lines.extend(body.split("\n"))
    original = FENCED.split("\n")[1:-1]
    assert "".join(lines) == "".join(original)  # nothing lost (the long line is cut, in order)
    assert [line for line in lines if line.startswith("FAILED")] == \
        [line for line in original if line.startswith("FAILED")]
    assert chunks[-1].text.endswith("Then read it.")


def test_a_chunk_ending_in_code_carries_no_overlap_into_the_next() -> None:
    code = "```\n" + "\n".join(f"line {n}" for n in range(40)) + "\n```"
    chunks = chunk_blocks([Block(code), Block("Prose after the code. " * 30)], max_chars=300,
                          overlap_chars=100)
    assert len(chunks) > 2
    for chunk in chunks:
        outside, inside = [], False
        for line in chunk.text.split("\n"):
            if line.startswith("```"):
                inside = not inside
            elif not inside:
                outside.append(line)
        assert not inside and "line" not in " ".join(outside), chunk.text  # no stray code
