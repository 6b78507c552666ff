"""Every council-and-time probe of eval/visits_probes.json against the timeline functions.

Each corpus is read as the indexer reads it (manifest.toml and SOURCES.tsv, parsing, chunking with the
model's own tokenizer, through the fake embedder that counts word pieces without loading the model) and
its events extracted once per run; nothing is embedded, since the timeline does not use vectors. The
Ofsted PDFs are parsed once and shared by the corpora that hold them.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest

from bot.timeline_answers import timeline_lead, visit_before
from index.chunking import chunk_document
from index.indexer import corpus_files
from index.manifest import SOURCES_NAME, load_manifest
from index.models import ParsedDocument
from index.parsing import parse_file
from index.visits import VisitEvent, build_timeline, council_matches, extract_events

PROBES_FILE = Path(__file__).resolve().parents[2] / "eval" / "visits_probes.json"
PROBES = json.loads(PROBES_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def parsed_once() -> dict[Path, ParsedDocument]:
    return {}


def _assemble(root: Path, sources: list[Path], shared_tsv: Path | None) -> Path:
    """A corpus folder of links to the chosen files, with the SOURCES.tsv rows of the PDFs among them."""
    root.mkdir()
    for path in sources:
        (root / path.name).symlink_to(path)
    pdfs = {p.name for p in sources if p.suffix == ".pdf"}
    if shared_tsv is not None and pdfs:
        header, *rows = shared_tsv.read_text(encoding="utf-8").splitlines()
        kept = [row for row in rows if row.split("\t", 1)[0] in pdfs]
        assert len(kept) == len(pdfs), "every PDF needs its SOURCES.tsv row"
        (root / SOURCES_NAME).write_text("\n".join([header, *kept]) + "\n", encoding="utf-8")
    return root


def _events(corpus: Path, count_tokens, parsed_once: dict[Path, ParsedDocument]) -> list[VisitEvent]:
    manifest = load_manifest(corpus)
    assert manifest.errors == []
    documents = []
    for path in corpus_files(corpus):
        source = path.relative_to(corpus).as_posix()
        real = path.resolve()
        if real not in parsed_once:
            parsed_once[real] = parse_file(path, source)
        parsed = parsed_once[real]
        meta = manifest.meta_for(source, parsed)
        documents.append((meta, chunk_document(parsed, meta.doc_id, meta.title, count_tokens)))
    return extract_events(documents)


@pytest.fixture(scope="module")
def corpora(repo_root: Path, shared_dir: Path, fake_embedder, parsed_once, tmp_path_factory) -> dict[str, list[VisitEvent]]:
    specs = PROBES["corpora"]
    pdf_dir = shared_dir / "corpora" / "ofsted-ilacs"
    seeds = repo_root / "corpus"
    tmp = tmp_path_factory.mktemp("visit-probes")
    ilacs = _assemble(tmp / "ilacs", [pdf_dir / name for name in specs["ilacs"]["files"]], pdf_dir / SOURCES_NAME)
    mixed_files = [seeds / name if (seeds / name).exists() else pdf_dir / name for name in specs["mixed"]["files"]]
    mixed = _assemble(tmp / "mixed", mixed_files, pdf_dir / SOURCES_NAME)
    count = fake_embedder.count_tokens
    return {name: _events(folder, count, parsed_once)
            for name, folder in (("seeds", seeds), ("ilacs", ilacs), ("mixed", mixed))}


def _day(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def _select(events: list[VisitEvent], spec: dict[str, Any], council: str | None) -> VisitEvent:
    """The one event (as extraction made it) of the council, kind and start the probe names."""
    wanted = spec.get("council") or council
    found = [e for e in events if e.kind == spec["kind"] and e.start == _day(spec["start"])
             and (wanted is None or council_matches(wanted, e.council))]
    assert len(found) == 1, f"{spec} selects {len(found)} events"
    return found[0]


def _check(event: VisitEvent | None, expect: dict[str, Any], text: str = "") -> None:
    if expect.get("none"):
        assert event is None, f"expected no event, got {event and (event.council, event.kind, event.when_text)}"
        return
    assert event is not None, "expected an event, got none"
    for field in ("kind", "status", "ordinal", "when_text"):
        if field in expect:
            assert getattr(event, field) == expect[field], (field, getattr(event, field))
    for field in ("start", "end"):
        if field in expect:
            assert getattr(event, field) == _day(expect[field]), (field, getattr(event, field))
    if "council" in expect:
        assert council_matches(expect["council"], event.council), event.council
    if expect.get("names_council"):
        assert event.council and event.council in text
    if "text" in expect:
        assert expect["text"] in text
    for prefix in expect.get("sources_from", []):
        assert any(s.source.startswith(prefix) for s in event.sources), prefix


def _run(probe: dict[str, Any], events: list[VisitEvent]) -> None:
    as_of, council, expect = _day(probe["as_of"]), probe.get("council"), probe["expect"]
    assert as_of is not None
    if probe["call"] == "lead":
        timeline = build_timeline(events, as_of, council)
        found = timeline_lead(probe["question"], timeline, council)
        text, event = found if found else ("", None)
        _check(event, expect, text)
        if event is not None:
            assert "as known on" in text and not re.search(r"\ba inspection", text)
        if "listed_starts" in expect:
            shown = [e for e in timeline.past if e.status == "took_place" and e.kind == event.kind]  # type: ignore[union-attr]
            starts = sorted((e.start for e in shown if e.start), reverse=True)
            assert [d.isoformat() for d in starts] == expect["listed_starts"]
            positions = [text.index(e.when_text) for e in sorted(shown, key=lambda e: e.start or dt.date.min, reverse=True)]
            assert positions == sorted(positions)
    elif probe["call"] == "before":
        timeline = build_timeline(events, as_of, council)
        of = _select(events, probe["of"], council).as_known_on(as_of)
        assert of is not None, "the event the probe starts from is not known on its as-of day"
        text, event = visit_before(of, timeline)
        _check(event, expect, text)
    else:
        chosen = _select(events, probe["of"], council)
        timeline = build_timeline(events, as_of, include_past=True)
        buckets = {name: [e.id for e in getattr(timeline, name)] for name in ("upcoming", "past", "unconfirmed")}
        bucket = next((name for name, ids in buckets.items() if chosen.id in ids), None)
        assert bucket == expect["bucket"]


@pytest.mark.parametrize("probe", PROBES["probes"], ids=[p["id"] for p in PROBES["probes"]])
def test_probe(probe: dict[str, Any], corpora: dict[str, list[VisitEvent]]) -> None:
    _run(probe, corpora[probe["corpus"]])


def test_the_probes_cover_what_the_issue_asks() -> None:
    probes = PROBES["probes"]
    assert len(probes) >= 40
    assert {p["corpus"] for p in probes} == {"seeds", "ilacs", "mixed"}
    assert {p["call"] for p in probes} == {"lead", "before", "bucket"}
    questions = " ".join(p.get("question", "") for p in probes).casefold()
    assert all(word in questions for word in ("next", "last", "were"))
    assert any(p.get("council") is None and p["call"] == "lead" for p in probes)
