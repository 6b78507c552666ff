"""Every link the tracker shows for some councils, as JSON, so a speed change can be checked to change none.

    python -m benchmarks.progress_links --corpus DIR --index-dir DIR --councils "Hull,Luton" --out FILE

For each council, its earliest and its latest inspection: per area, the evidence's chunk id, quote and score, as a
fresh Tracker finds them. Two runs agree when the files are byte for byte equal (`cmp A B`); run both with the same
PYTHONHASHSEED, since an excerpt's tie between two equally weighted runs of sentences is broken by set order.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--councils", required=True, help="comma-separated council names")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)

    from bot.progress import Tracker
    from bot.services import Services
    from bot.settings import load_settings

    services = Services(load_settings(corpus_dir=args.corpus, index_dir=args.index_dir))
    links: dict[str, dict[str, list[list[object]]]] = {}
    for council in (name.strip() for name in args.councils.split(",")):
        tracker = Tracker(services.searcher)
        inspections = tracker.inspections(council)
        if not inspections:
            print(f"no inspection of {council} in {args.index_dir}; check the name with `progress`", file=sys.stderr)
            return 2
        for meta in inspections[:1] + inspections[1:][-1:]:
            report = tracker.progress(council, meta.doc_id)
            links[meta.doc_id] = {area.id: [[e.chunk_id, e.quote, e.score] for e in area.evidence]
                                  for area in report.areas}
    args.out.write_text(json.dumps(links, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    shown = sum(len(evidence) for areas in links.values() for evidence in areas.values())
    print(f"{len(links)} inspections, {sum(len(a) for a in links.values())} areas, {shown} links -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
