"""The ModernGov web service (`BASE/mgWebService.asmx/...`, plain GET returning XML) read into models.

XML goes through defusedxml with DTDs refused, so an entity-expansion bomb or an external entity is an error
naming the call, never memory or a file read. Field names follow ModernGov's own (`meetingstatus`,
`minutesnonemptyhtmlbody`, `linkeddoc`, ...); namespaces are ignored, as councils' installs differ.
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlencode
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as safe_xml
from defusedxml import DefusedXmlException

from index.sync.http import FetchError, Fetcher, check_url
from index.sync.models import AgendaItem, LinkedDoc, Meeting, MeetingSummary

_DATE = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})")
_ISO_DATE = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})")


class ModernGovError(Exception):
    """A web-service call that failed or answered with something unusable; the message is one line."""

    def __init__(self, message: str, url: str):
        super().__init__(message)
        self.url = url


def service_url(base_url: str, call: str, **params: object) -> str:
    return f"{base_url.rstrip('/')}/mgWebService.asmx/{call}?{urlencode(params)}"


def meeting_page(base_url: str, committee_id: int, meeting_id: int) -> str:
    """The public page of a meeting, which people can open: the source address of inline minutes."""
    return f"{base_url.rstrip('/')}/ieListDocuments.aspx?CId={committee_id}&MId={meeting_id}"


def uk_date(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


class ModernGov:
    """The calls the sync makes on one council's site."""

    def __init__(self, fetcher: Fetcher, base_url: str):
        check_url(base_url)
        self.fetcher = fetcher
        self.base_url = base_url.rstrip("/")

    def meetings(self, committee_id: int, since: dt.date, until: dt.date) -> tuple[str | None, list[MeetingSummary]]:
        """The committee's title (when given) and its meetings between the two dates."""
        url = service_url(self.base_url, "GetMeetings", lCommitteeId=committee_id, sFromDate=uk_date(since),
                          sToDate=uk_date(until))
        root = self._call(url, f"GetMeetings for committee {committee_id}")
        title = _text(_first(root, "committeetitle"))
        summaries = []
        for node in _all(root, "meeting"):
            meeting_id = _int(_text(_first(node, "meetingid")))
            if meeting_id is not None:
                summaries.append(MeetingSummary(meeting_id=meeting_id, date=parse_date(_text(_first(node, "meetingdate"))),
                                                status=_text(_first(node, "meetingstatus")) or ""))
        return title, summaries

    def meeting(self, meeting_id: int, committee_id: int, committee_title: str | None) -> Meeting:
        url = service_url(self.base_url, "GetMeeting", lMeetingId=meeting_id)
        root = self._call(url, f"GetMeeting for meeting {meeting_id}")
        node = _first(root, "meeting")
        if node is None:
            raise ModernGovError(f"GetMeeting for meeting {meeting_id}: no <meeting> in the answer", url)
        title = _text(_first(node, "committeetitle")) or committee_title or f"Committee {committee_id}"
        return Meeting(
            meeting_id=meeting_id, committee_id=committee_id, committee_title=title,
            date=parse_date(_text(_first(node, "meetingdate"))), status=_text(_first(node, "meetingstatus")) or "",
            minutes_published=_flag(node, "minutepublished"),
            items=[_agenda_item(item, self.base_url) for item in _all(node, "agendaitem")],
        )

    def _call(self, url: str, what: str) -> Element:
        try:
            data = self.fetcher.get_bytes(url)
        except FetchError as error:
            raise ModernGovError(f"{what}: {error}", url) from None
        return parse_xml(data, what, url)


def parse_xml(data: bytes, what: str, url: str) -> Element:
    """Parse safely and drop namespaces; any problem is one line naming the call."""
    try:
        root = safe_xml.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as error:
        raise ModernGovError(f"{what}: refused XML that declares a DTD or entities ({type(error).__name__}), "
                             "as an entity-expansion attack could", url) from None
    except ParseError as error:
        raise ModernGovError(f"{what}: malformed XML ({error})", url) from None
    for element in root.iter():
        if isinstance(element.tag, str) and "}" in element.tag:
            element.tag = element.tag.rsplit("}", 1)[1]
    return root


def parse_date(text: str | None) -> dt.date | None:
    """ModernGov writes dd/mm/yyyy (sometimes with a time); some installs write ISO dates."""
    if not text:
        return None
    for pattern, order in ((_DATE, (2, 1, 0)), (_ISO_DATE, (0, 1, 2))):
        match = pattern.match(text)
        if match:
            year, month, day = (int(match.group(i + 1)) for i in order)
            try:
                return dt.date(year, month, day)
            except ValueError:
                return None
    return None


def _agenda_item(node: Element, base_url: str) -> AgendaItem:
    restricted = _flag(node, "isrestricted")
    number = _text(_first(node, "minutesitemnumber")) or _text(_first(node, "agendaitemnumber"))
    docs = []
    for doc in _all(node, "linkeddoc"):
        url = _text(_first(doc, "url"))
        if url:
            docs.append(LinkedDoc(
                attachment_id=_text(_first(doc, "attachmentid")), title=_text(_first(doc, "title")) or "",
                url=_absolute(url, base_url), published=_text(_first(doc, "publicationdate")),
                restricted=restricted or _flag(doc, "isrestricted"),
            ))
    return AgendaItem(
        title=_text(_first(node, "agendaitemtitle")) or "", number=number, restricted=restricted,
        minutes_html=_text(_first(node, "minutesnonemptyhtmlbody")), docs=docs,
    )


def _absolute(url: str, base_url: str) -> str:
    """Some installs give site-relative links (`documents/s123/Report.pdf`)."""
    return url if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", url) else f"{base_url}/{url.lstrip('/')}"


def _first(node: Element, tag: str) -> Element | None:
    """The element itself or its first descendant with this tag."""
    return node.find(f".//{tag}") if node.tag != tag else node


def _all(node: Element, tag: str) -> list[Element]:
    return node.findall(f".//{tag}")


def _text(node: Element | None) -> str | None:
    if node is None or node.text is None:
        return None
    return node.text.strip() or None


def _flag(node: Element, tag: str) -> bool:
    child = node.find(tag)
    return (_text(child) or "").casefold() in {"true", "1", "yes"}


def _int(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() else None
