"""A ModernGov site on 127.0.0.1 for tests and the sync benchmark: the web service's XML and the papers it links.

The site is data (committees, meetings, agenda items, files) rendered to ModernGov-shaped XML on every request,
so a test can change it between syncs: republish a paper, cancel a meeting, fix a failing server. Files can
misbehave on purpose: answer slowly, fail with a status, redirect in a loop, or stream a huge body.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

NAMESPACE = "http://moderngov.co.uk/namespaces"


@dataclass
class ServedFile:
    """A paper at a path: its bytes, or a misbehaviour."""

    data: bytes = b""
    content_type: str = "application/pdf"
    status: int = 200
    delay: float = 0.0  # seconds before answering (a timeout, when longer than the client waits)
    redirect_to: str | None = None  # a path: redirecting to itself is a loop
    stream_bytes: int = 0  # send this many filler bytes instead of `data`
    announce_length: bool = True  # with stream_bytes: send Content-Length, or a close-delimited body


@dataclass
class Doc:
    title: str
    path: str
    published: str = "01/03/2025 09:00:00"
    restricted: bool = False
    attachment_id: int = 0
    url: str | None = None  # an address elsewhere instead of this site's `path`


@dataclass
class Item:
    number: str
    title: str
    minutes_html: str = ""
    restricted: bool = False
    docs: list[Doc] = field(default_factory=list)


@dataclass
class MeetingFixture:
    meeting_id: int
    date: dt.date
    status: str = "Meeting held"
    minutes_published: bool = False
    items: list[Item] = field(default_factory=list)


@dataclass
class Committee:
    committee_id: int
    title: str
    meetings: list[MeetingFixture] = field(default_factory=list)


class Site:
    """Everything the server answers, plus what it saw (request counts, bytes sent)."""

    def __init__(self) -> None:
        self.committees: dict[int, Committee] = {}
        self.files: dict[str, ServedFile] = {}
        self.raw_xml: dict[str, bytes] = {}  # "GetMeeting:7" / "GetMeetings:12" -> body served instead
        self.xml_status: dict[str, int] = {}  # same keys -> an HTTP error status instead
        self.hits: Counter[str] = Counter()
        self.user_agents: Counter[str] = Counter()
        self.bytes_sent: Counter[str] = Counter()
        self.base_url = ""
        self._lock = threading.Lock()

    def hit(self, key: str) -> None:
        with self._lock:
            self.hits[key] += 1

    def saw_agent(self, agent: str) -> None:
        with self._lock:
            self.user_agents[agent] += 1

    def sent(self, key: str, size: int) -> None:
        with self._lock:
            self.bytes_sent[key] += size

    def add_paper(self, committee_id: int, meeting: MeetingFixture, item: Item, title: str, path: str,
                  served: ServedFile, **doc: object) -> Doc:
        """Link a file from an agenda item and serve it."""
        attachment = Doc(title=title, path=path, attachment_id=len(self.files) + 1, **doc)
        item.docs.append(attachment)
        self.files[path] = served
        return attachment

    def meeting(self, meeting_id: int) -> tuple[Committee, MeetingFixture] | None:
        for committee in self.committees.values():
            for meeting in committee.meetings:
                if meeting.meeting_id == meeting_id:
                    return committee, meeting
        return None

    def get_meetings_xml(self, committee_id: int, since: dt.date, until: dt.date) -> bytes:
        committee = self.committees.get(committee_id)
        rows = "".join(
            f"<meeting><meetingid>{m.meeting_id}</meetingid><meetingdate>{m.date:%d/%m/%Y}</meetingdate>"
            f"<meetingtime>14:00</meetingtime><meetingstatus>{escape(m.status)}</meetingstatus></meeting>"
            for m in (committee.meetings if committee else []) if since <= m.date <= until
        )
        title = f"<committeetitle>{escape(committee.title)}</committeetitle>" if committee else ""
        return (f'<?xml version="1.0" encoding="utf-8"?>\n<getmeetings xmlns="{NAMESPACE}"><committee>'
                f"<committeeid>{committee_id}</committeeid>{title}<committeemeetings>{rows}</committeemeetings>"
                "</committee></getmeetings>").encode("utf-8")

    def get_meeting_xml(self, committee: Committee, meeting: MeetingFixture) -> bytes:
        items = "".join(self._item_xml(item, n) for n, item in enumerate(meeting.items, start=1))
        return (f'<?xml version="1.0" encoding="utf-8"?>\n<meeting xmlns="{NAMESPACE}">'
                f"<meetingid>{meeting.meeting_id}</meetingid><committeeid>{committee.committee_id}</committeeid>"
                f"<committeetitle>{escape(committee.title)}</committeetitle>"
                f"<meetingdate>{meeting.date:%d/%m/%Y}</meetingdate><meetingtime>14:00</meetingtime>"
                f"<meetingstatus>{escape(meeting.status)}</meetingstatus><agendapublished>True</agendapublished>"
                f"<minutepublished>{meeting.minutes_published}</minutepublished>"
                f"<agendaitems>{items}</agendaitems></meeting>").encode("utf-8")

    def _item_xml(self, item: Item, ordinal: int) -> str:
        docs = "".join(
            f"<linkeddoc><attachmentid>{doc.attachment_id}</attachmentid><title>{escape(doc.title)}</title>"
            f"<url>{escape(doc.url or self.base_url + doc.path)}</url><isrestricted>{doc.restricted}</isrestricted>"
            f"<publicationdate>{escape(doc.published)}</publicationdate></linkeddoc>"
            for doc in item.docs
        )
        return (f"<agendaitem><agendaitemid>{ordinal}</agendaitemid><agendaitemnumber>{ordinal}</agendaitemnumber>"
                f"<minutesitemnumber>{escape(item.number)}</minutesitemnumber>"
                f"<agendaitemtitle>{escape(item.title)}</agendaitemtitle><isrestricted>{item.restricted}</isrestricted>"
                f"<minutesnonemptyhtmlbody>{escape(item.minutes_html)}</minutesnonemptyhtmlbody>"
                f"<linkeddocuments>{docs}</linkeddocuments></agendaitem>")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go in two writes: without this each answer waits ~40 ms
    site: Site

    def log_message(self, *_: object) -> None:
        """Quiet: tests read the counters instead."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.site.saw_agent(self.headers.get("User-Agent", ""))
        parts = urlsplit(self.path)
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        if parts.path.startswith("/mgWebService.asmx/"):
            self._service(parts.path.rsplit("/", 1)[1], query)
        elif parts.path in self.site.files:
            self._file(parts.path, self.site.files[parts.path])
        else:
            self.site.hit(parts.path)
            self._send(404, b"not found", "text/plain")

    def _service(self, call: str, query: dict[str, str]) -> None:
        key = f"{call}:{query.get('lCommitteeId') or query.get('lMeetingId')}"
        self.site.hit(key)
        if key in self.site.xml_status:
            return self._send(self.site.xml_status[key], b"error", "text/plain")
        if key in self.site.raw_xml:
            return self._send(200, self.site.raw_xml[key], "text/xml; charset=utf-8")
        if call == "GetMeetings":
            since, until = (dt.datetime.strptime(query[name], "%d/%m/%Y").date() for name in ("sFromDate", "sToDate"))
            return self._send(200, self.site.get_meetings_xml(int(query["lCommitteeId"]), since, until), "text/xml")
        found = self.site.meeting(int(query.get("lMeetingId", "0"))) if call == "GetMeeting" else None
        if found is None:
            return self._send(404, b"no such meeting", "text/plain")
        self._send(200, self.site.get_meeting_xml(*found), "text/xml; charset=utf-8")

    def _file(self, path: str, served: ServedFile) -> None:
        self.site.hit(path)
        if served.delay:
            time.sleep(served.delay)
        if served.redirect_to is not None:
            self.send_response(302)
            self.send_header("Location", served.redirect_to)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if served.stream_bytes:
            return self._stream(path, served)
        self._send(served.status, served.data if served.status == 200 else b"error", served.content_type)

    def _stream(self, path: str, served: ServedFile) -> None:
        """A huge body written in blocks; the count shows how much the client let through before it hung up."""
        self.send_response(200)
        self.send_header("Content-Type", served.content_type)
        if served.announce_length:
            self.send_header("Content-Length", str(served.stream_bytes))
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        block = b"%PDF-1.4\n" + b"0" * (65536 - 9)
        try:
            left = served.stream_bytes
            while left > 0:
                chunk = block[:left]
                self.wfile.write(chunk)
                self.site.sent(path, len(chunk))
                left -= len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """A client hanging up mid-answer is what the timeout and size-cap tests do on purpose."""


class SiteServer:
    """The site served on 127.0.0.1 from a thread, on a free port."""

    def __init__(self, site: Site):
        handler = type("Handler", (_Handler,), {"site": site})
        self.server = _QuietServer(("127.0.0.1", 0), handler)
        self.site = site
        site.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="moderngov-site", daemon=True)

    def __enter__(self) -> SiteServer:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()
