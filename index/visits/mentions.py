"""Mentions of inspections and visits, read sentence by sentence within whatever chunk they come in.

A mention is one telling: its kind, ordinal, date phrase, status (from tense and wording, and from
whether its dates lie before or after the document's date), focus, and the sentence it stands in.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar

from index.models import Chunk, DocumentMeta
from index.visits.dates import DateContext, Span, Tense, find_spans
from index.visits.frontmatter import front_matter
from index.visits.models import Kind, Status
from index.sentences import sentences
from index.visits.text import clauses

_HEAD = re.compile(
    r"\b(?:"
    r"(?P<jtai>joint\s+targeted\s+area\s+inspections?|JTAIs?)"
    r"|(?P<focused_visit>focused\s+visits?)"
    r"|(?P<monitoring_visit>monitoring\s+visits?)"
    r"|(?P<full_inspection>(?:full|standard|short)\s+(?:ILACS\s+)?inspections?"
    r"|inspections?\s+of\s+local\s+authority\s+children[’']s\s+services(?:\s*\(ILACS\))?|ILACS(?:\s+inspections?)?"
    r"|(?:rated|judged)(?=[^.;]*?\b(?:children[’']s\s+services|authority|council)\b[^.;]*?"
    r"\b(?:inadequate|requires\s+improvement|good|outstanding)\b))"
    r"|(?P<improvement_review>(?:DfE|Department\s+for\s+Education|improvement\s+board|six[-\s]monthly|annual)\s+reviews?"
    r"|reviews?\s+by\s+the\s+(?:DfE|Department\s+for\s+Education)|stocktakes?)"
    r"|(?P<other>(?:area\s+)?SEND\s+inspections?|peer\s+reviews?)"
    r"|(?P<inspection>inspections?)"
    r"|(?P<visit>visits?|(?<=\bthe\snext\s)one)"
    r")(?!\w)(?![’'\"]?\s*(?:framework|team|reports?|regime|findings|visits?|judgements?|act|handbook|programme|grades?|dates?|letters?)\b)",
    re.IGNORECASE,
)
_NOT_OFSTED_VISIT = re.compile(r"(?:home|statutory|social|family|school|return|direct|site|practice)\s+$", re.I)
# 'a visit by her social worker'; 'IROs visit children' (a verb)
_NOT_OFSTED_AFTER = re.compile(
    r"\s+(?:(?:by|from)\s+(?:(?:a|the|their|her|his)\s+)?(?:social|personal|family|health)"
    r"|(?:(?:their|the|a|an|his|her)\s+)?(?:children|child|famil(?:y|ies)|young|person|them|him|her|homes?|carers?|parents?)\b)",
    re.I,
)
_SERVICE_INSPECTED = re.compile(
    r"\b(?:adoption|fostering|children[’']s\s+homes?|residential|short\s+breaks|schools?|nurser(?:y|ies)|colleges?"
    r"|providers?|youth\s+offending|thematic|secure)\b",
    re.I,
)
_RECENT_SENTENCES = 2
_INSPECTION_CONTEXT = re.compile(r"\b(?:Ofsted|inspectors?|DfE|Department\s+for\s+Education)\b", re.I)
_PLURAL_HEAD = re.compile(r"\b(?:visits|inspections|reviews|stocktakes|JTAIs)\b", re.I)
_ORDINALS = {w: n for n, w in enumerate(
    "first second third fourth fifth sixth seventh eighth ninth tenth".split(), start=1)}
_ORDINALS |= {f"{n}{s}": n for n, s in zip(range(1, 11), ["st", "nd", "rd"] + ["th"] * 7)}
_COUNTS = re.compile(r"^(?:\d{1,2}(?:[-–]\d{1,2})?|two|three|four|five|six|seven|eight|nine|ten|several|few|both)$")
_DETERMINERS = frozenset({"the", "this", "that", "these", "those", "their", "its", "our", "a", "an", "another", "any"})
_DEFINITE = frozenset({"the", "this", "that", "these", "those", "their", "its", "our"})
_ELLIPSIS = re.compile(
    r"\bthe\s+(?P<ord>first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth)\b"
    r"(?!\s+(?:[\w’'-]+\s+){0,2}?(?:visits?|inspections?|half|quarter|time|phase|week|day|year|of)\b)",
    re.IGNORECASE,
)
_BLOCKED = re.compile(r"\b(?:not|no|never|nor|without|allows?\s+for|if|unless|whether)\b|n[’']t\b", re.I)
# 'the letter dated 5 June 2024', 'published on 29 August 2023': when a document was written, not a visit
_CORRESPONDENCE_DATE = re.compile(
    r"\b(?:dated|(?:letters?|reports?|correspondence)\s+of|published(?:\s+(?:on|in))?|issued(?:\s+(?:on|in))?"
    r"|sent(?:\s+(?:on|in))?|received(?:\s+(?:on|in))?)\s+$",
    re.I,
)
_EARLIER = frozenset({"last", "previous", "prior", "preceding", "earlier", "former"})
_PUBLICATION = re.compile(
    r"\b(?:reports?|letters?)\b.*\b(?:publish\w*|available|circulated|sent)\b|\bpublish\w*\b.*\b(?:reports?|letters?)\b", re.I
)
_CUES: tuple[tuple[Status, re.Pattern[str]], ...] = (
    ("anticipated", re.compile(r"\b(?:anticipat\w*|expect\w*|likely|would|predict\w*|probabl\w*|might|could)\b", re.I)),
    ("planned", re.compile(
        r"\b(?:will|shall|plan(?:s|ned)?\s+(?:to|for)|planned|scheduled|intends?|intended|next|upcoming|forthcoming|going\s+to"
        r"|due\s+(?:in|on|to\s+(?:take|be|happen|start|begin)))\b", re.I)),
    ("took_place", re.compile(
        r"\b(?:took\s+place|undert(?:ook|aken)|carried\s+out|was|were|had|has\s+been|have\s+been|visited|found"
        r"|findings|focused|reviewed|concluded|noted|deemed|latest|last|recent(?:ly)?|following|previous(?:ly)?)\b", re.I)),
)
_FOCUS = re.compile(r"\b(?:reviewed|focus(?:ed|es|ing)?\s+on|look(?:ed|ing)\s+at)\s+(?P<focus>.+)", re.I | re.S)
_FOCUS_LEAD = re.compile(r"^the\s+support\s+(?:to|for|given\s+to|provided\s+to)\s+", re.I)
_NOT_A_FOCUS = re.compile(r"(?:where|when|that|how|whether|at|in|by|as|to|if)\b", re.I)  # 'cases are reviewed where ...'
_TRAILING_PREPOSITION = re.compile(r"\s+(?:in|on|during|from|at|by|between)$", re.I)
_FOCUS_END = re.compile(r"\s+which\b|;|,\s+(?:and|but|is|was|are|were|which)\b|\s+\(|\.(?:\s|$)", re.I)

T = TypeVar("T")


@dataclass(frozen=True)
class Where:
    """The sentence a mention stands in; `seq` numbers sentences through the document so neighbours join.

    `written` is the earliest day the document can have been written, as its date and its text prove; a
    front-matter line that became the passage's heading is quoted from the heading (`in_heading`).
    """

    meta: DocumentMeta
    doc_rank: int
    chunk: Chunk
    seq: int
    begin: int
    end: int
    written: dt.date | None = None
    in_heading: bool = False

    @property
    def quote_source(self) -> str:
        return (self.chunk.heading or "") if self.in_heading else self.chunk.text


@dataclass(frozen=True)
class Mention:
    """One telling of an event in one sentence."""

    kind: Kind
    ordinal: int | None
    status: Status | None
    span: Span | None
    focus: str | None
    plural: bool
    anaphoric: bool  # 'the visit', 'this inspection': points back at an event already told
    fresh: bool  # 'the next one', 'a further visit': a new event after those already told
    where: Where
    earlier: bool = False  # 'the last inspection', 'the previous visit': before the one the document reports
    front: bool = False  # the document's own event, from its front matter

    @property
    def can_start(self) -> bool:
        """Enough to stand as an event of its own; otherwise it can only add a quote to one."""
        return self.span is not None or self.ordinal is not None or self.status is not None


@dataclass
class _KindMemory:
    """The kind last talked about in a document, which bare 'the visit' and 'the next one' refer to,
    and in which sentence, since a bare 'visit' far from any inspection talk is a social worker's."""

    last: Kind | None = None
    last_visit: Kind | None = None
    seen_at: int = -10
    sentence: int = 0

    def note(self, kind: Kind) -> None:
        self.last = kind
        self.seen_at = self.sentence
        if kind.endswith("_visit"):
            self.last_visit = kind

    @property
    def recent(self) -> bool:
        return self.sentence - self.seen_at <= _RECENT_SENTENCES


