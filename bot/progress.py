"""The improvement tracker: what an inspection asked the council to improve, and what later documents say about it.

Pure core, no adapter: `Tracker.progress` and `Tracker.compare` return pydantic models that the command line,
the console and Discord render. Every quote is verbatim: the area is the report's own item, and the evidence is
the best sentences of a later passage (`best_excerpt`, as in answers).

Later evidence is found with the engine's hybrid search, restricted to the council and to documents dated after
the inspection, with the area's text as the query. A passage is shown only when its relevance to the area (cosine
plus the share of the area's rare words it holds, the scale answers use) clears `EVIDENCE_BAR`, measured on the
Ofsted PDF corpus by `measure_bar` (see eval/PROGRESS.md): so an area with nothing above it says "no later
evidence" rather than showing a weak match. An area that lists themes ("..., including disabled children, ...") may
also link, in a later document its own search found nothing in, the candidate that clears the bar for one theme and
THEME_BAR for the whole area. In a later document still without a link, the passage search ranks first in it may show
when it clears the lower DOCUMENT_BAR.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import random
from collections.abc import Iterable, Sequence
from functools import lru_cache

import numpy as np
from pydantic import BaseModel

from bot.answering import best_excerpt, iso_date
from index.improvements import ImprovementArea
from index.improvements.curated import Corrections
from index.improvements.extraction import area_id
from index.improvements.themes import themes
from index.embedding import TextEncoder
from index.lexical import analyse, terms_of
from index.models import Chunk, DocumentMeta, SearchFilters, SearchHit, council_matches
from index.search import Searcher
from index.store import faiss_id, matches

EVIDENCE_BAR = 0.75  # measure_bar's 0.9 quantile on ../shared/corpora/ofsted-ilacs; see eval/PROGRESS.md
THEME_BAR = 0.62  # measure_bar's 0.8 quantile (0.62 on the PDF corpus): a theme's passage must speak to the whole area
DOCUMENT_BAR = 0.70  # measure_bar's 0.9 quantile of quoted_relevances (0.698 on the PDF corpus); see eval/PROGRESS.md
PER_DOCUMENT = 1  # at most this many passages per later document: a second one was wrong in 11 of 25 judged links
MAX_EVIDENCE = 6
QUOTE_CHARS = 320
_CANDIDATES = 12
_PREFETCH_BATCH = 8  # the embedder encodes up to 8 texts on one thread; more take every thread: stalls on shared cores
_RARE_IDF = 1.5  # a term in fewer than about a fifth of passages
_MIN_SHARE = 0.2  # of the area's rare-word weight a quote must hold (0.3 missed areas that list several themes)
_THEME_IDF = 3.0  # a word in at most ~5% of passages (the engine's common_term_idf); see _names_something_rare
_OFSTED_SECTIONS = ("what needs to improve", "areas for improvement", "area for improvement", "priority",
                    "areas for priority action")


LOOKED_AT = 0.5  # share of a visit focus's rare words an area must hold to be one the visit looked at


class ProgressError(ValueError):
    """A request the tracker cannot answer as asked; the message says what to do instead."""


class InspectionRef(BaseModel):
    doc_id: str
    title: str
    date: str | None


class Source(BaseModel):
    chunk_id: str | None
    location: str | None


class Evidence(BaseModel):
    doc_id: str
    title: str
    date: str | None
    chunk_id: str
    location: str
    quote: str
    score: float


class AreaProgress(BaseModel):
    id: str
    text: str
    context: str | None
    source: Source
    evidence: list[Evidence]
    latest_evidence_date: str | None


class ProgressReport(BaseModel):
    """The `progress --json` shape."""

    council: str
    inspection: InspectionRef
    areas: list[AreaProgress]


class ComparedTheme(BaseModel):
    """One area of the earlier document, and what the later one says on it (None: nothing above the bar)."""

    area: AreaProgress
    later: Evidence | None


class Comparison(BaseModel):
    council: str | None
    earlier: InspectionRef
    later: InspectionRef
    themes: list[ComparedTheme]


def is_inspection(meta: DocumentMeta, areas: list[ImprovementArea]) -> bool:
    """An Ofsted judgement's list (not an officers' report's recommendations to its committee)."""
    ofsted = any(area.section.casefold().startswith(_OFSTED_SECTIONS) for area in areas)
    return ofsted or "inspection" in meta.title.casefold() and (meta.body or "").casefold() == "ofsted"


