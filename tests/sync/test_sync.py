"""`sync` against a real HTTP server on 127.0.0.1 serving ModernGov-shaped XML and real PDF, DOCX and HTML papers."""

from __future__ import annotations

import datetime as dt
import io
import json
import time
import tomllib
from pathlib import Path

import pytest

from bot.answering import QueryError
from bot.services import Services
from bot.settings import Settings
from bot.cli import Cli, build_parser
from bot.sync_command import http_config
from index.errors import EngineError
from index.manifest import load_manifest
from index.sync.http import Fetcher
from index.sync.models import SyncRequest
from index.sync.moderngov import parse_date, parse_xml
from index.sync.state import sync_lock
from index.sync.syncer import run_sync
from tests.fakes import FakeEmbedder
from tests.filemakers import docx_bytes, pdf_bytes
from tests.sync.moderngov_site import Committee, Doc, Item, MeetingFixture, ServedFile, Site, SiteServer

COMMITTEE = 12
TITLE = "Children and Young People Scrutiny Committee"
SINCE, UNTIL = "2025-01-01", "2025-12-31"
HTML_TYPE = "text/html; charset=utf-8"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _pdf(*lines: str) -> bytes:
    return pdf_bytes([list(lines)])


def standard_site() -> Site:
    """One committee: a meeting with inline minutes, one with papers only, one cancelled, one outside the window."""
    site = Site()
    committee = site.committees.setdefault(COMMITTEE, Committee(COMMITTEE, TITLE))
    held = MeetingFixture(101, dt.date(2025, 1, 15), minutes_published=True, items=[
        Item("45", "Apologies for absence", "<p>Apologies were received from Councillor Smith.</p>"),
        Item("46", "Ofsted monitoring visit", "<p>The Committee noted the findings of the monitoring visit of "
             "3 December 2024 on children in care.</p><ul><li>Caseloads had fallen.</li></ul>"),
        Item("47", "Exempt item: placement costs", "<p>Confidential placement costs were discussed.</p>",
             restricted=True),
    ])
    site.add_paper(COMMITTEE, held, held.items[1], "Monitoring visit report", "/documents/s1/Report.pdf",
                   ServedFile(_pdf("Monitoring visit report", "1. Inspectors found caseloads had fallen.")))
    site.add_paper(COMMITTEE, held, held.items[1], "Appendix 1 - action plan", "/documents/s2/Appendix.docx",
                   ServedFile(docx_bytes(["Action plan", "1. Recruit permanent social workers."]), DOCX_TYPE))
    site.add_paper(COMMITTEE, held, held.items[2], "Placement costs", "/documents/s3/Exempt.pdf",
                   ServedFile(_pdf("Exempt")))
    papers = MeetingFixture(102, dt.date(2025, 3, 12), items=[Item("1", "Improvement plan progress")])
    site.add_paper(COMMITTEE, papers, papers.items[0], "Improvement plan update", "/documents/s4/Update.html",
                   ServedFile(b"<html><body><main><h1>Improvement plan update</h1><p>2.1 Practice has improved "
                              b"in the front door.</p></main></body></html>", HTML_TYPE))
    site.add_paper(COMMITTEE, papers, papers.items[0], "DRAFT minutes of the previous meeting",
                   "/documents/s5/Draft.pdf", ServedFile(_pdf("Draft minutes", "1. The minutes were agreed.")))
    site.add_paper(COMMITTEE, papers, papers.items[0], "Legal advice", "/documents/s6/Legal.pdf",
                   ServedFile(_pdf("Legal advice")), restricted=True)
    cancelled = MeetingFixture(103, dt.date(2025, 5, 1), status="Cancelled", items=[Item("1", "Budget")])
    site.add_paper(COMMITTEE, cancelled, cancelled.items[0], "Budget report", "/documents/s7/Budget.pdf",
                   ServedFile(_pdf("Budget report")))
    old = MeetingFixture(90, dt.date(2023, 6, 1), items=[Item("1", "Old business")])
    site.add_paper(COMMITTEE, old, old.items[0], "Old report", "/documents/s8/Old.pdf", ServedFile(_pdf("Old")))
    committee.meetings += [held, papers, cancelled, old]
    return site


@pytest.fixture
def served():
    with SiteServer(standard_site()) as server:
        yield server.site


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    return folder


