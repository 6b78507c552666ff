"""The dense side: FAISS over unit vectors with inner product, keyed by stable 64-bit passage ids.

Ids are kept by the index itself (IndexIDMap2 or IVF lists), so one document's passages can be removed
and re-added without rebuilding the rest.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import faiss
import numpy as np

VectorKind = Literal["flat"]


class VectorIndex:
    """A FAISS index plus the one fact needed to use it again: its kind."""

    def __init__(self, index: faiss.Index, kind: VectorKind):
        self._index = index
        self.kind = kind

    @classmethod
    def empty(cls, dim: int, kind: VectorKind = "flat") -> "VectorIndex":
        return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dim)), kind)

    @property
    def size(self) -> int:
        return int(self._index.ntotal)

    @property
    def dim(self) -> int:
        return int(self._index.d)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids):
            self._index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids.astype(np.int64))

    def remove(self, ids: np.ndarray) -> None:
        if len(ids):
            self._index.remove_ids(faiss.IDSelectorBatch(ids.astype(np.int64)))

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Ids and cosine scores of the k nearest passages, optionally among `allowed` ids only."""
        k = min(k, self.size)
        if k == 0 or (allowed is not None and len(allowed) == 0):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(allowed)) if allowed is not None else None
        scores, ids = self._index.search(query.reshape(1, -1).astype(np.float32), k, params=params)
        keep = ids[0] >= 0
        return ids[0][keep], scores[0][keep]

    def save(self, path: Path) -> None:
        faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path, kind: VectorKind) -> "VectorIndex":
        return cls(faiss.read_index(str(path)), kind)
