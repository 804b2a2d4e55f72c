"""The WordLlama embedder computes WordLlama's own vectors, faster."""

from __future__ import annotations

import numpy as np

from chatref.retrieval.embedder import WordLlamaEmbedder


def test_vectors_are_wordllamas_own(embedder: WordLlamaEmbedder) -> None:
    texts = ["hello world", "Key rotation for the managed identity (Entra ID) — how often?",
             "naïve café façade " * 40, "x", "1234 5678", "a\nmulti-line\n\ntext",
             "  leading  and  double  spaces", "trailing   ", " ", "tab\tand\u00a0nbsp",
             "\n\nnewlines first", "emoji 😀 and 多语言 text"]  # the normalisation's edges
    texts += [f"chunk {n}: " + "the quick brown fox jumps over the lazy dog " * n
              for n in range(1, 80, 7)]  # lengths that WordLlama pads within one batch
    ours = embedder.embed_sync(texts)
    model = embedder._load()
    theirs = np.asarray(model.embed(texts, norm=True), dtype=np.float32)
    assert ours.shape == (len(texts), embedder.dimension) and ours.dtype == np.float32
    np.testing.assert_allclose(ours, theirs, atol=1e-5)


def test_an_empty_text_gets_a_zero_vector_not_nan(embedder: WordLlamaEmbedder) -> None:
    vectors = embedder.embed_sync(["", "words"])
    assert not np.isnan(vectors).any()
    assert not vectors[0].any()
    assert abs(float(np.linalg.norm(vectors[1])) - 1.0) < 1e-5
