"""The answering core: verbatim quotes from the best passages with numbered citations, or a plain 'not covered'.

It never writes text of its own into a quotation: every quote is an exact slice of a stored passage.
Every adapter (command line, console, Discord) calls this and only renders what it returns.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from typing import TYPE_CHECKING, Callable

from pydantic import BaseModel

from bot.answer_kinds import asks_for_an_amount, figure_terms, states_an_amount
from bot.conversation import Context, carried_line, follow_up
from bot.grade_answers import asks_about_grade, grade_lead
from bot.rendering import (NO_FIGURE, display_date, ends_sentence, iso_date, no_evidence_line, not_covered,
                           render_answer)
from bot.timeline_answers import (asks_about_visits, asks_before_that, event_named, names_a_visit,
                                  nothing_on_the_timeline, timeline_lead,
                                  visit_before)
from index.lexical import analyse
from index.models import Chunk, DocumentMeta, SearchFilters, SearchHit, council_matches
from index.store import IndexStore, faiss_id
from index.glossary import GlossaryEntry
from index.query import QueryIntent
from index.sentences import sentences
from index.search import Searcher
from index.visits import Timeline, VisitEvent

if TYPE_CHECKING:
    from bot.progress import ProgressReport

TimelineSource = Callable[[dt.date, str | None], Timeline]
ProgressSource = Callable[[str, str | None], "ProgressReport"]  # (council, inspection year) -> the tracker's report

MAX_QUERY_CHARS = 1000
_MAX_CITATIONS = 3
_LEADING_BULLET = re.compile(r"^[-•◼▪●■*·–]\s+")
_LEADING_LABEL = re.compile(r"^(?:#+\s+|\*\*[^*\n]{1,60}\*\*:?\s*)")  # '## ' or '**Progress:** ' before the words
_CLOSE_TO_BEST = 0.25
_ABOUT_PROGRESS = re.compile(r"\b(progress|improv\w*|better|worse|chang\w*|since the (?:last|latest|\d{4}))\b", re.I)
_PROGRESS_FRAME = frozenset(analyse("progress progressed made make making since improve improved improving improvement "
                                    "better worse change changed inspection inspections visit last latest"))
_AREA_MATCH = 0.3  # share of the question's rare words an area for improvement must hold to be the one asked about
_POOL = 10  # passages looked at for the answer and for a later paper's word on the same point


class QueryError(ValueError):
    """A question that cannot be asked as typed; the message says how to fix it."""


class Citation(BaseModel):
    n: int
    chunk_id: str
    doc_id: str
    source: str
    title: str
    council: str | None = None
    date: str | None
    location: str
    quote: str
    later_than: int | None = None  # the number of an older quote on the same point that this later paper updates


class Answer(BaseModel):
    """The `ask --json` shape. Adapters lay out `lead` and `citations` themselves; `answer` is the same content
    as one text (lead, quotes, sources list), made by `bot.rendering.render_answer`."""

    question: str
    found: bool
    answer: str
    lead: str | None = None
    citations: list[Citation]
    understood: str | None = None
    context: Context | None = None  # what this question was about, for a follow-up
    searched: str | None = None  # the text searched: the question, with the topic a follow-up carried


def _understood(intent: QueryIntent, filters: SearchFilters | None, carried: list[str]) -> str | None:
    """What the question was taken to be about, and what a follow-up carried over from the one before."""
    still = carried_line(carried)
    if still is None or intent.council is None or intent.council in carried:
        return still or understood_line(intent, filters)
    return f"{understood_line(intent, filters)} {still}"  # a council named anew, the rest carried


def understood_line(intent: QueryIntent, filters: SearchFilters | None) -> str | None:
    """'Searching Bradford · 2023': what the question was taken to be about, so a wrong guess shows."""
    summary = intent.summary()
    chosen = filters.council if filters and filters.council and filters.council not in summary else None
    scope = " · ".join(filter(None, (chosen, summary)))
    return f"Searching {scope}." if scope else None


def clean_query(text: str) -> str:
    """Control characters (and lone surrogates, which no encoder accepts) removed and whitespace folded;
    empty or over-long questions refused."""
    if text is None:
        raise QueryError("the question is empty; type a question about the documents")
    cleaned = "".join(" " if unicodedata.category(c) in {"Cc", "Cf", "Cs", "Zl", "Zp"} else c for c in text)
    cleaned = " ".join(cleaned.split())
    if not cleaned:
        raise QueryError("the question is empty; type a question about the documents")
    if len(cleaned) > MAX_QUERY_CHARS:
        raise QueryError(f"the question is {len(cleaned)} characters long; keep it under {MAX_QUERY_CHARS}")
    return cleaned


def fold(text: str) -> str:
    """Case, white space and quote style folded, for comparing quotes and evidence with documents."""
    table = str.maketrans({"‘": "'", "’": "'", "‚": "'", "“": '"', "”": '"', "„": '"', "\u00a0": " "})
    return " ".join(text.translate(table).lower().split())


class Answerer:
    """Turns questions into cited answers over one searcher."""

    def __init__(self, searcher: Searcher, min_relevance: float | None = None, max_quote_chars: int = 900,
                 timeline: TimelineSource | None = None, today: Callable[[], dt.date] = dt.date.today,
                 progress: ProgressSource | None = None):
        self.searcher = searcher
        self.min_relevance = min_relevance if min_relevance is not None else searcher.store.manifest.relevance_threshold
        self.max_quote_chars = max_quote_chars
        self.timeline = timeline
        self.today = today
        self.progress = progress

    def ask(self, question: str, filters: SearchFilters | None = None, context: Context | None = None) -> Answer:
        """The answer to `question`; `context` (what the previous question in this conversation was about) fills
        in what a follow-up leaves out, and the answer carries the context for the question after it."""
        question = clean_query(question)
        asked = follow_up(question, self.searcher.understand(question), context)
        intent, text = asked.intent, asked.search_text
        pool = self.searcher.search(text, k=_POOL, filters=filters, intent=intent)
        hits = pool[:5]
        council = (filters.council if filters else None) or intent.council
        terms = self.searcher.query_words(text, intent).weights  # by rarity; the council's own name counts for nothing
        unmentioned = self.searcher.absent_terms(question, intent.filters(filters))
        lead, event, citations = (None, None, []) if unmentioned else self._lead(text, intent, council, terms,
                                                                                 context)
        chosen = [] if unmentioned else self._relevant(hits)
        figureless = bool(chosen) and lead is None and asks_for_an_amount(question)
        if figureless:  # of the passages on the topic, those that give a figure
            chosen = self._relevant([hit for hit in pool if states_an_amount(hit.chunk.text)])
        if event is None and self.timeline is not None and names_a_visit(text, intent.years):
            event = event_named(text, intent.years, self.timeline(self.today(), council), council)  # for 'and before?'
        understood = _understood(intent, filters, asked.carried)
        following = Context(council=council, years=intent.years, date_from=intent.date_from, date_to=intent.date_to,
                            topic=asked.topic, event_id=event.id if event else None)
        unrecorded = None if lead is not None or unmentioned else self._no_visit_recorded(text, intent, council)
        if unrecorded or (not chosen and lead is None):
            refusal = unrecorded or (NO_FIGURE if figureless else self._not_covered(hits, unmentioned))
            return Answer(question=question, found=False, citations=[], understood=understood, context=following,
                          searched=text, answer="\n".join(filter(None, (understood, refusal))))
        if figureless:  # the sentence that gives the figure is the one to quote
            top = max(terms.values(), default=1.0)
            terms = {**{term: top for hit in chosen for term in figure_terms(hit.chunk.text)}, **terms}
        if len(citations) < _MAX_CITATIONS:  # a tracker lead already quotes the area and its evidence
            citations += self._quote(terms, [hit for hit in chosen if hit.chunk.chunk_id not in
                                             {c.chunk_id for c in citations}], start=len(citations),
                                     budget=self.max_quote_chars - sum(len(c.quote) for c in citations))
            citations += self._as_at(terms, citations, pool,
                                     self.max_quote_chars - sum(len(c.quote) for c in citations))
        answer = Answer(question=question, found=True, answer="", citations=citations, understood=understood,
                        lead="\n".join(part for part in (understood, lead) if part) or None, context=following,
                        searched=text)
        answer.answer = render_answer(answer, self.searcher.store.document)
        return answer

    def _lead(self, question: str, intent: QueryIntent, council: str | None, terms: dict[str, float],
              context: Context | None) -> tuple[str | None, VisitEvent | None, list[Citation]]:
        """What the timeline or a report's recorded grade says before any passage, the visit it names, and the
        quotes it rests on."""
        timeline = self._timeline_lead(question, intent, council, context)
        if timeline is not None:
            text, event = timeline
            return text, event, self._timeline_citations(terms, event) if event else []
        grade = grade_lead(question, intent, council, self.searcher.store) if asks_about_grade(question) else None
        if grade is not None:
            return grade.text, None, [_citation(1, grade.document, grade.chunk, grade.quote)] if grade.chunk else []
        if self.progress is not None and council and _ABOUT_PROGRESS.search(question):
            return self._progress_lead(question, intent, council)
        return None, None, []

    def _progress_lead(self, question: str, intent: QueryIntent,
                       council: str) -> tuple[str | None, None, list[Citation]]:
        """'What progress has Bradford made on permanence since the 2023 inspection?': the inspection's area
        that the question is about, quoted, then the later evidence the tracker found on it, oldest first."""
        try:
            report = self.progress(council, str(min(intent.years)) if intent.years else None)
        except ValueError:  # no inspection of that council or year: answered from passages instead
            return None, None, []
        words = self.searcher.query_words(question, intent)
        words = words.model_copy(update={"weights": {term: weight for term, weight in words.weights.items()
                                                     if term not in _PROGRESS_FRAME and not term.isdigit()}})
        scored = [(words.text_coverage(area.text), area) for area in report.areas]
        coverage, area = max(scored, key=lambda pair: pair[0], default=(0.0, None))
        chunk = self.searcher.store.chunk(area.source.chunk_id) if area is not None else None
        if chunk is None or coverage < _AREA_MATCH:
            return None, None, []
        store = self.searcher.store
        citations = [_citation(1, store.document(chunk.doc_id), chunk, area.text)]
        for evidence in area.evidence[:_MAX_CITATIONS - 1]:
            later = store.chunk(evidence.chunk_id)
            if later is not None:
                citations.append(_citation(len(citations) + 1, store.document(later.doc_id), later, evidence.quote))
        when = display_date(store.document(report.inspection.doc_id)) or "the inspection"
        since = ("Later evidence, oldest first: " + ", ".join(f"[{c.n}]" for c in citations[1:]) + "."
                 if len(citations) > 1 else f"{no_evidence_line(when).capitalize()}.")
        return (f"Ofsted's inspection of {when} asked {report.council} to improve this [1]. {since}", None, citations)

    def _timeline_lead(self, question: str, intent: QueryIntent, council: str | None,
                       context: Context | None) -> tuple[str, VisitEvent | None] | None:
        if self.timeline is None:
            return None
        if asks_before_that(question) and context is not None and context.event_id:
            timeline = self.timeline(self.today(), council)
            spoken_of = next((e for e in timeline.events
                              if e.id == context.event_id), None)
            return visit_before(spoken_of, timeline) if spoken_of else None
        if not asks_about_visits(question):
            return None
        since = intent.date_from or (dt.date(min(intent.years), 1, 1) if intent.years else None)
        until = intent.date_to or (dt.date(max(intent.years), 12, 31) if intent.years else None)
        return timeline_lead(question, self.timeline(self.today(), council), council, since, until)

    def _no_visit_recorded(self, question: str, intent: QueryIntent, council: str | None) -> str | None:
        """'When is Bury's next monitoring visit?' where the timeline holds no visit of Bury at all: said plainly,
        rather than quoting a passage that mentions some other 'next' meeting."""
        if (self.timeline is None or intent.years or intent.date_from or intent.date_to
                or not asks_about_visits(question)):  # building the timeline is the costly part
            return None
        return nothing_on_the_timeline(question, self.timeline(self.today(), council), council)

    def _timeline_citations(self, terms: dict[str, float], event: VisitEvent) -> list[Citation]:
        """The event's own quotes, newest document first, within two citations and half the quote budget."""
        citations: list[Citation] = []
        budget = self.max_quote_chars // 2
        terms = {**{term: 1.0 for term in analyse(event.when_text)}, **terms}
        for source in sorted(event.sources, key=lambda s: s.date or dt.date.min, reverse=True):
            chunk = self.searcher.store.chunk(source.chunk_id)
            quote = best_excerpt(source.quote, terms, budget) if chunk is not None else ""
            if not quote or len(quote) > budget or len(citations) == 2:
                continue
            budget -= len(quote)
            meta = self.searcher.store.document(chunk.doc_id)
            citations.append(_citation(len(citations) + 1, meta, chunk, quote))
        return citations

    def _relevant(self, hits: list[SearchHit]) -> list[SearchHit]:
        """Passages worth quoting: the best one if it clears the threshold, and any close to it."""
        relevant = [hit for hit in hits if hit.relevance >= self.min_relevance]
        if not relevant:
            return []
        floor = relevant[0].relevance - _CLOSE_TO_BEST
        return [relevant[0]] + [hit for hit in relevant[1:] if hit.relevance >= floor][: _MAX_CITATIONS - 1]

    def _quote(self, terms: dict[str, float], hits: list[SearchHit], start: int, budget: int) -> list[Citation]:
        citations: list[Citation] = []
        for index, hit in enumerate(hits):
            share = budget if len(hits) == 1 else int(budget * 0.6) if index == 0 else budget // (len(hits) - index)
            quote = best_excerpt(hit.chunk.text, terms, share)
            if not quote or len(quote) > budget:
                break
            budget -= len(quote)
            citations.append(_citation(start + len(citations) + 1, hit.document, hit.chunk, quote))
        return citations

    def _as_at(self, terms: dict[str, float], cited: list[Citation], pool: list[SearchHit],
               budget: int) -> list[Citation]:
        """The as-at rule: where a newer paper of the same council speaks to the point of an older quote (a passage
        close in meaning that holds as much of the question's rare words), quote it too, marked as the later word,
        so that a 2023 figure is never taken for today's."""
        store = self.searcher.store
        coverage = {hit.chunk.chunk_id: hit.coverage for hit in pool}
        for citation in cited:
            if any(_later_on_point(store, citation, other.doc_id, other.chunk_id) for other in cited):
                continue
            for hit in pool:
                if (hit.chunk.chunk_id in {c.chunk_id for c in cited} or hit.relevance < self.min_relevance
                        or hit.coverage < coverage.get(citation.chunk_id, 1.0) - _COVERAGE_SLACK
                        or not _later_on_point(store, citation, hit.document.doc_id, hit.chunk.chunk_id)):
                    continue
                quote = best_excerpt(hit.chunk.text, terms, min(budget, self.max_quote_chars // 3))
                if quote and ends_sentence(quote) and len(quote) <= budget:
                    return [_citation(len(cited) + 1, hit.document, hit.chunk, quote).model_copy(
                        update={"later_than": citation.n})]
        return []

    def _not_covered(self, hits: list[SearchHit], unmentioned: list[GlossaryEntry]) -> str:
        terms = [f"{entry.headword} ({entry.expansion})" if entry.expansion else entry.headword for entry in unmentioned]
        return not_covered(list(dict.fromkeys(_topic(hit.document, hit.chunk) for hit in hits))[:3], terms)


_COVERAGE_SLACK = 0.1
_SAME_POINT = 0.6  # cosine between two passages above which they speak to the same point


def _later_on_point(store: IndexStore, older: Citation, doc_id: str, chunk_id: str) -> bool:
    """The passage `chunk_id` is from a later paper of the same council, and says something close to `older`'s."""
    first, second = store.document(older.doc_id), store.document(doc_id)
    if not (first.date and second.date and second.date > first.date and council_matches(first.council, second.council)):
        return False
    vectors = store.vectors_by_id([faiss_id(older.chunk_id), faiss_id(chunk_id)])
    return float(vectors[faiss_id(older.chunk_id)] @ vectors[faiss_id(chunk_id)]) >= _SAME_POINT


def _citation(n: int, meta: DocumentMeta, chunk: Chunk, quote: str) -> Citation:
    return Citation(n=n, chunk_id=chunk.chunk_id, doc_id=meta.doc_id, source=meta.source, title=meta.title,
                    council=meta.council, date=iso_date(meta), location=chunk.location, quote=quote)


def _topic(meta: DocumentMeta, chunk: Chunk) -> str:
    return f"{chunk.heading} ({meta.title})" if chunk.heading and chunk.heading != meta.title else meta.title


def best_excerpt(text: str, terms: dict[str, float], limit: int) -> str:
    """The passage whole if it fits, else the run of consecutive sentences that covers the most weight of the
    question's words (each word counted once, weighted by its rarity), the shortest such run.

    A quote is always one exact slice of the passage (list markers between its sentences included); only runs
    of white space are folded to one space. Headings, bylines and labels carry no weight and start no quote.
    """
    text = _LEADING_LABEL.sub("", _LEADING_BULLET.sub("", text.strip()))
    whole = _folded(text)
    if len(whole) <= limit:
        return whole
    spans = [(a + _leading_marks(text[a:b]), b) for a, b in sentences(text) if not _is_label(text[a:b])] or sentences(text)
    found = [set(analyse(text[a:b])) & terms.keys() for a, b in spans]
    best: tuple[float, str] | None = None
    for first in range(len(spans)):
        if not found[first] and best is not None:
            continue  # a quote starts where the matching starts
        covered: set[str] = set()
        for last in range(first, len(spans)):
            quote = _folded(text[spans[first][0] : spans[last][1]])
            if len(quote) > limit:
                break
            covered |= found[last]
            score = math.fsum(terms[term] for term in covered)  # exact, so set order cannot break a tie
            if best is None or score > best[0]:
                best = (score, quote)
    if best is None:
        return _cut_at_word(_folded(text[slice(*spans[0])]) if spans else whole, limit)
    return best[1]


_LABEL = re.compile(r"^\W*(?:#+\s*)?(?:\*\*[^*]{1,60}\*\*:?|[A-Z][^.!?]{0,60}\?|(?i:by|written by)\s+[A-Z][\w .,'-]{0,60})\W*$")


def _leading_marks(sentence: str) -> int:
    """How many characters of bullet, '## ' or '**Label:** ' open a sentence: a quote starts after them."""
    bullet = _LEADING_BULLET.match(sentence)
    start = bullet.end() if bullet else 0
    label = _LEADING_LABEL.match(sentence[start:])
    return start + (label.end() if label else 0)


def _is_label(sentence: str) -> bool:
    """A heading ('What needs to improve?'), a markdown label ('**Progress:**') or a byline: not an answer."""
    return bool(_LABEL.match(sentence.strip())) or len(sentence.split()) <= 2


def _folded(text: str) -> str:
    return " ".join(text.split())


def _cut_at_word(sentence: str, limit: int) -> str:
    """A sentence longer than the whole budget: its opening words, still a verbatim slice."""
    cut = sentence[:limit].rsplit(" ", 1)[0]
    return cut or sentence[:limit]
