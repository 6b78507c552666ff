"""Staff corrections to the tracker (corpus/progress.toml): add a missed area, hide a wrong one, pin or unpin evidence.

Read the way visits.toml is: each [[table]] is parsed and validated on its own, so one bad entry is reported
with file, line and field, and the others still apply.

    [[area]]                 # an area the extractor missed: quoted verbatim from the report
    inspection = "DOC_ID"
    text = "The quality of ..."
    context = "outcome 4, national framework"   # optional

    [[hide]]                 # an extracted item that is not an area
    area = "AREA_ID"

    [[pin]]                  # evidence to show under an area whatever its score; [[unpin]] never shows it
    area = "AREA_ID"
    chunk_id = "PASSAGE_ID"
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from index.toml_tables import TomlTable, field_line, split_tables, syntax_problem
from index.visits.curated import _problem

PROGRESS_TOML = "progress.toml"  # in the corpus folder, beside visits.toml
_ID = r"^[0-9a-f]{12}$"


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = None


class AddedArea(_Entry):
    inspection: str = Field(min_length=1, description="doc_id of the report the area is quoted from")
    text: str = Field(min_length=1)
    context: str | None = None


class HiddenArea(_Entry):
    area: str = Field(pattern=_ID)


class PinnedEvidence(_Entry):
    area: str = Field(pattern=_ID)
    chunk_id: str = Field(pattern=_ID)


class Corrections(BaseModel):
    """Everything progress.toml asks for, with one line per entry it could not use."""

    added: list[AddedArea] = []
    hidden: set[str] = set()
    pinned: list[PinnedEvidence] = []
    unpinned: set[tuple[str, str]] = set()
    errors: list[str] = []


_KINDS: dict[str, type[_Entry]] = {"area": AddedArea, "hide": HiddenArea, "pin": PinnedEvidence,
                                   "unpin": PinnedEvidence}


def _entry(path: Path, table: TomlTable) -> tuple[_Entry | None, list[str]]:
    name = table.name
    kind = _KINDS.get(name)
    if kind is None:
        return None, [f"{path} line {table.first_line}: unknown table [[{name}]]; "
                      "use [[area]], [[hide]], [[pin]] or [[unpin]]"]
    try:
        tables = tomllib.loads("\n".join(table.lines)).get(name, [])
    except tomllib.TOMLDecodeError as exc:
        problem = syntax_problem(table, exc)
        return None, [f"{path} line {problem.line}: [[{name}]] cannot be read as TOML ({problem.reason})"]
    try:
        return kind.model_validate(tables[0] if tables else {}), []
    except ValidationError as exc:
        found = sorted((field_line(table, str(e["loc"][0]) if e["loc"] else name),
                        str(e["loc"][0]) if e["loc"] else name, _why(e)) for e in exc.errors())
        return None, [f"{path} line {line}: [[{name}]] '{field}': {problem}" for line, field, problem in found]


def _why(error: dict) -> str:
    if error["type"] == "string_pattern_mismatch":
        return f"{error.get('input')!r} is not an id (12 hex digits, as `progress --json` shows them)"
    return _problem(error)


def load_corrections(path: Path) -> Corrections:
    """The corrections in `path` (none when it does not exist); bad entries become error lines."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Corrections()
    except (OSError, UnicodeDecodeError) as exc:
        return Corrections(errors=[f"{path}: cannot read: {exc}"])
    corrections = Corrections()
    for table in split_tables(text):
        entry, errors = _entry(path, table)
        corrections.errors += errors
        if isinstance(entry, AddedArea):
            corrections.added.append(entry)
        elif isinstance(entry, HiddenArea):
            corrections.hidden.add(entry.area)
        elif isinstance(entry, PinnedEvidence) and table.name == "pin":
            corrections.pinned.append(entry)
        elif isinstance(entry, PinnedEvidence):
            corrections.unpinned.add((entry.area, entry.chunk_id))
    return corrections