@dataclass(frozen=True)
class _Trigger:
    pos: tuple[int, int]
    kind: Kind
    ordinal: int | None
    plural: bool
    anaphoric: bool
    fresh: bool
    earlier: bool = False


def _determiner(prefix: str) -> tuple[str | None, list[str]]:
    """The nearest determiner before a noun and the words between, e.g. ('their', ['sixth'])."""
    words = [w.casefold().strip("(,") for w in prefix.split()[-5:]]
    for i in range(len(words) - 1, -1, -1):
        if words[i] in _DETERMINERS:
            return words[i], words[i + 1 :]
    return None, words[-2:]


def _service_beside(before: str, after: str) -> bool:
    """'the fostering inspection', 'the inspection of the adoption service': the service is named just
    before the word or in the 'of …' that follows it, not anywhere in the clause."""
    near_before = " ".join(before.split()[-3:])
    of_phrase = re.match(r"\s+of\s+(?:[\w’'-]+\W+){0,5}", after)
    return bool(_SERVICE_INSPECTED.search(near_before) or (of_phrase and _SERVICE_INSPECTED.search(of_phrase.group())))


def _kind_of(head: re.Match[str], before: str, after: str, definite: bool, memory: _KindMemory) -> Kind:
    """Named kinds as named; a bare inspection is the full one unless a single service was inspected;
    a bare visit is the kind last talked about."""
    group = head.lastgroup or "visit"
    if group == "inspection":
        return "other" if _service_beside(before, after) else "full_inspection"
    if group != "visit":
        return group  # type: ignore[return-value]
    if head.group().casefold() == "one" or definite:
        return memory.last or "monitoring_visit"
    return memory.last_visit or "monitoring_visit"


