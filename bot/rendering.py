"""The one place that turns answers, documents and passages into text for people.

Every adapter (command line, console, Discord) and the answering core show dates, sources and citations
through these functions, so a source reads the same wherever it appears: the council first, then the
committee or body, the document, its date as precisely as the evidence allows, and where in it.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Callable

from index.errors import IndexUnavailable
from index.models import DatePrecision, DocumentMeta

if TYPE_CHECKING:
    from bot.answering import Answer, Citation
    from bot.gaps import Gap
    from bot.watches import Watch
    from bot.progress import AreaProgress, Comparison, Evidence, InspectionRef, ProgressReport
    from index.glossary import GlossaryEntry
    from index.indexer import IndexReport

DocumentLookup = Callable[[str], DocumentMeta]

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
SEPARATOR = " · "


def format_date(day: dt.date, precision: DatePrecision = "day") -> str:
    """'15 Jan 2025', 'Jan 2025' or '2025', the same on every platform and locale (no strftime '%-d')."""
    if precision == "year":
        return str(day.year)
    month = f"{_MONTHS[day.month - 1]} {day.year}"
    return month if precision == "month" else f"{day.day} {month}"


def display_date(meta: DocumentMeta) -> str | None:
    """The document's date as precisely as the evidence allows: '15 Jan 2025', 'Dec 2023' or '2024'."""
    return format_date(meta.date, meta.date_precision) if meta.date else None


def iso_date(meta: DocumentMeta) -> str | None:
    """The document's date for machines (JSON output)."""
    return meta.date.isoformat() if meta.date else None


def joined(*parts: str | None) -> str:
    """The parts that are there, with ' · ' between them."""
    return SEPARATOR.join(part for part in parts if part)


def source_line(meta: DocumentMeta, location: str = "") -> str:
    """'Nottingham City Council · Children and Young People Scrutiny Committee · Ofsted monitoring visit ·
    15 Jan 2025 · para 3.1': the council first, and the document's date; parts missing are left out."""
    return joined(meta.council, meta.body if meta.body != meta.council else None, meta.title,
                  display_date(meta), location)


def citation_line(n: int, meta: DocumentMeta, location: str, chunk_id: str | None = None) -> str:
    """'[2] <source line> · id 1a2b3c4d5e6f': one numbered source, as listed under an answer."""
    return f"[{n}] {joined(source_line(meta, location), f'id {chunk_id}' if chunk_id else None)}"


def quote_line(n: int, quote: str) -> str:
    """'“…” [2]': a verbatim quotation and the number of its source; ' …' marks one that stops mid-sentence."""
    return f"“{quote}{'' if ends_sentence(quote) else ' …'}” [{n}]"


_SENTENCE_ENDS = tuple(".!?:;\"”’')")


def ends_sentence(quote: str) -> bool:
    return quote.rstrip().endswith(_SENTENCE_ENDS)


def quotes_text(answer: Answer, document: DocumentLookup) -> str:
    """The lead (if any), then each quotation with its number: what a person reads before the sources."""
    quotes = "\n".join(_as_at(c, document) + quote_line(c.n, c.quote) for c in answer.citations)
    return "\n\n".join(block for block in (answer.lead, quotes) if block)


def _as_at(citation: Citation, document: DocumentLookup) -> str:
    """'On [1], a later document (Jan 2025) says: ' before a quote that updates an older one on the same point."""
    if citation.later_than is None:
        return ""
    when = display_date(document(citation.doc_id))
    return f"On [{citation.later_than}], a later document{f' ({when})' if when else ''} says: "


def render_answer(answer: Answer, document: DocumentLookup) -> str:
    """The full answer text: lead, quotations with [n], then 'Sources:' with one line per citation."""
    if not answer.citations:
        return answer.lead or ""
    sources = "\n".join(citation_line(c.n, document(c.doc_id), c.location) for c in answer.citations)
    return f"{quotes_text(answer, document)}\n\nSources:\n{sources}"


NO_FIGURE = "The documents speak of this, but none of the passages that do gives a figure, so I will not guess one."


def not_covered(topics: list[str], unmentioned: list[str] = ()) -> str:
    """The plain refusal when no passage is relevant enough, with the nearest topics the documents do cover;
    `unmentioned` names terms of the question that no document uses ('SEND (special educational needs…)')."""
    lines = ["The documents I have do not answer this, so I will not guess."]
    if unmentioned:
        lines.insert(0, f"None of the documents mentions {' or '.join(unmentioned)}.")
    if topics:
        lines.append("The nearest topics they do cover: " + "; ".join(topics) + ".")
    return "\n".join(lines)


def index_summary(report: IndexReport) -> str:
    """What an index run did: '1 added, 2 changed, 0 removed, 5 unchanged; 40 passages embedded'."""
    return (f"{len(report.added)} added, {len(report.changed)} changed, {len(report.removed)} removed, "
            f"{report.unchanged} unchanged; {report.embedded} passages embedded")


def document_line(meta: DocumentMeta, passages: int) -> str:
    """One document in a list: 'Bury Council · Cabinet · 12 Mar 2024 · minutes · 40 passages · bury.txt'."""
    return joined(meta.council, meta.body, display_date(meta) or "undated", meta.doc_type, f"{passages} passages",
                  meta.source, "metadata inferred from the text" if meta.inferred else None, stale_note(meta))


def stale_note(meta: DocumentMeta) -> str | None:
    """'OLDER VERSION served since 29 Nov 2026: the new file cannot be read (empty file)' for a broken update."""
    if meta.stale_since is None:
        return None
    return (f"OLDER VERSION served since {format_date(meta.stale_since, 'day')}: the new file cannot be read "
            f"({meta.stale_reason or 'unknown problem'})")


