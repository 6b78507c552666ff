"""What crosses the sync's boundaries: HTTP limits, the request, ModernGov's meetings and papers, the report."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from index.models import DocType


class HttpConfig(BaseModel):
    """How politely and how defensively the sync talks to a council's web server."""

    user_agent: str
    timeout_seconds: float = Field(30.0, gt=0, description="connect / read / write timeout of one request")
    download_seconds: float = Field(300.0, gt=0, description="a whole download must finish within this")
    retries: int = Field(3, ge=0, description="extra tries after a timeout, a dropped connection or a 5xx")
    backoff_seconds: float = Field(1.0, ge=0, description="wait before the first retry; doubled each time")
    max_bytes: int = Field(20_000_000, ge=1, description="a download larger than this is abandoned")
    max_redirects: int = Field(5, ge=0)
    workers: int = Field(4, ge=1, le=16, description="papers downloaded at once")


class SyncRequest(BaseModel):
    """One sync: which ModernGov site, which committees, which meeting dates."""

    base_url: str
    committees: list[int] = Field(min_length=1)
    since: dt.date
    until: dt.date
    council: str | None = None
    dry_run: bool = False


class LinkedDoc(BaseModel):
    """An attachment of an agenda item (`linkeddoc`)."""

    attachment_id: str | None = None
    title: str
    url: str
    published: str | None = Field(None, description="`publicationdate` as the council gives it; a change means a new version")
    restricted: bool = False


class AgendaItem(BaseModel):
    """One agenda item with its inline minutes (HTML) and attachments."""

    title: str
    number: str | None = Field(None, description="the number the meeting gave the item in its minutes, else on the agenda")
    restricted: bool = False
    minutes_html: str | None = None
    docs: list[LinkedDoc] = []


def is_cancelled(status: str) -> bool:
    """A meeting that will not take place: its papers are not fetched (those already held are kept)."""
    return status.strip().casefold() in {"cancelled", "canceled", "withdrawn"}


class MeetingSummary(BaseModel):
    """A row of `GetMeetings`."""

    meeting_id: int
    date: dt.date | None = None
    status: str = ""


class Meeting(BaseModel):
    """What `GetMeeting` says about one meeting."""

    meeting_id: int
    committee_id: int
    committee_title: str
    date: dt.date | None = None
    status: str = ""
    minutes_published: bool = False
    items: list[AgendaItem] = []


class Paper(BaseModel):
    """A document the corpus should hold: a linked paper, or a meeting's inline minutes (with `content`)."""

    url: str
    title: str
    committee: str
    council: str | None = None
    date: dt.date | None
    doc_type: DocType
    meeting_id: int
    folder: str = Field(description="corpus sub-folder the file goes in")
    stem: str = Field(description="file name without its suffix")
    published: str | None = None
    draft: bool = False
    content: bytes | None = Field(None, description="the document itself when it is built here, not downloaded")


class AddedPaper(BaseModel):
    """One line of `added` in the JSON report."""

    source: str
    title: str
    date: str | None
    committee: str
    url: str


class FailedPaper(BaseModel):
    url: str
    error: str = Field(description="one line naming the paper and the reason")


class SyncReport(BaseModel):
    """The outcome; `to_json` is the exact shape scripts read."""

    added: list[AddedPaper] = []
    changed: list[str] = Field([], description="sources in `added` that replaced an older version")
    unchanged: int = 0
    failed: list[FailedPaper] = []
    restricted: int = Field(0, description="restricted items and papers left out, never fetched")
    cancelled: list[str] = Field([], description="meetings skipped because they were cancelled or withdrawn")
    dry_run: bool = False

    def to_json(self, indexed: bool) -> dict:
        return {"added": [paper.model_dump() for paper in self.added], "unchanged": self.unchanged,
                "failed": [failure.model_dump() for failure in self.failed], "indexed": indexed}
