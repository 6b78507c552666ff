"""A deterministic stand-in for the model, for tests that need vectors but not meaning.

Each word piece of the real tokenizer (the packaged model's tokenizer.json, so passages are cut exactly as
with the model) adds a fixed signed unit to one of the vector's coordinates; the sum is scaled to unit
length. Texts that share word pieces get similar vectors, the same text always gets the same vector, and
nothing loads torch: encoding a thousand passages takes milliseconds.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from index.embedding import DEFAULT_MODEL, counting_tokenizer, resolve_model_path


class FakeEmbedder:
    """Hashed word pieces; the name differs from any real model's, so an index it built refuses real queries."""

    name = "fake-hashed-word-pieces"
    backend = "fake"

    def __init__(self, dim: int = 384, max_tokens: int = 256, seed: int = 12):
        self.dim = dim
        self.max_tokens = max_tokens
        self._counter = counting_tokenizer(resolve_model_path(DEFAULT_MODEL))
        pieces = self._counter.get_vocab_size()
        rng = np.random.default_rng(seed)
        self._slot = rng.integers(0, dim, size=pieces)
        self._sign = rng.choice(np.array([-1.0, 1.0], dtype=np.float32), size=pieces)

    def count_tokens(self, text: str) -> int:
        return len(self._counter.encode(text, add_special_tokens=False).ids)

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        window = self.max_tokens - 2  # the real model's [CLS] and [SEP] take two places
        for row, encoding in enumerate(self._counter.encode_batch(list(texts), add_special_tokens=False)):
            ids = np.asarray(encoding.ids[:window], dtype=np.int64)
            np.add.at(vectors[row], self._slot[ids], self._sign[ids])
        norms = np.linalg.norm(vectors, axis=1)
        vectors[norms == 0, 0] = 1.0  # a text without word pieces still gets a unit vector
        norms[norms == 0] = 1.0
        return vectors / norms[:, None]


class Interrupted(RuntimeError):
    """What a `CountingEncoder` raises on its stop call, standing for a crash mid-build."""


class CountingEncoder:
    """Passes through to another encoder, counting its calls and texts; on call number `stop_at` it runs `stop`
    instead (raise `Interrupted` by default; the crash worker sends itself SIGKILL)."""

    def __init__(self, inner, stop_at: int | None = None, stop=None):
        self.inner = inner
        self.name, self.backend, self.dim, self.max_tokens = inner.name, inner.backend, inner.dim, inner.max_tokens
        self.stop_at = stop_at
        self.stop = stop or self._raise
        self.calls = 0
        self.texts = 0

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        self.calls += 1
        if self.calls == self.stop_at:
            self.stop()
        self.texts += len(texts)
        return self.inner.encode(texts, progress)

    def _raise(self) -> None:
        raise Interrupted(f"stopped at encode call {self.calls}")
