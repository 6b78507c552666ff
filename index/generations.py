"""Writing generations of the index: build one beside the live one, then make it live with one atomic rename.

A build writes a complete new generation folder (passages in SQLite, vectors in FAISS, BM25 arrays, derived files, a
sealed manifest with checksums), flushes it to disk, then replaces CURRENT in one rename. A crash at any point leaves
the previous generation live; one build at a time writes to an index folder. Reading is `index.store`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import os
import shutil
import sqlite3
import uuid
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from index.chunking import ChunkerConfig
from index.errors import IndexUnavailable
from index.hashing import sha256_file
from index.lexical import LexicalIndex
from index.store import (CURRENT, LEXICAL, MANIFEST, PASSAGES, SEAL_PLACEHOLDER, VECTORS, IndexManifest, IndexStore,
                         StoredDocument, current_generation, lexical_text, seal_field)
from index.vectors import VectorIndex

FORMAT = 5  # bump when a generation's files or derived data change, so the next build rewrites it

_SCHEMA = """
CREATE TABLE documents (doc_id TEXT PRIMARY KEY, source TEXT NOT NULL, meta TEXT NOT NULL,
                        file_hash TEXT NOT NULL, text TEXT NOT NULL);
CREATE TABLE chunks (position INTEGER PRIMARY KEY, chunk_id TEXT NOT NULL UNIQUE, doc_id TEXT NOT NULL,
                     ordinal INTEGER NOT NULL, location TEXT NOT NULL, heading TEXT, text TEXT NOT NULL,
                     vector BLOB NOT NULL);
