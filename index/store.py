"""Reading the built index: the live generation, verified against its sealed manifest and checksums.

`index_dir/CURRENT` names the live generation (one folder per generation; `index.generations` writes them and
switches CURRENT atomically). A generation that is missing, torn or built with another model is refused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import sqlite3
import threading
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
from pydantic import BaseModel, Field, ValidationError

from index.chunking import ChunkerConfig
from index.errors import IndexUnavailable
from index.hashing import sha256_file
from index.improvements import AreasFile
from index.lexical import LexicalIndex
from index.models import Chunk, DocumentMeta, SearchFilters, council_matches
from index.visits import VisitEvent
from index.vectors import VectorIndex, VectorKind

CURRENT = "CURRENT"
PASSAGES = "passages.sqlite"
VECTORS = "vectors.faiss"
LEXICAL = "lexical"
MANIFEST = "manifest.json"
VISITS = "visits.json"
AREAS = "areas.json"
AREA_TEXTS = "area_texts.json"  # the areas for improvement and the themes they list, in the order of AREA_VECTORS
AREA_VECTORS = "area_vectors.npy"
COUNCILS = "councils.json"





class IndexManifest(BaseModel):
    """What an index was built with, and checksums that reveal a torn or corrupted file."""

    format: int = 1  # manifests from before the field existed
    model: str
    dim: int
    chunker: ChunkerConfig
    vector_kind: VectorKind
    built_at: dt.datetime
    documents: int
    passages: int
    file_hashes: dict[str, str]
    checksums: dict[str, str]
    bm25: dict[str, float] = Field({}, description="k1 and b the lexical index was built with")
    relevance_threshold: float = Field(0.0, description="measured on this corpus by index.calibration")
    search: dict[str, float | int | None] = Field({}, description="the search configuration the threshold was "
                                                   "measured with, which searches of this index use; empty before "
                                                   "it was recorded (the defaults)")
    embedder: str = Field("", description="what computed the vectors: 'torch', or 'onnx:' and the exported model's "
                          "SHA-256 (either serves queries on the other: their vectors agree); empty before it existed")
    manifest_sha256: str = Field("", description="SHA-256 of this file's own bytes with this value zeroed; "
                                 "the checksums cover the other files, this covers the manifest itself")


def faiss_id(chunk_id: str) -> int:
    """Passage ids are 12 hex digits, so they map to FAISS's int64 ids without a lookup table."""
    return int(chunk_id, 16)


class StoredDocument(BaseModel):
    """A document as the store keeps it: metadata, the hash of its file, its text and its passages."""

    meta: DocumentMeta
    file_hash: str
    text: str
    chunks: list[Chunk]


def lexical_text(meta: DocumentMeta, chunk: Chunk) -> str:
    """Words BM25 sees for a passage: its own, plus the council, date and title that name its document."""
    when = meta.date.strftime("%Y" if meta.date_precision == "year" else "%B %Y") if meta.date else ""
    return " ".join(filter(None, [meta.title, meta.council, when, chunk.heading, chunk.text]))