def _ref(meta: DocumentMeta) -> InspectionRef:
    return InspectionRef(doc_id=meta.doc_id, title=meta.title, date=iso_date(meta))


class Tracker:
    """Areas and their later evidence over one index generation (the searcher's store) plus staff corrections."""

    def __init__(self, searcher: Searcher, corrections: Corrections | None = None, bar: float = EVIDENCE_BAR,
                 theme_bar: float = THEME_BAR, document_bar: float = DOCUMENT_BAR):
        self._vectors = _Prefetched(searcher.embedder, searcher.store.area_vectors())
        # the engine's search as configured, with the areas' vectors kept ahead: a copy, since a new Searcher
        # reads every council's names again (5 ms of a fresh `progress` on 493 reports)
        self.searcher = copy.copy(searcher)
        self.searcher.embedder = self._vectors
        self.store = searcher.store
        self.corrections = corrections or Corrections()
        self.bar = bar
        self.theme_bar = theme_bar
        self.document_bar = document_bar
        self._areas = self._corrected_areas()
        self._listed: dict[str, list[str]] = {}  # passage -> the area items it lists, quoted item by item
        for area in self.store.improvement_areas().areas:
            if area.chunk_id:
                self._listed.setdefault(area.chunk_id, []).append(area.text)
        self._evidence = lru_cache(maxsize=4096)(self._search_evidence)
        self._later_documents = lru_cache(maxsize=256)(self._documents_after)

    # -- areas ---------------------------------------------------------------------------------------------
    def _corrected_areas(self) -> dict[str, list[ImprovementArea]]:
        """Areas by document: extracted ones minus hidden ones, plus the ones staff added."""
        by_doc: dict[str, list[ImprovementArea]] = {}
        for area in self.store.improvement_areas().areas:
            if area.id not in self.corrections.hidden:
                by_doc.setdefault(area.doc_id, []).append(area)
        for added in self.corrections.added:
            area = self._added_area(added.inspection, added.text, added.context)
            if area is not None:
                by_doc.setdefault(area.doc_id, []).append(area)
        return by_doc

    def _added_area(self, doc_id: str, text: str, context: str | None) -> ImprovementArea | None:
        """A curated area, kept only when its document exists and its words are in it (quotes stay verbatim)."""
        try:
            meta = self.store.document(doc_id)
        except KeyError:
            self.corrections.errors.append(
                f"progress.toml: [[area]] 'inspection': no document {doc_id!r} in the index")
            return None
        words = " ".join(text.split())
        chunk = next((c for c in self.store.document_chunks(doc_id) if words in " ".join(c.text.split())), None)
        if words not in " ".join(self.store.document_text(doc_id).split()):
            self.corrections.errors.append(f"progress.toml: [[area]] 'text': {words[:60]!r} is not in {meta.title}")
            return None
        return ImprovementArea(id=area_id(doc_id, words), doc_id=doc_id, council=meta.council, date=meta.date,
                               section="curated", text=words, context=context,
                               chunk_id=chunk.chunk_id if chunk else None, location=chunk.location if chunk else None)

    def problems(self, council: str | None = None) -> list[str]:
        """One line per document whose improvement section could not be read, and per unusable correction."""
        lines = [f"{p.source}: {p.reason}" for p in self.store.improvement_areas().problems
                 if council is None or council_matches(council, self.store.document(p.doc_id).council)]
        return lines + list(self.corrections.errors)

    def inspections(self, council: str | None = None) -> list[DocumentMeta]:
        """Documents that list areas and are Ofsted inspections, oldest first."""
        found = [self.store.document(doc_id) for doc_id, areas in self._areas.items()
                 if is_inspection(self.store.document(doc_id), areas)]
        found = [meta for meta in found if council is None or council_matches(council, meta.council)]
        return sorted(found, key=lambda meta: (meta.date or dt.date.min, meta.doc_id))

    def areas_looked_at(self, council: str | None, before: dt.date | None,
                        focus: str | None) -> tuple[DocumentMeta, list[int]] | None:
        """The areas (numbered from 1, as /progress lists them) of the council's last inspection before a visit that
        the visit's stated focus speaks to: each must hold most of the focus's rare words (or a glossary synonym)."""
        if not (council and before and focus):
            return None
        earlier = [meta for meta in self.inspections(council) if meta.date and meta.date < before]
        if not earlier:
            return None
        words = self.searcher.query_words(focus)
        areas = self._corrected_areas().get(earlier[-1].doc_id, [])
        looked_at = [n for n, area in enumerate(areas, start=1) if words.text_coverage(area.text) >= LOOKED_AT]
        return (earlier[-1], looked_at) if looked_at else None

    def _councils_with_inspections(self) -> list[str]:
        return sorted({meta.council for meta in self.inspections() if meta.council})

    def choose(self, council: str | None, inspection: str | None = None) -> DocumentMeta:
        """The inspection asked for: by doc_id, by year, or the council's latest."""
        if inspection and inspection in self._areas:
            return self.store.document(inspection)
        if inspection and not inspection.isdigit():
            raise ProgressError(f"no document {inspection!r} lists areas for improvement; "
                                "give a doc_id from `docs` or a year")
        if council is None:
            councils = self._councils_with_inspections()
            if len(councils) != 1:
                raise ProgressError("name a council: inspections in the documents are of " + _listing(councils))
            council = councils[0]
        candidates = self.inspections(council)
        if not candidates:
            raise ProgressError(f"no inspection of {council} is in the documents; councils with one: "
                                + _listing(self._councils_with_inspections()))
        if inspection:
            candidates = [meta for meta in candidates if meta.date and str(meta.date.year) == inspection]
            if not candidates:
                years = ", ".join(sorted({str(m.date.year) for m in self.inspections(council) if m.date}))
                raise ProgressError(f"no inspection of {council} in {inspection}; the documents have {years}")
        return candidates[-1]

    # -- evidence ------------------------------------------------------------------------------------------
    def progress(self, council: str | None = None, inspection: str | None = None,
                 since: dt.date | None = None) -> ProgressReport:
        """The inspection's areas, each with the later passages that speak to it, oldest first."""
        meta = self.choose(council, inspection)
        after = _later_than(meta.date, since)
        self._vectors.prefetch([area.text for area in self._areas.get(meta.doc_id, [])])
        areas = [self._area_progress(area, meta, after) for area in self._areas.get(meta.doc_id, [])]
        return ProgressReport(council=meta.council or "", inspection=_ref(meta), areas=areas)

    def warm(self) -> int:
        """Find the evidence of every inspection's areas now (for a background thread after start-up or a reindex),
        so each `progress` after it is answered from memory; returns how many inspections were done."""
        inspections = self.inspections()
        for meta in inspections:
            self.progress(meta.council, meta.doc_id)
        return len(inspections)

    def _area_progress(self, area: ImprovementArea, meta: DocumentMeta, after: dt.date | None) -> AreaProgress:
        found = [e for e in self._evidence(area.text, meta.council, after)
                 if (area.id, e.chunk_id) not in self.corrections.unpinned and e.doc_id != meta.doc_id]
        pinned = [self._pinned(area, pin.chunk_id) for pin in self.corrections.pinned if pin.area == area.id]
        chosen = {e.chunk_id: e for e in [*[p for p in pinned if p is not None], *found]}
        evidence = sorted(list(chosen.values())[:MAX_EVIDENCE], key=lambda e: (e.date or "", -e.score))
        return AreaProgress(id=area.id, text=area.text, context=area.context,
                            source=Source(chunk_id=area.chunk_id, location=area.location), evidence=evidence,
                            latest_evidence_date=max((e.date for e in evidence if e.date), default=None))

    def _documents_after(self, council: str | None, after: dt.date | None) -> frozenset[str]:
        """The documents an inspection's evidence may come from (as the search filter lets them through)."""
        filters = SearchFilters(council=council, date_from=after)
        return frozenset(meta.doc_id for meta in self.store.documents() if matches(meta, filters))

    def _search_evidence(self, text: str, council: str | None, after: dt.date | None) -> tuple[Evidence, ...]:
        """Passages of later documents of the council above the bar, at most PER_DOCUMENT per document, best first;
        then, for a later document with none, the passage that speaks best to one of the themes the area lists; then,
        for a later document with none still, the passage search ranked first in it if it clears DOCUMENT_BAR."""
        hits = self.searcher.search(text, k=_CANDIDATES, filters=SearchFilters(council=council, date_from=after))
        own = [hit for hit in hits if hit.relevance >= self.bar]
        found = self._best_quoted(own, [hit.relevance for hit in own], self._weights(text), PER_DOCUMENT)
        missing = self._later_documents(council, after) - {e.doc_id for e in found}
        listed = themes(text) if missing else []
        if listed:
            found += self._theme_evidence(listed, [hit for hit in hits if hit.document.doc_id in missing])
            missing -= {e.doc_id for e in found}
        if missing:
            found += self._first_evidence(text, [hit for hit in hits if hit.document.doc_id in missing])
        return tuple(found)

    def _first_evidence(self, text: str, hits: list[SearchHit]) -> list[Evidence]:
        """Each document's first candidate (as search ranked them) when it clears DOCUMENT_BAR and its quote holds
        _MIN_SHARE: the bar is measured on the gate as applied (relevance and share), and search's own rank, which
        fuses the words and the meaning, is a second say that the passage is the document's word on the area (any
        candidate of the document at this bar linked foster carers' 'supervising social workers' to social workers'
        supervision)."""
        first: dict[str, SearchHit] = {}
        for hit in hits:
            first.setdefault(hit.document.doc_id, hit)
        chosen = [hit for hit in first.values() if hit.relevance >= self.document_bar]
        return self._best_quoted(chosen, [hit.relevance for hit in chosen], self._weights(text), PER_DOCUMENT)

    def _theme_evidence(self, listed: list[str], hits: list[SearchHit]) -> list[Evidence]:
        """The best of the area's candidates for each theme it lists, in documents no passage was chosen from yet:
        a passage on one theme ('..., including disabled children, ...') rarely matches the wording of the whole
        list well enough to clear the bar. It must clear the bar for its theme, and THEME_BAR for the whole area (as
        search scored it)."""
        hits = [hit for hit in hits if hit.relevance >= self.theme_bar]
        listed = [theme for theme in listed if hits and self._names_something_rare(theme)]
        self._vectors.prefetch(listed)
        found: list[Evidence] = []
        for theme in listed:
            open_hits = [hit for hit in hits if hit.document.doc_id not in {e.doc_id for e in found}]
            scores = self.relevance(theme, [hit.chunk for hit in open_hits]) if open_hits else []
            passing = [(hit, score) for hit, score in zip(open_hits, scores) if score >= self.bar]
            found += self._best_quoted([hit for hit, _ in passing], [score for _, score in passing],
                                       self._weights(theme), PER_DOCUMENT)
        return found

    def _names_something_rare(self, theme: str) -> bool:
        """Whether a theme has a word rarer than _THEME_IDF: one made of common words ('used to improve services',
        'young people') matches any passage that happens to use them, and one whose words are all in a fifth of the
        passages or more holds no rare word at all, so any quote would hold 'all' of them."""
        return max(self._weights(theme).values(), default=0.0) >= _THEME_IDF

    def _best_quoted(self, hits: list[SearchHit], relevances: list[float], weights: dict[str, float],
                     per_document: int) -> list[Evidence]:
        """The hits whose quote holds enough of the query's rare words, ranked by relevance plus that share (ties in
        search order), at most `per_document` of each document, as evidence with their relevance and quotes.

        A quote holds no word its passage lacks, so the passage's own share bounds the quote's: a hit is quoted only
        when that bound lets it clear _MIN_SHARE and outrank what its document has already chosen (quoting every
        candidate was a third of a fresh `progress`). The choice is the one quoting them all would make."""
        rare = _rare(weights)
        shares = [self._share_bound(hit.chunk, rare) for hit in hits]
        order = sorted(range(len(hits)), key=lambda n: (-(relevances[n] + shares[n]), n))
        chosen: dict[str, list[tuple[float, int, str]]] = {}
        for n in order:
            bound = relevances[n] + shares[n]
            best = chosen.setdefault(hits[n].document.doc_id, [])
            if shares[n] < _MIN_SHARE or len(best) >= per_document and best[per_document - 1][0] > bound:
                continue
            found = self._quote(hits[n].chunk, weights)
            if found is not None:
                best.append((relevances[n] + found[1], n, found[0]))
                best.sort(key=lambda quoted: (-quoted[0], quoted[1]))
        kept = sorted((quoted for best in chosen.values() for quoted in best[:per_document]),
                      key=lambda quoted: (-quoted[0], quoted[1]))
        return [_evidence(hits[n].document, hits[n].chunk, quote, relevances[n]) for _, n, quote in kept]

    def _share_bound(self, chunk: Chunk, rare: dict[str, float]) -> float:
        """The most of the rare-word weight any quote of this passage can hold (1.0 for a list of areas, whose items
        are quoted as extracted)."""
        return 1.0 if chunk.chunk_id in self._listed else _share(rare, terms_of(chunk.text))

    def _quote(self, chunk: Chunk, weights: dict[str, float]) -> tuple[str, float] | None:
        """The passage's best sentences for the area (in a later report's own list of areas, the one item that
        matches) and the share of the area's rare-word weight they hold; None below _MIN_SHARE: a passage that
        shares a word or two with the area but is on another theme. Candidates rank by relevance plus share."""
        items = self._listed.get(chunk.chunk_id)
        if items:
            quote = max(items, key=lambda text: math.fsum(weights.get(t, 0.0) for t in set(analyse(text))))
        else:
            quote = best_excerpt(chunk.text, weights, QUOTE_CHARS)
        share = _share(_rare(weights), set(analyse(quote)))
        return (quote, share) if share >= _MIN_SHARE else None

    def _weights(self, text: str) -> dict[str, float]:
        lexical = self.store.lexical
        return {term: lexical.idf(term) for term in analyse(text)}

    def rare_words(self, text: str) -> set[str]:
        """The words of `text` that say what it is about: rarer than the vocabulary every report shares."""
        return {term for term, weight in self._weights(text).items() if weight >= _RARE_IDF}

    def _pinned(self, area: ImprovementArea, chunk_id: str) -> Evidence | None:
        chunk = self.store.chunk(chunk_id)
        if chunk is None:
            self.corrections.errors.append(f"progress.toml: [[pin]] 'chunk_id': no passage {chunk_id} in the index")
            return None
        score = self.relevance(area.text, [chunk])[0]
        found = self._quote(chunk, self._weights(area.text))
        quote = found[0] if found else best_excerpt(chunk.text, {}, QUOTE_CHARS)
        return _evidence(self.store.document(chunk.doc_id), chunk, quote, score)

    def relevance(self, text: str, chunks: list[Chunk]) -> list[float]:
        """Cosine plus rare-word coverage of these passages for `text`, as search scores them (for pinned passages,
        which search did not find, and for measuring the bar)."""
        vector = self.searcher.embedder.encode([text])[0]
        stored = self.store.vectors_by_id([faiss_id(c.chunk_id) for c in chunks])
        words = self.searcher.query_words(text)
        return [float(stored[faiss_id(c.chunk_id)] @ vector) + words.coverage(self.store.document(c.doc_id), c)
                for c in chunks]

    # -- side by side --------------------------------------------------------------------------------------
    def compare(self, doc_a: str, doc_b: str) -> Comparison:
        """Two inspections (or an inspection and any later document), theme by theme: each area of the earlier one
        with the later document's passage that speaks to it best, both quoted."""
        metas = [self._document(doc_id) for doc_id in (doc_a, doc_b)]
        earlier, later = sorted(metas, key=lambda m: m.date or dt.date.min)
        if earlier.doc_id not in self._areas:
            raise ProgressError(f"{earlier.title} lists no areas for improvement to compare")
        themes = []
        self._vectors.prefetch([area.text for area in self._areas[earlier.doc_id]])
        for area in self._areas[earlier.doc_id]:
            progress = self._area_progress(area, earlier, None)
            progress.evidence = []
            progress.latest_evidence_date = None
            themes.append(ComparedTheme(area=progress, later=self._best_in(area, later)))
        return Comparison(council=earlier.council, earlier=_ref(earlier), later=_ref(later), themes=themes)

    def _document(self, doc_id: str) -> DocumentMeta:
        try:
            return self.store.document(doc_id)
        except KeyError:
            raise ProgressError(f"no document {doc_id!r} in the index; `docs` lists them") from None

    def _best_in(self, area: ImprovementArea, meta: DocumentMeta) -> Evidence | None:
        """The passage of one document that speaks to the area best, if it clears the bar."""
        filters = SearchFilters(council=meta.council, date_from=meta.date, date_to=meta.date) if meta.date else None
        hits = [h for h in self.searcher.search(area.text, k=_CANDIDATES, filters=filters)
                if h.document.doc_id == meta.doc_id and h.relevance >= self.bar]
        best = self._best_quoted(hits, [hit.relevance for hit in hits], self._weights(area.text), 1)
        return best[0] if best else None


