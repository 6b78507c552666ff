"""Time `sync` of a fixture committee (40 meetings, 120 papers: PDF, DOCX, HTML) from a ModernGov site on 127.0.0.1,
cold (empty corpus and index) and then warm (nothing new), and check the failures leave nothing lost.

    .venv/bin/python -m benchmarks.sync_bench [--fake-embedder] [--out var/bench/sync.json]

The sync goes through the same code as `python -m bot sync --json` (argument parsing aside); indexing uses the
real model unless --fake-embedder. Timeouts are 2 s with one retry, so the failure round stays short.
Results print as JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import shutil
import time
from pathlib import Path

from benchmarks.common import BENCH, machine
from bot.services import Services
from bot.settings import Settings
from bot.cli import Cli, build_parser
from tests.filemakers import docx_bytes, pdf_bytes
from tests.sync.moderngov_site import Committee, Item, MeetingFixture, ServedFile, Site, SiteServer

COMMITTEE = 31
MEETINGS = 40
PAPERS_PER_MEETING = 3
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TOPICS = ("caseloads and recruitment of permanent social workers", "placement sufficiency for children in care",
          "the front door and multi-agency safeguarding hub", "care leavers' access to education and work",
          "quality assurance and audit of case files", "the Ofsted monitoring visit findings")


def _lines(meeting: int, paper: int) -> list[str]:
    topic = TOPICS[(meeting + paper) % len(TOPICS)]
    return [f"Report {paper + 1} to meeting {meeting + 1}: {topic}"] + [
        f"{n}. In month {meeting + 1} the service reported on {topic}; measure {n} stood at {meeting * 7 + n * 3}% "
        f"against a target of {60 + n}%, and the board asked for an update at its next meeting."
        for n in range(1, 31)
    ]


def fixture_site() -> Site:
    site = Site()
    committee = site.committees.setdefault(COMMITTEE, Committee(COMMITTEE, "Children's Services Improvement Board"))
    start = dt.date(2024, 1, 10)
    for m in range(MEETINGS):
        meeting = MeetingFixture(5000 + m, start + dt.timedelta(days=9 * m), items=[Item(str(m + 1), "Performance")])
        for p in range(PAPERS_PER_MEETING):
            lines = _lines(m, p)
            kind = p % 3
            if kind == 0:
                served, path = ServedFile(pdf_bytes([lines[:16], lines[16:]])), f"/documents/s{m}-{p}/Report.pdf"
            elif kind == 1:
                served, path = ServedFile(docx_bytes(lines), DOCX_TYPE), f"/documents/s{m}-{p}/Appendix.docx"
            else:
                body = "".join(f"<p>{line}</p>" for line in lines)
                served = ServedFile(f"<html><body><main>{body}</main></body></html>".encode(), "text/html")
                path = f"/documents/s{m}-{p}/Briefing.html"
            site.add_paper(COMMITTEE, meeting, meeting.items[0], f"Paper {p + 1}: {lines[0]}", path, served)
        committee.meetings.append(meeting)
    return site


def _run(services: Services, base_url: str) -> tuple[float, dict, float]:
    """One `sync --json`: wall seconds, its JSON, and the seconds spent indexing inside it."""
    spent = {"index": 0.0}
    reindex = services.reindex

    def timed_reindex(**kwargs):
        started = time.perf_counter()
        try:
            return reindex(**kwargs)
        finally:
            spent["index"] += time.perf_counter() - started

    services.reindex = timed_reindex  # type: ignore[method-assign]
    args = build_parser().parse_args(["sync", "--moderngov", base_url, "--committee", str(COMMITTEE), "--since", "2024-01-01",
                              "--until", "2025-12-31", "--json"])
    out, err = io.StringIO(), io.StringIO()
    started = time.perf_counter()
    Cli(services, out, err).sync(args)
    return time.perf_counter() - started, json.loads(out.getvalue()), spent["index"]


def _measured(services: Services, site: Site) -> dict:
    requests, downloads = sum(site.hits.values()), sum(site.hits[path] for path in site.files)
    seconds, report, indexing = _run(services, site.base_url)
    return {
        "seconds": round(seconds, 2), "indexing_seconds": round(indexing, 2),
        "fetch_and_land_seconds": round(seconds - indexing, 2), "added": len(report["added"]),
        "unchanged": report["unchanged"], "failed": len(report["failed"]), "indexed": report["indexed"],
        "requests": sum(site.hits.values()) - requests,
        "paper_downloads": sum(site.hits[path] for path in site.files) - downloads,
        "documents_in_index": len(services.store.documents()),
    }


def _failures(services: Services, site: Site, corpus: Path) -> dict:
    """A new meeting with one good paper and every kind of bad one, a republished paper that arrives truncated,
    and two meetings whose XML is malformed or an entity bomb: what failed, and whether anything was lost."""
    committee = site.committees[COMMITTEE]
    meeting = MeetingFixture(6000, dt.date(2025, 6, 1), items=[Item("1", "Failures")])
    good = pdf_bytes([_lines(99, 0)])
    bad = {
        "/fail/slow.pdf": ServedFile(good, delay=3.0), "/fail/error.pdf": ServedFile(status=500),
        "/fail/missing.pdf": ServedFile(status=404), "/fail/cut.pdf": ServedFile(good[: len(good) // 2]),
        "/fail/huge.pdf": ServedFile(stream_bytes=200_000_000),
        "/fail/huge-stream.pdf": ServedFile(stream_bytes=200_000_000, announce_length=False),
        "/fail/loop.pdf": ServedFile(redirect_to="/fail/loop.pdf"),
    }
    site.add_paper(COMMITTEE, meeting, meeting.items[0], "New good paper", "/fail/good.pdf", ServedFile(good))
    for path, served in bad.items():
        site.add_paper(COMMITTEE, meeting, meeting.items[0], f"Bad paper {path}", path, served)
    republished = committee.meetings[0].items[0].docs[0]
    republished.published = "01/06/2025 09:00:00"
    site.files[republished.path] = ServedFile(site.files[republished.path].data[:300])
    committee.meetings += [meeting, MeetingFixture(6001, dt.date(2025, 6, 2)), MeetingFixture(6002, dt.date(2025, 6, 3))]
    site.raw_xml["GetMeeting:6001"] = b"<meeting><meetingid>6001</meeting"
    site.raw_xml["GetMeeting:6002"] = (b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaaaaaaaa">'
                                       b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><meeting>&b;</meeting>')
    before = _papers(corpus)
    seconds, report, indexing = _run(services, site.base_url)
    after = _papers(corpus)
    return {
        "seconds": round(seconds, 2), "tried": len(bad) + 3, "failed": len(report["failed"]),
        "errors": [failure["error"] for failure in report["failed"]], "added": len(report["added"]),
        "papers_held_before": len(before), "papers_changed_or_lost": sum(after.get(p) != data for p, data in before.items()),
        "documents_in_index": len(services.store.documents()),
        "bytes_sent_of_200MB": {path: site.bytes_sent[path] for path in ("/fail/huge.pdf", "/fail/huge-stream.pdf")},
    }


def _papers(corpus: Path) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in (corpus / "moderngov").rglob("*") if path.is_file()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fake-embedder", action="store_true", help="hashed word pieces instead of the model")
    parser.add_argument("--out", type=Path, default=BENCH / "sync.json")
    options = parser.parse_args()
    work = BENCH / "sync"
    shutil.rmtree(work, ignore_errors=True)
    (work / "corpus").mkdir(parents=True)
    embedder = None
    settings = dict(corpus_dir=work / "corpus", index_dir=work / "index", feedback_db=work / "feedback.sqlite",
                    sync_timeout_seconds=2.0, sync_retries=1, sync_backoff_seconds=0.1, _env_file=None)
    if options.fake_embedder:
        from tests.fakes import FakeEmbedder

        embedder, settings["model"] = FakeEmbedder(), FakeEmbedder.name
    results: dict = {"machine": machine(), "meetings": MEETINGS, "papers": MEETINGS * PAPERS_PER_MEETING,
                     "embedder": "fake" if options.fake_embedder else "all-MiniLM-L6-v2"}
    with SiteServer(fixture_site()) as server:
        site = server.site
        services = Services(Settings(**settings), embedder)
        for label in ("cold", "warm"):
            results[label] = _measured(services, site)
        results["failures"] = _failures(services, site, work / "corpus")
    options.out.parent.mkdir(parents=True, exist_ok=True)
    options.out.write_text(json.dumps(results, indent=1))
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
