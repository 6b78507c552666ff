"""What we know about each document: `manifest.toml` entries, a `SOURCES.tsv` table, or the text itself."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from index.meta_inference import infer_meta
from index.models import DatePrecision, DocType, DocumentMeta, ParsedDocument
from index.toml_tables import TomlTable, field_line, read_tables

MANIFEST_NAME = "manifest.toml"
SYNC_MANIFEST_NAME = "manifest.sync.toml"  # written by `sync`; entries in manifest.toml win over its
SOURCES_NAME = "SOURCES.tsv"


class ManifestEntry(BaseModel):
    """One `[[document]]` table of manifest.toml."""

    model_config = ConfigDict(extra="forbid")

    file: str
    title: str = Field(min_length=1)
    council: str | None = None
    body: str | None = None
    date: dt.date | None = None
    date_precision: DatePrecision = "day"
    type: DocType = "other"
    url: str | None = None
    date_note: str | None = None
    draft: bool = Field(False, description="the publisher titled it a draft; it is indexed all the same")
    grade: str | None = Field(None, description="overall effectiveness, for an inspection report")


class CouncilEntry(BaseModel):
    """One `[[council]]` table: other names people use for a council, beside the packaged table."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    aliases: list[str] = Field(min_length=1)


def doc_id_for(source: str) -> str:
    """A document's id is its path in the corpus without the extension: stable and readable in citations."""
    return source.rsplit(".", 1)[0] if "." in Path(source).name else source


class Manifest(BaseModel):
    """Entries by file name, and one line per entry that could not be used."""

    entries: dict[str, ManifestEntry] = {}
    council_aliases: dict[str, list[str]] = {}
    errors: list[str] = []

    def meta_for(self, source: str, parsed: ParsedDocument) -> DocumentMeta:
        entry = self.entries.get(source)
        if entry is None:
            return infer_meta(doc_id_for(source), source, parsed.lines)
        return DocumentMeta(
            doc_id=doc_id_for(source), source=source, title=entry.title, council=entry.council, body=entry.body,
            date=entry.date, date_precision=entry.date_precision, doc_type=entry.type, url=entry.url,
            date_note=entry.date_note, grade=entry.grade,
        )


def load_manifest(corpus: Path) -> Manifest:
    """Read manifest.sync.toml, manifest.toml and SOURCES.tsv if present (manifest.toml wins over the synced entries;
    the table only describes files neither names); a bad entry is reported and that document falls back to inference."""
    manifest = Manifest()
    _read_toml(corpus / SYNC_MANIFEST_NAME, manifest)
    _read_toml(corpus / MANIFEST_NAME, manifest)
    _read_sources_tsv(corpus / SOURCES_NAME, manifest)
    return manifest


def _read_toml(path: Path, manifest: Manifest) -> None:
    """Each table is read on its own (index.toml_tables), so one typo costs only its own entry, named by line."""
    if not path.is_file():
        return
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        manifest.errors.append(f"{path}: cannot read it ({error}); fix it, metadata is inferred meanwhile")
        return
    tables, errors = read_tables(path, text)
    manifest.errors.extend(errors)
    counts = {"document": 0, "council": 0}
    for table in tables:
        if table.name not in counts:
            manifest.errors.append(f"{path} line {table.first_line}: unknown table [[{table.name}]]; "
                                   "use [[document]] or [[council]]")
            continue
        counts[table.name] += 1
        _add_table(path, table, counts[table.name], manifest)


def _add_table(path: Path, table: TomlTable, number: int, manifest: Manifest) -> None:
    model = ManifestEntry if table.name == "document" else CouncilEntry
    try:
        entry = model.model_validate(table.values)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "entry"
        name = f" ({table.values['file']})" if isinstance(table.values.get("file"), str) else ""
        manifest.errors.append(f"{path} line {field_line(table, field.split('.')[0])}: {table.name} {number}{name} "
                               f"field '{field}': {first['msg']}; fix the entry")
        return
    if isinstance(entry, ManifestEntry):
        manifest.entries[entry.file] = entry
    else:
        manifest.council_aliases.setdefault(entry.name, []).extend(entry.aliases)


def _read_sources_tsv(path: Path, manifest: Manifest) -> None:
    """Ofsted corpora ship a table: file, council, published, overall_effectiveness, ofsted_url."""
    if not path.is_file():
        return
    with path.open(encoding="utf-8", newline="") as handle:
        for number, row in enumerate(csv.DictReader(handle, delimiter="\t"), start=2):
            name = row.get("file") or ""
            if not name or name in manifest.entries:
                continue
            council = (row.get("council") or "").strip().title().replace(" And ", " and ")
            try:
                entry = ManifestEntry(
                    file=name,
                    title=_ofsted_title(council, row.get("published") or ""),
                    council=council or None,
                    body="Ofsted",
                    date=row.get("published") or None,
                    type="report",
                    url=row.get("ofsted_url") or None,
                    grade=(row.get("overall_effectiveness") or "").strip() or None,
                )
            except ValidationError as error:
                first = error.errors()[0]
                manifest.errors.append(f"{path} line {number} ({name}) field '{first['loc'][0]}': {first['msg']}")
                continue
            manifest.entries[name] = entry


def _ofsted_title(council: str, published: str) -> str:
    """Name the council and month in the title, so both dense and lexical search can tell reports apart."""
    try:
        when = dt.date.fromisoformat(published).strftime(" (%B %Y)")
    except ValueError:
        when = ""
    return f"Ofsted inspection of {council} children's services{when}"