def _is_ofsted_visit(sentence: str, head: re.Match[str], memory: _KindMemory) -> bool:
    """A bare 'visit' counts only near inspection talk and not as a social worker's home visit."""
    if head.lastgroup != "visit":
        return True
    if _NOT_OFSTED_VISIT.search(sentence[: head.start()]) or _NOT_OFSTED_AFTER.match(sentence, head.end()):
        return False
    return memory.recent or bool(_INSPECTION_CONTEXT.search(sentence))


def _clause_of(pos: int, clause_at: list[tuple[int, int]]) -> int:
    return next(i for i, (a, b) in enumerate(clause_at) if a <= pos < b)


def _triggers(sentence: str, clause_at: list[tuple[int, int]], memory: _KindMemory) -> list[_Trigger]:
    """Every telling of an inspection or visit in the sentence, in order of position."""
    found: list[_Trigger] = []
    for head in _HEAD.finditer(sentence):
        clause_start, clause_end = clause_at[_clause_of(head.start(), clause_at)]
        det, mods = _determiner(sentence[clause_start : head.start()])
        ordinal = next((_ORDINALS[w] for w in mods if w in _ORDINALS), None)
        if not _is_ofsted_visit(sentence, head, memory):
            continue
        fresh = "next" in mods or "further" in mods or det == "another"
        definite = det in _DEFINITE and not fresh and ordinal is None
        plural = bool(_PLURAL_HEAD.search(head.group())) or any(_COUNTS.match(w) for w in mods)
        kind = _kind_of(head, sentence[clause_start : head.start()], sentence[head.end() : clause_end], definite, memory)
        memory.note(kind)
        found.append(_Trigger(head.span(), kind, ordinal, plural, definite, fresh, bool(_EARLIER & set(mods))))
    return sorted(found + _ellipses(sentence, found), key=lambda t: t.pos)