class _Prefetched:
    """The model, with the vectors of texts asked for ahead kept: one batch for all the areas of an inspection
    instead of one model call per search (the calls were two thirds of a fresh `progress`)."""

    def __init__(self, encoder: TextEncoder, known: dict[str, np.ndarray] | None = None):
        """`known`: vectors computed ahead, when the index was built (the areas and their themes)."""
        self._encoder = encoder
        self._known: dict[str, np.ndarray] = dict(known or {})
        self.name, self.backend, self.dim = encoder.name, getattr(encoder, "backend", ""), encoder.dim
        self.max_tokens = getattr(encoder, "max_tokens", 256)

    def count_tokens(self, text: str) -> int:
        return self._encoder.count_tokens(text)

    def prefetch(self, texts: list[str]) -> None:
        """Encode the texts not yet known, longest first, so each batch is padded to about its own length."""
        missing = sorted(dict.fromkeys(t for t in texts if t not in self._known), key=len, reverse=True)
        for start in range(0, len(missing), _PREFETCH_BATCH):
            batch = missing[start : start + _PREFETCH_BATCH]
            self._known.update(zip(batch, self._encoder.encode(batch)))

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        if all(text in self._known for text in texts):
            return np.stack([self._known[text] for text in texts]) if texts else self._encoder.encode(texts)
        return self._encoder.encode(texts, progress=progress)


