"""Hybrid search: dense (FAISS) and lexical (BM25) candidates scored on both sides, fused, filtered, de-duplicated.

Fusion is a convex combination of the two scores, each scaled to [0, 1] over the candidates: unlike rank
fusion it keeps how far apart passages are, so a strong lexical match is not drowned by a weak dense one.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from typing import Iterable, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from index.embedding import TextEncoder
from index.glossary import Glossary, GlossaryEntry
from index.lexical import analyse, terms_of, top_positions
from index.models import Chunk, DocumentMeta, SearchFilters, SearchHit
from index.query import QueryIntent, finder_for, of_year, understand
from index.store import IndexStore, lexical_text

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
    expansion_weight: float = Field(0.5, ge=0.0, le=1.0,
                                    description="BM25 weight of glossary synonyms beside the words actually typed")
    coverage_weight: float = Field(0.2, ge=0.0, description="weight of the share of the query's rare words a passage "
                                   "contains, added to the fused score")
    phrase_weight: float = Field(0.2, ge=0.0, description="weight of the share of the query's consecutive word pairs "
                                 "a passage holds in the same order ('pattern in many teams' as the report says it)")
    paraphrase_coverage: float = Field(0.5, ge=0.0, le=1.0, description="below this share of the question's rare "
                                       "words in every candidate, the question is worded unlike the documents")
    paraphrase_dense_weight: float = Field(0.5, ge=0.0, le=1.0,
                                           description="`dense_weight` for a question worded unlike the documents")
    common_term_idf: float = Field(3.0, description="a typed term rarer than this (in at most ~5% of passages) is "
                                   "expanded with its glossary synonyms")

    def dense_share(self, best_coverage: float) -> float:
        """The weight of meaning in fusion: more when no candidate holds most of the question's rare words, as when a
        councillor asks in everyday words ('kids' for 'children', 'temps' for 'agency staff')."""
        return self.dense_weight if best_coverage >= self.paraphrase_coverage else self.paraphrase_dense_weight


def recorded_config(store: IndexStore) -> SearchConfig:
    """The configuration an index's abstention threshold was measured with (the defaults before it was recorded):
    searching it otherwise would judge relevance on another scale than the threshold's."""
    return SearchConfig.model_validate(store.manifest.search)


class QueryWords(BaseModel):
    """A query's words by rarity, and the glossary's other names for some of them."""

    weights: dict[str, float]
    synonyms: list[tuple[frozenset[str], list[frozenset[str]]]] = []
    pairs: frozenset[tuple[str, str]] = frozenset()

    def coverage(self, meta: DocumentMeta, chunk: Chunk) -> float:
        """Share of the query's weight whose words (or a synonym of them) the passage and its document's title and
        date contain: 1.0 is all of them. The council's name only counts where the passage itself says it, so a
        question about a swimming pool does not match every paper of Poole."""
        own = terms_of(chunk.text)
        return self._share(terms_of(lexical_text(meta, chunk)) - (terms_of(meta.council or "") - own))

    def text_coverage(self, text: str) -> float:
        """The same share for a plain text (an area for improvement, a heading)."""
        return self._share(terms_of(text))

    def pair_share(self, text: str) -> float:
        """Share of the query's consecutive word pairs that the text holds side by side: a phrase said as the report
        says it, which word counts alone cannot see."""
        return len(self.pairs & pairs_of(text)) / len(self.pairs) if self.pairs else 0.0

    def _share(self, present: set[str]) -> float:
        total = math.fsum(self.weights.values())
        if total == 0:
            return 0.0
        covered = {term for term in self.weights if term in present}
        for typed, others in self.synonyms:
            if any(name <= present for name in others):
                covered |= typed
        return math.fsum(self.weights[term] for term in covered) / total  # exact: the same in any set order