def _ellipses(sentence: str, found: list[_Trigger]) -> list[_Trigger]:
    """'The first visit was in February 2023, and the second in July': 'the second' is a visit too."""
    counted = [t for t in found if t.ordinal is not None]
    extra: list[_Trigger] = []
    for m in _ELLIPSIS.finditer(sentence):
        before = [t for t in counted if t.pos[1] <= m.start()]
        if before:
            extra.append(_Trigger(m.span(), before[-1].kind, _ORDINALS[m["ord"].casefold()], False, False, False))
    return extra


def _cues(sentence: str, clause_at: list[tuple[int, int]]) -> list[Status | None]:
    """Status wording per clause; a clause with none ('and the second in July') takes the one before."""
    out: list[Status | None] = []
    for a, b in clause_at:
        text = sentence[a:b]
        own = None if _PUBLICATION.search(text) else next((s for s, p in _CUES if p.search(text)), None)
        out.append(own or (out[-1] if out else None))
    return out


def _tense(cue: Status | None) -> Tense:
    return "future" if cue in ("planned", "anticipated") else "past"


def _relation(span: Span | None, ctx: DateContext) -> str | None:
    """Whether the dates lie wholly before the document, wholly after it, or around its date."""
    if span is None or ctx.anchor is None or (span.start is None and span.end is None):
        return None
    if span.end is not None and span.end < ctx.anchor:
        return "before"
    if span.start is not None and ctx.period_end is not None and span.start > ctx.period_end:
        return "after"
    return "around"


def _status(span: Span | None, cue: Status | None, ctx: DateContext) -> Status | None:
    """Dates wholly before the document took place whatever the wording; wording decides the rest."""
    relation = _relation(span, ctx)
    if relation == "before":
        return "took_place"
    if relation == "after":
        return cue if cue in ("planned", "anticipated") else "anticipated"
    return cue or ("took_place" if relation == "around" else None)


def _focuses(sentence: str, clause_at: list[tuple[int, int]], spans: list[Span]) -> list[tuple[int, str]]:
    """'focused on X', 'with a focus on X', 'reviewed the support to X': X, cut at the end of its clause
    or where a date begins ('focusing on care leavers in February 2024')."""
    out: list[tuple[int, str]] = []
    for a, b in clause_at:
        m = _FOCUS.search(sentence, a, b)
        if m:
            stop = min([s.pos[0] for s in spans if s.pos[0] > m.start("focus")] + [b])
            text = _FOCUS_LEAD.sub("", sentence[m.start("focus") : stop])
            cut = _FOCUS_END.search(text)
            text = _TRAILING_PREPOSITION.sub("", " ".join((text[: cut.start()] if cut else text).split())).strip(" ,;:.*")
            if text and not _NOT_A_FOCUS.match(text):
                out.append((m.start(), text))
    return out


def _nearest(pos: int, triggers: list[_Trigger], clause_at: list[tuple[int, int]]) -> int | None:
    """Index of the trigger a date or focus at `pos` belongs to: the nearest one before it in its clause, else after."""
    a, b = clause_at[_clause_of(pos, clause_at)]
    inside = [(i, t) for i, t in enumerate(triggers) if a <= t.pos[0] < b]
    before = [i for i, t in inside if t.pos[0] < pos]
    after = [i for i, t in inside if t.pos[0] >= pos]
    return before[-1] if before else (after[0] if after else None)


