"""Every command the bot understands, written once for Discord and the console alike.

A handler takes plain arguments and returns a `Reply`: unescaped text plus buttons as data. Adapters only
render it — Discord escapes it and fits it into embed limits, the console prints `Reply.as_text()` — so
the two can never disagree about what was found. Handlers block (they embed and search): async adapters
call them in a worker thread.

Adding a command: a method on `Handlers` returning a
`Reply`, its entry in `COMMANDS` (usage and the one-line summary Discord shows), one app command in
`bot.discord_adapter.cog.AnswersCog` that calls `self._run(...)`, and one entry in `bot.console.ROUTES`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import difflib
import io
import hashlib
import logging
import re
import secrets
import threading
import time
from collections import OrderedDict
from typing import Callable, Generic, Literal, TypeVar

from pydantic import BaseModel

from bot.answering import Answer, QueryError
from bot.alerts import WatchedPassage, landed_documents, watched_passages
from bot.conversation import Conversations
from bot.feedback import FeedbackStore
from bot.gaps import group_gaps, nearest_topic
from bot.progress import AreaProgress, ProgressError
from bot.rendering import (
    areas_line, citation_line, error_text, comparison_sections, comparison_title, display_date, document_line, gap_lines, index_summary, joined,
    new_paper_line, progress_sections, progress_title, quotes_text, source_line, term_line, unknown_term, watch_line,
)
from bot.services import Services
from bot.timeline_answers import timeline_sections
from bot.watches import SubscriberKind, Watch, WatchStore
from index.errors import EngineError
from index.glossary import Glossary, GlossaryEntry
from index.lexical import analyse
from index.models import DOC_TYPES, Chunk, DocumentMeta, SearchFilters
from index.store import IndexStore
from index.visits import VisitEvent

log = logging.getLogger(__name__)

DOCS_PER_PAGE = 10
MORE_PER_PRESS = 3
MAX_CONTEXT = 3
MAX_TOPICS = 8
MAX_CHOICES = 25
MAX_TERMS = 3  # acronyms explained under an answer
VISIT_FIELD_CHARS = 1000  # a block of timeline lines small enough for any adapter to show whole (Discord: 1,024)
VISIT_PAGE_CHARS = 4000  # the timeline lines on one page (a Discord embed holds 6,000 characters in all)

ButtonAction = Literal["passage", "more", "vote", "docs", "visits", "progress", "compare", "gaps"]
IN_PLACE_ACTIONS: frozenset[str] = frozenset({"docs", "visits", "progress", "compare", "gaps"})  # replace their message
T = TypeVar("T")


class CommandHelp(BaseModel):
    usage: str
    summary: str


COMMANDS: dict[str, CommandHelp] = {
    "ask": CommandHelp(
        usage="/ask QUESTION [council:NAME] [since:YYYY-MM-DD] [type:minutes|report|letter|news]",
        summary="Answer a question with verbatim quotes from the documents and their sources",
    ),
    "quote": CommandHelp(usage="/quote ID [context:0-3]",
                         summary="Show a whole passage, optionally with the ones around it"),
    "docs": CommandHelp(usage="/docs [page]", summary="List the documents the bot can quote from"),
    "visits": CommandHelp(usage="/visits [as_of:YYYY-MM-DD] [council:NAME] [include_past:true] [page:N]",
                          summary="Upcoming inspections and monitoring visits, from the documents, with sources"),
    "progress": CommandHelp(
        usage="/progress [THEME] [council:NAME] [inspection:YEAR|DOC_ID] [since:YYYY-MM-DD] [page:N]",
        summary="What the latest inspection asked to improve, and what later documents say on each area",
    ),
    "compare": CommandHelp(usage="/compare DOC_A DOC_B [page:N]",
                           summary="Two inspections or visits side by side, theme by theme, both quoted"),
    "watch": CommandHelp(usage="/watch [TOPIC]",
                         summary="Be told when new papers speak to a topic; with no topic, list your watches"),
    "unwatch": CommandHelp(usage="/unwatch NUMBER|TOPIC", summary="Stop watching a topic"),
    "gaps": CommandHelp(usage="/gaps", summary="Questions the documents did not answer well (Manage Server only)"),
    "define": CommandHelp(usage="/define TERM",
                          summary="What a term or acronym of children's social care means, from the glossary"),
    "reindex": CommandHelp(usage="/reindex", summary="Re-read the document folder (Manage Server only)"),
    "new": CommandHelp(usage="/new", summary="Start afresh: the next question is not read as a follow-up "
                       "(console; in Discord, start a new thread)"),
    "help": CommandHelp(usage="/help", summary="How to ask questions and what the bot can do"),
}


class Button(BaseModel):
    """A button as data; pressing it calls `Handlers.press(action, argument, user)`."""

    label: str
    action: ButtonAction
    argument: str
    style: Literal["primary", "secondary", "success", "danger"] = "secondary"


class Field(BaseModel):
    """A titled block; `url` links it to its source document; `cut_hint` says where to read on if it is cut."""

    name: str
    value: str
    url: str | None = None
    cut_hint: str = ""


class Choice(BaseModel):
    """An autocomplete suggestion: what the user sees, and what is filled in."""

    name: str
    value: str


class Reply(BaseModel):
    """What any command returns: plain unescaped text, structured so each adapter can lay it out."""

    title: str = ""
    url: str | None = None
    description: str = ""
    fields: list[Field] = []
    footer: str = ""
    buttons: list[Button] = []
    ephemeral: bool = False
    cut_hint: str = ""
    topic: str = ""  # what a question was about: names the thread a channel answer goes in

    def as_text(self) -> str:
        """The console's rendering: the same content, top to bottom."""
        blocks = [_with_url(self.title, self.url), self.description]
        blocks += [f"{field.name}\n{_with_url(field.value, field.url)}" for field in self.fields]
        blocks.append(self.footer)
        return "\n\n".join(block for block in blocks if block)


