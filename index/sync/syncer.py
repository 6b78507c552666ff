"""One sync: list the committees' meetings, read each meeting, fetch the papers not yet held, land them.

Nothing is indexed here (the caller runs the same incremental indexing `index` does). Every failure, of a
call or of one paper, becomes one line in `report.failed` and the rest of the sync goes on; a failed paper
is not recorded as held, so the next sync tries it again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tqdm import tqdm

from index.errors import DocumentError
from index.hashing import sha256_file
from index.sync.http import Download, FetchError, Fetcher
from index.sync.minutes import minuted_items, minutes_html, minutes_title
from index.sync.models import (AddedPaper, FailedPaper, LinkedDoc, Meeting, Paper, SyncReport, SyncRequest,
                               is_cancelled)
from index.sync.moderngov import ModernGov, ModernGovError, meeting_page
from index.sync.papers import (Holdings, LandingError, checked, clear_incoming, file_suffix, incoming_file,
                               move_into_corpus, predicted_source, slug, target_source, write_incoming)
from index.sync.state import HeldPaper, SyncState, load_state, save_state, sync_lock, write_manifest

_DRAFT = re.compile(r"\bdraft\b", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def run_sync(request: SyncRequest, fetcher: Fetcher, corpus: Path, max_file_bytes: int,
             progress: bool = False) -> SyncReport:
    """Bring the corpus up to date with the committees' papers between the request's dates (one sync at a time)."""
    if not corpus.is_dir():
        raise DocumentError(corpus, "corpus folder not found", "create it or pass --corpus DIR")
    if request.dry_run:
        return _sync(request, fetcher, corpus, max_file_bytes, progress)
    with sync_lock(corpus):
        return _sync(request, fetcher, corpus, max_file_bytes, progress)


def _sync(request: SyncRequest, fetcher: Fetcher, corpus: Path, max_file_bytes: int, progress: bool) -> SyncReport:
    state = load_state(corpus)
    report = SyncReport(dry_run=request.dry_run)
    papers = _papers(ModernGov(fetcher, request.base_url), request, report, progress)
    todo = [paper for paper in papers if not _still_held(paper, state, corpus, report)]
    if request.dry_run:
        for paper in todo:
            held = state.papers.get(paper.url)
            source = held.source if held and (corpus / held.source).is_file() else predicted_source(paper)
            report.added.append(_added(paper, source))
            if held is not None:
                report.changed.append(source)
    elif todo:
        _land_all(todo, fetcher, corpus, max_file_bytes, state, report, progress)
    return report


def _papers(site: ModernGov, request: SyncRequest, report: SyncReport, progress: bool) -> list[Paper]:
    """Every public paper of every meeting in the window, once per address, in meeting order."""
    found: dict[str, Paper] = {}
    for committee_id in request.committees:
        try:
            committee_title, meetings = site.meetings(committee_id, request.since, request.until)
        except ModernGovError as error:
            report.failed.append(FailedPaper(url=error.url, error=str(error)))
            continue
        in_window = [m for m in meetings if m.date is None or request.since <= m.date <= request.until]
        ordered = sorted(in_window, key=lambda m: (m.date or dt.date.min, m.meeting_id))
        for summary in tqdm(ordered, desc=f"committee {committee_id} meetings", unit="meeting", disable=not progress):
            if is_cancelled(summary.status):
                _not_taking_place(report, summary.meeting_id, summary.date, summary.status)
                continue
            try:
                meeting = site.meeting(summary.meeting_id, committee_id, committee_title)
            except ModernGovError as error:
                report.failed.append(FailedPaper(url=error.url, error=str(error)))
                continue
            if is_cancelled(meeting.status):  # the listing was out of date
                _not_taking_place(report, meeting.meeting_id, meeting.date, meeting.status)
                continue
            for paper in _meeting_papers(site.base_url, meeting, request.council, report):
                found.setdefault(paper.url, paper)
    return list(found.values())


def _not_taking_place(report: SyncReport, meeting_id: int, date: dt.date | None, status: str) -> None:
    report.cancelled.append(f"meeting {meeting_id} on {date or 'an unknown date'} ({status})")


def _meeting_papers(base_url: str, meeting: Meeting, council: str | None, report: SyncReport) -> list[Paper]:
    folder = f"moderngov/{slug(_host(base_url), 60)}/committee-{meeting.committee_id}"
    day = meeting.date.isoformat() if meeting.date else "undated"
    papers = []
    for item in meeting.items:
        for doc in item.docs:
            if doc.restricted:
                report.restricted += 1
                continue
            title = _paper_title(doc, item.title)
            stem = f"{day}_m{meeting.meeting_id}_{slug(title)}_{hashlib.sha1(doc.url.encode()).hexdigest()[:8]}"
            papers.append(Paper(url=doc.url, title=title, committee=meeting.committee_title, council=council,
                                date=meeting.date, doc_type=_doc_type(title), meeting_id=meeting.meeting_id,
                                folder=folder, stem=stem, published=doc.published, draft=bool(_DRAFT.search(title))))
    report.restricted += sum(1 for item in meeting.items if item.restricted and item.minutes_html)
    items = minuted_items(meeting)
    if items:
        title = minutes_title(meeting.committee_title, meeting.date)
        papers.append(Paper(url=meeting_page(base_url, meeting.committee_id, meeting.meeting_id), title=title,
                            committee=meeting.committee_title, council=council, date=meeting.date,
                            doc_type="minutes", meeting_id=meeting.meeting_id, folder=folder,
                            stem=f"{day}_m{meeting.meeting_id}_minutes", content=minutes_html(meeting, items),
                            draft=any(_DRAFT.search(item.title) for item in items)))
    return papers


def _paper_title(doc: LinkedDoc, item_title: str) -> str:
    """The paper's title, with its agenda item's when the paper's own ('Appendix 1') does not say what it is."""
    own = _CONTROL.sub(" ", doc.title).strip()
    item = _CONTROL.sub(" ", item_title).strip()
    if item and item.casefold() not in own.casefold():
        return f"{item}: {own}" if own else item
    return own or f"Paper {doc.attachment_id or ''}".strip()


