"""The long-lived objects a command needs, built once in `main()` and passed to every adapter."""

from __future__ import annotations

import datetime as dt
import functools
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from bot.answering import Answerer
from bot.rendering import display_date
from bot.settings import Settings
from index.embedding import TextEncoder, load_encoder, resolve_model_path
from index.glossary import Glossary
from index.search import Searcher, recorded_config
from index.store import IndexStore
from index.visits import Timeline, VisitEvent, build_timeline, load_curated, merge_curated

if TYPE_CHECKING:
    from bot.progress import Tracker
    from index.indexer import IndexReport

CURATED_VISITS = "visits.toml"
CURATED_PROGRESS = "progress.toml"


class Services:
    """Lazily loads the model and the index, so `docs` and `quote` start without the model.

    `reindex` builds a new generation and swaps it in under a lock: a question being answered keeps
    the store it started with, and the next one gets the new index — never a mix of both.
    """

    def __init__(self, settings: Settings, embedder: TextEncoder | None = None):
        self.settings = settings
        self._embedder = embedder
        self._swap = threading.Lock()
        self._store: IndexStore | None = None
        self._searcher: Searcher | None = None
        self._tracker: Tracker | None = None

    @property
    def corpus(self) -> Path:
        return self.settings.corpus_dir

    @property
    def index_dir(self) -> Path:
        return self.settings.index_dir

    @property
    def embedder(self) -> TextEncoder:
        with self._swap:
            if self._embedder is None:
                self._embedder = load_encoder(self.settings.model, self.settings.embedder, self.settings.onnx_dir)
            return self._embedder

    @property
    def store(self) -> IndexStore:
        """The live index; opening it needs no model, but one built with another model is refused."""
        with self._swap:
            if self._store is None:
                if self._embedder is None:
                    resolve_model_path(self.settings.model)  # a wrong BOT_MODEL is named, not taken for a stale index
                self._store = IndexStore.open(self.index_dir, model=self.settings.model)
            return self._store

    @property
    def searcher(self) -> Searcher:
        store, embedder = self.store, self.embedder
        with self._swap:
            if self._searcher is None or self._searcher.store is not store:
                self._searcher = Searcher(store, embedder, recorded_config(store), self.glossary)
            return self._searcher

    @property
    def tracker(self) -> Tracker:
        """The improvement tracker over the live index and the corpus's progress.toml: one per index generation,
        so the evidence it has found stays cached until a reindex swaps the generation."""
        from bot.progress import Tracker
        from index.improvements.curated import load_corrections

        searcher = self.searcher
        with self._swap:
            if self._tracker is None or self._tracker.store is not searcher.store:
                self._tracker = Tracker(searcher, load_corrections(self.corpus / CURATED_PROGRESS))
            return self._tracker

    @functools.cached_property
    def glossary(self) -> Glossary:
        """The packaged glossary of children's social care terms: search synonyms and /define."""
        return Glossary.load()

    @property
    def answerer(self) -> Answerer:
        """An answerer whose passages and visits timeline both come from the index live when it was made, so a
        question in flight across a reindex is answered wholly from one generation."""
        searcher = self.searcher
        return Answerer(searcher, self.settings.min_relevance, self.settings.max_quote_chars,
                        timeline=lambda as_of, council: self.timeline(as_of, council, store=searcher.store),
                        progress=lambda council, inspection: self.tracker.progress(council, inspection))

    def visit_events(self, store: IndexStore | None = None) -> tuple[list[VisitEvent], list[str]]:
        """Events extracted at index time, with staff corrections from the corpus's visits.toml on top."""
        curated, errors = load_curated(self.corpus / CURATED_VISITS)
        return merge_curated((store or self.store).visit_events(), curated), errors

    def passage_date(self, chunk_id: str, store: IndexStore | None = None) -> str:
        """The date of the document a passage comes from, as precisely as the evidence allows."""
        store = store or self.store
        chunk = store.chunk(chunk_id)
        return (display_date(store.document(chunk.doc_id)) if chunk else None) or "undated"

    def timeline(self, as_of: dt.date, council: str | None = None, include_past: bool = False,
                 store: IndexStore | None = None) -> Timeline:
        return build_timeline(self.visit_events(store)[0], as_of, council, include_past)

    def reindex(self, rebuild: bool = False, progress: bool = False, say=lambda _: None) -> IndexReport:
        """Bring the index up to date with the corpus, then serve the new generation."""
        from index.indexer import Indexer  # with the parsers (pypdf, python-docx): answering never needs them

        indexer = Indexer(self.embedder, max_file_bytes=self.settings.max_file_bytes, glossary=self.glossary)
        report = indexer.run(self.corpus, self.index_dir, rebuild=rebuild, progress=progress, say=say)
        fresh = IndexStore.open(self.index_dir, model=self.settings.model)
        searcher = Searcher(fresh, self.embedder, recorded_config(fresh), self.glossary)
        with self._swap:
            self._store, self._searcher = fresh, searcher
        return report
