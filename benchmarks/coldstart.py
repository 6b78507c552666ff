"""The two embedding backends side by side: cold start of `python -m bot ask` on the seeds, where its time goes
(imports, model, index, answer; `python -X importtime`), and indexing throughput on the same texts.

    .venv/bin/python -m benchmarks.coldstart                    # both parts, then RESULTS.md
    .venv/bin/python -m benchmarks.coldstart --only coldstart   # or --only throughput, --only latency

Cold start: each backend (BOT_EMBEDDER=onnx, torch) runs `python -m bot ask QUESTION --json` on the seed corpus,
alternately, `--repeats` times; the figure is the wall time from starting the process to the first byte of the
answer on standard output (and to the process's exit). The ONNX export is made before (as the first `index`
does), the OS file cache is warm.

Latency: one question at a time (the benchmark questions), each backend warm, alternating; what a warm `ask`
spends embedding the question.

Throughput: passages of real Ofsted reports cut by the real chunker, encoded in alternating rounds by plain
`SentenceTransformer.encode` (its defaults), by the torch `Embedder` (the indexer's batches) and by the
`OnnxEmbedder` (length-sorted batches); medians of the rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import BENCH, REAL_CORPUS, REPO, load_results, machine, save_results
from benchmarks.corpora import log

QUESTION = "When is the next full Ofsted inspection expected?"
SEEDS = REPO / "corpus"
ONNX_DIR = REPO / "var" / "onnx"
HEAVY = ("torch", "transformers", "sentence_transformers", "scipy", "sklearn", "discord", "pypdf", "docx")
PACKAGES = ("numpy", "pydantic", "pydantic_settings", "bm25s", "scipy.sparse", "faiss", "onnxruntime", "tokenizers",
            "dateparser", "Stemmer", "torch", "transformers", "sentence_transformers", "index.parsing")

# In a fresh process: what each step of a first answer costs, and which heavy packages it loaded.
STEPS = """
import json, sys, time
started = time.perf_counter()
from bot.cli import main  # what `python -m bot` imports
from bot.services import Services
from bot.settings import load_settings
imported = time.perf_counter()
services = Services(load_settings())
services.embedder
model = time.perf_counter()
services.store
index = time.perf_counter()
answer = services.answerer.ask(sys.argv[1])
done = time.perf_counter()
print(json.dumps({"imports_s": imported - started, "load_model_s": model - imported, "open_index_s": index - model,
                  "first_answer_s": done - index, "found": answer.found,
                  "heavy_modules_loaded": [m for m in %r if m in sys.modules]}))
""" % (HEAVY,)


def _env(backend: str, index_dir: Path) -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONUNBUFFERED": "1",
            "BOT_EMBEDDER": backend, "BOT_ONNX_DIR": str(ONNX_DIR), "BOT_CORPUS_DIR": str(SEEDS),
            "BOT_INDEX_DIR": str(index_dir)}


def seed_index() -> Path:
    """The seed corpus indexed once (by the default backend), and the ONNX export made, as `make run` leaves them."""
    from bot.services import Services
    from bot.settings import Settings

    index_dir = BENCH / "cold-seeds" / "index"
    Services(Settings(corpus_dir=SEEDS, index_dir=index_dir, onnx_dir=ONNX_DIR, _env_file=None)).reindex()
    return index_dir


def _first_answer(backend: str, index_dir: Path) -> tuple[float, float, float]:
    """Seconds to the first byte on standard output, to exit, and of CPU (user + system, the whole process) of
    `python -m bot ask`: on a shared machine the CPU seconds say what an idle core would take."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "bot", "ask", QUESTION, "--json"], cwd=REPO,
                               env=_env(backend, index_dir), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    process.stdout.read(1)
    first = time.perf_counter() - started
    process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"`python -m bot ask` with BOT_EMBEDDER={backend} exited with {process.returncode}")
    return first, time.perf_counter() - started, usage.ru_utime + usage.ru_stime


