"""Corpora and indexes for the benchmarks, built once and cached under var/bench/.

- real: all 493 Ofsted reports of shared/corpora/ofsted-ilacs-text, indexed by the real Indexer
  (real text, real embeddings).
- subsets (1k, 10k): whole real reports, picked in a fixed pseudo-random order until the passage count
  is reached; indexed by the real Indexer, reusing the real index's stored vectors (nothing re-embedded).
- synthetic (100k, 1M): the real corpus plus copies of its reports whose passages are perturbed real
  text (words dropped, replaced by other corpus words, and swapped) and whose vectors are the source
  passage's real embedding plus isotropic noise (cosine about 0.9 to it) — NOT embeddings of the
  perturbed text, which would take days to compute on this machine. Written with the store's own
  `write_generation`, FAISS kind chosen by `choose_kind`, abstention threshold calibrated as usual.
"""

from __future__ import annotations

import csv
import hashlib
import shutil
import time
from pathlib import Path

import numpy as np

from benchmarks.common import BENCH, REAL_CORPUS, memory, size_label
from index.generations import write_generation
from index.store import CURRENT, IndexStore, StoredDocument

SYNTHETIC_COSINE = 0.9


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def real_index(embedder=None) -> Path:
    """The index of all 493 real reports (tens of thousands of passages); built by the Indexer if missing."""
    index_dir = BENCH / "real" / "index"
    if not (index_dir / CURRENT).is_file():
        from index.embedding import Embedder
        from index.indexer import Indexer

        log("building the real index (embeds every passage: about 20-40 minutes on 2 cores)")
        start = time.perf_counter()
        report = Indexer(embedder or Embedder()).run(REAL_CORPUS, index_dir, rebuild=True)
        log(f"real index: {report.passages} passages in {time.perf_counter() - start:.0f} s")
    return index_dir


def _sources_rows() -> tuple[list[str], dict[str, list[str]]]:
    with (REAL_CORPUS / "SOURCES.tsv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t"))
    return rows[0], {row[0]: row for row in rows[1:]}


def _order(sources: list[str]) -> list[str]:
    """A fixed pseudo-random order, so subsets mix councils and years."""
    return sorted(sources, key=lambda s: hashlib.sha256(s.encode()).hexdigest())


def subset_corpus(target: int, folder: Path) -> list[str]:
    """Copy whole real reports into `folder` (with their SOURCES.tsv rows) until `target` passages."""
    store = IndexStore.open(real_index())
    try:
        counts = {meta.source: len(store.document_chunks(meta.doc_id)) for meta in store.documents()}
    finally:
        store.close()
    chosen, total = [], 0
    for source in _order(list(counts)):
        if total >= target:
            break
        chosen.append(source)
        total += counts[source]
    folder.mkdir(parents=True, exist_ok=True)
    header, rows = _sources_rows()
    with (folder / "SOURCES.tsv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(header)
        for source in chosen:
            shutil.copy2(REAL_CORPUS / source, folder / source)
            if source in rows:
                writer.writerow(rows[source])
    return chosen


def seed_from_real(index_dir: Path) -> None:
    """Start an index folder from a copy of the real index, so the Indexer reuses its stored vectors."""
    real = real_index()
    generation = (real / CURRENT).read_text(encoding="utf-8").strip()
    if index_dir.exists():
        shutil.rmtree(index_dir)
    index_dir.mkdir(parents=True)
    shutil.copytree(real / generation, index_dir / generation)
    (index_dir / CURRENT).write_text(generation, encoding="utf-8")


def subset_index(target: int, embedder) -> tuple[Path, Path]:
    """(corpus, index) of whole real reports adding up to about `target` passages, built by the Indexer."""
    from index.indexer import Indexer

    base = BENCH / f"subset-{size_label(target)}"
    corpus, index_dir = base / "corpus", base / "index"
    if (index_dir / CURRENT).is_file() and (base / "done").is_file():
        return corpus, index_dir
    if base.exists():
        shutil.rmtree(base)
    chosen = subset_corpus(target, corpus)
    seed_from_real(index_dir)
    start = time.perf_counter()
    report = Indexer(embedder).run(corpus, index_dir)
    log(f"subset {size_label(target)}: {len(chosen)} reports, {report.passages} passages, "
        f"{report.embedded} embedded, {time.perf_counter() - start:.1f} s")
    (base / "done").write_text(str(report.passages), encoding="utf-8")
    return corpus, index_dir


def _chunk_id(*parts: object) -> str:
    return hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=6).hexdigest()


class _Perturber:
    """Perturbed real text: about 8% of words dropped, 8% replaced by other corpus words, 5% swapped."""

    def __init__(self, vocabulary: list[str], seed: int):
        self.vocabulary = np.array(vocabulary, dtype=object)
        self.rng = np.random.default_rng(seed)

    def text(self, text: str) -> str:
        words = text.split(" ")
        draw = self.rng.random(len(words))
        replaced = self.vocabulary[self.rng.integers(0, len(self.vocabulary), len(words))]
        out = [replacement if 0.08 <= r < 0.16 else word
               for word, r, replacement in zip(words, draw, replaced) if r >= 0.08]
        for i in np.flatnonzero(self.rng.random(max(len(out) - 1, 0)) < 0.05):
            out[i], out[i + 1] = out[i + 1], out[i]
        return " ".join(out)

    def vectors(self, base: np.ndarray, cosine: float) -> np.ndarray:
        """Unit vectors at about `cosine` to each row of `base`."""
        noise = self.rng.standard_normal(base.shape).astype(np.float32)
        noise /= np.linalg.norm(noise, axis=1, keepdims=True)
        mixed = base + np.sqrt(1 / cosine**2 - 1) * noise
        return (mixed / np.linalg.norm(mixed, axis=1, keepdims=True)).astype(np.float32)


