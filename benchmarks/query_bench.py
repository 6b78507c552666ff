"""One index size, in a fresh process: load as the bot does, answer questions warm, report latency and memory.

    python -m benchmarks.query_bench --corpus DIR --index-dir DIR [--passes 3] [--out FILE]

End to end means `Services.answerer.ask(question)`: embed the question, dense + lexical search, exact
re-scoring, fusion, and composing the quoted answer, exactly as every adapter calls it. The time of
each stage is taken by wrapping the objects' methods in this process only (no code is changed).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from benchmarks.common import QUESTIONS, memory, summary_ms, wrap_timer

STAGES = {
    "embed": ("embedder", "encode"),
    "filter_mask": ("store", "allowed_positions"),
    "dense_faiss": ("vectors", "search"),
    "lexical_bm25": ("lexical", "scores"),
    "exact_vectors_sqlite": ("store", "vectors_by_id"),
    "passages_sqlite": ("store", "chunks_by_id"),
    "search_total": ("searcher", "search"),
}


def main(argv: list[str] | None = None) -> int:
    started = time.perf_counter()
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)

    from bot.services import Services
    from bot.settings import load_settings

    phases: dict[str, float] = {}
    services = Services(load_settings(corpus_dir=args.corpus, index_dir=args.index_dir))
    phases["imports_s"] = time.perf_counter() - started
    t = time.perf_counter()
    store = services.store
    phases["open_index_s"] = time.perf_counter() - t
    t = time.perf_counter()
    embedder = services.embedder
    phases["load_model_s"] = time.perf_counter() - t
    t = time.perf_counter()
    services.answerer.ask(QUESTIONS[0])
    phases["first_answer_s"] = time.perf_counter() - t
    phases["process_to_first_answer_s"] = time.perf_counter() - started
    memory_loaded = memory()

    searcher = services.searcher
    owners = {"embedder": embedder, "store": store, "vectors": store.vectors, "lexical": store.lexical,
              "searcher": searcher}
    totals: dict[str, float] = {}
    for stage, (owner, method) in STAGES.items():
        wrap_timer(owners[owner], method, totals, key=stage)

    for question in QUESTIONS:  # warm-up pass, not measured
        services.answerer.ask(question)
    latencies: list[float] = []
    stages: dict[str, list[float]] = {name: [] for name in STAGES}
    found = 0
    for _ in range(args.passes):
        for question in QUESTIONS:
            totals.clear()
            t = time.perf_counter()
            answer = services.answerer.ask(question)
            latencies.append(time.perf_counter() - t)
            found += answer.found
            for name in STAGES:
                stages[name].append(totals.get(name, 0.0))
    filtered = sum(searcher.understand(q).council is not None for q in QUESTIONS)
    result = {
        "passages": store.size,
        "documents": len(store.documents()),
        "vector_kind": store.manifest.vector_kind,
        "nlist": store.vectors.nlist,
        "nprobe": store.vectors.nprobe,
        "questions": len(QUESTIONS),
        "passes": args.passes,
        "questions_narrowed_to_a_council": filtered,
        "answers_found_share": round(found / len(latencies), 3),
        "end_to_end": summary_ms(latencies),
        "stages_p50_ms": {name: round(statistics.median(v) * 1000, 2) for name, v in stages.items()},
        "stages_p95_ms": {name: round(sorted(v)[int(0.95 * (len(v) - 1))] * 1000, 2) for name, v in stages.items()},
        "cold_in_process": {k: round(v, 3) for k, v in phases.items()},
        "memory_after_load": memory_loaded,
        "memory_after_queries": memory(),
    }
    text = json.dumps(result, indent=1)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