def _attach(items: Iterable[tuple[int, T]], triggers: list[_Trigger], clause_at: list[tuple[int, int]]) -> dict[int, T]:
    """Trigger index -> the first item (date or focus) that belongs to it."""
    owned: dict[int, T] = {}
    for pos, item in items:
        owner = _nearest(pos, triggers, clause_at)
        if owner is not None:
            owned.setdefault(owner, item)
    return owned


def _sentence_mentions(sentence: str, where: Where, ctx: DateContext, memory: _KindMemory) -> list[Mention]:
    clause_at = clauses(sentence)
    triggers = _triggers(sentence, clause_at, memory)
    if not triggers:
        return []
    cues = _cues(sentence, clause_at)
    found = [s for s in find_spans(sentence, ctx, lambda p: _tense(cues[_clause_of(p, clause_at)]))
             if not _CORRESPONDENCE_DATE.search(sentence, 0, s.pos[0])]
    spans = _attach(((s.pos[0], s) for s in found), triggers, clause_at)
    focuses = _attach(_focuses(sentence, clause_at, found), triggers, clause_at)
    out: list[Mention] = []
    for i, t in enumerate(triggers):
        n = _clause_of(t.pos[0], clause_at)
        a, b = clause_at[n]
        if _BLOCKED.search(sentence, a, t.pos[0]):
            continue
        span = None if _PUBLICATION.search(sentence, a, b) else spans.get(i)
        if t.plural and span is None:
            continue
        status = _status(span, cues[n], ctx)
        out.append(Mention(t.kind, t.ordinal, status, span, focuses.get(i), t.plural, t.anaphoric, t.fresh, where,
                           earlier=t.earlier))
    return out


def _front_mention(meta: DocumentMeta, chunks: list[Chunk], doc_rank: int, written: dt.date | None) -> list[Mention]:
    """The report's own event, dated by its front matter; numbered before every sentence so it quotes alone."""
    front = front_matter(meta, chunks)
    if front is None:
        return []
    where = Where(meta, doc_rank, front.chunk, -2, front.begin, front.end, written, front.in_heading)
    ahead = written is not None and front.span.start is not None and front.span.start > written
    status: Status = "planned" if ahead else "took_place"  # a notice of dates to come, not a report
    return [Mention(front.kind, None, status, front.span, None, False, False, False, where, front=True)]


def _read(meta: DocumentMeta, chunks: list[Chunk], doc_rank: int, ctx: DateContext) -> list[Mention]:
    memory = _KindMemory()
    out: list[Mention] = _front_mention(meta, chunks, doc_rank, ctx.anchor)
    seq = 0
    for chunk in sorted(chunks, key=lambda c: c.ordinal):
        for begin, end in sentences(chunk.text):
            where = Where(meta, doc_rank, chunk, seq, begin, end, ctx.anchor)
            memory.sentence = seq
            out.extend(_sentence_mentions(chunk.text[begin:end], where, ctx, memory))
            seq += 1
    return out


def _proven_anchor(ctx: DateContext, mentions: list[Mention]) -> dt.date | None:
    """A document dated only to its month or year is later than every event it reports as past."""
    if ctx.anchor is None or ctx.precision == "day":
        return ctx.anchor
    after_reported = [m.span.end + dt.timedelta(days=1) for m in mentions if m.status == "took_place" and m.span and m.span.end]
    return min(max([ctx.anchor, *after_reported]), ctx.period_end or dt.date.max)


def document_mentions(meta: DocumentMeta, chunks: list[Chunk], doc_rank: int) -> list[Mention]:
    """Mentions in document order; read twice when the text proves the document later than its stated date."""
    ctx = DateContext(meta.date, meta.date_precision)
    mentions = _read(meta, chunks, doc_rank, ctx)
    anchor = _proven_anchor(ctx, mentions)
    if anchor == ctx.anchor:
        return mentions
    return _read(meta, chunks, doc_rank, DateContext(anchor, ctx.precision))
