"""Hybrid search: dense (FAISS) and lexical (BM25) candidates scored on both sides, fused, filtered, de-duplicated.

Fusion is a convex combination of the two scores, each scaled to [0, 1] over the candidates: unlike rank
fusion it keeps how far apart passages are, so a strong lexical match is not drowned by a weak dense one.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from index.embedding import Embedder
from index.lexical import analyse, top_positions
from index.models import SearchFilters, SearchHit, council_words
from index.store import IndexStore, faiss_id, lexical_text

SearchMode = Literal["hybrid", "dense", "lexical"]


class SearchConfig(BaseModel):
    """`dense_weight` is the share of the fused score taken by meaning rather than shared words."""

    model_config = ConfigDict(frozen=True)

    candidates: int = 50
    dense_weight: float = Field(0.2, ge=0.0, le=1.0)
    duplicate_overlap: float = 0.8


class Searcher:
    """Answers `search(query)` over one loaded index with one loaded model."""

    def __init__(self, store: IndexStore, embedder: Embedder, config: SearchConfig = SearchConfig()):
        self.store = store
        self.embedder = embedder
        self.config = config
        self._councils = _council_words(store)

    def search(self, query: str, k: int = 5, filters: SearchFilters | None = None,
               mode: SearchMode = "hybrid") -> list[SearchHit]:
        """The k best passages for `query`; a council named in the query narrows the search to it."""
        narrowed = filters if filters is not None and filters.council else self._with_named_council(query, filters)
        hits = self._ranked(query, k, narrowed, mode)
        if not hits and narrowed is not filters:
            hits = self._ranked(query, k, filters, mode)
        return hits

    def _ranked(self, query: str, k: int, filters: SearchFilters | None, mode: SearchMode) -> list[SearchHit]:
        mask = self.store.allowed_positions(filters)
        depth = max(self.config.candidates, 4 * k)
        vector = self.embedder.encode([query])[0]
        candidates: list[int] = []
        if mode != "lexical":
            allowed = self.store.position_ids[mask > 0] if mask is not None else None
            candidates += self.store.vectors.search(vector, depth, allowed)[0].tolist()
        lexical_all = self.store.lexical.scores(query, mask)
        if mode != "dense" and lexical_all is not None:
            candidates += self.store.position_ids[top_positions(lexical_all, depth)[0]].tolist()
        candidates = list(dict.fromkeys(candidates))
        if not candidates:
            return []
        cosines = self._cosines(candidates, vector)
        lexical = (lexical_all[self.store.positions_of(candidates)] if lexical_all is not None
                   else np.zeros(len(candidates), dtype=np.float32))
        fused = self._fuse(cosines, lexical, mode)
        order = np.argsort(-fused, kind="stable")
        return self._distinct_hits(query, [candidates[i] for i in order], dict(zip(candidates, zip(fused, cosines, lexical))), k)

    def _cosines(self, ids: list[int], vector: np.ndarray) -> np.ndarray:
        """Exact cosine for every candidate, including ones only BM25 found: fusion and abstention use it."""
        stored = self.store.vectors_by_id(ids)
        return np.array([float(stored[i] @ vector) for i in ids], dtype=np.float32)

    def _fuse(self, cosines: np.ndarray, lexical: np.ndarray, mode: SearchMode) -> np.ndarray:
        if mode == "dense":
            return cosines
        if mode == "lexical":
            return lexical
        spread = float(cosines.max() - cosines.min())
        dense_scaled = (cosines - cosines.min()) / spread if spread > 0 else np.ones_like(cosines)
        top_lexical = float(lexical.max())
        lexical_scaled = lexical / top_lexical if top_lexical > 0 else np.zeros_like(lexical)
        weight = self.config.dense_weight
        return weight * dense_scaled + (1 - weight) * lexical_scaled

    def _distinct_hits(self, query: str, order: list[int], scores: dict[int, tuple], k: int) -> list[SearchHit]:
        """Keep the best of passages that say the same thing (the same paragraph in two papers)."""
        hits: list[SearchHit] = []
        kept_words: list[set[str]] = []
        for start in range(0, len(order), 2 * k):
            for chunk in self.store.chunks_by_id(order[start : start + 2 * k]):
                words = set(analyse(chunk.text))
                if any(_overlap(words, other) >= self.config.duplicate_overlap for other in kept_words):
                    continue
                fused, cosine, lexical = scores[faiss_id(chunk.chunk_id)]
                meta = self.store.document(chunk.doc_id)
                coverage = self.store.lexical.coverage(query, lexical_text(meta, chunk))
                hits.append(SearchHit(chunk=chunk, document=meta, score=float(fused), dense_score=float(cosine),
                                      lexical_score=float(lexical), coverage=coverage))
                kept_words.append(words)
                if len(hits) == k:
                    return hits
        return hits

    def _with_named_council(self, query: str, filters: SearchFilters | None) -> SearchFilters | None:
        """A question that names exactly one indexed council is about that council."""
        words = council_words(query)
        named = {council for council, needed in self._councils.items() if needed <= words}
        if len(named) != 1:
            return filters
        base = filters.model_dump() if filters is not None else {}
        return SearchFilters(**{**base, "council": named.pop()})


def _overlap(a: set[str], b: set[str]) -> float:
    if not a or not b:
        return 1.0 if a == b else 0.0
    return len(a & b) / min(len(a), len(b))


def _council_words(store: IndexStore) -> dict[str, frozenset[str]]:
    """Each council's distinctive words; whole words, so 'Hull' never matches inside 'Solihull'."""
    return {meta.council: council_words(meta.council) for meta in store.documents() if meta.council}