def _importtime(backend: str, index_dir: Path) -> dict[str, float]:
    """Cumulative import seconds of the packages that matter, from `python -X importtime -m bot ask`."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "bot", "ask", QUESTION, "--json"], cwd=REPO,
                          env=_env(backend, index_dir), capture_output=True, text=True, check=True)
    seen: dict[str, float] = {}
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)$", line)
        if match and not match.group(3).startswith("_"):
            name, seconds = match.group(3), int(match.group(1)) / 1e6
            seen[name] = max(seen.get(name, 0.0), seconds)  # the outermost import of a package is the largest
    breakdown = {name: round(seen[name], 3) for name in PACKAGES if name in seen}
    breakdown["bot.cli (everything `python -m bot` imports)"] = round(seen.get("bot.cli", 0.0), 3)
    return breakdown


def cold_start(repeats: int) -> dict:
    index_dir = seed_index()
    backends = ("onnx", "torch")
    runs: dict[str, list[tuple[float, float, float]]] = {backend: [] for backend in backends}
    for round_ in range(repeats):
        for backend in backends if round_ % 2 == 0 else reversed(backends):
            runs[backend].append(_first_answer(backend, index_dir))
            log(f"  cold start {backend}: first answer {runs[backend][-1][0]:.2f} s, exit {runs[backend][-1][1]:.2f} s, "
                f"CPU {runs[backend][-1][2]:.2f} s")
    result: dict = {"question": QUESTION, "repeats": repeats, "load_average": [round(x, 2) for x in os.getloadavg()]}
    for backend in backends:
        steps = subprocess.run([sys.executable, "-c", STEPS, QUESTION], cwd=REPO, env=_env(backend, index_dir),
                               capture_output=True, text=True, check=True)
        result[backend] = {
            "first_answer_s": {"median": round(statistics.median(r[0] for r in runs[backend]), 2),
                               "all": [round(r[0], 2) for r in runs[backend]]},
            "exit_s": {"median": round(statistics.median(r[1] for r in runs[backend]), 2),
                       "all": [round(r[1], 2) for r in runs[backend]]},
            "cpu_s": {"median": round(statistics.median(r[2] for r in runs[backend]), 2),
                      "all": [round(r[2], 2) for r in runs[backend]]},
            "steps_in_process": {k: round(v, 3) if isinstance(v, float) else v
                                 for k, v in json.loads(steps.stdout.strip().splitlines()[-1]).items()},
            "import_seconds": _importtime(backend, index_dir),
        }
    return result


def question_latency(repeats: int) -> dict:
    import numpy as np

    from benchmarks.common import QUESTIONS
    from index.embedding import Embedder
    from index.onnx_embedding import OnnxEmbedder

    encoders = {"onnx": OnnxEmbedder(cache_dir=ONNX_DIR), "torch": Embedder()}
    for question in QUESTIONS[:5]:  # warm-up
        for encoder in encoders.values():
            encoder.encode([question])
    seconds: dict[str, list[float]] = {name: [] for name in encoders}
    for round_ in range(repeats):
        for question in QUESTIONS:
            for name in encoders if round_ % 2 == 0 else reversed(list(encoders)):
                started = time.perf_counter()
                encoders[name].encode([question])
                seconds[name].append(time.perf_counter() - started)
    return {"questions": len(QUESTIONS), "repeats": repeats, "load_average": [round(x, 2) for x in os.getloadavg()],
            **{name: {"p50_ms": round(1000 * float(np.percentile(s, 50)), 1),
                      "p95_ms": round(1000 * float(np.percentile(s, 95)), 1)} for name, s in seconds.items()}}


def _passages(target: int) -> list[str]:
    """Passages of whole real reports (a fixed order), cut and prefixed exactly as the indexer embeds them."""
    from index.chunking import chunk_document, embed_prefix
    from index.embedding import DEFAULT_MODEL, counting_tokenizer, resolve_model_path
    from index.parsing import parse_file

    counter = counting_tokenizer(resolve_model_path(DEFAULT_MODEL))
    texts: list[str] = []
    for path in sorted(REAL_CORPUS.glob("*.txt"))[::25]:
        parsed = parse_file(path, path.name)
        for chunk in chunk_document(parsed, path.stem, path.stem,
                                    lambda text: len(counter.encode(text, add_special_tokens=False).ids)):
            texts.append(embed_prefix(path.stem, chunk.heading) + chunk.text)
        if len(texts) >= target:
            break
    return texts


def throughput(target: int, repeats: int) -> dict:
    from sentence_transformers import SentenceTransformer

    from index.embedding import DEFAULT_MODEL, Embedder, resolve_model_path
    from index.onnx_embedding import OnnxEmbedder

    texts = _passages(target)
    plain = SentenceTransformer(str(resolve_model_path(DEFAULT_MODEL)), device="cpu", local_files_only=True)
    paths = {"plain SentenceTransformer.encode (defaults: batch 32, sorted by length)": plain.encode,
             "torch Embedder (batch 64, normalised; the indexer's torch path)": Embedder().encode,
             "ONNX Runtime fp32 (batch 32, sorted by word pieces)": OnnxEmbedder(cache_dir=ONNX_DIR).encode,
             "ONNX Runtime fp32 (batch 16, sorted by word pieces)": OnnxEmbedder(cache_dir=ONNX_DIR, batch_size=16).encode}
    for encode in paths.values():  # warm-up: first-call allocations and thread pools
        encode(texts[:64])
    seconds: dict[str, list[float]] = {name: [] for name in paths}
    for round_ in range(repeats):
        for name in paths if round_ % 2 == 0 else reversed(list(paths)):
            started = time.perf_counter()
            paths[name](texts)
            seconds[name].append(time.perf_counter() - started)
            log(f"  throughput round {round_ + 1}: {name}: {len(texts) / seconds[name][-1]:.1f} passages/s")
    plain_rate = len(texts) / statistics.median(seconds[next(iter(paths))])
    rates = {name: len(texts) / statistics.median(s) for name, s in seconds.items()}
    return {"passages": len(texts), "repeats": repeats,
            "paths": {name: {"passages_per_s": round(rate, 1), "ratio_to_plain": round(rate / plain_rate, 3),
                             "seconds": [round(s, 1) for s in seconds[name]]} for name, rate in rates.items()},
            "fastest": max(rates, key=rates.get)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="coldstart,latency,throughput")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--passages", type=int, default=1000, help="passages for the throughput rounds")
    args = parser.parse_args(argv)
    results = load_results()
    sections = set(args.only.split(","))
    if "coldstart" in sections:
        log("cold start on the seeds, per backend")
        results["cold_start_backends"] = {"machine": machine(), **cold_start(args.repeats)}
        save_results(results)
    if "latency" in sections:
        log("one question at a time, per backend")
        results["question_encode_latency"] = question_latency(args.repeats)
        save_results(results)
    if "throughput" in sections:
        log(f"embedding throughput on {args.passages} real passages, per path")
        results["embedder_throughput"] = {"machine": machine(), **throughput(args.passages, args.repeats)}
        save_results(results)
    from benchmarks.report import write_markdown

    write_markdown(results)
    log("wrote benchmarks/results.json and benchmarks/RESULTS.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