class Searcher:
    """Answers `search(query)` over one loaded index with one loaded model."""

    def __init__(self, store: IndexStore, embedder: TextEncoder, config: SearchConfig = SearchConfig(),
                 glossary: Glossary | None = None):
        self.store = store
        self.embedder = embedder
        self.config = config
        self.glossary = glossary
        self._finder = finder_for(store.documents(), store.council_aliases())
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
        lexical_all = self._lexical_scores(query, mask)
        if mode != "dense" and lexical_all is not None:
            candidates += self.store.position_ids[top_positions(lexical_all, depth)[0]].tolist()
        candidates = list(dict.fromkeys(candidates))
        if not candidates:
            return []
        cosines = self._cosines(candidates, vector)
        lexical = (lexical_all[self.store.positions_of(candidates)] if lexical_all is not None
                   else np.zeros(len(candidates), dtype=np.float32))
        chunks = self.store.chunks_by_id(candidates)
        metas = [self.store.document(chunk.doc_id) for chunk in chunks]
        words = self.query_words(query, intent)
        coverage = np.array([words.coverage(meta, chunk) for meta, chunk in zip(metas, chunks)], dtype=np.float32)
        fused = self._fuse(cosines, lexical, mode, coverage) * self._boosts(metas, intent)
        if mode == "hybrid":
            phrasing = np.array([words.pair_share(chunk.text) for chunk in chunks], dtype=np.float32)
            fused = fused + self.config.coverage_weight * coverage + self.config.phrase_weight * phrasing
        order = np.argsort(-fused, kind="stable")
        hits = (SearchHit(chunk=chunks[i], document=metas[i], score=float(fused[i]), dense_score=float(cosines[i]),
                          lexical_score=float(lexical[i]), coverage=float(coverage[i]))
                for i in order)
        return self._distinct(hits, k)

    def query_words(self, query: str, intent: QueryIntent | None = None) -> QueryWords:
        """The query's words weighted by rarity, for coverage: the council it names is left out (every passage of
        that council's papers names it), and a word counts as present when a glossary synonym of it is."""
        named = set(analyse(" ".join(filter(None, (intent.council, intent.council_as_typed))))) if intent else set()
        in_order = [term for term in analyse(query) if term not in named]
        typed = list(dict.fromkeys(in_order))
        weights = {term: self.store.lexical.idf(term) for term in typed}
        synonyms = []
        for entry in self.glossary.entries_in(query) if self.glossary is not None else []:
            names = [frozenset(analyse(name)) for name in entry.names]
            as_typed = frozenset().union(*(name for name in names if name and name <= weights.keys()))
            if as_typed:
                synonyms.append((as_typed, [name for name in names if name and not name <= as_typed]))
        return QueryWords(weights=weights, synonyms=synonyms, pairs=consecutive(in_order))

    def absent_terms(self, query: str, filters: SearchFilters | None = None) -> list[GlossaryEntry]:
        """Acronyms typed in the query (SEND, JTAI, UASC) that no passage within the filters mentions under any of
        their names: a question about one of them cannot be answered, however well its other words match."""
        if self.glossary is None:
            return []
        mask = self.store.allowed_positions(filters)
        absent = []
        for entry in self.glossary.entries_in(query):
            if not any(_is_acronym(name) and re.search(rf"\b{re.escape(name)}\b", query) for name in entry.names):
                continue
            terms = list(dict.fromkeys(term for name in entry.names for term in analyse(name)))
            scores = self.store.lexical.term_scores(terms, mask)
            positions = top_positions(scores, 20)[0] if scores is not None else []
            chunks = self.store.chunks_by_id(self.store.position_ids[positions].tolist())
            if not any(entry in self.glossary.entries_in(chunk.text) for chunk in chunks):
                absent.append(entry)
        return absent

    def expansion_terms(self, query: str) -> list[str]:
        """Analysed words of the glossary's other names for terms in the query, beyond the words typed.

        A term the corpus already uses everywhere ('Ofsted', 'social worker') is not expanded: its synonyms
        would only add noise, and rare ones would outweigh what was typed."""
        if self.glossary is None:
            return []
        typed = set(analyse(query))
        extra: list[str] = []
        for entry in self.glossary.entries_in(query):
            names = [set(analyse(name)) for name in entry.names]
            as_typed = [name for name in names if name and name <= typed]
            if as_typed and all(self._common(name) for name in as_typed):
                continue
            extra += [term for name in names for term in name if term not in typed]
        return list(dict.fromkeys(extra))

    def _common(self, terms: set[str]) -> bool:
        return max(self.store.lexical.idf(term) for term in terms) < self.config.common_term_idf

    def _lexical_scores(self, query: str, mask: np.ndarray | None) -> np.ndarray | None:
        """BM25 for the words typed, plus the glossary's synonyms for them at a lower weight."""
        typed = self.store.lexical.scores(query, mask)
        extra = self.store.lexical.term_scores(self.expansion_terms(query), mask)
        if extra is None:
            return typed
        extra = extra * self.config.expansion_weight
        return extra if typed is None else typed + extra

    def _cosines(self, ids: list[int], vector: np.ndarray) -> np.ndarray:
        """Exact cosine for every candidate, including ones only BM25 found: fusion and abstention use it."""
        stored = self.store.vectors_by_id(ids)
        return np.array([float(stored[i] @ vector) for i in ids], dtype=np.float32)

    def _fuse(self, cosines: np.ndarray, lexical: np.ndarray, mode: SearchMode, coverage: np.ndarray) -> np.ndarray:
        """Meaning and words, each scaled over the candidates and weighed by how the question is worded."""
        if mode == "dense":
            return cosines
        if mode == "lexical":
            return lexical
        spread = float(cosines.max() - cosines.min())
        dense_scaled = (cosines - cosines.min()) / spread if spread > 0 else np.ones_like(cosines)
        top_lexical = float(lexical.max())
        lexical_scaled = lexical / top_lexical if top_lexical > 0 else np.zeros_like(lexical)
        weight = self.config.dense_share(float(coverage.max()))
        return weight * dense_scaled + (1 - weight) * lexical_scaled

    def _boosts(self, documents: list[DocumentMeta], intent: QueryIntent) -> np.ndarray:
        """A multiplier per candidate from what the question says of time and kind: a lean, never a filter,
        because a question's year is often the year of an event that a later paper reports."""
        if not (intent.years or intent.latest or intent.doc_types):
            return np.ones(len(documents), dtype=np.float32)
        return np.array([1.0 + self._boost(meta, intent) for meta in documents], dtype=np.float32)

    def _boost(self, meta: DocumentMeta, intent: QueryIntent) -> float:
        boost = 0.0
        if intent.years and meta.date is not None and any(of_year(meta.date, year) for year in intent.years):
            boost += self.config.year_boost
        if intent.latest and meta.date is not None and meta.date >= self._newest.get(meta.council, meta.date):
            boost += self.config.latest_boost
        if meta.doc_type in intent.doc_types:
            boost += self.config.type_boost
        return boost

    def _distinct(self, ranked: Iterable[SearchHit], k: int) -> list[SearchHit]:
        """Keep the best of passages that say the same thing (the same paragraph in two papers)."""
        hits: list[SearchHit] = []
        kept_words: list[frozenset[str]] = []
        for hit in ranked:
            words = terms_of(hit.chunk.text)
            if any(_overlap(words, other) >= self.config.duplicate_overlap for other in kept_words):
                continue
            hits.append(hit)
            kept_words.append(words)
            if len(hits) == k:
                break
        return hits


