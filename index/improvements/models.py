"""Areas for improvement as stored in an index generation, and the file that holds them."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

AREAS_VERSION = 5  # bump with every change to extraction.py (or to what is stored with the areas: 5 added their
# vectors): the next `index` run re-extracts from stored text


class ImprovementArea(BaseModel):
    """One item of a document's improvement list, quoted verbatim (white space folded) with where it is."""

    id: str = Field(description="stable: a hash of the document id and the item's text")
    doc_id: str
    council: str | None
    date: dt.date | None
    section: str = Field(description="the heading the item sits under, as printed")
    text: str
    context: str | None = Field(None, description="e.g. 'outcome 4, national framework', where the item states it")
    chunk_id: str | None = Field(None, description="the stored passage that contains the item")
    location: str | None = None


class ExtractionProblem(BaseModel):
    """A document whose improvement section is there but could not be read into items."""

    doc_id: str
    source: str
    reason: str


class AreasFile(BaseModel):
    """What a build writes to areas.json."""

    version: int = AREAS_VERSION
    areas: list[ImprovementArea] = []
    problems: list[ExtractionProblem] = []
