"""Shared by every benchmark: where things are, questions to ask, memory and timing helpers."""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "var" / "bench"
SHARED = REPO.parent / "shared"
REAL_CORPUS = SHARED / "corpora" / "ofsted-ilacs-text"
RESULTS_JSON = REPO / "benchmarks" / "results.json"
RESULTS_MD = REPO / "benchmarks" / "RESULTS.md"

# Questions a user of a regional or national deployment might ask. About half name a council, which
# narrows the search to it (the filtered path); the rest search the whole corpus.
QUESTIONS: tuple[str, ...] = (
    "How well are care leavers supported into education, employment and training?",
    "What did inspectors say about the quality of social work supervision?",
    "How effective is the front door and multi-agency safeguarding hub?",
    "Are children in care visited regularly by their social workers?",
    "What are the main weaknesses in assessments of children in need?",
    "How stable is the social work workforce and how high are caseloads?",
    "What progress has been made since the previous inspection?",
    "How well do leaders understand the quality of practice?",
    "Are private fostering arrangements identified and assessed?",
    "How are children who go missing from home or care protected?",
    "What is the experience of disabled children?",
    "How timely is permanence planning and adoption?",
    "Is the local authority's corporate parenting board effective?",
    "How are risks of child sexual exploitation identified and reduced?",
    "What did Ofsted find about pre-proceedings work under the Public Law Outline?",
    "How good is the help for 16- and 17-year-olds who present as homeless?",
    "How did Blackpool's services change after the 2019 inspection?",
    "What did inspectors find about children in care in Bradford?",
    "How effective are early help services in Birmingham?",
    "What is the overall effectiveness judgement for Middlesbrough?",
    "How well does Nottingham City support care leavers?",
    "What concerns did Ofsted raise about Bury's front door?",
    "How good is management oversight in Sefton?",
    "Were Solihull's children at risk left in harmful situations?",
    "What did the inspection of Kent say about unaccompanied asylum-seeking children?",
    "How do Devon's social workers describe their caseloads?",
    "Is practice in Leeds consistently good?",
    "What happened to Wakefield's services after the 2018 inspection?",
    "How strong is political and corporate support in Hull?",
    "How are children's voices heard in Cornwall?",
    "What did Ofsted's 2020 focused visit to Bournemouth, Christchurch and Poole result in?",
    "How long have some children in Blackpool lived in neglect according to the 2019 inspection?",
    "When did St Helens set up its children's improvement board?",
    "What has Wakefield's council committed to after the 2018 inspection?",
    "How much can agency social workers earn?",
    "Which areas still need further development?",
    "How consistent are assessments for children in care?",
    "Who has led most of the monitoring visits?",
    "What are the opening hours of the leisure centre?",
    "Will it rain this weekend?",
)


def machine() -> dict:
    """What the numbers were measured on."""
    load = os.getloadavg()
    return {"cpus": os.cpu_count(), "memory_gib": round(_meminfo("MemTotal") / 2**20, 1),
            "python": platform.python_version(), "platform": platform.platform(),
            "load_average_at_start": [round(x, 2) for x in load]}


def _meminfo(key: str) -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def memory() -> dict:
    """This process's memory in MB: resident (anonymous + file-backed pages) and peak, from /proc."""
    wanted = {"VmRSS": "rss_mb", "VmHWM": "peak_rss_mb", "RssAnon": "rss_anon_mb", "RssFile": "rss_file_mb",
              "RssShmem": "rss_shmem_mb"}
    out: dict[str, float] = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key = line.split(":", 1)[0]
        if key in wanted:
            out[wanted[key]] = round(int(line.split()[1]) / 1024, 1)
    return out


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (no interpolation), so p95 is a latency that really happened."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summary_ms(seconds: list[float]) -> dict:
    ms = [s * 1000 for s in seconds]
    return {"n": len(ms), "p50_ms": round(statistics.median(ms), 2), "p95_ms": round(percentile(ms, 95), 2),
            "mean_ms": round(statistics.fmean(ms), 2), "min_ms": round(min(ms), 2), "max_ms": round(max(ms), 2)}


@contextmanager
def timed(into: dict, key: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        into[key] = into.get(key, 0.0) + time.perf_counter() - start


def wrap_timer(owner: object, name: str, totals: dict[str, float], key: str | None = None) -> None:
    """Replace `owner.name` (an instance attribute) by a wrapper that adds its time to totals[key or name]."""
    original: Callable = getattr(owner, name)
    key = key or name

    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            totals[key] = totals.get(key, 0.0) + time.perf_counter() - start

    setattr(owner, name, wrapper)


def load_results() -> dict:
    if RESULTS_JSON.is_file():
        return json.loads(RESULTS_JSON.read_text(encoding="utf-8"))
    return {}


def save_results(results: dict) -> None:
    RESULTS_JSON.write_text(json.dumps(results, indent=1, sort_keys=False) + "\n", encoding="utf-8")


def size_label(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


def parse_size(text: str) -> int | str:
    text = text.strip().lower()
    if text == "real":
        return "real"
    scale = {"k": 1000, "m": 1_000_000}.get(text[-1], 1)
    return int(float(text.rstrip("km")) * scale)
