"""Embedders: WordLlama (embedded default, weights inside its wheel).

Embedding reads the token table and the tokenizer straight from the files the wordllama wheel
ships (``WordLlamaEmbedder._weights``): nothing is fetched at run time. WordLlama's own model
(``_load``, for comparisons) looks for its tokenizer under ``wordllama/tokenizer/`` but its wheel
ships it under ``wordllama/tokenizers/``, so a bare ``WordLlama.load()`` would try to download
it: we copy the shipped file into a cache directory and load with ``disable_download=True``.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from chatref.errors import ConfigurationError
from chatref.retrieval.types import Embedder, Vectors
from chatref.settings import Settings

WORDLLAMA_CONFIG = "l2_supercat"
WORDLLAMA_DIM = 256
# Words whose token ids are kept (``_token_ids``): ~150 bytes each, ~20 MB per process at most.
WORD_CACHE_SIZE = 131_072
# A word as the tokenizer sees it after normalisation: its leading spaces ("▁") and what follows
# up to the next space; or a trailing run of spaces.
_WORD = re.compile(r" *[^ ]+| +")


class WordLlamaEmbedder:
    """Static token embeddings averaged per text: fast on a CPU, no download, no GPU.

    >>> embedder = WordLlamaEmbedder(cache_dir=Path("data/.wordllama"))
    >>> embedder.embed_sync(["hello world"]).shape
    (1, 256)
    """

    def __init__(self, cache_dir: Path, dim: int = WORDLLAMA_DIM,
                 word_cache_size: int = WORD_CACHE_SIZE) -> None:
        self._cache_dir = cache_dir
        self._dim = dim
        self._model: Any = None
        self._tokenizer: Any = None
        self._table: Vectors | None = None
        self._lengths: npt.NDArray[np.float32] | None = None  # of the table's rows
        self._lock = threading.Lock()
        self._word_cache_size = word_cache_size
        self._by_word = False  # set by _weights: may a text be tokenized word by word?
        self._word_ids: dict[str, bytes] = {}

    def __reduce__(self) -> tuple[type[WordLlamaEmbedder], tuple[Path, int, int]]:
        """Pickled (for a parse worker), it is an unloaded copy: the weights load there."""
        return (WordLlamaEmbedder, (self._cache_dir, self._dim, self._word_cache_size))

    def portable(self) -> Callable[[Sequence[str]], Vectors]:
        """``embed_sync``, for a parse worker to embed with (ingest/workers.py)."""
        return self.embed_sync

    @property
    def name(self) -> str:
        return f"wordllama/{WORDLLAMA_CONFIG}"

    @property
    def dimension(self) -> int:
        return self._dim

    def _load(self) -> Any:
        """WordLlama's own model (tests compare ``embed_sync`` with its ``embed``)."""
        with self._lock:
            if self._model is None:
                import wordllama
                from wordllama import WordLlama

                package_dir = Path(wordllama.__file__).parent
                shipped = sorted((package_dir / "tokenizers").glob("*.json"))
                if not shipped:
                    raise ConfigurationError(
                        f"the wordllama package at {package_dir} has no tokenizer file; "
                        "reinstall wordllama==0.4.0.post1"
                    )
                target_dir = self._cache_dir / "tokenizers"
                target_dir.mkdir(parents=True, exist_ok=True)
                for source in shipped:
                    target = target_dir / source.name
                    if not target.exists():
                        shutil.copyfile(source, target)
                self._model = WordLlama.load(
                    WORDLLAMA_CONFIG, cache_dir=self._cache_dir, dim=self._dim,
                    disable_download=True,
                )
            return self._model

    def _weights(self) -> tuple[Vectors, Any]:
        """The token table and our tokenizer, read from the files WordLlama ships, as
        ``WordLlama.load`` reads them (its ``embedding.weight`` as float32) but without importing
        wordllama (half a second, paid again by every parse worker). The tokenizer has no
        padding and no normaliser (``_pieces`` does the latter in a third of the time)."""
        with self._lock:
            if self._table is None:
                from importlib.util import find_spec

                from safetensors import safe_open
                from tokenizers import Tokenizer

                spec = find_spec("wordllama")  # where it is, without importing it
                if spec is None or not spec.submodule_search_locations:
                    raise ConfigurationError("wordllama is not installed: reinstall chatref")
                package_dir = Path(spec.submodule_search_locations[0])
                weights = package_dir / "weights" / f"{WORDLLAMA_CONFIG}_{self._dim}.safetensors"
                tokenizer_file = (package_dir / "tokenizers"
                                  / f"{WORDLLAMA_CONFIG}_tokenizer_config.json")
                if not weights.exists() or not tokenizer_file.exists():
                    raise ConfigurationError(
                        f"the wordllama package at {package_dir} lacks {weights.name} or "
                        f"{tokenizer_file.name}; reinstall wordllama==0.4.0.post1")
                with safe_open(str(weights), framework="np", device="cpu") as handle:
                    table = np.ascontiguousarray(
                        handle.get_tensor("embedding.weight").astype(np.float32))
                tokenizer = Tokenizer.from_file(str(tokenizer_file))
                tokenizer.no_padding()
                tokenizer.no_truncation()
                tokenizer.normalizer = None
                self._by_word = _merges_stop_at_spaces(tokenizer)
                self._tokenizer = tokenizer
                self._table = table
            return self._table, self._tokenizer

    def embed_sync(self, texts: Sequence[str]) -> Vectors:
        """WordLlama's ``embed(norm=True)``, computed without its padded batches.

        WordLlama pads each batch of 64 texts to its longest, gathers a (texts x tokens x 256)
        array and averages it under a mask; for ~300-token chunks that gather dominated the
        ingest. Summing each text's token rows gives the same unit vectors (the average's
        length cancels in the normalisation) at 1.7 times the speed (docs/benchmarks.md); the
        token ids come from ``_token_ids``. An empty text gets a zero vector (WordLlama's is
        NaN).
        """
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        table, _ = self._weights()
        vectors = np.zeros((len(texts), self._dim), dtype=np.float32)
        for row, ids in enumerate(self._token_ids(texts)):
            if len(ids):  # WordLlama clips ids to its table too
                table.take(ids, axis=0, mode="clip").sum(axis=0, out=vectors[row])
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        np.divide(vectors, norms, out=vectors, where=norms > 0)
        return vectors

    def match_tokens(self, query: str, texts: Sequence[str]) -> Vectors:
        """Late interaction with static token vectors: for each text, the mean over the query's
        distinct tokens of each one's best cosine with a token of the text (a MaxSim, as in
        ColBERT, without a model: the vectors are the table's rows). The mean is weighted by
        the length of each query token's row, as the embedding's sum weights it.

        A text holding every token of the query scores 1; a retriever given a token weight
        re-scores its first hybrid candidates with it (off by default: docs/benchmarks.md,
        "Tuning on SciFact train, never test"). Empty texts, or a query without tokens, score 0.

        >>> embedder = WordLlamaEmbedder(cache_dir=Path("data/.wordllama"))
        >>> scores = embedder.match_tokens("rotate keys", ["we rotate keys", "lunch menu", ""])
        >>> [round(float(s), 2) for s in scores]
        [1.0, 0.06, 0.0]
        """
        scores = np.zeros(len(texts), dtype=np.float32)
        table, _ = self._weights()
        query_ids = np.unique(self._token_ids([query])[0]) if query else np.zeros(0, np.int32)
        ids = self._token_ids(texts)
        lengths = np.array([len(i) for i in ids], dtype=np.int64)
        filled = np.flatnonzero(lengths)
        if not len(query_ids) or not len(filled):
            return scores
        tokens, inverse = np.unique(np.concatenate([ids[i] for i in filled]), return_inverse=True)
        wanted = np.concatenate([query_ids, tokens])
        norms = self._row_lengths().take(wanted, mode="clip")
        rows = table.take(wanted, axis=0, mode="clip")
        rows /= np.where(norms > 0, norms, 1.0)[:, None]
        query_rows, text_rows = rows[:len(query_ids)], rows[len(query_ids):]
        best = np.maximum.reduceat((query_rows @ text_rows.T)[:, inverse],
                                   np.cumsum(lengths[filled]) - lengths[filled], axis=1)
        weights = norms[:len(query_ids)]
        scores[filled] = (weights / max(float(weights.sum()), 1e-12)) @ best
        return scores

    def _row_lengths(self) -> npt.NDArray[np.float32]:
        """The length of each row of the token table (computed once: 32,000 floats)."""
        table, _ = self._weights()
        with self._lock:
            if self._lengths is None:
                self._lengths = np.linalg.norm(table, axis=1).astype(np.float32)
            return self._lengths

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Each text's token ids, as WordLlama's tokenizer gives them (tests compare the two).

        >>> embedder = WordLlamaEmbedder(cache_dir=Path("data/.wordllama"))
        >>> embedder.token_ids(["a  b"]) == [embedder.whole_text_ids("a  b")]
        True
        """
        self._weights()
        return [ids.tolist() for ids in self._token_ids(texts)]

    def whole_text_ids(self, text: str) -> list[int]:
        """One text's token ids from the tokenizer in one call (``_pieces`` normalising it)."""
        _, tokenizer = self._weights()
        return list(tokenizer.encode(_pieces([text])[0], add_special_tokens=False).ids)

    def _token_ids(self, texts: Sequence[str]) -> list[npt.NDArray[np.int32]]:
        """The token ids of each text, word by word through a cache of each word's ids.

        The tokenizer (Llama 2's BPE, no pre-tokenizer) would run its merges over a whole chunk
        at once: three quarters of embedding a chunk. No token of its vocabulary has a "▁" after
        another character (``_merges_stop_at_spaces``, checked when loading), so no merge
        crosses the start of a word and each word can be tokenized alone, once: most words of a
        chunk have been seen before. Words are split on the text before normalising (" " for
        "▁", and one in front, as ``_pieces`` does), which keeps the cache's keys compact; a
        word's ids are kept as int32 bytes, so a text's ids are one ``bytes.join``. The cache
        is a fresh dict when full (another thread may still read the old one).
        """
        _, tokenizer = self._weights()
        if not self._by_word:  # pragma: no cover - a vocabulary with merges across spaces
            return [np.array(e.ids, dtype=np.int32) for e in tokenizer.encode_batch_fast(
                _pieces(texts), add_special_tokens=False)]
        cache = self._word_ids
        if len(cache) >= self._word_cache_size:
            cache = self._word_ids = {}
        split = [_WORD.findall(" " + text) if text else [] for text in texts]
        lookup = cache.__getitem__
        try:
            joined = [b"".join(map(lookup, words)) for words in split]
        except KeyError:  # words not seen yet: tokenize them all in one call
            missing = list({word for words in split for word in words if word not in cache})
            encodings = tokenizer.encode_batch_fast(
                [word.replace(" ", "\u2581") for word in missing], add_special_tokens=False)
            cache.update(zip(missing, (np.array(e.ids, dtype=np.int32).tobytes()
                                       for e in encodings), strict=True))
            joined = [b"".join(map(lookup, words)) for words in split]
        return [np.frombuffer(ids, dtype=np.int32) for ids in joined]

    async def embed(self, texts: Sequence[str]) -> Vectors:
        if len(texts) <= 4:  # a query: cheaper inline than a thread hop
            return self.embed_sync(texts)
        return await asyncio.to_thread(self.embed_sync, texts)

    async def aclose(self) -> None:
        """Nothing to release: the weights are plain arrays."""