def _settings(corpus: Path, tmp_path: Path, **extra: object) -> Settings:
    limits = dict(sync_timeout_seconds=0.5, sync_retries=1, sync_backoff_seconds=0.01, sync_max_bytes=2_000_000,
                  sync_download_seconds=5)
    return Settings(corpus_dir=corpus, index_dir=tmp_path / "index", model=FakeEmbedder.name,
                    feedback_db=tmp_path / "feedback.sqlite", _env_file=None, **{**limits, **extra})


def _cli(services: Services, *argv: str) -> tuple[int, str, str]:
    """Run `sync` exactly as `python -m bot sync ...` parses it; returns status, stdout, stderr."""
    args = build_parser().parse_args(["sync", *argv])
    out, err = io.StringIO(), io.StringIO()
    status = Cli(services, out, err).sync(args)
    return status, out.getvalue(), err.getvalue()


def _sync(settings: Settings, base_url: str, committees: tuple[int, ...] = (COMMITTEE,), **extra: object):
    request = SyncRequest(base_url=base_url, committees=list(committees), since=dt.date.fromisoformat(SINCE),
                          until=dt.date.fromisoformat(UNTIL), **extra)
    with Fetcher(http_config(settings)) as fetcher:
        return run_sync(request, fetcher, settings.corpus_dir, settings.max_file_bytes)


def _paper_hits(site: Site) -> dict[str, int]:
    return {path: site.hits[path] for path in site.files}


def test_dry_run_then_sync_then_warm_sync_indexes_once(served: Site, corpus: Path, tmp_path: Path):
    services = Services(_settings(corpus, tmp_path), FakeEmbedder())
    flags = ("--moderngov", served.base_url, "--committee", str(COMMITTEE), "--since", SINCE, "--until", UNTIL)

    status, out, err = _cli(services, *flags, "--dry-run", "--json")
    dry = json.loads(out)
    assert status == 0 and err == ""
    assert sorted(paper["title"] for paper in dry["added"]) == [
        f"{TITLE}: minutes of the meeting on 15 January 2025",
        "Improvement plan progress: DRAFT minutes of the previous meeting",
        "Improvement plan progress: Improvement plan update",
        "Ofsted monitoring visit: Appendix 1 - action plan",
        "Ofsted monitoring visit: Monitoring visit report",
    ]
    assert dry["indexed"] is False and dry["unchanged"] == 0 and dry["failed"] == []
    assert list(corpus.iterdir()) == [] and sum(_paper_hits(served).values()) == 0

    status, out, err = _cli(services, *flags, "--json")
    report = json.loads(out)
    assert status == 0, err
    assert out.count("\n") == 1 and report["indexed"] is True and report["failed"] == []
    assert {paper["title"] for paper in report["added"]} == {paper["title"] for paper in dry["added"]}
    assert all(set(paper) == {"source", "title", "date", "committee", "url"} for paper in report["added"])
    # restricted items and papers, the cancelled meeting and the meeting outside the window are never fetched
    assert served.hits["/documents/s3/Exempt.pdf"] == served.hits["/documents/s6/Legal.pdf"] == 0
    assert served.hits["GetMeeting:103"] == 0 and served.hits["/documents/s7/Budget.pdf"] == 0
    assert served.hits["GetMeeting:90"] == 0
    assert list(served.user_agents) == [Settings.model_fields["sync_user_agent"].default]
    assert "improvement-bot" in Settings.model_fields["sync_user_agent"].default
    manifest = load_manifest(corpus)
    assert manifest.errors == []
    entries = {entry.title: entry for entry in manifest.entries.values()}
    report_entry = entries["Ofsted monitoring visit: Monitoring visit report"]
    assert (report_entry.body, report_entry.date, report_entry.type) == (TITLE, dt.date(2025, 1, 15), "report")
    assert report_entry.url == served.base_url + "/documents/s1/Report.pdf" and report_entry.file.endswith(".pdf")
    assert entries["Improvement plan progress: DRAFT minutes of the previous meeting"].draft is True
    assert entries["Improvement plan progress: DRAFT minutes of the previous meeting"].type == "minutes"
    assert not report_entry.draft
    assert entries["Ofsted monitoring visit: Appendix 1 - action plan"].file.endswith(".docx")
    assert entries["Improvement plan progress: Improvement plan update"].file.endswith(".html")
    minutes = entries[f"{TITLE}: minutes of the meeting on 15 January 2025"]
    assert minutes.type == "minutes" and minutes.url.endswith("ieListDocuments.aspx?CId=12&MId=101")
    # the index holds them all, with the manifest's metadata; the minutes keep the meeting's order and numbers
    store = services.store
    indexed = {meta.title: meta for meta in store.documents()}
    assert set(indexed) == set(entries)
    text = store.load_document(minutes.file).text
    assert text.index("45. Apologies for absence") < text.index("46. Ofsted monitoring visit")
    assert "Caseloads had fallen." in text and "Exempt item" not in text and "Confidential" not in text

    fetched = _paper_hits(served)
    status, out, err = _cli(services, *flags, "--json")
    warm = json.loads(out)
    assert (status, warm) == (0, {"added": [], "unchanged": 5, "failed": [], "indexed": False})
    assert _paper_hits(served) == fetched  # nothing fetched twice

    # the council republishes a paper: fetched again, replaced in place and re-indexed
    doc = next(d for m in served.committees[COMMITTEE].meetings for i in m.items for d in i.docs
               if d.path == "/documents/s1/Report.pdf")
    doc.published = "20/03/2025 10:00:00"
    served.files[doc.path] = ServedFile(_pdf("Monitoring visit report", "1. Inspectors found caseloads had risen."))
    status, out, err = _cli(services, *flags, "--dry-run")
    assert "would add: 2025-01-15" in out and "(new version)" in out and "1 would add, 4 unchanged" in out
    status, out, err = _cli(services, *flags)
    assert status == 0, err
    assert "(new version)" in out and "1 added, 4 unchanged, 0 failed" in out and "index updated" in out
    assert "caseloads had risen" in services.store.load_document(report_entry.file).text
    assert len(list(corpus.rglob("*.pdf"))) == 2


