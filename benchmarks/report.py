"""benchmarks/RESULTS.md from benchmarks/results.json: tables, how each corpus was made, targets met or not."""

from __future__ import annotations

from benchmarks.common import RESULTS_MD

GB = 1.5e9 / 2**20  # the 1.5 GB RSS target in MiB (the unit /proc reports): 1430.5


def _fmt(value, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _verdict(ok: bool | None) -> str:
    return "–" if ok is None else ("**met**" if ok else "**not met**")


def targets(results: dict) -> list[tuple[str, str, bool | None]]:
    rows: list[tuple[str, str, bool | None]] = []
    throughput = results.get("indexing_throughput")
    if throughput:
        rows.append(("indexing throughput ≥ 0.8 × plain encode",
                     f"{throughput['ratio']:.3f} (median of {throughput['repeats']})", throughput["ratio"] >= 0.8))
    update = (results.get("update_one_document") or {}).get("10k")
    if update:
        rows.append(("one-document update at 10k passages: seconds, not a rebuild",
                     f"{update['median_s']:.2f} s median of {update['repeats']}, "
                     f"{max(r['embedded'] for r in update['runs'])} passage(s) re-embedded at most",
                     update["median_s"] < 60 and max(r["embedded"] for r in update["runs"]) < 10))
    queries = results.get("queries", {})
    for label, limit in (("100k", 30), ("1M", 80)):
        if label in queries:
            p50 = queries[label]["end_to_end"]["p50_ms"]
            rows.append((f"p50 end-to-end ≤ {limit} ms at {label}", f"{p50:.1f} ms", p50 <= limit))
    vectors = results.get("vectors", {}).get("sizes", {})
    for n, entry in sorted(vectors.items(), key=lambda kv: int(kv[0])):
        if int(n) < 100_000:
            continue
        ivf = entry["kinds"].get("ivfsq4")
        if not ivf:
            continue
        default = ivf.get(f"nprobe={ivf['default_nprobe']}", {})
        recall = min(default.get("recall@10_questions", 0), default.get("recall@10_passage_like", 0))
        rows.append((f"recall@10 of IVF-SQ4 (after exact re-scoring) ≥ 0.95 at {int(n):,}",
                     f"{recall:.3f} (worse of question / passage-like queries; council filter "
                     f"{default.get('recall@10_council_filter', 0):.3f})", recall >= 0.95))
    if "1M" in queries:
        rss = queries["1M"]["memory_after_queries"]["rss_mb"]
        rows.append(("RSS ≤ 1.5 GB (1,430 MiB) at 1M", f"{rss:,.0f} MiB", rss <= GB))
    for label, entry in queries.items():
        cold = entry.get("cold_start", {}).get("cli_ask_first_answer_s", {}).get("median")
        if cold is not None:
            rows.append((f"cold start to first answer ≤ 5 s at {label}", f"{cold:.2f} s", cold <= 5))
    cold = results.get("cold_start_backends", {}).get("onnx")
    if cold:
        seconds = cold["first_answer_s"]["median"]
        rows.append(("cold start to first answer ≤ 2 s on the seeds (ONNX backend)", f"{seconds:.2f} s", seconds <= 2))
    return rows


def backends_section(results: dict) -> list[str]:
    """Cold start and throughput of the two embedding backends (benchmarks/coldstart.py)."""
    lines: list[str] = []
    cold = results.get("cold_start_backends")
    if cold:
        lines += ["## Embedding backends: cold start on the seeds", "",
                  f"`python -m bot ask \"{cold['question']}\" --json` on the seed corpus, BOT_EMBEDDER=onnx and torch "
                  f"alternately, {cold['repeats']} runs each; wall time from process start to the first byte of the "
                  f"answer, and to exit (load average {cold['load_average']}); CPU s is the process's user + system "
                  "time to exit, about what it would take on an idle core. In-process steps are one more run of each.", "",
                  "| backend | first answer s (median) | runs | exit s | CPU s | imports s | load model s | "
                  "open index s | answer s | heavy packages loaded |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        for backend in ("onnx", "torch"):
            c, s = cold[backend], cold[backend]["steps_in_process"]
            lines.append(f"| {backend} | {c['first_answer_s']['median']:.2f} | {c['first_answer_s']['all']} | "
                         f"{c['exit_s']['median']:.2f} | {_fmt(c.get('cpu_s', {}).get('median'), 2)} | "
                         f"{s['imports_s']:.2f} | {s['load_model_s']:.2f} | "
                         f"{s['open_index_s']:.2f} | {s['first_answer_s']:.2f} | "
                         f"{', '.join(s['heavy_modules_loaded']) or 'none'} |")
        names = list(dict.fromkeys(list(cold["onnx"]["import_seconds"]) + list(cold["torch"]["import_seconds"])))
        lines += ["", "Import time by package (`python -X importtime -m bot ask`, cumulative seconds; a package "
                  "imported by another counts inside it too):", "", "| package | onnx | torch |", "| --- | --- | --- |"]
        lines += [f"| {name} | {_fmt(cold['onnx']['import_seconds'].get(name), 3)} | "
                  f"{_fmt(cold['torch']['import_seconds'].get(name), 3)} |" for name in names]
        lines.append("")
    latency = results.get("question_encode_latency")
    if latency:
        lines += [f"Embedding one question (warm, {latency['questions']} questions × {latency['repeats']} rounds, "
                  f"backends alternating; load average {latency['load_average']}): ONNX p50 "
                  f"{latency['onnx']['p50_ms']:.1f} ms, p95 {latency['onnx']['p95_ms']:.1f} ms; torch p50 "
                  f"{latency['torch']['p50_ms']:.1f} ms, p95 {latency['torch']['p95_ms']:.1f} ms.", ""]
    speed = results.get("embedder_throughput")
    if speed:
        lines += ["## Embedding backends: throughput", "",
                  f"The same {speed['passages']} passages of real reports (cut and prefixed as the indexer embeds them), "
                  f"{speed['repeats']} alternating rounds in one process; medians. Fastest: {speed['fastest']}.", "",
                  "| path | passages/s | × plain encode | runs s |", "| --- | --- | --- | --- |"]
        lines += [f"| {name} | {p['passages_per_s']:.1f} | {p['ratio_to_plain']:.3f} | {p['seconds']} |"
                  for name, p in speed["paths"].items()]
        lines.append("")
    return lines


def write_markdown(results: dict) -> None:
    lines: list[str] = ["# Benchmark results", ""]
    lines += [
        "Generated by `.venv/bin/python -m benchmarks.run` from `benchmarks/results.json` "
        f"(run at {results.get('run_at', '?')}). Machine: {results.get('machine', {}).get('cpus')} cores, "
        f"{results.get('machine', {}).get('memory_gib')} GiB, shared with other engineers running tests at the "
        f"same time (load average at start: {results.get('machine', {}).get('load_average_at_start')}), "
        "so every timing is noisy: latencies are medians (p50) and p95 over repeated passes, throughput and "
        "update times are medians of repeated runs, and the repetition counts are given with each figure.",
        "",
    ]
    lines += ["## Targets", "", "| target | measured | verdict |", "| --- | --- | --- |"]
    lines += [f"| {name} | {value} | {_verdict(ok)} |" for name, value, ok in targets(results)]
    lines.append("")

    queries = results.get("queries", {})
    if queries:
        lines += ["## Corpora", "", "| size | passages | documents | how it was made | FAISS kind |",
                  "| --- | --- | --- | --- | --- |"]
        for label, q in queries.items():
            kind = q["vector_kind"] + (f" (nlist {q['nlist']}, nprobe {q['nprobe']})" if q.get("nlist") else "")
            lines.append(f"| {label} | {q['passages']:,} | {q['documents']:,} | {q['corpus']} | {kind} |")
        lines += ["", "## End-to-end query latency (model warm)", "",
                  f"`Services.answerer.ask(question)`: embed the question, dense + lexical search, exact re-scoring, "
                  f"fusion, composing the quoted answer. {len(results.get('questions', []))} questions (about half "
                  "name a council, which narrows the search to it; two are off-topic), one warm-up pass, then the "
                  "measured passes.", "",
                  "| size | passages | samples | p50 ms | p95 ms | mean ms | narrowed to a council | answered |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- |"]
        for label, q in queries.items():
            e = q["end_to_end"]
            lines.append(f"| {label} | {q['passages']:,} | {e['n']} ({q['passes']} passes) | {e['p50_ms']:.1f} | "
                         f"{e['p95_ms']:.1f} | {e['mean_ms']:.1f} | {q['questions_narrowed_to_a_council']}/"
                         f"{q['questions']} | {q['answers_found_share']:.0%} |")
        stages = list(next(iter(queries.values()))["stages_p50_ms"])
        lines += ["", "Where the time goes (p50 per stage, ms; `search_total` includes the stages before it, the "
                  "rest of end-to-end is answer composition):", "",
                  "| size | " + " | ".join(stages) + " |", "| --- |" + " --- |" * len(stages)]
        for label, q in queries.items():
            lines.append(f"| {label} | " + " | ".join(_fmt(q["stages_p50_ms"][s], 2) for s in stages) + " |")
        lines += ["", "## Memory and cold start", "",
                  "RSS of the process that answered the questions (after loading, and after all passes); "
                  "anonymous memory vs file-backed pages (memory-mapped files, shared libraries). Cold start: "
                  "wall time of `python -m bot ask QUESTION` (process start to first answer) and of reaching the "
                  "Discord-ready state minus network (Services, Handlers, discord.py bot with the cog, index and "
                  "model loaded), medians of repeated runs, OS file cache warm.", "",
                  "| size | RSS loaded MiB | RSS after queries MiB | of which anon / file | peak MiB | "
                  "first answer s | Discord-ready s | repeats |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
        for label, q in queries.items():
            m0, m1, cold = q["memory_after_load"], q["memory_after_queries"], q.get("cold_start", {})
            lines.append(
                f"| {label} | {m0.get('rss_mb', 0):,.0f} | {m1.get('rss_mb', 0):,.0f} | "
                f"{m1.get('rss_anon_mb', 0):,.0f} / {m1.get('rss_file_mb', 0):,.0f} | {m1.get('peak_rss_mb', 0):,.0f} | "
                f"{_fmt(cold.get('cli_ask_first_answer_s', {}).get('median'), 2)} | "
                f"{_fmt(cold.get('discord_ready_s', {}).get('median'), 2)} | {cold.get('repeats', '–')} |")
        detail = next(iter(queries.values())).get("cold_start", {}).get("discord_ready_detail", {})
        if detail:
            lines += ["", f"Discord-ready measurement: {detail.get('cog')}."]
        lines += ["", "In-process cold start breakdown (seconds since the module started):", "",
                  "| size | imports | open index | load model | first answer | total |", "| --- | --- | --- | --- | --- | --- |"]
        for label, q in queries.items():
            c = q["cold_in_process"]
            lines.append(f"| {label} | {c['imports_s']:.2f} | {c['open_index_s']:.2f} | {c['load_model_s']:.2f} | "
                         f"{c['first_answer_s']:.2f} | {c['process_to_first_answer_s']:.2f} |")
        lines.append("")

    vectors = results.get("vectors")
    if vectors:
        lines += ["## Dense index kinds (FAISS alone)", "",
                  f"Single-query search for the top {vectors['depth']} candidates (the searcher's depth); recall@10 "
                  "after exact re-scoring of those candidates against exact search, for the benchmark questions, "
                  "for passage-like queries (perturbed real passage vectors), and with a council-sized filter "
                  "(0.65% of passages, whole documents). Latency over all queries of the row.", "",
                  "| passages | vectors | kind | setting | recall@10 questions | passage-like | council filter | "
                  "p50 ms | p50 ms filtered | index MiB | build s |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        rows = sorted(vectors["sizes"].items(), key=lambda kv: int(kv[0]))
        if "random_unit_vectors" in vectors:
            rows.append(("random", vectors["random_unit_vectors"]))
        for _, entry in rows:
            for kind, row in entry["kinds"].items():
                for setting, m in row.items():
                    if not isinstance(m, dict):
                        continue
                    marker = " (default)" if kind == "ivfsq4" and setting == f"nprobe={row.get('default_nprobe')}" else ""
                    recalls = [m.get(f"recall@10_{k}") for k in ("questions", "passage_like")]
                    if "recall@10_random" in m:
                        recalls = [m["recall@10_random"], None]
                    lines.append(
                        f"| {entry['passages']:,} | {entry['vectors']} | {kind} | {setting}{marker} | "
                        f"{_fmt(recalls[0], 3)} | {_fmt(recalls[1], 3)} | {_fmt(m.get('recall@10_council_filter'), 3)} | "
                        f"{m['latency']['p50_ms']:.2f} | {m['latency_council_filter']['p50_ms']:.2f} | "
                        f"{row['index_mb']:,.1f} | {row['build_s']:.1f} |")
        curve = vectors.get("flat_latency_curve")
        if curve:
            lines += ["", "Exact (flat) search alone, p50 ms by size: " +
                      ", ".join(f"{int(n):,}: {v['p50_ms']:.2f}" for n, v in sorted(curve.items(), key=lambda kv: int(kv[0])))]
        lines.append("")

    candidates = results.get("vector_candidates")
    if candidates:
        lines += ["## Compressed layouts considered (how the large kind was chosen)", "",
                  "Same vectors and queries as above, one run each (`--only candidates`): IVF with product "
                  "quantisation (48 or 96 bytes a vector) or scalar quantisation (4 or 8 bits a dimension), "
                  "trained on one core. Recall@10 after exact re-scoring of the top 50.", "",
                  "| passages | layout | train s | add s | index MiB | nprobe | recall@10 questions | passage-like | p50 ms |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        for n, layouts in sorted(candidates.items(), key=lambda kv: int(kv[0])):
            for spec, row in layouts.items():
                for setting, m in row.items():
                    if isinstance(m, dict):
                        lines.append(f"| {int(n):,} | {spec} | {row['train_s']} | {row['add_s']} | {row['index_mb']} | "
                                     f"{setting.split('=')[1]} | {m['recall@10_questions']:.3f} | "
                                     f"{m['recall@10_passage_like']:.3f} | {m['p50_ms']:.2f} |")
        notes = results.get("vector_candidates_notes")
        if notes:
            lines += [""] + [f"- {note}" for note in notes]
        lines.append("")

    throughput = results.get("indexing_throughput")
    if throughput:
        lines += ["## Indexing", "",
                  f"Throughput on {throughput['reports']} real reports ({throughput['passages']:,} passages), "
                  f"{throughput['repeats']} alternating rounds: pipeline {throughput['pipeline_passages_per_s']:.1f} "
                  f"passages/s (runs: {throughput['pipeline_seconds']} s) against plain `SentenceTransformer.encode` "
                  f"{throughput['plain_encode_passages_per_s']:.1f} passages/s (runs: {throughput['plain_encode_seconds']} s): "
                  f"ratio {throughput['ratio']:.3f} (per round {throughput['ratio_per_round']}). {throughput['note']}.", ""]
    for label, update in (results.get("update_one_document") or {}).items():
        lines += [f"Update after changing one document in a {update['passages']:,}-passage corpus: median "
                  f"{update['median_s']:.2f} s over {update['repeats']} updates "
                  f"(runs: {[r['seconds'] for r in update['runs']]} s; re-embedded per run: "
                  f"{[r['embedded'] for r in update['runs']]}). Stage times of the last run (s): "
                  f"{update['runs'][-1]['stages_s']}.", ""]
    lines += backends_section(results)
    notes = results.get("notes")
    if notes:
        lines += ["## Findings", ""] + [f"- {note}" for note in notes] + [""]
    lines += ["## How the corpora were made", "",
              "- **real**: `shared/corpora/ofsted-ilacs-text` (493 Ofsted reports, 153 councils, real text), "
              "indexed by the real Indexer with the real model.",
              "- **1k, 10k**: whole real reports in a fixed pseudo-random order until the passage count is reached; "
              "indexed by the real Indexer, reusing the real index's stored vectors.",
              "- **100k, 1M (synthetic)**: the whole real corpus plus perturbed copies of its reports: each copied "
              "passage is real text with about 8% of words dropped, 8% replaced by other corpus words and 5% of "
              "neighbouring words swapped; its vector is the source passage's real embedding plus isotropic noise "
              "(cosine about 0.9 to it), *not* an embedding of the perturbed text (embedding a million passages would "
              "take days here). Copies keep their report's council, so a council filter keeps about 1/153 of them.",
              "- **FAISS-only rows**: real embeddings up to the real corpus size, real plus perturbed vectors beyond; "
              "the `random` row is uniformly random unit vectors (worst case, no structure).", ""]
    RESULTS_MD.write_text("\n".join(lines), encoding="utf-8")
