"""Score the improvement tracker's links against a gold set read by hand (eval/improvement_links_gold.json).

    python -m eval.score_links eval/improvement_links_gold.json --corpus DIR --index-dir DIR [--json]

For each gold inspection it runs `Tracker.progress(council, doc_id)` and reads every link shown under every area:
- RIGHT: the linked passage (the chunk's full text) holds one of the gold evidence strings written for that area in
  that later document (compared folded: case, white space, quote style), or a person judged the link yes;
- WRONG: a person judged it no (the gold's `judged_links`);
- UNJUDGED: neither; listed with its area and quote, so a person can judge it and add it to `judged_links`.
Precision = right / (right + wrong); it is also given as if every unjudged link were wrong. Recall = the areas a
later report addresses (gold `addressed`) that have at least one RIGHT link / the areas addressed. Per council and
overall. The gold was written without running the tracker, so these are held-out figures.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

from bot.answering import fold
from bot.progress import ProgressReport


class Link(BaseModel):
    """One link the tracker showed, with its verdict."""

    area_id: str
    area: str
    doc_id: str
    chunk_id: str
    location: str
    quote: str
    verdict: str  # right, wrong or unjudged
    reason: str | None = None


class Score(BaseModel):
    """The figures for one council, or for all of them."""

    name: str
    right: int = 0
    wrong: int = 0
    unjudged: int = 0
    areas_addressed: int = 0
    areas_linked_right: int = 0
    gold_areas_not_shown: list[str] = []

    @property
    def links(self) -> int:
        return self.right + self.wrong + self.unjudged

    @property
    def precision(self) -> float | None:
        return self.right / (self.right + self.wrong) if self.right + self.wrong else None

    @property
    def precision_if_unjudged_wrong(self) -> float | None:
        return self.right / self.links if self.links else None

    @property
    def recall(self) -> float | None:
        return self.areas_linked_right / self.areas_addressed if self.areas_addressed else None

    def add(self, other: Score) -> None:
        for field in ("right", "wrong", "unjudged", "areas_addressed", "areas_linked_right"):
            setattr(self, field, getattr(self, field) + getattr(other, field))
        self.gold_areas_not_shown += other.gold_areas_not_shown

    def figures(self) -> dict[str, object]:
        return {**self.model_dump(), "links": self.links, "precision": _round(self.precision),
                "precision_if_unjudged_wrong": _round(self.precision_if_unjudged_wrong), "recall": _round(self.recall)}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def judge(area_gold: dict, doc_id: str, chunk_id: str, passage: str,
          judged: dict[tuple[str, str], dict]) -> tuple[str, str | None]:
    """RIGHT when the passage holds a gold string for this area and document, else what a person judged."""
    folded = fold(passage)
    for later in area_gold["later"]:
        if later["doc_id"] == doc_id and any(fold(e["quote"]) in folded for e in later["evidence"]):
            return "right", "holds a gold evidence string"
    by_hand = judged.get((area_gold["id"], chunk_id))
    if by_hand is None:
        return "unjudged", None
    return ("right" if by_hand["right"] else "wrong"), by_hand.get("reason")


def score_inspection(inspection: dict, report: ProgressReport, passage_text: Callable[[str], str],
                     judged: dict[tuple[str, str], dict]) -> tuple[Score, list[Link]]:
    """One inspection's links judged against its gold areas (areas the tracker shows but the gold lacks are skipped,
    gold areas the tracker does not show are named: the extraction changed since the gold was written)."""
    score = Score(name=f"{inspection['council']} {inspection['date']}")
    shown = {area.id: area for area in report.areas}
    links: list[Link] = []
    for gold in inspection["areas"]:
        area = shown.get(gold["id"])
        addressed = any(later["addressed"] for later in gold["later"])
        score.areas_addressed += addressed
        if area is None:
            score.gold_areas_not_shown.append(gold["id"])
            continue
        any_right = False
        for evidence in area.evidence:
            verdict, reason = judge(gold, evidence.doc_id, evidence.chunk_id, passage_text(evidence.chunk_id), judged)
            setattr(score, verdict, getattr(score, verdict) + 1)
            any_right |= verdict == "right"
            links.append(Link(area_id=area.id, area=area.text, doc_id=evidence.doc_id, chunk_id=evidence.chunk_id,
                              location=evidence.location, quote=evidence.quote, verdict=verdict, reason=reason))
        score.areas_linked_right += addressed and any_right
    return score, links


def _line(score: Score) -> str:
    def show(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.3f}"
    missing = f"; gold areas not shown: {', '.join(score.gold_areas_not_shown)}" if score.gold_areas_not_shown else ""
    return (f"{score.name}: {score.links} links, {score.right} right, {score.wrong} wrong, {score.unjudged} unjudged; "
            f"precision {show(score.precision)} ({show(score.precision_if_unjudged_wrong)} if every unjudged link is "
            f"wrong); recall {score.areas_linked_right}/{score.areas_addressed} = {show(score.recall)}{missing}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("gold", type=Path)
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--json", action="store_true", help="print the figures and every link as JSON")
    args = parser.parse_args(argv)

    from bot.services import Services  # loads the model and the index: after the arguments are known good
    from bot.settings import Settings

    gold = json.loads(args.gold.read_text(encoding="utf-8"))
    judged = {(j["area_id"], j["chunk_id"]): j for j in gold.get("judged_links", [])}
    services = Services(Settings(corpus_dir=args.corpus, index_dir=args.index_dir, _env_file=None))
    tracker, store = services.tracker, services.store

    def passage_text(chunk_id: str) -> str:
        chunk = store.chunk(chunk_id)
        return chunk.text if chunk else ""

    overall, per_council, links = Score(name="overall"), [], []
    for inspection in gold["inspections"]:
        report = tracker.progress(inspection["council"], inspection["doc_id"])
        score, found = score_inspection(inspection, report, passage_text, judged)
        overall.add(score)
        per_council.append(score)
        links += found
    if args.json:
        print(json.dumps({"per_council": [s.figures() for s in per_council], "overall": overall.figures(),
                          "links": [link.model_dump() for link in links]}, ensure_ascii=False, indent=1))
        return 0
    for score in [*per_council, overall]:
        print(_line(score))
    unjudged = [link for link in links if link.verdict == "unjudged"]
    print(f"\n{len(unjudged)} unjudged links (judge each and add it to judged_links):")
    for link in unjudged:
        print(f"- area {link.area_id}: {link.area}\n  {link.doc_id} {link.location} chunk {link.chunk_id}\n"
              f"  quote: {link.quote}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
