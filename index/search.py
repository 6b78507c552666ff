"""Hybrid search: dense (FAISS) and lexical (BM25) candidates scored on both sides, fused, filtered, de-duplicated.

Fusion is a convex combination of the two scores, each scaled to [0, 1] over the candidates: unlike rank
fusion it keeps how far apart passages are, so a strong lexical match is not drowned by a weak dense one.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from index.embedding import TextEncoder
from index.lexical import analyse, top_positions
from index.models import DocumentMeta, SearchFilters, SearchHit
from index.query import QueryIntent, finder_for, understand
from index.store import IndexStore, faiss_id, lexical_text

SearchMode = Literal["hybrid", "dense", "lexical"]


class SearchConfig(BaseModel):
    """`dense_weight` is the share of the fused score taken by meaning rather than shared words."""

    model_config = ConfigDict(frozen=True)

    candidates: int = 50
    dense_weight: float = Field(0.2, ge=0.0, le=1.0)
    duplicate_overlap: float = 0.8
    year_boost: float = Field(0.3, ge=0.0, description="added share of score for a document of a year the question names")
    latest_boost: float = Field(0.2, ge=0.0, description="for a council's newest documents when the question asks for the latest")
    type_boost: float = Field(0.15, ge=0.0, description="for documents of a kind the question names (minutes, letter, news)")


class Searcher:
    """Answers `search(query)` over one loaded index with one loaded model."""

    def __init__(self, store: IndexStore, embedder: TextEncoder, config: SearchConfig = SearchConfig()):
        self.store = store
        self.embedder = embedder
        self.config = config
        self._finder = finder_for(store.documents())
        self._newest = _newest_by_council(store.documents())

    def understand(self, query: str) -> QueryIntent:
        """The council, dates and document kinds the query names, as this index knows them."""
        return understand(query, self._finder)

    def search(self, query: str, k: int = 5, filters: SearchFilters | None = None,
               mode: SearchMode = "hybrid", intent: QueryIntent | None = None) -> list[SearchHit]:
        """The k best passages for `query`. A council or date bound named in the query narrows the search
        (unless that finds nothing); a year, 'latest' or a kind of document it names lifts those documents."""
        intent = intent if intent is not None else self.understand(query)
        narrowed = intent.filters(filters)
        hits = self._ranked(query, k, narrowed, mode, intent)
        if not hits and narrowed != filters:
            hits = self._ranked(query, k, filters, mode, intent)
        return hits

    def _ranked(self, query: str, k: int, filters: SearchFilters | None, mode: SearchMode,
                intent: QueryIntent) -> list[SearchHit]:
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
        fused = self._fuse(cosines, lexical, mode) * self._boosts(candidates, intent)
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

    def _boosts(self, ids: list[int], intent: QueryIntent) -> np.ndarray:
        """A multiplier per candidate from what the question says of time and kind: a lean, never a filter,
        because a question's year is often the year of an event that a later paper reports."""
        if not (intent.years or intent.latest or intent.doc_types):
            return np.ones(len(ids), dtype=np.float32)
        documents = [self.store.document(chunk.doc_id) for chunk in self.store.chunks_by_id(ids)]
        return np.array([1.0 + self._boost(meta, intent) for meta in documents], dtype=np.float32)

    def _boost(self, meta: DocumentMeta, intent: QueryIntent) -> float:
        boost = 0.0
        if intent.years and meta.date is not None and any(_of_year(meta.date, year) for year in intent.years):
            boost += self.config.year_boost
        if intent.latest and meta.date is not None and meta.date >= self._newest.get(meta.council, meta.date):
            boost += self.config.latest_boost
        if meta.doc_type in intent.doc_types:
            boost += self.config.type_boost
        return boost

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


def _overlap(a: set[str], b: set[str]) -> float:
    if not a or not b:
        return 1.0 if a == b else 0.0
    # by the larger set: a long passage that contains a short one (a heading, a grade line) says more than it
    return len(a & b) / max(len(a), len(b))


_REPORTING_LAG = dt.timedelta(days=120)


def _of_year(date: dt.date, year: int) -> bool:
    """A document of that year, or published early the next year about it (reports follow visits by weeks)."""
    return dt.date(year, 1, 1) <= date <= dt.date(year, 12, 31) + _REPORTING_LAG


_RECENT = dt.timedelta(days=92)


def _newest_by_council(documents: list[DocumentMeta]) -> dict[str | None, dt.date]:
    """From what date a council's documents count as its latest: within three months of its newest."""
    newest: dict[str | None, dt.date] = {}
    for meta in documents:
        if meta.date is not None and meta.date > newest.get(meta.council, dt.date.min):
            newest[meta.council] = meta.date
    return {council: date - _RECENT for council, date in newest.items()}
