"""The dense index kinds: exact and IVF-SQ4, chosen by corpus size, updated by id, recorded in the manifest."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from index import vectors as vectors_module
from index.indexer import Indexer
from index.store import CURRENT, MANIFEST, IndexStore
from index.vectors import IVF_FROM, VectorIndex, choose_kind, nlist_for

DIM = 384
N = 3000


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def _clustered(rng: np.random.Generator, n: int, topics: int = 40) -> np.ndarray:
    """Random unit vectors around random topic directions: like sentence embeddings, neighbours share a topic."""
    centres = _unit(rng.standard_normal((topics, DIM)))
    return _unit(centres[rng.integers(0, topics, n)] + 0.8 * _unit(rng.standard_normal((n, DIM))))


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    matrix = _clustered(rng, N + 60)
    ids = rng.choice(2**47, N, replace=False).astype(np.int64)  # passage ids are 12 hex digits
    return ids, matrix[:N], matrix[N:]


@pytest.fixture(scope="module")
def compressed(data):
    ids, matrix, _ = data
    return VectorIndex.build(ids, matrix, kind="ivfsq4")


def _rescored_top10(dense: VectorIndex, ids, matrix, query, allowed=None) -> set[int]:
    """What users get: the index's 50 candidates re-scored exactly from stored vectors, best 10 kept."""
    found, _ = dense.search(query, 50, allowed)
    row_of = {int(i): r for r, i in enumerate(ids)}
    rows = np.array([row_of[int(i)] for i in found])
    return {int(ids[r]) for r in rows[np.argsort(-(matrix[rows] @ query))[:10]]}


def _exact_top10(ids, matrix, query, allowed=None) -> set[int]:
    rows = np.arange(len(ids)) if allowed is None else np.flatnonzero(np.isin(ids, allowed))
    best = rows[np.argsort(-(matrix[rows] @ query))[:10]]
    return {int(ids[r]) for r in best}


def test_kind_is_chosen_by_corpus_size():
    assert choose_kind(0) == choose_kind(IVF_FROM - 1) == "flat"
    assert choose_kind(IVF_FROM) == choose_kind(10 * IVF_FROM) == "ivfsq4"
    rng = np.random.default_rng(0)
    small = VectorIndex.build(np.arange(100, dtype=np.int64), _clustered(rng, 100))
    assert small.kind == "flat" and small.suits(100) and not small.suits(IVF_FROM)
    assert nlist_for(1_000_000) >= nlist_for(100_000) >= nlist_for(IVF_FROM) and nlist_for(1_000_000) > nlist_for(IVF_FROM)


def test_compressed_index_is_much_smaller_and_keeps_its_kind(compressed, data, tmp_path):
    ids, matrix, _ = data
    flat = VectorIndex.build(ids, matrix, kind="flat")
    compressed.save(tmp_path / "ivf.faiss")
    flat.save(tmp_path / "flat.faiss")
    assert (tmp_path / "ivf.faiss").stat().st_size < (tmp_path / "flat.faiss").stat().st_size / 4
    loaded = VectorIndex.load(tmp_path / "ivf.faiss", "ivfsq4")
    assert loaded.kind == "ivfsq4" and loaded.size == N
    assert loaded.nlist == compressed.nlist and loaded.nprobe == compressed.nprobe


def test_recall_after_exact_rescoring(compressed, data):
    ids, matrix, queries = data
    recalls = [len(_rescored_top10(compressed, ids, matrix, q) & _exact_top10(ids, matrix, q)) / 10 for q in queries]
    assert np.mean(recalls) >= 0.95


def test_search_with_an_id_filter(compressed, data):
    ids, matrix, queries = data
    allowed = ids[::50]  # 2% of passages, like one council among many
    recalls = []
    for query in queries[:20]:
        found, _ = compressed.search(query, 50, allowed)
        assert len(found) == 50 and set(found.tolist()) <= set(allowed.tolist())
        recalls.append(len(_rescored_top10(compressed, ids, matrix, query, allowed)
                           & _exact_top10(ids, matrix, query, allowed)) / 10)
    assert np.mean(recalls) >= 0.95
    assert compressed.search(queries[0], 10, np.zeros(0, dtype=np.int64))[0].size == 0


def test_add_and_remove_by_id_without_a_rebuild(compressed, data, tmp_path):
    ids, matrix, _ = data
    compressed.save(tmp_path / "copy.faiss")
    dense = VectorIndex.load(tmp_path / "copy.faiss", "ivfsq4")  # a private copy, as the indexer updates one
    gone = ids[:100]
    dense.remove(gone)
    assert dense.size == N - 100
    for row in range(5):
        found, _ = dense.search(matrix[row], 50)
        assert not set(found.tolist()) & set(gone.tolist())
    rng = np.random.default_rng(3)
    new_ids = np.array([2**47 + i for i in range(20)], dtype=np.int64)
    new_vectors = _clustered(rng, 20)
    dense.add(new_ids, new_vectors)
    assert dense.size == N - 80
    for new_id, vector in zip(new_ids, new_vectors):
        found, _ = dense.search(vector, 50)
        assert int(new_id) in found.tolist()


def test_indexer_switches_kind_by_size_and_records_it(tmp_path, repo_root, fake_embedder, monkeypatch):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for path in sorted((repo_root / "corpus").glob("*.txt"))[:3]:
        shutil.copy(path, corpus / path.name)
    index_dir = tmp_path / "index"
    monkeypatch.setattr(vectors_module, "IVF_FROM", 20)  # the seed corpus is "large" for this test
    first = Indexer(fake_embedder).run(corpus, index_dir)
    assert first.passages >= 20
    assert _manifest(index_dir)["vector_kind"] == "ivfsq4"
    store = IndexStore.open(index_dir)
    try:
        assert store.vectors.kind == "ivfsq4" and store.vectors.size == store.size == first.passages
    finally:
        store.close()

    monkeypatch.setattr(vectors_module, "IVF_FROM", 10_000)  # now far too small for IVF: back to exact
    (corpus / sorted(p.name for p in corpus.glob("*.txt"))[0]).unlink()
    second = Indexer(fake_embedder).run(corpus, index_dir)
    assert second.embedded == 0  # the rebuild of the FAISS index reuses stored vectors
    assert _manifest(index_dir)["vector_kind"] == "flat"
    store = IndexStore.open(index_dir)
    try:
        assert store.vectors.kind == "flat" and store.vectors.size == store.size == second.passages
    finally:
        store.close()


def _manifest(index_dir: Path) -> dict:
    folder = index_dir / (index_dir / CURRENT).read_text()
    return json.loads((folder / MANIFEST).read_text())