def _with_url(text: str, url: str | None) -> str:
    return f"{text} <{url}>" if text and url else text


class AskedQuestion(BaseModel):
    """What a 'More results' or feedback button needs to know about the answer it sits under."""

    question: str
    filters: SearchFilters | None
    cited: list[str]
    shown: list[str]
    searched: str | None = None  # a follow-up's question with the topic it carried, for 'More results'


class PagedQuery(BaseModel):
    """What a page button needs to show another page of the same paged reply."""

    def key(self) -> str:
        """The same query always gets the same short id, so its pages' buttons are the same each time."""
        return hashlib.sha256(f"{type(self).__name__}{self.model_dump_json()}".encode()).hexdigest()[:8]

    def command(self, page: int) -> str:
        """The command that shows `page`, for people who type rather than press."""
        raise NotImplementedError


class VisitsQuery(PagedQuery):
    as_of: dt.date
    council: str | None
    include_past: bool

    def command(self, page: int) -> str:
        """The /visits command that shows `page` of this timeline, for people who type rather than press."""
        council = f' council:"{self.council}"' if self.council else ""
        past = " include_past:true" if self.include_past else ""
        return f"/visits as_of:{self.as_of.isoformat()}{council}{past} page:{page}"


class ProgressQuery(PagedQuery):
    theme: str | None
    council: str | None
    inspection: str | None
    since: dt.date | None

    def command(self, page: int) -> str:
        options = [self.theme, *(f'{name}:"{value}"' if " " in str(value) else f"{name}:{value}"
                                 for name, value in (("council", self.council), ("inspection", self.inspection),
                                                     ("since", self.since)) if value)]
        return " ".join(["/progress", *filter(None, options), f"page:{page}"])


class CompareQuery(PagedQuery):
    earlier: str
    later: str

    def command(self, page: int) -> str:
        return f"/compare {self.earlier} {self.later} page:{page}"


class GapsQuery(PagedQuery):
    def command(self, page: int) -> str:
        return f"/gaps page:{page}"


class WatchAlert(BaseModel):
    watch: Watch
    reply: Reply


class SyncPosts(BaseModel):
    """What a scheduled sync posts: 'New papers' (None when nothing came) and one alert per watch with passages."""

    papers: Reply | None = None
    alerts: list[WatchAlert] = []


class Recent(Generic[T]):
    """The last few hundred items by short id, so buttons need not carry a whole question in their id."""

    def __init__(self, capacity: int = 500):
        self.capacity = capacity
        self._items: OrderedDict[str, T] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, item: T, key: str | None = None) -> str:
        key = key or secrets.token_hex(4)
        with self._lock:
            self._items[key] = item
            self._items.move_to_end(key)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)
        return key

    def get(self, key: str) -> T | None:
        with self._lock:
            return self._items.get(key)


class RecentAnswers(Recent[AskedQuestion]):
    """Recent answers, and which passages each has shown so far ('More results' goes on from there)."""

    def mark_shown(self, answer_id: str, chunk_ids: list[str]) -> None:
        with self._lock:
            if answer_id in self._items:
                self._items[answer_id].shown.extend(chunk_ids)


