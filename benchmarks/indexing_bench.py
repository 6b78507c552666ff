"""Indexing: the pipeline's throughput against plain SentenceTransformer.encode, and one-document updates.

Throughput: a fixed set of real reports is indexed from scratch by the Indexer (parse, chunk, embed,
write SQLite + FAISS + BM25, calibrate, checksum, fsync) and, in the same process, the very texts it
embedded are encoded by a plain `SentenceTransformer.encode` (defaults, same model files). Runs
alternate so that load from other users of the machine hits both alike; medians are reported.

Update: a corpus of real reports adding up to 10,000 passages is indexed; then one report is changed
(one word in one paragraph) and the index updated, alternating between the changed and the original
text, several times. Each update re-embeds only the changed passages; the stage times are taken by
wrapping the Indexer's steps in this process.
"""

from __future__ import annotations

import shutil
import statistics
import time

from benchmarks.common import BENCH, wrap_timer
from benchmarks.corpora import log, seed_from_real, subset_corpus, subset_index
from index.chunking import embed_prefix
from index.store import IndexStore


def throughput(embedder, target_passages: int = 2500, repeats: int = 3) -> dict:
    from sentence_transformers import SentenceTransformer

    from index.embedding import resolve_model_path
    from index.indexer import Indexer

    base = BENCH / f"throughput-{target_passages}"
    corpus = base / "corpus"
    if not corpus.is_dir():
        subset_corpus(target_passages, corpus)
    plain = SentenceTransformer(str(resolve_model_path(embedder.name)), device="cpu", local_files_only=True)
    pipeline_s, plain_s, passages = [], [], 0
    texts: list[str] = []
    for round_ in range(repeats):
        index_dir = base / "index"
        shutil.rmtree(index_dir, ignore_errors=True)
        start = time.perf_counter()
        report = Indexer(embedder).run(corpus, index_dir, rebuild=True)
        pipeline_s.append(time.perf_counter() - start)
        passages = report.passages
        if not texts:
            store = IndexStore.open(index_dir)
            try:
                for meta in store.documents():
                    texts += [embed_prefix(meta.title, c.heading) + c.text for c in store.document_chunks(meta.doc_id)]
            finally:
                store.close()
        start = time.perf_counter()
        plain.encode(texts)
        plain_s.append(time.perf_counter() - start)
        log(f"  throughput round {round_ + 1}: pipeline {passages / pipeline_s[-1]:.1f} passages/s, "
            f"plain encode {len(texts) / plain_s[-1]:.1f} passages/s")
    pipeline_rate = passages / statistics.median(pipeline_s)
    plain_rate = len(texts) / statistics.median(plain_s)
    return {
        "reports": len(list(corpus.glob("*.txt"))), "passages": passages, "repeats": repeats,
        "pipeline_seconds": [round(s, 1) for s in pipeline_s], "plain_encode_seconds": [round(s, 1) for s in plain_s],
        "pipeline_passages_per_s": round(pipeline_rate, 1), "plain_encode_passages_per_s": round(plain_rate, 1),
        "ratio": round(pipeline_rate / plain_rate, 3),
        "ratio_per_round": [round((passages / p) / (len(texts) / q), 3) for p, q in zip(pipeline_s, plain_s)],
        "note": "pipeline = parse + chunk + embed (batch 64, normalised) + SQLite + FAISS + BM25 + calibration + "
                "checksums + fsync; plain = SentenceTransformer.encode(texts) with its defaults (batch 32)",
    }


def update(embedder, target_passages: int = 10_000, repeats: int = 5, label: str = "10k") -> dict:
    from index import generations
    from index import indexer as indexer_module
    from index.indexer import Indexer
    from index.lexical import LexicalIndex

    source_corpus, source_index = subset_index(target_passages, embedder) if label != "real" else (None, None)
    base = BENCH / f"update-{label}"
    shutil.rmtree(base, ignore_errors=True)
    corpus, index_dir = base / "corpus", base / "index"
    if source_corpus is not None:
        shutil.copytree(source_corpus, corpus)
        shutil.copytree(source_index, index_dir)
    else:
        from benchmarks.common import REAL_CORPUS

        shutil.copytree(REAL_CORPUS, corpus)
        seed_from_real(index_dir)
        Indexer(embedder).run(corpus, index_dir)  # brings the copied generation to this code's format
    target = sorted(corpus.glob("*.txt"))[len(list(corpus.glob("*.txt"))) // 2]
    original = target.read_text(encoding="utf-8")
    marker = next(w for w in (" children ", " social ", " the ") if w in original)
    changed = original.replace(marker, marker.upper(), 1)
    stages: dict[str, float] = {}
    runs = []
    indexer = Indexer(embedder)
    for name in ("_vectors", "_dense"):
        wrap_timer(indexer, name, stages)
    originals = {}
    for module, name in ((indexer_module, "write_generation"), (LexicalIndex, "build"),
                         (indexer_module, "calibrate"), (generations, "_write_passages"),
                         (generations, "sha256_file"), (generations, "_fsync_tree")):
        originals[(module, name)] = vars(module)[name]  # the raw attribute (a classmethod stays one)
        _wrap_global(module, name, stages)
    try:
        for attempt in range(repeats):
            target.write_text(changed if attempt % 2 == 0 else original, encoding="utf-8")
            stages.clear()
            start = time.perf_counter()
            report = indexer.run(corpus, index_dir)
            seconds = time.perf_counter() - start
            runs.append({"seconds": round(seconds, 2), "embedded": report.embedded, "changed": len(report.changed),
                         "stages_s": {k: round(v, 2) for k, v in stages.items()}})
            log(f"  update {label} #{attempt + 1}: {seconds:.2f} s, {report.embedded} embedded, {runs[-1]['stages_s']}")
    finally:
        for (module, name), function in originals.items():
            setattr(module, name, function)
        target.write_text(original, encoding="utf-8")
    store = IndexStore.open(index_dir)
    passages = store.size
    store.close()
    return {"passages": passages, "repeats": repeats, "changed_file": target.name,
            "median_s": round(statistics.median(r["seconds"] for r in runs), 2), "runs": runs}


def _wrap_global(module: object, name: str, totals: dict[str, float]) -> None:
    original = getattr(module, name)

    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            totals[name] = totals.get(name, 0.0) + time.perf_counter() - start

    setattr(module, name, wrapper)
