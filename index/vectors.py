"""The dense side: FAISS over unit vectors with inner product, keyed by stable 64-bit passage ids.

Ids are kept by the index itself (IndexIDMap2 or IVF lists), so one document's passages can be removed
and re-added without rebuilding the rest.

Two kinds, chosen by corpus size (`choose_kind`) and recorded in the index manifest (`vector_kind`):

- "flat": exact search over every float32 vector (IndexFlatIP in an IndexIDMap2).
- "ivfsq4": an inverted file (k-means cells) holding 4-bit scalar-quantised vectors (IndexIVFScalarQuantizer,
  192 bytes a vector instead of 1,536). A search scans the `nprobe` cells nearest the query and ranks
  by approximate scores; the searcher then re-scores every candidate exactly from the float32 vectors
  kept in SQLite, so users see exact cosines and only the candidate list is approximate. It is trained
  on a sample (seconds), keeps add and remove by id, and is rebuilt from stored vectors (never by
  re-embedding) when the corpus moves far from the size it was trained for (`suits`).

Chosen by measurement (benchmarks/RESULTS.md, real Ofsted embeddings and a 1M synthetic set):
- Exact search costs about 0.06 ms per 1,000 passages on one core (3.8 ms at the 62,075 real passages,
  6 ms at 100,000, about 60 ms and 1.5 GB at a million), so it is kept below IVF_FROM = 100,000.
- Above, what limits recall@10 (after exact re-scoring of the 50 candidates) for questions is how many
  cells are scanned, not the code size: at equal nprobe, SQ8, SQ4 and PQ96 codes gave the same recall,
  PQ48 lost 0.04-0.09. SQ4 is half SQ8's memory, trains in seconds where PQ96 took 3 minutes, and
  scanning 1/8 of 2,048 cells at a million passages takes about 8 ms for recall 0.99.
- HNSW was not taken: FAISS's HNSW cannot remove ids (incremental updates need it) and keeps full vectors.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Literal

import faiss
import numpy as np

VectorKind = Literal["flat", "ivfsq4"]

IVF_FROM = 100_000
"""Corpus size (passages) from which a fresh build uses IVF-SQ4 instead of exact search."""
MIN_NPROBE = 128
"""Cells scanned per query at least (a quarter of them at 100,000 passages); see `default_nprobe`."""
TRAIN_POINTS_PER_CELL = 64
"""Training sample: this many vectors per IVF cell (FAISS asks for 39 at least), capped by the corpus."""
TRAIN_ITERATIONS = 10
"""k-means iterations for the cells (FAISS's default is 25; 10 gave the recall measured in RESULTS.md)."""


@contextmanager
def _one_thread() -> Iterator[None]:
    """FAISS with one OpenMP thread in this thread. On 2 shared cores its threads wait on each other:
    measured, exact search at 62,075 passages took 24 ms with 2 threads and 3.8 ms with 1, and
    training slowed several-fold. Thread counts are per calling thread in OpenMP, so concurrent
    searches from other threads are unaffected."""
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(threads)


def choose_kind(n_passages: int) -> VectorKind:
    """The kind a fresh build uses for a corpus of this many passages."""
    return "flat" if n_passages < IVF_FROM else "ivfsq4"


def nlist_for(n_passages: int) -> int:
    """IVF cells for a corpus: the power of two nearest 2·√n (cells of about √n/2 vectors), with at
    least 39 vectors a cell to train on. Training time grows with the square of the cell count, so
    this is at the low end of FAISS's advice (4·√n to 16·√n): 2,048 cells at a million passages train
    in about 20 s on one core."""
    target = 2 ** round(math.log2(2 * math.sqrt(max(n_passages, 1))))
    return int(max(1, min(65_536, target, n_passages // 39)))


def default_nprobe(nlist: int) -> int:
    """Cells scanned per query: an eighth of them, and at least MIN_NPROBE (measured: recall@10 after
    exact re-scoring 0.975 at 62,075 real passages with 128 of 512 cells, 0.99 at 1M with 256 of 2,048)."""
    return int(min(nlist, max(MIN_NPROBE, nlist // 8)))


def _quiet(clustering: faiss.ClusteringParameters) -> None:
    """Small training sets are fine here (tests, corpora just over the threshold): no warnings on stderr."""
    clustering.min_points_per_centroid = 1


class VectorIndex:
    """A FAISS index plus the one fact needed to use it again: its kind."""

    def __init__(self, index: faiss.Index, kind: VectorKind):
        self._index = index
        self.kind = kind
        self._ivf = faiss.extract_index_ivf(index) if kind != "flat" else None

    @classmethod
    def empty(cls, dim: int, kind: VectorKind = "flat") -> "VectorIndex":
        """An empty exact index; an IVF one needs vectors to train on, so it comes from `build`."""
        if kind != "flat":
            raise ValueError(f"a '{kind}' index is trained on vectors: use VectorIndex.build")
        return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dim)), kind)

    @classmethod
    def build(cls, ids: np.ndarray, vectors: np.ndarray, kind: VectorKind | None = None,
              dim: int | None = None, seed: int = 0) -> "VectorIndex":
        """An index over these vectors, of the kind `choose_kind` picks for their number unless told."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        dim = dim if dim is not None else vectors.shape[1]
        kind = kind or choose_kind(len(ids))
        if kind == "flat":
            dense = cls.empty(dim)
        elif kind == "ivfsq4":
            if len(ids) == 0:
                raise ValueError("an IVF index needs at least one vector to train on")
            dense = cls(_trained_ivf(vectors, len(ids), seed), kind)
        else:
            raise ValueError(f"unknown vector kind '{kind}'")
        dense.add(np.asarray(ids, dtype=np.int64), vectors)
        return dense

    @property
    def size(self) -> int:
        return int(self._index.ntotal)

    @property
    def dim(self) -> int:
        return int(self._index.d)

    @property
    def nlist(self) -> int | None:
        return int(self._ivf.nlist) if self._ivf is not None else None

    @property
    def nprobe(self) -> int | None:
        return int(self._ivf.nprobe) if self._ivf is not None else None

    @nprobe.setter
    def nprobe(self, value: int) -> None:
        if self._ivf is None:
            raise ValueError("only an IVF index has nprobe")
        self._ivf.nprobe = int(min(max(1, value), self._ivf.nlist))

    def suits(self, n_passages: int) -> bool:
        """Whether this index still fits a corpus of n passages; if not, rebuild it from stored vectors.

        With hysteresis, so a corpus hovering around the threshold is not rebuilt on every update: an IVF
        index stays down to half the switch size, and its cell count may drift 4x from the ideal first.
        """
        if self.kind == "flat":
            return n_passages < IVF_FROM
        ideal = nlist_for(n_passages)
        return n_passages >= IVF_FROM // 2 and ideal / 4 <= self.nlist <= ideal * 4

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids):
            self._index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids.astype(np.int64))

    def remove(self, ids: np.ndarray) -> None:
        if len(ids):
            self._index.remove_ids(faiss.IDSelectorBatch(ids.astype(np.int64)))

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Ids and scores of the k nearest passages, optionally among `allowed` ids only.

        Scores are exact cosines for "flat", approximate for IVF kinds (the searcher re-scores exactly).
        """
        k = min(k, self.size)
        if k == 0 or (allowed is not None and len(allowed) == 0):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        selector = faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64)) if allowed is not None else None
        if self._ivf is not None:
            params = faiss.SearchParametersIVF(sel=selector, nprobe=self._probes(allowed))
        else:
            params = faiss.SearchParameters(sel=selector) if selector is not None else None
        with _one_thread():
            scores, ids = self._index.search(query.reshape(1, -1).astype(np.float32), k, params=params)
        keep = ids[0] >= 0
        return ids[0][keep], scores[0][keep]

    def _probes(self, allowed: np.ndarray | None) -> int:
        """Cells to scan: more when a filter lets few passages through, so the cells scanned still hold
        as many allowed passages as an unfiltered search sees (all cells for a council-sized filter)."""
        nprobe = int(self._ivf.nprobe)
        if allowed is None:
            return nprobe
        share = max(len(allowed) / max(self.size, 1), 1e-9)
        return int(min(self._ivf.nlist, math.ceil(nprobe / share)))

    def save(self, path: Path) -> None:
        faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path, kind: VectorKind) -> "VectorIndex":
        return cls(faiss.read_index(str(path)), kind)


def _trained_ivf(vectors: np.ndarray, n_passages: int, seed: int) -> faiss.Index:
    """An empty IVF-SQ4 index trained on a random sample of the vectors (never all of a large corpus)."""
    dim = vectors.shape[1]
    nlist = nlist_for(n_passages)
    index = faiss.index_factory(dim, f"IVF{nlist},SQ4", faiss.METRIC_INNER_PRODUCT)
    ivf = faiss.extract_index_ivf(index)
    _quiet(ivf.cp)
    ivf.cp.seed = seed
    ivf.cp.niter = TRAIN_ITERATIONS
    sample_size = min(len(vectors), TRAIN_POINTS_PER_CELL * nlist)
    rng = np.random.default_rng(seed)
    sample = vectors if sample_size >= len(vectors) else vectors[np.sort(rng.choice(len(vectors), sample_size, replace=False))]
    with _one_thread():
        index.train(np.ascontiguousarray(sample))
    ivf.nprobe = default_nprobe(nlist)
    return index