class Cooldown:
    """One question per user per `seconds`, so nobody can queue up the model for everyone else."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic):
        self.seconds = seconds
        self.clock = clock
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, user: str) -> float:
        """Seconds the user must still wait; 0 means go ahead (and starts their next wait)."""
        now = self.clock()
        with self._lock:
            left = self._last.get(user, -self.seconds) + self.seconds - now
            if left > 0:
                return left
            self._last = {key: at for key, at in self._last.items() if at + self.seconds > now}
            self._last[user] = now
            return 0.0


def too_soon(seconds_left: float) -> Reply:
    return Reply(ephemeral=True, description=(
        f"You asked a moment ago — please wait {max(1, round(seconds_left))} more seconds before asking again."
    ))


def failure(error: BaseException) -> Reply:
    """One short message with a reference id; the details go to the log under the same id."""
    reference = secrets.token_hex(4)
    if isinstance(error, QueryError):
        log.info("reference %s: refused a request: %s", reference, error)
        text = f"Sorry: {error}. (reference {reference})"
    elif isinstance(error, EngineError):  # a known state (no index, a bad setting), already one clear line
        log.info("reference %s: %s", reference, error)
        log.debug("reference %s: where it was raised", reference, exc_info=error)
        text = f"Sorry: {error_text(error)}. Staff can find the details in the log under reference {reference}."
    else:
        log.error("reference %s: %s", reference, type(error).__name__, exc_info=error)
        text = ("Sorry: something went wrong on my side. "
                f"Staff can find the details in the log under reference {reference}.")
    return Reply(ephemeral=True, description=text)


def parse_date(text: str | None) -> dt.date | None:
    """A YYYY-MM-DD option; blank means none, anything else gets the same one-line error everywhere."""
    if not text or not text.strip():
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise QueryError(f"'{text.strip()}' is not a date; write it as YYYY-MM-DD, e.g. 2024-01-31") from None


def parse_filters(council: str | None, since: str | None, doc_type: str | None,
                  until: str | None = None) -> SearchFilters | None:
    """The optional /ask restrictions, checked here so every adapter gives the same one-line errors."""
    date_from, date_to = parse_date(since), parse_date(until)
    if doc_type and doc_type not in DOC_TYPES:
        raise QueryError(f"'{doc_type}' is not a document type; use one of {', '.join(DOC_TYPES)}")
    filters = SearchFilters(council=(council or "").strip() or None, date_from=date_from, date_to=date_to,
                            doc_types=frozenset({doc_type}) if doc_type else None)
    return None if filters.is_empty() else filters


def find_passage(store: IndexStore, chunk_id: str, context: int = 0) -> tuple[DocumentMeta, Chunk, list[Chunk]]:
    """A passage by id, its document, and it with `context` passages either side: for /quote and `quote`."""
    if not 0 <= context <= MAX_CONTEXT:
        raise QueryError(f"context {context} is out of range; use 0 to {MAX_CONTEXT} passages either side")
    chunk = store.chunk(chunk_id.strip().lower())
    if chunk is None:
        raise QueryError(f"no passage has id '{chunk_id.strip()}'; copy an id from an answer's sources")
    around = store.neighbours(chunk, context, context) if context else [chunk]
    return store.document(chunk.doc_id), chunk, around


def define_term(glossary: Glossary, term: str) -> GlossaryEntry:
    """The glossary entry for `term` (headword, expansion or synonym, any case); unknown ones get one line naming
    the closest headwords, for /define and `define`."""
    if not term.strip():
        raise QueryError("name the term to define, e.g. /define CLA")
    entry = glossary.lookup(term)
    if entry is None:
        raise QueryError(unknown_term(term.strip(), close_headwords(glossary, term)))
    return entry


def close_headwords(glossary: Glossary, term: str, n: int = 3) -> list[str]:
    """Headwords whose names are spelt most like `term` (difflib), best first."""
    owners: dict[str, str] = {}
    for entry in glossary:
        for name in entry.names:
            owners.setdefault(name.casefold(), entry.headword)
    close = difflib.get_close_matches(term.strip().casefold(), list(owners), n=n * 3, cutoff=0.6)
    return list(dict.fromkeys(owners[name] for name in close))[:n]


def acronyms_in(glossary: Glossary, texts: list[str], limit: int = MAX_TERMS) -> list[GlossaryEntry]:
    """Acronyms the texts write (two or more capitals: 'CLA', 'LAC', 'CiC'; not 'Ofsted') without spelling them
    out, first mention first: what an answer's 'Terms' field explains."""
    found: list[GlossaryEntry] = []
    for text in texts:
        for entry in glossary.entries_in(text):
            if (entry.expansion and entry not in found and _folded(entry.expansion) not in _folded(text)
                    and any(_written_as_acronym(name, text) for name in entry.names)):
                found.append(entry)
    return found[:limit]


def _folded(text: str) -> str:
    return text.casefold().replace("’", "'")


def _written_as_acronym(name: str, text: str) -> bool:
    if " " in name or sum(char.isupper() for char in name) < 2:
        return False
    return re.search(rf"(?<![\w]){re.escape(name)}(?:s|'s|’s)?(?![\w])", text) is not None


def newest_first(store: IndexStore) -> list[DocumentMeta]:
    """The documents as /docs and `docs` list them."""
    return sorted(store.documents(), key=lambda m: (m.date or dt.date.min, m.source), reverse=True)