def _evidence(meta: DocumentMeta, chunk: Chunk, quote: str, score: float) -> Evidence:
    return Evidence(doc_id=meta.doc_id, title=meta.title, date=iso_date(meta), chunk_id=chunk.chunk_id,
                    location=chunk.location, quote=quote, score=round(float(score), 3))


def _rare(weights: dict[str, float]) -> dict[str, float]:
    return {term: weight for term, weight in weights.items() if weight >= _RARE_IDF}


def _share(rare: dict[str, float], held: set[str] | frozenset[str]) -> float:
    """Share of the rare words' weight that `held` holds (1.0 when the area has no rare word)."""
    return sum(weight for term, weight in rare.items() if term in held) / sum(rare.values()) if rare else 1.0


def _later_than(inspected: dt.date | None, since: dt.date | None) -> dt.date | None:
    """Evidence starts the day after the inspection was published, or at `since` if that is later."""
    after = inspected + dt.timedelta(days=1) if inspected else None
    return max(filter(None, (after, since)), default=None)


def _listing(councils: Iterable[str]) -> str:
    names = list(councils)
    return ", ".join(names) if names else "none (no document lists areas for improvement)"


def negative_relevances(searcher: Searcher, areas: list[ImprovementArea], pairs: int = 600,
                        seed: int = 0) -> list[tuple[float, float]]:
    """The relevance an area gets from a passage on an unrelated theme, for mismatched pairs of areas, and the share
    of the area's rare-word weight the passage's quote holds (0.0 below _MIN_SHARE, when nothing would be quoted).

    Area A is scored against the passage search finds best for an area B of another council where A and B share no
    rare word: a passage of the same genre and vocabulary of children's services, but chosen for another theme. The
    evidence bar is a high quantile of these (`measure_bar`), so a shown passage matches its area better than
    nearly every passage on another theme does; DOCUMENT_BAR is the same quantile counting only the passages whose
    quote holds _MIN_SHARE (`quoted_relevances`), the gate a document's first candidate must pass.
    """
    rng = random.Random(seed)
    tracker = Tracker(searcher, bar=-1.0)
    scores: list[tuple[float, float]] = []
    for _ in range(pairs):
        a, b = rng.sample(areas, 2)
        chunk = _passage_on_another_theme(tracker, a.text, a.council, b)
        if chunk is not None:
            quoted = tracker._quote(chunk, tracker._weights(a.text))
            scores.append((tracker.relevance(a.text, [chunk])[0], quoted[1] if quoted else 0.0))
    return scores


