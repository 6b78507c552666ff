"""Inspection and visit events told by the documents: extraction, merging, curated overrides, timeline."""

from index.visits.curated import CuratedVisit, load_curated, merge_curated
from index.visits.extraction import extract_events
from index.visits.models import EventState, Timeline, VisitEvent, VisitSource, council_matches
from index.visits.timeline import before, build_timeline, known_on, latest, latest_first

__all__ = [
    "CuratedVisit",
    "EventState",
    "Timeline",
    "VisitEvent",
    "VisitSource",
    "before",
    "build_timeline",
    "council_matches",
    "extract_events",
    "known_on",
    "latest",
    "latest_first",
    "load_curated",
    "merge_curated",
]