class Handlers:
    """The commands, over the long-lived services built in `main()`."""

    def __init__(self, services: Services, feedback: FeedbackStore, recent: RecentAnswers | None = None,
                 watches: WatchStore | None = None, conversations: Conversations | None = None):
        self.services = services
        self.feedback = feedback
        self.conversations = conversations or Conversations()
        self.watches = watches or WatchStore(services.settings.watches_db)
        self.recent = recent or RecentAnswers()
        self.recent_pages: Recent[PagedQuery] = Recent()
        self._reindexing = threading.Lock()

    def warm(self) -> None:
        """Open the index and load the model, and encode once, so the first question is as fast as the hundredth
        (blocking: adapters call it in a background thread at start-up); then find every inspection's later
        evidence in a thread of its own, so /progress answers from memory."""
        self.services.searcher.embedder.encode(["warm up"])
        threading.Thread(target=self._warm_tracker, name="tracker-warm", daemon=True).start()

    def _warm_tracker(self) -> None:
        try:
            self.services.tracker.warm()
        except Exception as error:  # noqa: BLE001 — /progress then searches when asked, as without warming
            log.warning("could not find the improvement evidence ahead: %s", error)

    def ask(self, question: str, council: str | None = None, since: str | None = None,
            doc_type: str | None = None, conversation: str | None = None) -> Reply:
        """An answer; with a `conversation` key (one person in one thread, DM or console session), a follow-up
        question carries what the one before it was about, and the answer says what it carried."""
        filters = parse_filters(council, since, doc_type)
        answerer = self.services.answerer
        context = self.conversations.get(conversation) if conversation else None
        answer = answerer.ask(question, filters, context)
        if conversation and answer.context is not None:
            self.conversations.remember(conversation, answer.context)
        if not answer.found:
            return self._not_found(answer, answerer.searcher.store)
        return self._found(answer, filters, answerer.searcher.store)

    def channel_question(self, text: str, bot_id: int | None = None, conversation: str | None = None) -> Reply:
        """A message mentioning the bot or posted in a Q&A channel: the mention removed, then asked."""
        if bot_id is not None:
            text = re.sub(rf"<@!?{bot_id}>", " ", text)
        if not text.strip():
            return self.help()
        return self.ask(text, conversation=conversation)

    def new_conversation(self, conversation: str | None) -> Reply:
        """Forget what the conversation was about: the next question starts afresh."""
        if conversation:
            self.conversations.forget(conversation)
        return Reply(ephemeral=True, description="Starting afresh: the next question is not read as a follow-up.")

    def _found(self, answer: Answer, filters: SearchFilters | None, store: IndexStore) -> Reply:
        cited = [c.chunk_id for c in answer.citations]
        asked = AskedQuestion(question=answer.question, filters=filters, cited=cited, shown=list(cited),
                              searched=answer.searched)
        answer_id = self.recent.add(asked)
        fields = []
        for c in answer.citations:
            meta = store.document(c.doc_id)
            fields.append(Field(name=citation_line(c.n, meta, c.location), value=f"id {c.chunk_id}", url=meta.url))
        terms = acronyms_in(self.services.glossary, [answer.question, *(c.quote for c in answer.citations)])
        if terms:
            fields.append(Field(name="Terms", value="\n".join(term_line(entry) for entry in terms)))
        buttons = [Button(label=f"Show passage {c.n}", action="passage", argument=c.chunk_id) for c in answer.citations]
        buttons.append(Button(label="More results", action="more", argument=answer_id))
        return Reply(
            title=answer.question, topic=answer.question,
            description=quotes_text(answer, store.document),
            fields=fields, buttons=buttons + _vote_buttons(answer_id),
            footer="Quoted word for word from the documents. /quote ID shows a whole passage.",
            cut_hint="/quote an id from the sources below for the whole passage",
        )

    def _not_found(self, answer: Answer, store: IndexStore) -> Reply:
        self.feedback.record_declined(answer.question)
        answer_id = self.recent.add(AskedQuestion(question=answer.question, filters=None, cited=[], shown=[]))
        return Reply(
            title=answer.question, topic=answer.question, description=answer.answer,
            fields=[Field(name="Topics the documents cover", value=_topics(store.documents()))],
            buttons=_vote_buttons(answer_id), footer="Try other words, or /docs to see every document.",
        )

    def more(self, answer_id: str) -> Reply:
        """The next passages for an earlier question, beyond those already shown: read with care."""
        asked = self.recent.get(answer_id)
        if asked is None:
            return _expired()
        searcher = self.services.searcher
        hits = searcher.search(asked.searched or asked.question, k=len(asked.shown) + MORE_PER_PRESS,
                               filters=asked.filters)
        fresh = [hit for hit in hits if hit.chunk.chunk_id not in asked.shown][:MORE_PER_PRESS]
        self.recent.mark_shown(answer_id, [hit.chunk.chunk_id for hit in fresh])
        if not fresh:
            return Reply(ephemeral=True, title=asked.question, description="No further passages match this question.")
        fields = [
            Field(name=source_line(hit.document, hit.chunk.location), value=_flat(hit.chunk.text),
                  url=hit.document.url, cut_hint=f"/quote {hit.chunk.chunk_id}")
            for hit in fresh
        ]
        return Reply(
            ephemeral=True, title=asked.question, fields=fields,
            description="Further passages, less closely matched than the answer: read them with care.",
            buttons=[Button(label="More results", action="more", argument=answer_id)],
        )

    def vote(self, answer_id: str, helpful: bool, user: str) -> Reply:
        asked = self.recent.get(answer_id)
        if asked is None:
            return _expired()
        self.feedback.record(answer_id, asked.question, asked.cited, helpful, user)
        thanks = "Thank you — glad it helped." if helpful else "Thank you — staff will look at what was missing."
        return Reply(ephemeral=True, description=thanks)

    def quote(self, chunk_id: str, context: int = 0, ephemeral: bool = False) -> Reply:
        meta, chunk, around = find_passage(self.services.store, chunk_id, context)
        where = "the source document (linked above)" if meta.url else "the document"
        return Reply(
            ephemeral=ephemeral, title=meta.title, url=meta.url, description=chunk.text.strip(),
            fields=[_neighbour(c, "Before" if c.ordinal < chunk.ordinal else "After")
                    for c in around if c.chunk_id != chunk.chunk_id],
            footer=joined(source_line(meta, chunk.location), f"id {chunk.chunk_id}"),
            cut_hint=f"the passage continues in {where}",
        )

    def define(self, term: str) -> Reply:
        """A glossary entry; an unknown term is one line naming the closest headwords."""
        try:
            entry = define_term(self.services.glossary, term)
        except QueryError as error:
            return Reply(ephemeral=True, description=str(error))
        also = [name for name in entry.synonyms if name.casefold() != (entry.expansion or "").casefold()]
        return Reply(title=term_line(entry), description=entry.definition,
                     fields=[Field(name="Also called", value="; ".join(also))] if also else [],
                     footer=f"Source: {entry.source}")

    def docs(self, page: int | None = 1) -> Reply:
        """One page of the documents, newest first; `page=None` lists them all on one page (the command line)."""
        store = self.services.store
        documents = newest_first(store)
        per_page = DOCS_PER_PAGE if page is not None else max(1, len(documents))
        pages = max(1, -(-len(documents) // per_page))
        page = min(max(page or 1, 1), pages)
        shown = documents[(page - 1) * per_page : page * per_page]
        fields = [Field(name=meta.title, value=document_line(meta, len(store.document_chunks(meta.doc_id))),
                        url=meta.url) for meta in shown]
        unread = [f"{problem.source}: {problem.reason}" for problem in store.improvement_areas().problems]
        if unread and page == 1:
            fields.append(Field(name="Improvement sections that could not be read", value=_bullets(unread)))
        buttons = [Button(label="◀ Newer", action="docs", argument=str(page - 1))] if page > 1 else []
        buttons += [Button(label="Older ▶", action="docs", argument=str(page + 1))] if page < pages else []
        return Reply(
            ephemeral=True, title="Documents the bot quotes from", fields=fields, buttons=buttons,
            description=f"{len(documents)} documents, newest first.",
            footer=f"Page {page} of {pages}" + (f" · /docs {page + 1} for the next page" if page < pages else ""),
        )

    def reindex(self, allowed: bool, progress: Callable[[str], None] = lambda _: None) -> Reply:
        """Re-read the corpus; refused without Manage Server, and only one run at a time."""
        if not allowed:
            return Reply(ephemeral=True, description="Only members with the Manage Server permission can re-index.")
        if not self._reindexing.acquire(blocking=False):
            return Reply(ephemeral=True, description="A re-index is already running; its message shows its progress.")
        try:
            progress("reading the document folder")
            report = self.services.reindex(say=progress)
        finally:
            self._reindexing.release()
        lines = [f"{index_summary(report)}."]
        lines += [f"Skipped: {error}" for error in report.errors]
        return Reply(ephemeral=True, title=f"Indexed {report.documents} documents, {report.passages} passages",
                     description="\n".join(lines))

    def visits(self, as_of: str | None = None, council: str | None = None, include_past: bool = False,
               page: int | None = 1) -> Reply:
        """The visits timeline seen from a date (today by default), each event with where it is told, paged so
        that no section is cut; `page=None` shows every event on one page (the command line)."""
        query = VisitsQuery(as_of=parse_date(as_of) or dt.date.today(), council=(council or "").strip() or None,
                            include_past=include_past)
        return self._visits_page(query, page)

    def _visits_page(self, query: VisitsQuery, page: int | None) -> Reply:
        store = self.services.store  # one generation for the events and their passages' dates, even mid-reindex
        timeline = self.services.timeline(query.as_of, query.council, query.include_past, store=store)
        sections = timeline_sections(timeline, lambda chunk_id: self.services.passage_date(chunk_id, store),
                                     self._areas_looked_at)
        fields, buttons, paging = self._page(query, "visits", sections, page)
        scope = f" — {query.council}" if query.council else ""
        return Reply(title=f"Inspections and visits{scope}", fields=fields, buttons=buttons,
                     footer=joined(paging, "Dates as the documents put them. "
                                   "/quote ID shows the passage an event comes from."))

    def _areas_looked_at(self, event: VisitEvent) -> str | None:
        """'looked at areas 2 and 5 of the 29 Oct 2018 inspection (/progress)', where the visit's focus says so."""
        try:
            found = self.services.tracker.areas_looked_at(event.council, event.start, event.focus)
        except EngineError:  # no index areas (an index from before the tracker): the line stands without them
            return None
        return areas_line(*found) if found else None

    def _page(self, query: PagedQuery, action: ButtonAction, sections: list[tuple[str, list[str]]],
              page: int | None) -> tuple[list[Field], list[Button], str | None]:
        """One page of titled sections of lines, every line whole, with buttons and the typed command for the
        pages either side; `page=None` shows every section on one page (the command line)."""
        if page is None:
            return [Field(name=title, value=_bullets(lines)) for title, lines in sections], [], None
        pages = visit_pages(sections, VISIT_FIELD_CHARS, VISIT_PAGE_CHARS)
        number = min(max(page, 1), len(pages))
        if len(pages) == 1:
            return pages[0], [], None
        key = self.recent_pages.add(query, query.key())
        buttons = [Button(label="◀ Earlier", action=action, argument=f"{key}:{number - 1}")] if number > 1 else []
        if number < len(pages):
            buttons.append(Button(label="Later ▶", action=action, argument=f"{key}:{number + 1}"))
        paging = f"Page {number} of {len(pages)}" + (
            f" · {query.command(number + 1)} for the next page" if number < len(pages) else "")
        return pages[number - 1], buttons, paging

    def progress(self, theme: str | None = None, council: str | None = None, inspection: str | None = None,
                 since: str | None = None, page: int | None = 1) -> Reply:
        """The areas for improvement of an inspection (the council's latest by default), each quoted with the later
        evidence on it, oldest first; with a theme, only the areas on it. Paged so that nothing is cut."""
        query = ProgressQuery(theme=(theme or "").strip() or None, council=(council or "").strip() or None,
                              inspection=(inspection or "").strip() or None, since=parse_date(since))
        return self._progress_page(query, page)

    def _progress_page(self, query: ProgressQuery, page: int | None) -> Reply:
        tracker = self.services.tracker
        try:
            report = tracker.progress(query.council, query.inspection, query.since)
        except ProgressError as error:
            raise QueryError(str(error)) from None
        numbered = list(enumerate(report.areas, start=1))
        about = f"{len(report.areas)} areas for improvement, each quoted from the report"
        if query.theme:
            numbered, exact = self._areas_on(query.theme, numbered)
            about = (f"The {'areas' if len(numbered) > 1 else 'area'} on “{query.theme}”" if exact else
                     f"No area names “{query.theme}”; the nearest in meaning is shown")
        sections = progress_sections(report, numbered, tracker.store.document)
        problems = tracker.problems(report.council or None)
        if problems:
            sections.append(("Improvement sections that could not be read", problems))
        fields, buttons, paging = self._page(query, "progress", sections, page)
        return Reply(title=progress_title(report, tracker.store.document), fields=fields, buttons=buttons,
                     description=f"{about}, with what later documents of the council say on it, oldest first.",
                     footer=joined(paging, "Quoted word for word. /quote ID shows a whole passage."))

    def _areas_on(self, theme: str, numbered: list[tuple[int, AreaProgress]]
                  ) -> tuple[list[tuple[int, AreaProgress]], bool]:
        """The areas that use every word of the theme, or of another name the glossary gives its terms ('kids
        leaving care' finds 'care leavers'); when none does, the one nearest in meaning (True only for named ones)."""
        if not numbered:
            return numbered, False
        names = [theme, *self.services.glossary.expansions(theme)]
        wanted = [words for name in names if (words := set(analyse(name)))]
        named = [(n, area) for n, area in numbered if any(words <= set(analyse(area.text)) for words in wanted)]
        if named:
            return named, True
        encoder = self.services.tracker.searcher.embedder
        scores = encoder.encode([area.text for _, area in numbered]) @ encoder.encode([" ".join(names)])[0]
        return [numbered[int(scores.argmax())]], False

    def compare(self, doc_a: str, doc_b: str, page: int | None = 1) -> Reply:
        """Two documents side by side, theme by theme: each area of the earlier one, and what the later one says."""
        if not doc_a.strip() or not doc_b.strip():
            raise QueryError("give two document ids, e.g. /compare 1a2b3c4d5e6f 6f5e4d3c2b1a; /docs lists them")
        return self._compare_page(CompareQuery(earlier=doc_a.strip(), later=doc_b.strip()), page)

    def _compare_page(self, query: CompareQuery, page: int | None) -> Reply:
        tracker = self.services.tracker
        try:
            comparison = tracker.compare(query.earlier, query.later)
        except ProgressError as error:
            raise QueryError(str(error)) from None
        sections = comparison_sections(comparison, tracker.store.document)
        fields, buttons, paging = self._page(query, "compare", sections, page)
        return Reply(title=comparison_title(comparison, tracker.store.document), fields=fields, buttons=buttons,
                     description=f"{len(comparison.themes)} areas of the earlier document, each with what the later "
                                 "one says on it, both quoted.",
                     footer=joined(paging, "Quoted word for word. /quote ID shows a whole passage."))

    def watch(self, topic: str | None, kind: SubscriberKind, subscriber: str) -> Reply:
        """Subscribe to a topic; with no topic, list the subscriber's own watches."""
        if not (topic or "").strip():
            watches = self.watches.list(kind, subscriber)
            if not watches:
                return Reply(ephemeral=True, description=(
                    "You watch no topics. /watch TOPIC (e.g. /watch agency social workers) posts new passages on it."))
            return Reply(ephemeral=True, title="Your watched topics",
                         description=_bullets([watch_line(watch) for watch in watches]),
                         footer="/unwatch NUMBER (or the topic) stops one.")
        watch, new = self.watches.add(kind, subscriber, topic)
        where = "here" if kind == "channel" else "to you"
        said = "Now watching" if new else "Already watching"
        return Reply(ephemeral=True, description=(
            f"{said} “{watch.topic}” (watch {watch.watch_id}). When new papers have passages on it, I will post "
            f"them {where}, quoted with their sources. /unwatch {watch.watch_id} stops it."))

    def unwatch(self, which: str, kind: SubscriberKind, subscriber: str) -> Reply:
        watch = self.watches.remove(kind, subscriber, which)
        return Reply(ephemeral=True, description=f"Stopped watching “{watch.topic}”.")

    def gaps(self, allowed: bool, page: int | None = 1) -> Reply:
        """Questions declined or marked not helpful, grouped by the nearest topic the documents cover."""
        if not allowed:
            return Reply(ephemeral=True, description="Only members with the Manage Server permission can see /gaps.")
        found = group_gaps(self.feedback.gap_questions(), nearest_topic(self.services.searcher))
        if not found:
            return Reply(ephemeral=True, description="No gaps yet: no question was declined or marked not helpful.")
        sections = [(f"Near “{gap.topic}” · {len(gap.questions)} questions", gap_lines(gap)) for gap in found]
        fields, buttons, paging = self._page(GapsQuery(), "gaps", sections, page)
        return Reply(ephemeral=True, title="Coverage gaps", fields=fields, buttons=buttons,
                     description="Questions the documents did not answer well, by the nearest topic they cover: "
                                 "papers on these would help.", footer=paging or "")

    def scheduled_sync(self) -> SyncPosts:
        """Sync from sources.toml and index what came (blocking: run it in a worker thread), then what to post:
        'New papers' for the sync channel, and each watch's passages in them."""
        from bot.sync_command import sync_and_index  # it imports this module

        if not self._reindexing.acquire(blocking=False):
            log.info("scheduled sync skipped: a re-index is running")
            return SyncPosts()
        err = io.StringIO()
        try:
            report, _ = sync_and_index(self.services, argparse.Namespace(
                moderngov=None, committee=None, since=None, until=None, council=None, dry_run=False, json=True), err)
        finally:
            self._reindexing.release()
        for line in err.getvalue().splitlines():
            log.warning("scheduled sync: %s", line)
        documents = landed_documents(self.services, report)
        if not documents and not report.failed:
            return SyncPosts()
        store = self.services.store
        lines = [new_paper_line(meta, next((c.chunk_id for c in store.document_chunks(meta.doc_id)), None))
                 for meta in documents]
        failed = (f"{len(report.failed)} papers could not be fetched; the next sync tries again."
                  if report.failed else None)
        papers = Reply(title="New papers", description=_bullets(lines) or "No new papers.",
                       footer=joined(failed, "/quote ID shows a passage; ask about them as usual."))
        alerts = []
        for watch in self.watches.list():
            passages = watched_passages(self.services, watch, documents)
            if passages:
                alerts.append(WatchAlert(watch=watch, reply=_alert(watch, passages)))
        return SyncPosts(papers=papers if documents or report.failed else None, alerts=alerts)

    def help(self) -> Reply:
        usage = "\n".join(f"{command.usage} — {command.summary}" for command in COMMANDS.values())
        return Reply(ephemeral=True, title="Asking about the improvement journey", description=(
            "Ask in your own words: mention me, post in a Q&A channel, or use /ask. I answer only with passages "
            "quoted word for word from the council's documents, each with its source, and say so when the "
            f"documents do not cover a question.\n\n{usage}"
        ))

    def press(self, action: ButtonAction, argument: str, user: str) -> Reply:
        """A button pressed: its action and argument come back exactly as the handler gave them."""
        if action == "passage":
            return self.quote(argument, ephemeral=True)
        if action == "more":
            return self.more(argument)
        if action == "vote":
            answer_id, _, helpful = argument.partition(":")
            return self.vote(answer_id, helpful == "1", user)
        if action in ("visits", "progress", "compare", "gaps"):
            key, _, page = argument.rpartition(":")
            query = self.recent_pages.get(key)
            show = {VisitsQuery: self._visits_page, ProgressQuery: self._progress_page,
                    CompareQuery: self._compare_page, GapsQuery: lambda _, number: self.gaps(True, number)}
            return show[type(query)](query, int(page) if page.isdigit() else 1) if query else _expired()
        return self.docs(int(argument) if argument.isdigit() else 1)

    def quote_choices(self, typed: str) -> list[Choice]:
        """Passage ids starting with what was typed, then passages of documents whose title contains it."""
        store, typed = self.services.store, typed.strip()
        chunks: list[tuple[DocumentMeta, Chunk]] = []
        if re.fullmatch(r"[0-9a-fA-F]{1,12}", typed):
            for chunk_id in store.chunk_ids_starting(typed.lower(), MAX_CHOICES):
                chunk = store.chunk(chunk_id)
                chunks.append((store.document(chunk.doc_id), chunk))
        for meta in store.documents():
            if len(chunks) < MAX_CHOICES and typed.casefold() in meta.title.casefold():
                chunks += [(meta, chunk) for chunk in store.document_chunks(meta.doc_id)]
        return [Choice(name=joined(meta.title, chunk.location, chunk.chunk_id), value=chunk.chunk_id)
                for meta, chunk in chunks[:MAX_CHOICES]]

    def term_choices(self, typed: str) -> list[Choice]:
        """Glossary headwords starting with what was typed, then those whose names contain it: for /define."""
        typed = typed.strip().casefold()
        entries = list(self.services.glossary)
        starting = [e for e in entries if e.headword.casefold().startswith(typed)]
        containing = [e for e in entries if e not in starting and any(typed in n.casefold() for n in e.names)]
        return [Choice(name=term_line(entry), value=entry.headword) for entry in (starting + containing)[:MAX_CHOICES]]

    def inspection_choices(self, typed: str) -> list[Choice]:
        """Documents listing areas for improvement whose council, title or date contains what was typed, newest
        first: for /progress inspection and /compare."""
        typed = typed.strip().casefold()
        found = [meta for meta in reversed(self.services.tracker.inspections())
                 if typed in joined(meta.council, meta.title, display_date(meta), meta.doc_id).casefold()]
        return [Choice(name=joined(meta.council, meta.title, display_date(meta)), value=meta.doc_id)
                for meta in found[:MAX_CHOICES]]

    def council_choices(self, typed: str) -> list[Choice]:
        councils = sorted({meta.council for meta in self.services.store.documents() if meta.council})
        return [Choice(name=name, value=name) for name in councils if typed.strip().casefold() in name.casefold()]


def _alert(watch: Watch, passages: list[WatchedPassage]) -> Reply:
    fields = [Field(name=source_line(p.meta, p.chunk.location), value=f"“{p.quote}”\nid {p.chunk.chunk_id}",
                    url=p.meta.url, cut_hint=f"/quote {p.chunk.chunk_id}") for p in passages]
    return Reply(title=f"New on a watched topic: {watch.topic}", fields=fields,
                 footer=f"Quoted word for word from new papers. /unwatch {watch.watch_id} stops these.")


def _vote_buttons(answer_id: str) -> list[Button]:
    return [Button(label="Helpful", action="vote", argument=f"{answer_id}:1", style="success"),
            Button(label="Not helpful", action="vote", argument=f"{answer_id}:0", style="danger")]


def _expired() -> Reply:
    return Reply(ephemeral=True, description=(
        "That answer is too old for this button (I keep only recent ones, and forget them when restarted). "
        "Please ask again."
    ))


def _topics(documents: list[DocumentMeta]) -> str:
    newest = sorted(documents, key=lambda m: m.date or dt.date.min, reverse=True)
    titles = list(dict.fromkeys(meta.title for meta in newest))
    lines = [f"• {title}" for title in titles[:MAX_TOPICS]]
    if len(titles) > MAX_TOPICS:
        lines.append(f"…and {len(titles) - MAX_TOPICS} more: /docs lists them all")
    return "\n".join(lines) or "No documents are indexed yet."


def _neighbour(chunk: Chunk, side: str) -> Field:
    return Field(name=f"{side} · {chunk.location}", value=_flat(chunk.text), cut_hint=f"/quote {chunk.chunk_id}")


def _bullets(lines: list[str]) -> str:
    return "\n".join(f"• {line}" for line in lines)


def visit_pages(sections: list[tuple[str, list[str]]], field_chars: int, page_chars: int) -> list[list[Field]]:
    """The timeline's sections laid out as pages of fields, every line whole and in order: a field holds lines
    up to `field_chars`, a page up to `page_chars`; a section that goes on is titled '(continued)'."""
    pages: list[list[Field]] = [[]]
    used = 0
    for title, lines in sections:
        block: list[str] = []
        fields_before = 0

        def flush() -> None:
            nonlocal block, fields_before
            name = f"{title} (continued)" if fields_before else title
            pages[-1].append(Field(name=name, value=_bullets(block),
                                   cut_hint="/quote an id for the passage an event comes from"))
            block, fields_before = [], fields_before + 1

        for line in lines:
            size = len(line) + 3  # "• " and the line break
            if used and used + size > page_chars:
                if block:
                    flush()
                pages.append([])
                used = 0
            elif block and len(_bullets(block)) + size > field_chars:
                flush()
            block.append(line)
            used += size
        if block or not fields_before:
            flush()
    return pages


def _flat(text: str) -> str:
    return " ".join(text.split())