def load_real_documents() -> tuple[list[StoredDocument], dict[str, np.ndarray]]:
    store = IndexStore.open(real_index())
    try:
        documents = [store.load_document(meta.source) for meta in sorted(store.documents(), key=lambda m: m.source)]
        vectors = store.vectors_for([chunk.chunk_id for doc in documents for chunk in doc.chunks])
    finally:
        store.close()
    return documents, vectors


def synthetic_index(target: int, embedder, seed: int = 0) -> Path:
    """An index of exactly `target` passages: the real corpus plus perturbed copies of its reports."""
    from index.calibration import calibrate
    from index.search import Searcher
    from index.vectors import VectorIndex

    base = BENCH / f"synthetic-{size_label(target)}"
    index_dir = base / "index"
    if (index_dir / CURRENT).is_file() and (base / "done").is_file():
        return index_dir
    if base.exists():
        shutil.rmtree(base)
    start = time.perf_counter()
    real_documents, real_vectors = load_real_documents()
    real_passages = sum(len(doc.chunks) for doc in real_documents)
    log(f"synthetic {size_label(target)}: {len(real_documents)} real reports, {real_passages} passages loaded")
    documents: list[StoredDocument] = []
    ids: list[str] = []
    matrix = np.zeros((target, next(iter(real_vectors.values())).shape[0]), dtype=np.float32)
    vocabulary = sorted({w for doc in real_documents[:60] for c in doc.chunks for w in c.text.split(" ") if w.isalpha()})
    perturb = _Perturber(vocabulary, seed)
    seen: set[str] = set()

    def add(document: StoredDocument, rows: np.ndarray) -> None:
        documents.append(document)
        for chunk, row in zip(document.chunks, rows):
            matrix[len(ids)] = row
            ids.append(chunk.chunk_id)
            seen.add(chunk.chunk_id)

    for doc in real_documents:
        if len(ids) >= target:
            break
        room = target - len(ids)
        kept = doc.model_copy(update={"chunks": doc.chunks[:room]})
        add(kept, np.stack([real_vectors[c.chunk_id] for c in kept.chunks]))
    copy = 0
    while len(ids) < target:
        copy += 1
        for doc in real_documents:
            if len(ids) >= target:
                break
            room = target - len(ids)
            source = f"synthetic/{copy:04d}/{doc.meta.source}"
            doc_id = source.rsplit(".", 1)[0]
            chunks, sources = [], []
            for chunk in doc.chunks[:room]:
                chunk_id = _chunk_id(copy, chunk.chunk_id)
                if chunk_id in seen:
                    continue
                chunks.append(chunk.model_copy(update={"chunk_id": chunk_id, "doc_id": doc_id,
                                                       "text": perturb.text(chunk.text)}))
                sources.append(real_vectors[chunk.chunk_id])
            if not chunks:
                continue
            meta = doc.meta.model_copy(update={"doc_id": doc_id, "source": source, "url": None})
            add(StoredDocument(meta=meta, file_hash=hashlib.sha256(source.encode()).hexdigest(),
                               text="\n\n".join(c.text for c in chunks), chunks=chunks),
                perturb.vectors(np.stack(sources), SYNTHETIC_COSINE))
        if copy % 2 == 0:
            log(f"  {len(ids)} passages generated ({copy} copies), {memory().get('rss_mb')} MB")
    vectors = {chunk_id: matrix[i] for i, chunk_id in enumerate(ids)}
    log(f"synthetic {size_label(target)}: {len(documents)} documents, {len(ids)} passages generated "
        f"in {time.perf_counter() - start:.0f} s; building FAISS")
    t = time.perf_counter()
    dense = VectorIndex.build(np.array([int(c, 16) for c in ids], dtype=np.int64), matrix)
    faiss_seconds = time.perf_counter() - t
    log(f"FAISS {dense.kind} built in {faiss_seconds:.0f} s; writing the generation (SQLite, BM25, checksums)")
    t = time.perf_counter()
    from index.indexer import _events_json
    from index.store import VISITS
    from index.visits import extract_events

    events = extract_events((doc.meta, doc.chunks) for doc in real_documents)  # copies would repeat them
    write_generation(index_dir, documents, vectors, dense, embedder.name, _chunker(),
                     calibrate=lambda staged: calibrate(Searcher(staged, embedder)),
                     extra_files={VISITS: _events_json(events)})
    write_seconds = time.perf_counter() - t
    log(f"synthetic {size_label(target)} written in {write_seconds:.0f} s; peak RSS {memory().get('peak_rss_mb')} MB")
    (base / "done").write_text(f"{len(ids)} passages; faiss {faiss_seconds:.0f} s; write {write_seconds:.0f} s; "
                               f"peak RSS of the builder {memory().get('peak_rss_mb')} MB\n", encoding="utf-8")
    return index_dir


def _chunker():
    store = IndexStore.open(real_index(), verify=False)
    try:
        return store.manifest.chunker
    finally:
        store.close()
