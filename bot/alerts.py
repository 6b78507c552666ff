"""What a sync brought: the documents it landed, and the passages of them on topics people watch.

Pure core for the Discord bot's scheduled sync (and anything else that syncs): a watched topic is matched against
every passage of the new documents with the engine's own relevance (cosine plus rare-word coverage,
`Tracker.relevance`), and only passages that clear the answering bar are alerted, quoted with their best sentences
as answers are.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel

from bot.answering import best_excerpt
from bot.services import Services
from bot.watches import Watch
from index.lexical import analyse
from index.models import Chunk, DocumentMeta
from index.sync.models import SyncReport

PER_WATCH = 3  # passages alerted per watch and sync: the best ones; /quote shows more
QUOTE_CHARS = 320


class WatchedPassage(BaseModel):
    meta: DocumentMeta
    chunk: Chunk
    quote: str
    relevance: float


def landed_documents(services: Services, report: SyncReport) -> list[DocumentMeta]:
    """The indexed documents a sync added (or replaced with a new version), in the report's order."""
    by_source = {meta.source: meta for meta in services.store.documents()}
    return [by_source[paper.source] for paper in report.added if paper.source in by_source]


def watched_passages(services: Services, watch: Watch, documents: Iterable[DocumentMeta],
                     limit: int = PER_WATCH) -> list[WatchedPassage]:
    """The passages of `documents` on the watched topic above the answering bar, best first."""
    store, tracker, bar = services.store, services.tracker, services.answerer.min_relevance
    chunks = [chunk for meta in documents for chunk in store.document_chunks(meta.doc_id)]
    if not chunks:
        return []
    weights = {term: store.lexical.idf(term) for term in analyse(watch.topic)}
    scored = sorted(zip(tracker.relevance(watch.topic, chunks), chunks), key=lambda pair: -pair[0])
    return [WatchedPassage(meta=store.document(chunk.doc_id), chunk=chunk, relevance=score,
                           quote=best_excerpt(chunk.text, weights, QUOTE_CHARS))
            for score, chunk in scored[:limit] if score >= bar]
