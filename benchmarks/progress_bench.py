"""How long `progress` takes warm (model and index loaded), for one council or every council with an inspection.

    python -m benchmarks.progress_bench --corpus DIR --index-dir DIR [--council NAME[,NAME...]] [--passes 3]
        [--no-warm] [--out FILE]

Two figures per council: `fresh` is a new Tracker each time (no evidence cached: one hybrid search per area), what a
first `/progress` after start-up or a reindex costs (`latest_fresh`: the same for the latest inspection, which
`progress --council NAME` shows when no inspection is named); `repeat` is the same Tracker asked again (evidence
cached per area for the life of the index generation). The inspection asked for is the council's earliest, which has the most
later documents to search; `compare` times the earliest against the latest; `warm_every_inspection_s` is what
`Tracker.warm()` takes to find the evidence of every inspection ahead (after which every `progress` is a `repeat`;
`--no-warm` leaves it out). The load average of the machine is recorded before and after, since the cores are shared,
and `fresh_cpu` is the process's CPU time for the same calls (what other jobs on the cores do not inflate; the
encoder runs on one thread).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from benchmarks.common import memory, summary_ms


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--council", help="one council, or several separated by commas (default: every one)")
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--no-warm", action="store_true", help="skip timing Tracker.warm() over every inspection")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)

    from bot.progress import Tracker
    from bot.services import Services
    from bot.settings import load_settings
    from index.improvements.curated import PROGRESS_TOML, load_corrections

    services = Services(load_settings(corpus_dir=args.corpus, index_dir=args.index_dir))
    searcher = services.searcher
    searcher.search("warm up the model and the index", k=5)
    def corrections():  # read for each Tracker, as the bot would after a change to the file
        return load_corrections(args.corpus / PROGRESS_TOML)

    tracker = Tracker(searcher, corrections())
    councils = ([name.strip() for name in args.council.split(",")] if args.council
                else sorted({m.council for m in tracker.inspections() if m.council}))
    load_before = os.getloadavg()
    fresh, fresh_cpu, repeat, compare, default, areas, per_council = [], [], [], [], [], 0, {}
    for council in councils:
        inspections = tracker.inspections(council)
        earliest, latest = inspections[0], inspections[-1]
        council_fresh = []
        for _ in range(args.passes):
            started, cpu = time.perf_counter(), time.process_time()
            new = Tracker(searcher, corrections())
            report = new.progress(council, earliest.doc_id)
            council_fresh.append(time.perf_counter() - started)
            fresh_cpu.append(time.process_time() - cpu)
            started = time.perf_counter()
            new.progress(council, earliest.doc_id)
            repeat.append(time.perf_counter() - started)
            if latest.doc_id != earliest.doc_id:
                started = time.perf_counter()
                new.compare(earliest.doc_id, latest.doc_id)
                compare.append(time.perf_counter() - started)
                started = time.perf_counter()
                Tracker(searcher, corrections()).progress(council)
                default.append(time.perf_counter() - started)
        fresh += council_fresh
        per_council[council] = {"inspection": earliest.doc_id, "areas": len(report.areas),
                                "fresh_p50_ms": summary_ms(council_fresh)["p50_ms"]}
        areas += len(report.areas)
    load_after = os.getloadavg()
    result = {"corpus": str(args.corpus), "passages": services.store.size, "councils": len(councils),
              "areas_per_council": round(areas / len(councils), 1), "progress_fresh": summary_ms(fresh),
              "progress_fresh_cpu": summary_ms(fresh_cpu),
              "progress_repeat": summary_ms(repeat), "compare_fresh": summary_ms(compare) if compare else None,
              "progress_latest_fresh": summary_ms(default) if default else None,
              "per_council": per_council if len(councils) <= 20 else None,
              "load_average_1_5_15": {"before": [round(x, 2) for x in load_before],
                                      "after": [round(x, 2) for x in load_after]}}
    if not args.no_warm:
        started = time.perf_counter()
        result["inspections_warmed"] = Tracker(searcher, corrections()).warm()
        result["warm_every_inspection_s"] = round(time.perf_counter() - started, 1)
    result["memory"] = memory()
    text = json.dumps(result, indent=1)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
