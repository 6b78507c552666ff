"""Questions about a council's Ofsted grade ("What was Bradford's overall grade in 2023?") answered from the
judgement its inspection report's metadata records (a SOURCES.tsv table or the manifest), with the report's
own words stating it quoted beneath.
"""

from __future__ import annotations

import re

from pydantic import BaseModel

from bot.rendering import display_date
from index.models import Chunk, DocumentMeta, council_matches
from index.query import QueryIntent, of_year
from index.store import IndexStore

# a school, nursery or children's home has its own Ofsted grade, which the council's children's services reports do
# not give
_OTHER_SETTING = re.compile(r"\b(schools?|academy|academies|nurser(?:y|ies)|colleges?|children['’]s\s+homes?)\b",
                            re.I)
_ABOUT_GRADE = re.compile(r"\b(grades?|graded|rated|ratings?|judge(?:d|ment)s?|overall effectiveness|verdict)\b", re.I)


class GradeLead(BaseModel):
    """The judgement of one report, and the passage of that report that states it with the words that do."""

    text: str
    document: DocumentMeta
    chunk: Chunk | None
    quote: str = ""


def asks_about_grade(question: str) -> bool:
    return bool(_ABOUT_GRADE.search(question))


def grade_lead(question: str, intent: QueryIntent, council: str | None, store: IndexStore) -> GradeLead | None:
    """The graded report of the council the question is about, of the year it names, else its latest. A year with
    no report is said plainly, with the judgement then in force (or the first one after it)."""
    if council is None or _OTHER_SETTING.search(question):
        return None
    graded = sorted((meta for meta in store.documents() if meta.grade and meta.date and meta.council
                     and council_matches(council, meta.council)), key=lambda meta: meta.date)
    if not graded:
        return None
    of_years = [meta for meta in graded if any(of_year(meta.date, year) for year in intent.years)]
    if of_years or not intent.years:
        report = (of_years or graded)[-1]
        text = (f"Ofsted's overall effectiveness judgement for {report.council}, in the report of "
                f"{display_date(report)}: “{report.grade}”.")
    else:
        first = min(intent.years)
        before = [meta for meta in graded if meta.date.year < first]
        report = before[-1] if before else graded[0]
        years = " or ".join(str(year) for year in intent.years)
        text = (f"No Ofsted report on {report.council} from {years} is in the documents. The judgement of the "
                f"report of {display_date(report)}: “{report.grade}”.")
    for chunk in store.document_chunks(report.doc_id):
        stated = _stated(chunk.text, report.grade)
        if stated:
            return GradeLead(text=text, document=report, chunk=chunk, quote=stated)
    return GradeLead(text=text, document=report, chunk=None)


def _stated(text: str, grade: str) -> str:
    """'Overall effectiveness: Inadequate' as the report writes it (white space folded), or ''."""
    words = r"\s+".join(map(re.escape, grade.split()))
    match = re.search(rf"overall\s+effectiveness\W{{0,20}}{words}", text, re.I)
    return " ".join(match.group(0).split()) if match else ""