def _doc_type(title: str) -> str:
    lowered = title.casefold()
    if "minutes" in lowered:
        return "minutes"
    if "letter" in lowered:
        return "letter"
    return "other" if "agenda" in lowered else "report"


def _host(url: str) -> str:
    return url.split("://", 1)[-1].split("/", 1)[0]


def _still_held(paper: Paper, state: SyncState, corpus: Path, report: SyncReport) -> bool:
    """Held, its file present, and not republished: no need to fetch it (inline minutes: same text)."""
    held = state.papers.get(paper.url)
    if held is None or not (corpus / held.source).is_file():
        return False
    same = (held.sha256 == hashlib.sha256(paper.content).hexdigest() if paper.content is not None
            else held.published == paper.published)
    if same:
        report.unchanged += 1
    return same


def _land_all(todo: list[Paper], fetcher: Fetcher, corpus: Path, max_file_bytes: int, state: SyncState,
              report: SyncReport, progress: bool) -> None:
    """Download side by side, land one by one in order; the state and manifest are saved however it ends."""
    clear_incoming(corpus)
    holdings = Holdings(corpus, state.papers)
    bar = tqdm(total=len(todo), desc="papers", unit="paper", disable=not progress)
    pool = ThreadPoolExecutor(max_workers=fetcher.config.workers)
    try:
        futures = [(paper, pool.submit(_fetch, fetcher, corpus, paper)) for paper in todo]
        for paper, future in futures:
            try:
                _land(paper, future.result(), corpus, max_file_bytes, state, holdings, report)
            except (FetchError, LandingError) as error:
                report.failed.append(FailedPaper(url=paper.url, error=f"{_name(paper)}: {error}"))
            except OSError as error:  # e.g. the disk is full: this paper fails, the others may still fit
                report.failed.append(FailedPaper(url=paper.url, error=f"{_name(paper)}: could not be written "
                                                 f"({type(error).__name__}: {error.strerror or error})"))
            bar.update()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # on Ctrl-C, queued downloads never start
        bar.close()
        if report.added:
            state.pending_index = True
        save_state(corpus, state)
        write_manifest(corpus, state)
        clear_incoming(corpus)


def _fetch(fetcher: Fetcher, corpus: Path, paper: Paper) -> Download:
    """Download a paper into `.sync/incoming/`, or write there the one built here (inline minutes)."""
    if paper.content is None:
        return fetcher.download(paper.url, incoming_file(corpus))
    path = write_incoming(corpus, paper.content)
    return Download(path=path, sha256=sha256_file(path), size=len(paper.content), content_type="text/html",
                    final_url=paper.url)


def _land(paper: Paper, download: Download, corpus: Path, max_file_bytes: int, state: SyncState,
          holdings: Holdings, report: SyncReport) -> None:
    held = state.papers.get(paper.url)
    if held is not None and held.sha256 == download.sha256 and (corpus / held.source).is_file():
        download.path.unlink(missing_ok=True)
        state.papers[paper.url] = held.model_copy(update={"published": paper.published})
        report.unchanged += 1
        return
    suffix = file_suffix(download.path, download.content_type, download.final_url)
    source = target_source(paper, suffix)
    existing = holdings.source_with(download.sha256)
    if existing is not None:  # these bytes are in the corpus already: here (a lost state) or under another name
        download.path.unlink(missing_ok=True)
        state.papers[paper.url] = _held(paper, existing, download.sha256, primary=existing == source)
        report.unchanged += 1
        return
    ready = checked(download.path, suffix, source, max_file_bytes)
    move_into_corpus(corpus, ready, source, replaces=held.source if held else None)
    holdings.add(download.sha256, source)
    state.papers[paper.url] = _held(paper, source, download.sha256, primary=True)
    report.added.append(_added(paper, source))
    if held is not None:
        report.changed.append(source)


def _held(paper: Paper, source: str, sha256: str, primary: bool) -> HeldPaper:
    return HeldPaper(url=paper.url, source=source, sha256=sha256, published=paper.published, title=paper.title,
                     committee=paper.committee, council=paper.council, date=paper.date, doc_type=paper.doc_type,
                     draft=paper.draft, primary=primary)


def _added(paper: Paper, source: str) -> AddedPaper:
    return AddedPaper(source=source, title=paper.title, date=paper.date.isoformat() if paper.date else None,
                      committee=paper.committee, url=paper.url)


def _name(paper: Paper) -> str:
    return f'"{paper.title}" ({paper.committee}, {paper.date or "undated"})'
