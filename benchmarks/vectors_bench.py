"""The dense index alone: exact (flat) against IVF-SQ4 at growing sizes, to choose the kind by measurement.

For each size: single-query latency (k = 50, the searcher's candidate depth), recall@10 after exact
re-scoring of those 50 candidates (what users get: the searcher re-scores every candidate from the stored
float32 vectors), the same with a council-sized filter (0.65% of passages, whole documents), memory of
the index, and build (training + adding) time.

Vectors: the real embeddings of the real corpus up to its size; beyond it, real embeddings plus perturbed
copies (each a real passage vector plus isotropic noise, cosine about 0.9 to it). Queries: the embedded
benchmark questions and, as passage-like queries, perturbed real passage vectors (cosine 0.8, not in the index).
A last row uses uniformly random unit vectors (FAISS only, the worst case for any approximate index).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

from benchmarks.common import QUESTIONS, summary_ms
from benchmarks.corpora import load_real_documents, log
from index.vectors import VectorIndex, nlist_for

DEPTH = 50
DOC_SIZE = 126  # mean passages per real report, for filters that keep whole documents
COUNCIL_SHARE = 0.0065  # one council's reports among 153 councils


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def _perturbed(base: np.ndarray, n: int, cosine: float, rng: np.random.Generator) -> np.ndarray:
    rows = base[rng.integers(0, len(base), n)]
    noise = _unit(rng.standard_normal(rows.shape).astype(np.float32))
    return _unit(rows + np.sqrt(1 / cosine**2 - 1) * noise)


def _exact_top(matrix: np.ndarray, queries: np.ndarray, k: int, allowed: np.ndarray | None = None) -> np.ndarray:
    """Row numbers of the exact top k per query (optionally among allowed rows), computed in blocks."""
    best_scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
    best_rows = np.zeros((len(queries), k), dtype=np.int64)
    rows = np.arange(len(matrix)) if allowed is None else allowed
    for start in range(0, len(rows), 200_000):
        block = rows[start : start + 200_000]
        scores = queries @ matrix[block].T
        merged_scores = np.concatenate([best_scores, scores], axis=1)
        merged_rows = np.concatenate([best_rows, np.broadcast_to(block, scores.shape)], axis=1)
        top = np.argpartition(-merged_scores, k - 1, axis=1)[:, :k]
        best_scores = np.take_along_axis(merged_scores, top, axis=1)
        best_rows = np.take_along_axis(merged_rows, top, axis=1)
    return best_rows


def _recall(dense: VectorIndex, matrix: np.ndarray, queries: np.ndarray, truth: np.ndarray,
            allowed_ids: np.ndarray | None = None) -> tuple[float, list[float]]:
    """Mean recall@10 of exact re-scoring of the index's top 50 candidates, and each search's time."""
    recalls, times = [], []
    for query, exact in zip(queries, truth):
        start = time.perf_counter()
        ids, _ = dense.search(query, DEPTH, allowed_ids)
        times.append(time.perf_counter() - start)
        rows = ids  # ids are row numbers here
        rescored = rows[np.argsort(-(matrix[rows] @ query))[:10]]
        recalls.append(len(set(rescored.tolist()) & set(exact.tolist())) / 10)
    return float(np.mean(recalls)), times


def _index_bytes(dense: VectorIndex) -> int:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "v.faiss"
        dense.save(path)
        return path.stat().st_size


def _council_rows(n: int, rng: np.random.Generator) -> np.ndarray:
    """Whole 'documents' (runs of DOC_SIZE rows) adding up to about COUNCIL_SHARE of the rows."""
    docs = max(1, round(n * COUNCIL_SHARE / DOC_SIZE))
    starts = rng.choice(max(1, n // DOC_SIZE), docs, replace=False) * DOC_SIZE
    return np.unique(np.concatenate([np.arange(s, min(n, s + DOC_SIZE)) for s in starts]))


def bench_size(matrix: np.ndarray, query_sets: dict[str, np.ndarray], kinds: list[str], nprobes: list[int],
               rng: np.random.Generator, label: str) -> dict:
    n = len(matrix)
    ids = np.arange(n, dtype=np.int64)
    council = _council_rows(n, rng)
    truth = {name: _exact_top(matrix, q, 10) for name, q in query_sets.items()}
    all_queries = np.concatenate(list(query_sets.values()))
    filtered_truth = _exact_top(matrix, all_queries, 10, council)
    out: dict = {"passages": n, "vectors": label, "filter_rows": int(len(council)), "kinds": {}}
    for kind in kinds:
        start = time.perf_counter()
        dense = VectorIndex.build(ids, matrix, kind=kind)
        build_s = time.perf_counter() - start
        row: dict = {"build_s": round(build_s, 1), "index_mb": round(_index_bytes(dense) / 2**20, 1)}
        default = dense.nprobe
        settings = sorted(set(nprobes) | {default}) if kind == "ivfsq4" else [None]
        for nprobe in settings:
            if nprobe is not None:
                dense.nprobe = nprobe
            key = "exact" if nprobe is None else f"nprobe={dense.nprobe}"
            entry: dict = {}
            times: list[float] = []
            for name, queries in query_sets.items():
                recall, t = _recall(dense, matrix, queries, truth[name])
                entry[f"recall@10_{name}"] = round(recall, 4)
                times += t
            entry["latency"] = summary_ms(times)
            recall, t = _recall(dense, matrix, all_queries, filtered_truth, council)
            entry["recall@10_council_filter"] = round(recall, 4)
            entry["latency_council_filter"] = summary_ms(t)
            row[key] = entry
            log(f"  {label} n={n} {kind} {key}: {entry}")
        if kind == "ivfsq4":
            dense.nprobe = default
            row["nlist"] = dense.nlist
            row["default_nprobe"] = default
        out["kinds"][kind] = row
        del dense
    return out


def run(sizes: list[int], embedder, nprobes: list[int] = (16, 32, 64, 128), random_size: int | None = None,
        seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    documents, vectors = load_real_documents()
    real = np.stack([vectors[c.chunk_id] for doc in documents for c in doc.chunks])
    questions = embedder.encode(list(QUESTIONS))
    passage_like = _perturbed(real, 160, 0.8, rng)
    query_sets = {"questions": questions, "passage_like": passage_like}
    results: dict = {"depth": DEPTH, "nlist_rule": "power of two nearest 2*sqrt(n)", "sizes": {}}
    faiss.omp_set_num_threads(faiss.omp_get_max_threads())
    for n in sizes:
        if n <= len(real):
            matrix, label = real[:n], "real embeddings"
        else:
            matrix = np.concatenate([real, _perturbed(real, n - len(real), 0.9, rng)])
            label = f"real embeddings + {n - len(real)} perturbed copies"
        kinds = ["flat", "ivfsq4"]
        log(f"vectors: n={n} ({label}), nlist would be {nlist_for(n)}")
        results["sizes"][str(n)] = bench_size(matrix, query_sets, kinds, list(nprobes), rng, label)
    if random_size:
        matrix = _unit(rng.standard_normal((random_size, real.shape[1])).astype(np.float32))
        random_queries = {"random": _unit(rng.standard_normal((200, real.shape[1])).astype(np.float32))}
        log(f"vectors: n={random_size} uniformly random unit vectors")
        results["random_unit_vectors"] = bench_size(matrix, random_queries, ["ivfsq4"], list(nprobes), rng,
                                                    "uniformly random unit vectors")
    return results


def flat_latency_curve(sizes: list[int], embedder, seed: int = 0) -> dict:
    """Exact search time alone at more sizes, to place the switch to IVF-SQ4."""
    rng = np.random.default_rng(seed)
    documents, vectors = load_real_documents()
    real = np.stack([vectors[c.chunk_id] for doc in documents for c in doc.chunks])
    queries = embedder.encode(list(QUESTIONS))
    curve = {}
    for n in sizes:
        matrix = real[:n] if n <= len(real) else np.concatenate([real, _perturbed(real, n - len(real), 0.9, rng)])
        dense = VectorIndex.build(np.arange(n, dtype=np.int64), matrix, kind="flat")
        times = []
        for _ in range(3):
            for q in queries:
                start = time.perf_counter()
                dense.search(q, DEPTH)
                times.append(time.perf_counter() - start)
        curve[str(n)] = {"p50_ms": round(statistics.median(times) * 1000, 2), "searches": len(times)}
        log(f"  flat n={n}: {curve[str(n)]}")
    return curve


CANDIDATES = ("IVF{nlist},PQ48", "IVF{nlist},PQ96", "IVF{nlist},SQ4", "IVF{nlist},SQ8")


def candidate_kinds(sizes: list[int], embedder, nprobes: tuple[int, ...] = (16, 32, 64), seed: int = 0,
                    factories: tuple[str, ...] = CANDIDATES) -> dict:
    """Compressed FAISS layouts considered for the large kind, on the same vectors and queries.

    HNSW is not among them: FAISS's HNSW cannot remove ids, which incremental updates need, and keeps
    full vectors (1.5 GB at a million passages). IVF-Flat keeps full vectors too.
    """
    rng = np.random.default_rng(seed)
    documents, vectors = load_real_documents()
    real = np.stack([vectors[c.chunk_id] for doc in documents for c in doc.chunks])
    query_sets = {"questions": embedder.encode(list(QUESTIONS)), "passage_like": _perturbed(real, 160, 0.8, rng)}
    out: dict = {}
    threads = faiss.omp_get_max_threads()
    for n in sizes:
        matrix = real[:n] if n <= len(real) else np.concatenate([real, _perturbed(real, n - len(real), 0.9, rng)])
        truth = {name: _exact_top(matrix, q, 10) for name, q in query_sets.items()}
        nlist = nlist_for(n)
        sample = matrix[np.sort(rng.choice(n, min(n, 64 * nlist), replace=False))]
        out[str(n)] = {}
        for factory in factories:
            spec = factory.format(nlist=nlist)
            index = faiss.index_factory(matrix.shape[1], spec, faiss.METRIC_INNER_PRODUCT)
            ivf = faiss.extract_index_ivf(index)
            ivf.cp.niter = 10
            ivf.cp.min_points_per_centroid = 1
            faiss.omp_set_num_threads(1)
            start = time.perf_counter()
            index.train(sample)
            train_s = time.perf_counter() - start
            faiss.omp_set_num_threads(threads)
            start = time.perf_counter()
            index.add_with_ids(matrix, np.arange(n, dtype=np.int64))
            add_s = time.perf_counter() - start
            dense = VectorIndex(index, "ivfsq4")
            row: dict = {"train_s": round(train_s, 1), "add_s": round(add_s, 1),
                         "index_mb": round(_index_bytes(dense) / 2**20, 1)}
            for nprobe in nprobes:
                dense.nprobe = nprobe
                times: list[float] = []
                entry: dict = {}
                for name, queries in query_sets.items():
                    recall, t = _recall(dense, matrix, queries, truth[name])
                    entry[f"recall@10_{name}"] = round(recall, 4)
                    times += t
                entry["p50_ms"] = round(statistics.median(times) * 1000, 3)
                row[f"nprobe={nprobe}"] = entry
            log(f"  candidates n={n} {spec}: {row}")
            out[str(n)][spec] = row
            del dense, index
    return out
