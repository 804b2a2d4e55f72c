"""The WordLlama embedder computes WordLlama's own vectors, faster."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from chatref.retrieval.embedder import WordLlamaEmbedder, _merges_stop_at_spaces


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


EDGES = ["a  b", " x", "trailing   ", " ", "   ", "tab\tand\u00a0nbsp", "\n\nnewlines first",
         "a\nmulti-line\n\ntext", "emoji 😀 and 多语言 text", "<s> and </s> <unk> literally",
         "x" * 300 + " " + "y" * 300, "ends with a space ", "1234 5678", "naïve café",
         "\u2581already\u2581normalised"]


def test_word_by_word_token_ids_are_the_whole_texts(embedder: WordLlamaEmbedder) -> None:
    repo = Path(__file__).resolve().parents[2]
    texts = EDGES + [
        block for path in sorted((repo / "docs").glob("*.md")) + [repo / "README.md"]
        for block in path.read_text(encoding="utf-8").split("\n\n")
    ]
    assert len(texts) > 300
    whole = [embedder.whole_text_ids(text) for text in texts]
    assert embedder.token_ids(texts) == whole
    assert embedder.token_ids(texts) == whole  # from the cache this time


def test_a_full_word_cache_starts_afresh_with_the_same_vectors(
    embedder: WordLlamaEmbedder, tmp_path: Path,
) -> None:
    small = WordLlamaEmbedder(tmp_path, word_cache_size=8)
    texts = [f"text number {n} about key rotation in region {n % 3}" for n in range(40)]
    for start in range(0, len(texts), 5):
        batch = texts[start:start + 5]
        np.testing.assert_array_equal(small.embed_sync(batch), embedder.embed_sync(batch))
        assert len(small._word_ids) <= 8 + len({w for t in batch for w in t.split()})


def test_a_vocabulary_with_merges_across_spaces_is_tokenized_whole() -> None:
    from tokenizers import Tokenizer
    from tokenizers.models import BPE

    joined = Tokenizer(BPE({"a": 0, "\u2581": 1, "a\u2581": 2, "\u2581a": 3},
                           [("a", "\u2581"), ("\u2581", "a")]))
    assert not _merges_stop_at_spaces(joined)
    apart = Tokenizer(BPE({"a": 0, "\u2581": 1, "\u2581a": 2}, [("\u2581", "a")]))
    assert _merges_stop_at_spaces(apart)


def test_token_matches_are_each_query_tokens_best_cosine(embedder: WordLlamaEmbedder) -> None:
    query = "Which region takes over when the primary is throttled?"
    texts = ["Failover moves traffic to the secondary region.", "Lunch is served at noon.",
             "which region takes over when the primary is throttled", "", "x" * 40]
    scores = embedder.match_tokens(query, texts)
    assert scores.dtype == np.float32 and scores.shape == (len(texts),)
    # Brute force from WordLlama's own token table: no de-duplication, no shared gathers.
    table = np.asarray(embedder._load().embedding, dtype=np.float32)
    unit = table / np.linalg.norm(table, axis=1, keepdims=True)
    query_ids = sorted(set(embedder.token_ids([query])[0]))
    weights = np.linalg.norm(table[query_ids], axis=1)
    for text, score in zip(texts, scores, strict=True):
        ids = embedder.token_ids([text])[0]
        expected = 0.0 if not ids else float(
            weights @ (unit[query_ids] @ unit[ids].T).max(axis=1) / weights.sum())
        assert abs(float(score) - expected) < 1e-5
    assert scores[0] > scores[1]  # "region" and "the" are found, nothing of lunch is
    assert scores[3] == 0.0


def test_an_empty_query_or_no_texts_match_nothing(embedder: WordLlamaEmbedder) -> None:
    assert embedder.match_tokens("", ["anything"]).tolist() == [0.0]
    assert embedder.match_tokens("rotate keys", []).shape == (0,)
    whole = embedder.match_tokens("rotate keys", ["rotate the keys monthly"])
    assert abs(float(whole[0]) - 1.0) < 1e-5  # every query token is in the text
