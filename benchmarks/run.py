"""Run the benchmarks and write benchmarks/results.json and benchmarks/RESULTS.md.

    .venv/bin/python -m benchmarks.run                       # everything: 1k, 10k, real, 100k, 1M
    .venv/bin/python -m benchmarks.run --quick               # 1k and 10k only, fewer repetitions
    .venv/bin/python -m benchmarks.run --sizes 1k,real --only queries

Sections: `vectors` (FAISS kinds, recall and latency by size), `indexing` (throughput against plain
encode, one-document update at 10k), `queries` (end-to-end latency, memory and cold start per size,
each size in a fresh process). A partial run replaces only what it measured in results.json.
The first full run builds and caches the corpora under var/bench/ (the real index embeds ~62,000
passages: about half an hour here; the 1M synthetic index takes about as long again).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import BENCH, QUESTIONS, REAL_CORPUS, REPO, load_results, machine, parse_size, save_results, \
    size_label
from benchmarks.corpora import log, real_index, subset_index, synthetic_index

DEFAULT_SIZES = "1k,10k,real,100k,1M"


def _env() -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}


def corpus_for(size: int | str, embedder) -> tuple[Path, Path, str]:
    """(corpus folder, index folder, how it was made) for a benchmark size."""
    if size == "real":
        return REAL_CORPUS, real_index(embedder), "real: all 493 Ofsted reports, real embeddings"
    if size <= 60_000:
        corpus, index_dir = subset_index(size, embedder)
        return corpus, index_dir, "real: whole Ofsted reports (a fixed pseudo-random subset), real embeddings"
    index_dir = synthetic_index(size, embedder)
    empty = BENCH / "empty-corpus"
    empty.mkdir(parents=True, exist_ok=True)
    return empty, index_dir, ("synthetic: the 493 real reports plus perturbed copies (perturbed real sentences; "
                              "vectors = real passage vector + noise, cosine ~0.9)")


def _wall(command: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, env=_env(), capture_output=True, text=True, check=True)
    return time.perf_counter() - start, done.stdout


def measure_size(size: int | str, embedder, passes: int, cold_repeats: int) -> dict:
    corpus, index_dir, made = corpus_for(size, embedder)
    label = size if size == "real" else size_label(size)
    log(f"queries at {label}: {index_dir}")
    out = BENCH / f"query-{label}.json"
    subprocess.run([sys.executable, "-m", "benchmarks.query_bench", "--corpus", str(corpus), "--index-dir",
                    str(index_dir), "--passes", str(passes), "--out", str(out)],
                   cwd=REPO, env=_env(), check=True, stdout=subprocess.DEVNULL)
    result = json.loads(out.read_text(encoding="utf-8"))
    result["corpus"] = made
    ask, ready, ready_steps = [], [], []
    for _ in range(cold_repeats):
        seconds, _ = _wall([sys.executable, "-m", "bot", "--corpus", str(corpus), "--index-dir", str(index_dir),
                            "ask", QUESTIONS[0], "--json"])
        ask.append(seconds)
        seconds, stdout = _wall([sys.executable, "-m", "benchmarks.discord_ready", "--corpus", str(corpus),
                                 "--index-dir", str(index_dir), "--feedback-db", str(BENCH / "feedback.sqlite")])
        ready.append(seconds)
        ready_steps.append(json.loads(stdout.strip().splitlines()[-1]))
    result["cold_start"] = {
        "repeats": cold_repeats,
        "cli_ask_first_answer_s": {"median": round(statistics.median(ask), 2), "all": [round(s, 2) for s in ask]},
        "discord_ready_s": {"median": round(statistics.median(ready), 2), "all": [round(s, 2) for s in ready]},
        "discord_ready_detail": ready_steps[-1],
        "note": "wall time from starting the Python process; OS file cache warm (caches are never dropped on a "
                "shared machine)",
    }
    log(f"  {label}: p50 {result['end_to_end']['p50_ms']} ms, p95 {result['end_to_end']['p95_ms']} ms, "
        f"RSS {result['memory_after_queries'].get('rss_mb')} MB, first answer {statistics.median(ask):.2f} s")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default=None, help=f"comma-separated (default {DEFAULT_SIZES}; 'real' = all 493 reports)")
    parser.add_argument("--quick", action="store_true", help="1k and 10k only, fewer repetitions (a few minutes once cached)")
    parser.add_argument("--only", default="vectors,indexing,queries",
                        help="sections to run: vectors, indexing, queries, and the opt-in candidates")
    parser.add_argument("--passes", type=int, default=None, help="measured passes over the questions per size")
    args = parser.parse_args(argv)
    sizes = [parse_size(s) for s in (args.sizes or ("1k,10k" if args.quick else DEFAULT_SIZES)).split(",")]
    sections = set(args.only.split(","))
    passes = args.passes or (1 if args.quick else 3)
    cold_repeats = 2 if args.quick else 3

    from index.embedding import Embedder

    embedder = Embedder()
    results = load_results()
    results["machine"] = machine()
    results["run_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    results["questions"] = list(QUESTIONS)
    real_index(embedder)

    if "vectors" in sections:
        from benchmarks import vectors_bench

        real_n = _real_passages()
        numeric = sorted({s for s in sizes if isinstance(s, int)} | ({real_n} if "real" in sizes else set()))
        vector_sizes = sorted(n for n in numeric if n >= 10_000)
        biggest = max(vector_sizes)
        results["vectors"] = vectors_bench.run(vector_sizes, embedder,
                                               random_size=None if args.quick else biggest)
        results["vectors"]["flat_latency_curve"] = vectors_bench.flat_latency_curve(
            sorted({10_000, 30_000, 50_000, real_n} | set(vector_sizes)) if not args.quick
            else vector_sizes, embedder)
        save_results(results)

    if "candidates" in sections:  # opt-in (about 15 minutes): the compressed layouts the kind was chosen from
        from benchmarks import vectors_bench

        real_n = _real_passages()
        results["vector_candidates"] = vectors_bench.candidate_kinds(
            sorted({real_n} | {s for s in sizes if isinstance(s, int) and s > real_n}), embedder)
        save_results(results)

    if "indexing" in sections:
        from benchmarks import indexing_bench

        results["indexing_throughput"] = indexing_bench.throughput(embedder, repeats=1 if args.quick else 3,
                                                                   target_passages=800 if args.quick else 2000)
        save_results(results)
        results["update_one_document"] = {"10k": indexing_bench.update(embedder, repeats=2 if args.quick else 5)}
        save_results(results)

    if "queries" in sections:
        results.setdefault("queries", {})
        for size in sizes:
            label = size if size == "real" else size_label(size)
            results["queries"][label] = measure_size(size, embedder, passes, cold_repeats)
            save_results(results)

    from benchmarks.report import write_markdown

    write_markdown(results)
    log("wrote benchmarks/results.json and benchmarks/RESULTS.md")
    return 0


def _real_passages() -> int:
    from index.store import IndexStore

    store = IndexStore.open(real_index(), verify=False)
    try:
        return store.size
    finally:
        store.close()


if __name__ == "__main__":
    sys.exit(main())