@functools.lru_cache(maxsize=20_000)  # the same passages come back question after question
def pairs_of(text: str) -> frozenset[tuple[str, str]]:
    """The text's consecutive pairs of analysed words (stop words left out, so 'pattern in many teams' holds
    ('pattern', 'mani'))."""
    return consecutive(analyse(text))


def consecutive(terms: list[str]) -> frozenset[tuple[str, str]]:
    return frozenset(zip(terms, terms[1:]))


def _is_acronym(name: str) -> bool:
    return sum(c.isupper() for c in name) >= 2 and " " not in name


def _overlap(a: set[str], b: set[str]) -> float:
    if not a or not b:
        return 1.0 if a == b else 0.0
    # by the larger set: a long passage that contains a short one (a heading, a grade line) says more than it
    return len(a & b) / max(len(a), len(b))


_RECENT = dt.timedelta(days=92)


def _newest_by_council(documents: list[DocumentMeta]) -> dict[str | None, dt.date]:
    """From what date a council's documents count as its latest: within three months of its newest."""
    newest: dict[str | None, dt.date] = {}
    for meta in documents:
        if meta.date is not None and meta.date > newest.get(meta.council, dt.date.min):
            newest[meta.council] = meta.date
    return {council: date - _RECENT for council, date in newest.items()}