def test_failures_are_one_line_each_and_the_rest_lands(served: Site, corpus: Path, tmp_path: Path):
    settings = _settings(corpus, tmp_path)
    meeting = served.committees[COMMITTEE].meetings[1]
    item = meeting.items[0]
    good = _pdf("Good paper", "1. Nothing wrong here.")
    whole = _pdf("Cut paper", "1. " + "The text runs on. " * 200)
    bad = {
        "/slow.pdf": (ServedFile(good, delay=2.0), "timed out"),
        "/error.pdf": (ServedFile(status=500), "HTTP 500"),
        "/missing.pdf": (ServedFile(status=404), "HTTP 404"),
        "/cut.pdf": (ServedFile(whole[: len(whole) // 2]), "truncated or corrupt"),
        "/huge.pdf": (ServedFile(stream_bytes=200_000_000), "over the 2,000,000-byte limit"),
        "/huge-unannounced.pdf": (ServedFile(stream_bytes=200_000_000, announce_length=False), "byte limit"),
        "/loop.pdf": (ServedFile(redirect_to="/loop.pdf"), "redirect loop"),
        "/to-file.pdf": (ServedFile(redirect_to="file:///etc/passwd"), "redirected to an address that is not http(s)"),
        "/sheet.xlsx": (ServedFile(b"PK\x03\x04 not a word file", "application/vnd.ms-excel"), "not a format"),
    }
    for path, (served_file, _) in bad.items():
        served.add_paper(COMMITTEE, meeting, item, f"Paper at {path}", path, served_file)
    item.docs.append(Doc(title="Local file", path="", url="file:///etc/passwd"))
    served.raw_xml["GetMeeting:101"] = b"<meeting><meetingid>101</meeting>"  # malformed
    served.committees[13] = Committee(13, "Corporate Parenting Board", [MeetingFixture(201, dt.date(2025, 2, 1))])
    served.raw_xml["GetMeeting:201"] = (b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaaaaaaaa">'
                                        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><meeting>&b;</meeting>')
    served.xml_status["GetMeetings:14"] = 500

    started = time.monotonic()
    report = _sync(settings, served.base_url, committees=(COMMITTEE, 13, 14))
    elapsed = time.monotonic() - started

    errors = {failure.url.removeprefix(served.base_url): failure.error for failure in report.failed}
    for path, (_, reason) in bad.items():
        assert reason in errors[path], errors[path]
        assert f'"Improvement plan progress: Paper at {path}"' in errors[path]
    assert "not an http(s) address" in errors["file:///etc/passwd"]
    assert "malformed XML" in errors["/mgWebService.asmx/GetMeeting?lMeetingId=101"]
    assert "entity-expansion" in errors["/mgWebService.asmx/GetMeeting?lMeetingId=201"]
    assert "HTTP 500" in errors["/mgWebService.asmx/GetMeetings?lCommitteeId=14&sFromDate=01%2F01%2F2025&sToDate=31%2F12%2F2025"]
    assert all("\n" not in error for error in errors.values())
    # the good papers of the readable meeting still landed
    assert {paper.title for paper in report.added} == {"Improvement plan progress: Improvement plan update",
                                                        "Improvement plan progress: DRAFT minutes of the previous meeting"}
    assert all((corpus / paper.source).is_file() for paper in report.added)
    assert served.hits["/error.pdf"] == 2  # one retry, as set
    assert served.hits["/huge.pdf"] == 1 and served.bytes_sent["/huge-unannounced.pdf"] < 30_000_000
    assert served.bytes_sent["/huge.pdf"] < 30_000_000
    assert elapsed < 15
    assert not list((corpus / ".sync" / "incoming").iterdir())
    assert not [path for path in corpus.rglob("*") if "cut" in path.name or "slow" in path.name]

    # the server recovers: the next sync retries exactly what failed, and fetches nothing twice
    served.files["/error.pdf"] = ServedFile(_pdf("Recovered paper", "1. Served at last."))
    served.files["/slow.pdf"] = ServedFile(good)
    del served.raw_xml["GetMeeting:101"]
    before = served.hits["/documents/s4/Update.html"]
    report = _sync(settings, served.base_url, committees=(COMMITTEE,))
    landed = {paper.url.removeprefix(served.base_url) for paper in report.added}
    assert {"/error.pdf", "/slow.pdf", "/documents/s1/Report.pdf"} <= landed
    assert served.hits["/documents/s4/Update.html"] == before


def test_a_broken_new_version_never_replaces_the_good_file(served: Site, corpus: Path, tmp_path: Path):
    settings = _settings(corpus, tmp_path)
    first = _sync(settings, served.base_url)
    report_paper = next(p for p in first.added if p.url.endswith("/documents/s1/Report.pdf"))
    good = (corpus / report_paper.source).read_bytes()
    doc = served.committees[COMMITTEE].meetings[0].items[1].docs[0]
    doc.published = "21/03/2025 08:00:00"
    whole = _pdf("Monitoring visit report", "1. " + "A longer second version. " * 200)
    served.files[doc.path] = ServedFile(whole[: len(whole) // 2])

    broken = _sync(settings, served.base_url)
    assert [f.url for f in broken.failed] == [report_paper.url]
    assert "truncated or corrupt" in broken.failed[0].error and broken.added == []
    assert (corpus / report_paper.source).read_bytes() == good

    served.files[doc.path] = ServedFile(whole)  # the council fixes it: tried again, and now it lands
    fixed = _sync(settings, served.base_url)
    assert [p.source for p in fixed.added] == fixed.changed == [report_paper.source]
    assert (corpus / report_paper.source).read_bytes() == whole


def test_same_bytes_are_held_once_and_a_lost_state_refetches_without_copies(served: Site, corpus: Path,
                                                                            tmp_path: Path):
    settings = _settings(corpus, tmp_path)
    meeting = served.committees[COMMITTEE].meetings[1]
    copy = served.files["/documents/s4/Update.html"]
    served.add_paper(COMMITTEE, meeting, meeting.items[0], "Update (copy)", "/documents/s9/Copy.html", copy)
    first = _sync(settings, served.base_url)
    assert len(first.added) == 5 and first.unchanged == 1  # the copy is recognised by its content
    files = sorted(p for p in corpus.rglob("*") if p.is_file() and ".sync" not in p.parts)

    (corpus / ".sync" / "state.json").unlink()
    again = _sync(settings, served.base_url)
    assert again.added == [] and again.unchanged == 6 and again.failed == []
    assert sorted(p for p in corpus.rglob("*") if p.is_file() and ".sync" not in p.parts) == files
    assert len(load_manifest(corpus).entries) == 5


def test_cancelled_meeting_keeps_what_was_held_and_staff_entries_win(served: Site, corpus: Path, tmp_path: Path):
    settings = _settings(corpus, tmp_path)
    first = _sync(settings, served.base_url)
    update = next(p for p in first.added if p.url.endswith("Update.html"))
    hand = '# staff notes stay\n[[document]]\nfile = "%s"\ntitle = "Corrected title"\ntype = "report"\n' % update.source
    (corpus / "manifest.toml").write_text(hand, encoding="utf-8")
    served.committees[COMMITTEE].meetings[1].status = "Cancelled"

    later = _sync(settings, served.base_url)
    assert served.hits["GetMeeting:102"] == 1 and later.failed == []
    assert any(line.startswith("meeting 102 on 2025-03-12") for line in later.cancelled)
    assert (corpus / update.source).is_file()  # already published: kept
    assert (corpus / "manifest.toml").read_text(encoding="utf-8") == hand
    assert load_manifest(corpus).entries[update.source].title == "Corrected title"
    synced = tomllib.loads((corpus / "manifest.sync.toml").read_text(encoding="utf-8"))
    assert update.source in {entry["file"] for entry in synced["document"]}


@pytest.mark.parametrize(("argv", "message"), [
    (("--committee", "12"), "no ModernGov site: pass --moderngov BASE_URL"),
    (("--moderngov", "ftp://example.org", "--committee", "12"), "not an http(s) address"),
    (("--moderngov", "http://127.0.0.1:9"), "no committee: pass --committee ID"),
    (("--moderngov", "http://127.0.0.1:9", "--committee", "12", "--since", "2025-05-01", "--until", "2025-01-01"),
     "is after --until"),
    (("--moderngov", "http://127.0.0.1:9", "--committee", "12", "--since", "1 May"), "is not a date"),
])
def test_bad_options_are_one_line(argv: tuple[str, ...], message: str, corpus: Path, tmp_path: Path):
    services = Services(_settings(corpus, tmp_path), FakeEmbedder())
    with pytest.raises((EngineError, QueryError)) as raised:
        _cli(services, *argv)
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_sources_toml_gives_the_defaults(served: Site, corpus: Path, tmp_path: Path):
    (corpus / "sources.toml").write_text(
        f'[moderngov]\nbase_url = "{served.base_url}"\ncommittees = [{COMMITTEE}]\ncouncil = "Example City Council"\n'
        "days = 36500\n", encoding="utf-8")
    services = Services(_settings(corpus, tmp_path), FakeEmbedder())
    status, out, _ = _cli(services, "--dry-run")
    assert status == 0 and "6 would add, 0 unchanged" in out and "nothing written" in out  # the 2023 meeting too
    assert not (corpus / ".sync").exists()
    (corpus / "sources.toml").write_text("[moderngov]\ncommittees = ['twelve']\n", encoding="utf-8")
    with pytest.raises(EngineError, match=r"sources.toml: field 'moderngov.committees.0'"):
        _cli(services, "--dry-run")


def test_one_sync_at_a_time_and_an_unindexed_sync_is_indexed_next_time(served: Site, corpus: Path, tmp_path: Path):
    settings = _settings(corpus, tmp_path)
    with sync_lock(corpus):
        with pytest.raises(EngineError, match="another sync is running"):
            _sync(settings, served.base_url)
    assert _sync(settings, served.base_url).added  # landed, but not indexed (as if the indexing was killed)

    services = Services(settings, FakeEmbedder())
    flags = ("--moderngov", served.base_url, "--committee", str(COMMITTEE), "--since", SINCE, "--until", UNTIL)
    status, out, _ = _cli(services, *flags, "--json")
    assert json.loads(out) == {"added": [], "unchanged": 5, "failed": [], "indexed": True}
    assert len(services.store.documents()) == 5
    assert json.loads(_cli(services, *flags, "--json")[1])["indexed"] is False


def test_moderngov_xml_variants():
    root = parse_xml(b'<x:meeting xmlns:x="urn:a"><x:meetingdate>2025-03-12T00:00:00</x:meetingdate></x:meeting>',
                     "GetMeeting", "u")
    assert root.tag == "meeting" and root[0].tag == "meetingdate"
    assert parse_date("12/03/2025 14:00:00") == dt.date(2025, 3, 12) == parse_date("2025-03-12T00:00:00")
    assert parse_date("31/02/2025") is None and parse_date("soon") is None and parse_date(None) is None


def test_meetings_outside_the_window_are_skipped_even_when_listed(served: Site, corpus: Path, tmp_path: Path):
    served.raw_xml[f"GetMeetings:{COMMITTEE}"] = served.get_meetings_xml(COMMITTEE, dt.date(2000, 1, 1),
                                                                         dt.date(2100, 1, 1))
    report = _sync(_settings(corpus, tmp_path), served.base_url)
    assert served.hits["GetMeeting:90"] == 0 and len(report.added) == 5
