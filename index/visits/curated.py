"""Hand-curated corrections (corpus/visits.toml) that replace what extraction made of an event."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from index.toml_tables import TomlTable, field_line, split_tables, syntax_problem
from index.visits.dates import period_end
from index.visits.extraction import unique_ids
from index.visits.models import Kind, Precision, Status, VisitEvent, event_id, key_of, same_event

class CuratedVisit(BaseModel):
    """One [[visit]] table; unknown keys are refused so a misspelt field is reported, not ignored."""

    model_config = ConfigDict(extra="forbid")

    kind: Kind
    council: str = Field(min_length=1)
    status: Status
    when_text: str = Field(min_length=1)
    start: dt.date | None = None
    end: dt.date | None = None
    precision: Precision | None = None
    focus: str | None = None
    ordinal: int | None = Field(None, ge=1)
    note: str | None = None

    @field_validator("end")
    @classmethod
    def _not_before_start(cls, end: dt.date | None, info: ValidationInfo) -> dt.date | None:
        start = info.data.get("start")
        if end and start and end < start:
            raise ValueError(f"{end} is before start {start}")
        return end

    def event(self) -> VisitEvent:
        """The event as curated; `end` defaults to the end of the period `start` and `precision` name."""
        precision: Precision = self.precision or ("day" if self.start else "year")
        end = self.end or (period_end(self.start, precision) if self.start else None)
        return VisitEvent(
            id=event_id(self.council, self.kind, self.ordinal, self.start), kind=self.kind, ordinal=self.ordinal,
            council=self.council, status=self.status, when_text=self.when_text, start=self.start, end=end,
            precision=precision, focus=self.focus, curated=True, sources=[],
        )


def _problem(error: Any) -> str:
    """Pydantic's wording cut to what a curator needs to fix the value."""
    kind, value = error["type"], error.get("input")
    if kind == "missing":
        return "missing required field"
    if kind == "extra_forbidden":
        return "unknown field"
    if kind.startswith("date"):
        return f"invalid date {value!r}"
    if kind == "literal_error":
        return f"{value!r} is not one of {error['ctx']['expected']}"
    return f"{error['msg'].removeprefix('Value error, ')} (got {value!r})"


def _parse_entry(path: Path, number: int, table: TomlTable) -> tuple[VisitEvent | None, list[str]]:
    """One [[visit]] table parsed alone (index.toml_tables), so one broken entry cannot hide the others."""
    try:
        tables = tomllib.loads("\n".join(table.lines)).get("visit", [])
    except tomllib.TOMLDecodeError as exc:
        problem = syntax_problem(table, exc)
        named = f" '{problem.field}': cannot read {problem.value!r} as TOML" if problem.field else ""
        return None, [f"{path} line {problem.line}: visit {number}{named} ({problem.reason})"]
    try:
        return CuratedVisit.model_validate(tables[0] if tables else {}).event(), []
    except ValidationError as exc:
        named = [(str(e["loc"][0]) if e["loc"] else "visit", e) for e in exc.errors()]
        found = sorted((field_line(table, name), name, _problem(e)) for name, e in named)
        return None, [f"{path} line {line}: visit {number} '{name}': {problem}" for line, name, problem in found]


def load_curated(path: Path) -> tuple[list[VisitEvent], list[str]]:
    """Curated events, and one line per problem naming file, line, entry and field; good entries still load."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return [], []
    except (OSError, UnicodeDecodeError) as exc:
        return [], [f"{path}: cannot read: {exc}"]
    events: list[VisitEvent] = []
    errors: list[str] = []
    visits = (table for table in split_tables(text) if table.name == "visit")
    for number, table in enumerate(visits, start=1):
        event, problems = _parse_entry(path, number, table)
        events += [event] if event else []
        errors += problems
    return events, errors


def _match(curated: VisitEvent, events: list[VisitEvent]) -> int | None:
    """Index of the extracted event a curated one stands for: same ordinal first, else nearest overlapping dates."""
    key = key_of(curated)
    candidates = [i for i, e in enumerate(events) if not e.curated and same_event(key, key_of(e))]
    by_ordinal = [i for i in candidates if curated.ordinal is not None and events[i].ordinal == curated.ordinal]
    if by_ordinal:
        return by_ordinal[0]
    start = curated.start or curated.end or dt.date.min
    return min(candidates, key=lambda i: abs(((events[i].start or events[i].end or dt.date.min) - start).days), default=None)


def merge_curated(extracted: list[VisitEvent], curated: list[VisitEvent]) -> list[VisitEvent]:
    """Each curated event replaces the extracted one it matches, keeping that event's id and quotes."""
    merged = list(extracted)
    for event in curated:
        i = _match(event, merged)
        if i is None:
            merged.append(event)
            continue
        old = merged[i]
        merged[i] = event.model_copy(update={
            "id": old.id, "sources": old.sources, "curated": True,
            "ordinal": event.ordinal if event.ordinal is not None else old.ordinal, "focus": event.focus or old.focus,
        })
    return unique_ids(merged)