def quoted_relevances(scores: list[tuple[float, float]]) -> list[float]:
    """The negatives' relevance where their quote holds _MIN_SHARE, 0.0 where it does not (they are never shown)."""
    return [relevance if share >= _MIN_SHARE else 0.0 for relevance, share in scores]


def negative_theme_relevances(searcher: Searcher, areas: list[ImprovementArea], pairs: int = 600,
                              seed: int = 0) -> list[tuple[float, float]]:
    """For a theme an area lists and a passage on an unrelated theme (found as in `negative_relevances`, for an
    area B sharing no rare word with the theme): the passage's relevance to the theme and to the whole area. A theme's
    passage is shown when the first clears EVIDENCE_BAR and the second THEME_BAR; how often both hold here is how
    often a theme would link a passage on another theme."""
    rng = random.Random(seed)
    tracker = Tracker(searcher, bar=-1.0)
    listed = [(area, theme) for area in areas for theme in themes(area.text)]
    scores: list[tuple[float, float]] = []
    for _ in range(pairs if listed else 0):
        (a, theme), b = rng.choice(listed), rng.choice(areas)
        chunk = _passage_on_another_theme(tracker, theme, a.council, b)
        if chunk is not None:
            scores.append((tracker.relevance(theme, [chunk])[0], tracker.relevance(a.text, [chunk])[0]))
    return scores


def _passage_on_another_theme(tracker: Tracker, text: str, council: str | None, other: ImprovementArea) -> Chunk | None:
    """The passage search finds best for `other`, an area of another council that shares no rare word with `text`
    (None when it is of the same council or shares one): the same genre and vocabulary, chosen for another theme."""
    if council_matches(council, other.council) or tracker.rare_words(text) & tracker.rare_words(other.text):
        return None
    filters = SearchFilters(council=other.council) if other.council else None
    hits = tracker.searcher.search(other.text, k=3, filters=filters)
    hits = [hit for hit in hits if hit.document.doc_id != other.doc_id] or hits
    return hits[0].chunk if hits else None


def measure_bar(scores: list[float], quantile: float = 0.9) -> float:
    """The bar: the `quantile` of the negatives' relevance (EVIDENCE_BAR was set from the 0.9 quantile)."""
    return float(np.quantile(scores, quantile)) if scores else EVIDENCE_BAR