def _pieces(texts: Sequence[str]) -> list[str]:
    """What WordLlama's tokenizer normalises a text to before its BPE: "▁" for every space and
    one in front of a non-empty text (its Prepend and Replace normalizers: done by the tokenizer,
    with an alignment map per character, they took a third of its time).

    >>> _pieces(["a b", "", " x"])
    ['▁a▁b', '', '▁▁x']
    """
    return ["\u2581" + text.replace(" ", "\u2581") if text else "" for text in texts]


def _merges_stop_at_spaces(tokenizer: Any) -> bool:
    """Whether no token has a "▁" after another character: then no BPE merge joins the end of
    one word to the next word's leading "▁", and tokenizing word by word gives the same ids.

    The tokenizer also has no pre-tokenizer to bypass (it would split differently)."""
    if tokenizer.pre_tokenizer is not None:
        return False
    return not any("\u2581" in token.lstrip("\u2581") for token in tokenizer.get_vocab())


def build_embedder(settings: Settings) -> Embedder:
    """The embedder the settings ask for (WordLlama unless Azure OpenAI embeddings are set)."""
    if settings.azure_openai_embedding_deployment:
        from chatref.retrieval.openai_embedder import AzureOpenAIEmbedder

        return AzureOpenAIEmbedder.from_settings(settings)
    return WordLlamaEmbedder(cache_dir=settings.chatref_data_dir / ".wordllama")