def term_line(entry: GlossaryEntry) -> str:
    """'CLA — child looked after': an acronym and what it stands for (the term alone when it is no acronym)."""
    return f"{entry.headword} — {entry.expansion}" if entry.expansion else entry.headword


def unknown_term(term: str, suggestions: list[str]) -> str:
    """The one line for a term the glossary lacks, with the nearest headwords it has."""
    near = f" Did you mean {', '.join(suggestions)}?" if suggestions else " Try an acronym such as CLA or IRO."
    return f"'{term}' is not in the glossary.{near}"


Sections = list[tuple[str, list[str]]]  # titled blocks of lines, which adapters page without cutting a line


def _ref_line(ref: InspectionRef, document: DocumentLookup) -> str:
    return joined(ref.title, display_date(document(ref.doc_id)) or "undated")


def progress_title(report: ProgressReport, document: DocumentLookup) -> str:
    """'Progress since: Bradford · Inspection of children's social care services · Jul 2018'."""
    return f"Progress since: {joined(report.council, _ref_line(report.inspection, document))}"


def area_line(area: AreaProgress) -> str:
    """'“The quality of …” (outcome 4) · para 12 · id 1a2b…': an area quoted from its report."""
    context = f" ({area.context})" if area.context else ""
    where = joined(area.source.location, f"id {area.source.chunk_id}" if area.source.chunk_id else None)
    return f"“{area.text}”{context}{f' · {where}' if where else ''}"


def evidence_line(evidence: Evidence, document: DocumentLookup) -> str:
    """'12 Mar 2024 · Monitoring visit letter · para 3 · id 1a2b…: “…”': later evidence, dated and quoted."""
    meta = document(evidence.doc_id)
    return (f"{joined(display_date(meta) or 'undated', meta.title, evidence.location, f'id {evidence.chunk_id}')}: "
            f"“{evidence.quote}”")


def progress_sections(report: ProgressReport, numbered: list[tuple[int, AreaProgress]],
                      document: DocumentLookup) -> Sections:
    """One section per area: the area quoted, then each later passage on it oldest first, or the plain line that
    no later document speaks to it."""
    since = display_date(document(report.inspection.doc_id)) or "the inspection"
    return [(f"Area {n}", [area_line(area), *([evidence_line(e, document) for e in area.evidence]
                                              or [no_evidence_line(since)])]) for n, area in numbered]


def areas_line(inspection: DocumentMeta, numbers: list[int]) -> str:
    """'looked at areas 2 and 5 of the 29 Oct 2018 inspection (/progress)': a visit tied to what Ofsted asked for."""
    listed = " and ".join([", ".join(map(str, numbers[:-1])), str(numbers[-1])] if len(numbers) > 1 else [str(numbers[0])])
    return (f"looked at area{'s' if len(numbers) > 1 else ''} {listed} of the {display_date(inspection)} inspection "
            f"(/progress)")


def error_text(error: BaseException) -> str:
    """An engine error as people read it: where the engine says the index must be built or rebuilt, the command that
    does it is added here (the engine names no command of ours)."""
    if isinstance(error, IndexUnavailable):
        command = "python -m bot index" + (" --rebuild" if error.rebuild else "")
        return f"{error} (`{command}`, or /reindex in Discord)"
    return str(error)


def no_evidence_line(since: str) -> str:
    """What an area that no later document speaks to says: 'no later evidence in the documents since 21 May 2026'."""
    return f"no later evidence in the documents since {since}"


def comparison_title(comparison: Comparison, document: DocumentLookup) -> str:
    """'Compared: Bradford · Inspection … · Jul 2018 → Inspection … · Mar 2023'."""
    earlier, later = _ref_line(comparison.earlier, document), _ref_line(comparison.later, document)
    return f"Compared: {joined(comparison.council, earlier)} → {later}"


def comparison_sections(comparison: Comparison, document: DocumentLookup) -> Sections:
    """One section per area of the earlier document: what it said, then what the later one says (or that nothing
    in it speaks to the area clearly)."""
    earlier, later = _ref_line(comparison.earlier, document), _ref_line(comparison.later, document)
    sections = []
    for n, theme in enumerate(comparison.themes, start=1):
        if theme.later is None:
            now = f"{later}: nothing in this document speaks to it clearly"
        else:
            now = f"{later} · {joined(theme.later.location, f'id {theme.later.chunk_id}')}: “{theme.later.quote}”"
        sections.append((f"Area {n}", [f"{earlier}: {area_line(theme.area)}", now]))
    return sections


def watch_line(watch: Watch) -> str:
    """'3. agency social workers · since 12 Mar 2025': one watch, numbered as /unwatch takes it."""
    return f"{watch.watch_id}. {watch.topic} · since {format_date(watch.created.date())}"


def new_paper_line(meta: DocumentMeta, chunk_id: str | None) -> str:
    """'Cabinet · Minutes of Cabinet, 12 Mar 2025 · 12 Mar 2025 · /quote 1a2b…': a paper a sync brought in."""
    return joined(meta.body, meta.title, display_date(meta) or "undated", f"/quote {chunk_id}" if chunk_id else None)


def gap_lines(gap: Gap, shown: int = 5) -> list[str]:
    """The questions of one gap, newest first, each marked declined or not helpful; the rest counted."""
    lines = [f"“{q.question}” ({q.why}, {format_date(q.at.date())})" for q in gap.questions[:shown]]
    if len(gap.questions) > shown:
        lines.append(f"…and {len(gap.questions) - shown} more")
    return lines
