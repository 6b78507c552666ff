"""Inspection and visit events told by the documents: extraction, merging, curated overrides, timeline."""

from index.visits.curated import CuratedVisit, load_curated, merge_curated
from index.visits.extraction import extract_events
from index.visits.models import Timeline, VisitEvent, VisitSource, council_matches
from index.visits.timeline import build_timeline

__all__ = [
    "CuratedVisit",
    "Timeline",
    "VisitEvent",
    "VisitSource",
    "build_timeline",
    "council_matches",
    "extract_events",
    "load_curated",
    "merge_curated",
]
