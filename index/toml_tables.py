"""Staff-edited TOML files read one `[[table]]` at a time, so one typo loses only its own entry.

tomllib stops at the first syntax error and returns nothing, which would silently drop every other entry of a
hand-written file (manifest.toml, visits.toml, progress.toml). Here the file is split at its `[[...]]` headers and
each table is parsed alone; a table that cannot be read becomes one line naming the file, the line and the field.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, NamedTuple

TABLE_HEADER = re.compile(r"^\s*\[\[\s*([A-Za-z0-9_-]+)\s*\]\]")
_AT_LINE = re.compile(r" \(at line (\d+), column \d+\)")
_ASSIGNMENT = re.compile(r"\s*[\"']?([\w-]+)[\"']?\s*=\s*(.*)")


class TomlTable(NamedTuple):
    """One `[[name]]` table: where it starts in the file, its lines, and its values (None when unreadable)."""

    name: str
    first_line: int
    lines: list[str]
    values: dict[str, Any] | None


def split_tables(text: str) -> list[TomlTable]:
    """Each `[[name]]` table with the 1-based file line of its header; values are not parsed yet."""
    lines = text.splitlines()
    starts = [(i, match.group(1)) for i, line in enumerate(lines) if (match := TABLE_HEADER.match(line))]
    ends = [i for i, _ in starts[1:]] + [len(lines)]
    return [TomlTable(name, start + 1, lines[start:end], None) for (start, name), end in zip(starts, ends)]


def read_tables(path: Path, text: str) -> tuple[list[TomlTable], list[str]]:
    """Every table of the file parsed on its own, and one line per table (or preamble) that is not valid TOML."""
    tables: list[TomlTable] = []
    errors: list[str] = []
    blocks = split_tables(text)
    preamble = text.splitlines()[: blocks[0].first_line - 1 if blocks else None]
    for table in [TomlTable("", 1, preamble, None), *blocks]:
        try:
            parsed = tomllib.loads("\n".join(table.lines))
        except tomllib.TOMLDecodeError as error:
            errors.append(syntax_error(path, table, error))
            continue
        if table.name:
            values = parsed.get(table.name, [])
            tables.append(table._replace(values=values[0] if values and isinstance(values, list) else {}))
        elif parsed:
            errors.append(f"{path}: settings before the first [[table]] are not used ({', '.join(parsed)})")
    return tables, errors


class SyntaxProblem(NamedTuple):
    """Where tomllib stopped in a table: the file line, the field set on it (if any) and its raw value."""

    line: int
    field: str | None
    value: str | None
    reason: str


def syntax_problem(table: TomlTable, error: tomllib.TOMLDecodeError) -> SyntaxProblem:
    """tomllib's 'at line N' of the table alone, turned into the file's line and the field written there."""
    match = _AT_LINE.search(str(error))
    offset = int(match.group(1)) - 1 if match else 0
    assignment = _ASSIGNMENT.match(table.lines[offset] if offset < len(table.lines) else "")
    field, value = (assignment.group(1), assignment.group(2).strip()) if assignment else (None, None)
    return SyntaxProblem(table.first_line + offset, field, value, _AT_LINE.sub("", str(error)))


def syntax_error(path: Path, table: TomlTable, error: tomllib.TOMLDecodeError) -> str:
    """'manifest.toml line 14: [[document]] field 'date': cannot read 2025-13-01 as TOML (...); fix it, ...'."""
    problem = syntax_problem(table, error)
    where = f"[[{table.name}]]" if table.name else "the top of the file"
    what = f" field '{problem.field}': cannot read {problem.value} as TOML" if problem.field else ""
    return f"{path} line {problem.line}: {where}{what} ({problem.reason}); fix it, the other entries still apply"


def field_line(table: TomlTable, field: str) -> int:
    """1-based file line where `field` is set inside a table, else the line of the table's header."""
    pattern = re.compile(rf"^\s*[\"']?{re.escape(field)}[\"']?\s*=")
    return next((table.first_line + i for i, line in enumerate(table.lines) if pattern.match(line)), table.first_line)