class IndexStore:
    """One loaded generation: read-only, safe to share between threads."""

    def __init__(self, folder: Path, manifest: IndexManifest):
        self.folder = folder
        self.manifest = manifest
        self._db = sqlite3.connect(f"file:{folder / PASSAGES}?mode=ro", uri=True, check_same_thread=False)
        self._lock = threading.Lock()
        self.vectors = VectorIndex.load(folder / VECTORS, manifest.vector_kind)
        self.lexical = LexicalIndex.load(folder / LEXICAL)
        self._documents = {
            doc_id: DocumentMeta.model_validate_json(meta)
            for doc_id, meta in self._query("SELECT doc_id, meta FROM documents ORDER BY doc_id")
        }
        rows = self._query("SELECT chunk_id, doc_id FROM chunks ORDER BY position")
        self.position_ids = np.array([faiss_id(chunk_id) for chunk_id, _ in rows], dtype=np.int64)
        # lookups by id and by document as arrays, not a Python object per passage: at a million passages
        # a dict and a list of strings took ~200 MB, and a filter mask built from them 55 ms a question
        self._by_id = np.argsort(self.position_ids, kind="stable")
        self._sorted_ids = self.position_ids[self._by_id]
        self._doc_order = list(self._documents)
        codes = {doc_id: code for code, doc_id in enumerate(self._doc_order)}
        unknown = len(self._doc_order)  # a passage whose document row is missing: never let through a filter
        self._doc_of_position = np.array([codes.get(doc_id, unknown) for _, doc_id in rows], dtype=np.int32)
        self._allowed_documents: dict[SearchFilters, np.ndarray] = {}  # per filter, which documents it lets through
        # read now, not when asked: a reindex removes this folder while questions may still be using this store
        visits = folder / VISITS
        self._visit_events = ([VisitEvent.model_validate(raw) for raw in json.loads(visits.read_text(encoding="utf-8"))]
                              if visits.is_file() else [])
        councils = folder / COUNCILS
        self._council_aliases: dict[str, list[str]] = (json.loads(councils.read_text(encoding="utf-8"))
                                                        if councils.is_file() else {})
        areas = folder / AREAS
        self._areas = AreasFile.model_validate_json(areas.read_text(encoding="utf-8")) if areas.is_file() else AreasFile(version=0)
        self._area_vectors = _area_vectors(folder)

    @classmethod
    def open(cls, index_dir: Path, model: str | None = None, verify: bool = True) -> "IndexStore":
        """Load the live generation, refusing one that is missing, torn, or built with another model."""
        folder = current_generation(index_dir)
        manifest = _read_manifest(folder)
        if model is not None and manifest.model != model:
            raise IndexUnavailable(
                f"the index in {index_dir} was built with model '{manifest.model}', not '{model}'; "
                "rebuild it"
            )
        if verify:
            _verify_seal(folder, manifest)
            _verify_checksums(folder, manifest)
        try:
            return cls(folder, manifest)
        except (sqlite3.Error, RuntimeError, OSError, ValueError) as error:
            raise IndexUnavailable(
                f"the index in {index_dir} cannot be read ({error}); rebuild it"
            ) from error

    def close(self) -> None:
        self._db.close()

    def _query(self, sql: str, params: Sequence[object] = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    @property
    def size(self) -> int:
        return len(self.position_ids)

    def documents(self) -> list[DocumentMeta]:
        return list(self._documents.values())

    def document(self, doc_id: str) -> DocumentMeta:
        return self._documents[doc_id]

    def document_text(self, doc_id: str) -> str:
        rows = self._query("SELECT text FROM documents WHERE doc_id = ?", (doc_id,))
        return rows[0][0] if rows else ""

    def chunk(self, chunk_id: str) -> Chunk | None:
        """The passage with this id; None for anything that is not one (even text SQLite cannot encode)."""
        if not _CHUNK_ID.fullmatch(chunk_id):
            return None
        rows = self._query(f"SELECT {_CHUNK_COLUMNS} FROM chunks WHERE chunk_id = ?", (chunk_id,))
        return _chunk(rows[0]) if rows else None

    def positions_of(self, ids: Iterable[int]) -> np.ndarray:
        wanted = np.fromiter((int(i) for i in ids), dtype=np.int64)
        positions = self._find(wanted)
        if (positions < 0).any():
            raise KeyError(int(wanted[positions < 0][0]))
        return positions

    def _find(self, wanted: np.ndarray) -> np.ndarray:
        """Positions of FAISS ids, -1 for ids not in this generation (a binary search in sorted ids)."""
        if len(self._sorted_ids) == 0:
            return np.full(len(wanted), -1, dtype=np.int64)
        slots = np.minimum(np.searchsorted(self._sorted_ids, wanted), len(self._sorted_ids) - 1)
        return np.where(self._sorted_ids[slots] == wanted, self._by_id[slots], -1).astype(np.int64)

    def vectors_by_id(self, ids: Sequence[int]) -> dict[int, np.ndarray]:
        """Exact stored vectors for FAISS ids (the FAISS index itself may hold compressed ones)."""
        positions = self.positions_of(ids).tolist()
        marks = ",".join("?" * len(positions))
        rows = self._query(f"SELECT position, vector FROM chunks WHERE position IN ({marks})", positions)
        return {int(self.position_ids[p]): np.frombuffer(blob, dtype=np.float32) for p, blob in rows}

    def chunks_by_id(self, ids: Iterable[int]) -> list[Chunk]:
        """Passages for FAISS ids, in the order asked."""
        found = self._find(np.fromiter((int(i) for i in ids), dtype=np.int64))
        positions = found[found >= 0].tolist()
        if not positions:
            return []
        marks = ",".join("?" * len(positions))
        rows = self._query(f"SELECT position, {_CHUNK_COLUMNS} FROM chunks WHERE position IN ({marks})", positions)
        by_position = {row[0]: _chunk(row[1:]) for row in rows}
        return [by_position[p] for p in positions]

    def document_chunks(self, doc_id: str) -> list[Chunk]:
        rows = self._query(f"SELECT {_CHUNK_COLUMNS} FROM chunks WHERE doc_id = ? ORDER BY ordinal", (doc_id,))
        return [_chunk(row) for row in rows]

    def neighbours(self, chunk: Chunk, before: int = 1, after: int = 1) -> list[Chunk]:
        """The passage with the ones around it in its document, for reading a quote in context."""
        rows = self._query(
            f"SELECT {_CHUNK_COLUMNS} FROM chunks WHERE doc_id = ? AND ordinal BETWEEN ? AND ? ORDER BY ordinal",
            (chunk.doc_id, chunk.ordinal - before, chunk.ordinal + after),
        )
        return [_chunk(row) for row in rows]

    def chunk_ids_starting(self, prefix: str, limit: int = 25) -> list[str]:
        rows = self._query("SELECT chunk_id FROM chunks WHERE chunk_id LIKE ? LIMIT ?", (f"{prefix}%", limit))
        return [row[0] for row in rows]

    def stored_documents(self) -> dict[str, tuple[str, DocumentMeta]]:
        """File hash and metadata by source, so an update can tell what changed."""
        rows = self._query("SELECT source, file_hash, meta FROM documents")
        return {source: (file_hash, DocumentMeta.model_validate_json(meta)) for source, file_hash, meta in rows}

    def load_document(self, source: str) -> StoredDocument:
        """A stored document with its passages, reused as is when its file has not changed."""
        rows = self._query("SELECT doc_id, meta, file_hash, text FROM documents WHERE source = ?", (source,))
        doc_id, meta, file_hash, text = rows[0]
        return StoredDocument(meta=DocumentMeta.model_validate_json(meta), file_hash=file_hash, text=text,
                              chunks=self.document_chunks(doc_id))

    def vectors_for(self, chunk_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Stored vectors of passages that already exist, so unchanged text is never embedded twice."""
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(chunk_ids), 500):
            batch = list(chunk_ids[start : start + 500])
            marks = ",".join("?" * len(batch))
            for chunk_id, blob in self._query(f"SELECT chunk_id, vector FROM chunks WHERE chunk_id IN ({marks})", batch):
                found[chunk_id] = np.frombuffer(blob, dtype=np.float32)
        return found

    def council_aliases(self) -> dict[str, list[str]]:
        """Other names for councils that the corpus's manifest added to the packaged table."""
        return dict(self._council_aliases)

    def visit_events(self) -> list[VisitEvent]:
        """Inspection and visit events extracted from the documents when this generation was built."""
        return list(self._visit_events)

    def improvement_areas(self) -> AreasFile:
        """Areas for improvement extracted when this generation was built (version 0: built before they were)."""
        return self._areas

    def area_vectors(self) -> dict[str, np.ndarray]:
        """The model's vectors of the areas' texts and of the themes they list, computed when this generation was
        built, so the tracker encodes nothing for them when asked."""
        return self._area_vectors

    def allowed_positions(self, filters: SearchFilters | None) -> np.ndarray | None:
        """0/1 per position for the passages the filters let through; None when nothing is filtered."""
        if filters is None or filters.is_empty():
            return None
        allowed_docs = self._allowed_documents.get(filters)
        if allowed_docs is None:  # matching every document's metadata took 17 ms at 8,000 documents
            allowed_docs = np.fromiter((matches(self._documents[doc_id], filters) for doc_id in self._doc_order),
                                       dtype=bool, count=len(self._doc_order))
            allowed_docs = np.append(allowed_docs, False)
            if len(self._allowed_documents) >= 256:
                self._allowed_documents.clear()
            self._allowed_documents[filters] = allowed_docs
        return allowed_docs[self._doc_of_position].astype(np.float32)


_CHUNK_COLUMNS = "chunk_id, doc_id, ordinal, location, heading, text"
_CHUNK_ID = re.compile(r"[0-9a-f]{12}")  # index.chunking's ids: 12 hex digits of a SHA-1
_GENERATION = re.compile(r"gen-[0-9A-Za-z_-]+")  # the folder names write_generation gives


def _chunk(row: Sequence[object]) -> Chunk:
    chunk_id, doc_id, ordinal, location, heading, text = row
    return Chunk(chunk_id=chunk_id, doc_id=doc_id, ordinal=ordinal, location=location, heading=heading, text=text)


def matches(meta: DocumentMeta, filters: SearchFilters) -> bool:
    if filters.council is not None and not council_matches(filters.council, meta.council):
        return False
    if filters.doc_types is not None and meta.doc_type not in filters.doc_types:
        return False
    if filters.date_from is not None and (meta.date is None or meta.date < filters.date_from):
        return False
    if filters.date_to is not None and (meta.date is None or meta.date > filters.date_to):
        return False
    return True


def current_generation(index_dir: Path) -> Path:
    pointer = index_dir / CURRENT
    if not pointer.is_file():
        raise IndexUnavailable(f"no index in {index_dir}; build one", rebuild=False)
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        name = ""  # a torn or garbled pointer names no generation
    folder = index_dir / name
    if not _GENERATION.fullmatch(name) or not folder.is_dir():
        raise IndexUnavailable(f"the index in {index_dir} is incomplete; rebuild it")
    return folder


def _read_manifest(folder: Path) -> IndexManifest:
    try:
        return IndexManifest.model_validate_json((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValidationError, UnicodeDecodeError) as error:
        raise IndexUnavailable(
            f"the index manifest in {folder} is unreadable ({type(error).__name__}); "
            "rebuild it"
        ) from error


SEAL_PLACEHOLDER = "0" * 64


def seal_field(value: str) -> bytes:
    return f'"manifest_sha256": "{value}"'.encode("utf-8")


def _verify_seal(folder: Path, manifest: IndexManifest) -> None:
    """Manifests from before the seal existed have none and are taken as they are."""
    if not manifest.manifest_sha256:
        return
    raw = (folder / MANIFEST).read_bytes()
    draft = raw.replace(seal_field(manifest.manifest_sha256), seal_field(SEAL_PLACEHOLDER), 1)
    if hashlib.sha256(draft).hexdigest() != manifest.manifest_sha256:
        raise IndexUnavailable(
            f"the index manifest {folder / MANIFEST} is corrupted (its seal does not match); "
            "rebuild it"
        )


def _verify_checksums(folder: Path, manifest: IndexManifest) -> None:
    for name, expected in manifest.checksums.items():
        path = folder / name
        if not path.is_file() or sha256_file(path) != expected:
            raise IndexUnavailable(
                f"index file {path} is missing or corrupted (checksum mismatch); "
                "rebuild it"
            )


def _area_vectors(folder: Path) -> dict[str, np.ndarray]:
    texts, vectors = folder / AREA_TEXTS, folder / AREA_VECTORS
    if not (texts.is_file() and vectors.is_file()):  # built before they were stored
        return {}
    return dict(zip(json.loads(texts.read_text(encoding="utf-8")), np.load(vectors, allow_pickle=False)))
