"""Measure the tracker's evidence bar on a built index (what bot.progress.EVIDENCE_BAR was set from).

    python -m benchmarks.progress_bar --corpus DIR --index-dir DIR [--pairs 600]

Prints the quantiles of the relevance an area gets from a passage on an unrelated theme (`negative_relevances`), the
same counting only the passages whose quote holds the share a link needs (`quoted_relevances`: DOCUMENT_BAR), and
for the themes areas list (`negative_theme_relevances`): the quantiles of such a passage's relevance to the theme, and
the share of them a theme search would show (relevance to the theme >= EVIDENCE_BAR and to the area >= THEME_BAR).
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
    parser.add_argument("--pairs", type=int, default=600)
    args = parser.parse_args(argv)

    from bot.progress import (DOCUMENT_BAR, EVIDENCE_BAR, THEME_BAR, measure_bar, negative_relevances,
                              negative_theme_relevances, quoted_relevances)
    from bot.services import Services
    from bot.settings import load_settings

    services = Services(load_settings(corpus_dir=args.corpus, index_dir=args.index_dir))
    areas = services.store.improvement_areas().areas
    pairs = negative_relevances(services.searcher, areas, pairs=args.pairs)
    scores, quoted = [relevance for relevance, _ in pairs], quoted_relevances(pairs)
    result = {"areas": len(areas), "negative_pairs": len(scores), "evidence_bar_in_use": EVIDENCE_BAR}
    for quantile in (0.8, 0.9, 0.95, 0.99):
        result[f"q{int(quantile * 100)}"] = round(measure_bar(scores, quantile), 3)
    result["document_bar_in_use"] = DOCUMENT_BAR
    for quantile in (0.85, 0.9, 0.95):
        result[f"quoted_q{int(quantile * 100)}"] = round(measure_bar(quoted, quantile), 3)
    theme_scores = negative_theme_relevances(services.searcher, areas, pairs=args.pairs)
    result["theme_negative_pairs"] = len(theme_scores)
    for quantile in (0.8, 0.9, 0.95, 0.99):
        result[f"theme_q{int(quantile * 100)}"] = round(measure_bar([t for t, _ in theme_scores], quantile), 3)
    shown = sum(1 for theme, area in theme_scores if theme >= EVIDENCE_BAR and area >= THEME_BAR)
    result["theme_bar_in_use"] = THEME_BAR
    result["theme_negatives_shown"] = round(shown / len(theme_scores), 3) if theme_scores else None
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