CREATE INDEX chunks_by_doc ON chunks (doc_id, ordinal);
"""


def sealed_manifest_json(manifest: IndexManifest) -> str:
    """The manifest as JSON carrying the SHA-256 of its own bytes, so a changed threshold or checksum is caught."""
    draft = manifest.model_copy(update={"manifest_sha256": SEAL_PLACEHOLDER}).model_dump_json(indent=2)
    digest = hashlib.sha256(draft.encode("utf-8")).hexdigest()
    manifest.manifest_sha256 = digest
    return draft.encode("utf-8").replace(seal_field(SEAL_PLACEHOLDER), seal_field(digest), 1).decode("utf-8")


def write_generation(
    index_dir: Path,
    documents: Sequence[StoredDocument],
    vectors: dict[str, np.ndarray],
    dense: VectorIndex,
    model: str,
    chunker: ChunkerConfig,
    calibrate: Callable[["IndexStore"], float],
    extra_files: dict[str, str | np.ndarray] | None = None,
    embedder: str = "",
    search: dict[str, float | int | None] | None = None,
) -> Path:
    """Write a complete generation beside the live one, then make it live with one atomic rename.

    `calibrate` runs on the finished but not yet live generation (to measure the abstention threshold
    on this very corpus); `extra_files` are derived files (the visits timeline as text, the areas' vectors as an
    array) that are checksummed with the rest; `search` is the search configuration `calibrate` searched with,
    recorded so that questions are searched as the threshold was measured.
    """
    index_dir.mkdir(parents=True, exist_ok=True)
    with _one_writer(index_dir):
        return _write_generation(index_dir, documents, vectors, dense, model, chunker, calibrate, extra_files, embedder,
                                 search or {})


def _write_generation(index_dir: Path, documents: Sequence[StoredDocument], vectors: dict[str, np.ndarray],
                      dense: VectorIndex, model: str, chunker: ChunkerConfig,
                      calibrate: Callable[["IndexStore"], float], extra_files: dict[str, str | np.ndarray] | None,
                      embedder: str, search: dict[str, float | int | None]) -> Path:
    folder = index_dir / f"gen-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    folder.mkdir()
    try:
        lexical_texts = _write_passages(folder / PASSAGES, documents, vectors)
        dense.save(folder / VECTORS)
        lexical = LexicalIndex.build(lexical_texts, folder / LEXICAL)
        for name, content in (extra_files or {}).items():
            if isinstance(content, np.ndarray):
                with open(folder / name, "wb") as out:  # np.save would add '.npy' to a name without it
                    np.save(out, content, allow_pickle=False)
            else:
                (folder / name).write_text(content, encoding="utf-8")
        manifest = IndexManifest(
            format=FORMAT, model=model, dim=dense.dim, chunker=chunker, vector_kind=dense.kind, built_at=dt.datetime.now(dt.UTC),
            documents=len(documents), passages=len(lexical_texts),
            file_hashes={doc.meta.source: doc.file_hash for doc in documents}, checksums={}, embedder=embedder,
            bm25=lexical.parameters, search=search,
        )
        staged = IndexStore(folder, manifest)
        try:
            manifest.relevance_threshold = calibrate(staged)
        finally:
            staged.close()
        files = [path for path in sorted(folder.rglob("*")) if path.is_file()]
        manifest.checksums = {str(path.relative_to(folder)): sha256_file(path) for path in files}
        (folder / MANIFEST).write_text(sealed_manifest_json(manifest), encoding="utf-8")
        _fsync_tree(folder)
        _switch_current(index_dir, folder.name)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    _remove_old_generations(index_dir, keep=folder.name)
    return folder


def _write_passages(path: Path, documents: Sequence[StoredDocument], vectors: dict[str, np.ndarray]) -> list[str]:
    db = sqlite3.connect(path)
    try:
        db.executescript(_SCHEMA)
        texts: list[str] = []
        for doc in documents:
            db.execute(
                "INSERT INTO documents VALUES (?, ?, ?, ?, ?)",
                (doc.meta.doc_id, doc.meta.source, doc.meta.model_dump_json(), doc.file_hash, doc.text),
            )
            rows = []
            for chunk in doc.chunks:
                rows.append((len(texts), chunk.chunk_id, chunk.doc_id, chunk.ordinal, chunk.location, chunk.heading,
                             chunk.text, vectors[chunk.chunk_id].astype(np.float32).tobytes()))
                texts.append(lexical_text(doc.meta, chunk))
            db.executemany("INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        db.commit()
        return texts
    finally:
        db.close()


def _fsync_tree(folder: Path) -> None:
    for path in [*folder.rglob("*"), folder]:
        flags = os.O_RDONLY | (os.O_DIRECTORY if path.is_dir() else 0)
        descriptor = os.open(path, flags)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def _switch_current(index_dir: Path, name: str) -> None:
    temporary = index_dir / f"{CURRENT}.{uuid.uuid4().hex[:6]}.tmp"
    with temporary.open("w", encoding="utf-8") as handle:
        handle.write(name)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, index_dir / CURRENT)
    descriptor = os.open(index_dir, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


WRITER_LOCK = ".writer.lock"


@contextlib.contextmanager
def _one_writer(index_dir: Path):
    """One build at a time writes to an index folder, across processes (a cron `index` and a /reindex): each ends
    by removing the generations that are not its own, which must never include one still being written. The
    kernel drops the lock when its holder dies, so a killed build never blocks the next."""
    with (index_dir / WRITER_LOCK).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def remove_stale_generations(index_dir: Path) -> None:
    """Remove what builds killed part-way left behind, when a build finds nothing to write (a build that writes
    does this itself); nothing is removed while the live generation cannot be told."""
    if not (index_dir / CURRENT).is_file():
        return
    with _one_writer(index_dir):
        try:
            live = current_generation(index_dir).name
        except IndexUnavailable:
            return
        _remove_old_generations(index_dir, keep=live)


def _remove_old_generations(index_dir: Path, keep: str) -> None:
    """Drop superseded generations and leftovers of interrupted builds (their names never reach CURRENT)."""
    for path in index_dir.iterdir():
        if path.name == keep or path.name == CURRENT:
            continue
        if path.name.startswith("gen-") and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        elif path.name.startswith(f"{CURRENT}.") and path.name.endswith(".tmp"):
            path.unlink(missing_ok=True)
