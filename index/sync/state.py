"""What the sync holds: `corpus/.sync/state.json` (papers by address, with their content hash) and the
`manifest.sync.toml` entries derived from it.

Both are written whole to a temporary file and renamed into place, so a sync killed part-way leaves the
previous version. The hidden `.sync/` folder is never indexed. Staff keep writing `manifest.toml`; an entry
there for a synced file wins over the generated one (see `index.manifest.load_manifest`).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import BaseModel, ValidationError

from index.errors import EngineError
from index.manifest import SYNC_MANIFEST_NAME
from index.models import DocType

STATE_DIR = ".sync"
STATE_FILE = "state.json"
LOCK_FILE = "lock"
_MANIFEST_HEADER = """\
# Written by `python -m bot sync`: one [[document]] per paper fetched from the council's committee system.
# Do not edit: the next sync rewrites this file. To correct an entry, copy it into manifest.toml, whose
# entries win over these. `draft = true` marks papers the council titled as drafts.
"""


class HeldPaper(BaseModel):
    """A paper the corpus holds because of a sync, keyed in the state by the address it came from."""

    url: str
    source: str
    sha256: str
    published: str | None = None
    title: str
    committee: str
    council: str | None = None
    date: dt.date | None = None
    doc_type: DocType
    draft: bool = False
    primary: bool = True  # False: the same bytes were already in the corpus under `source`, from elsewhere


class SyncState(BaseModel):
    papers: dict[str, HeldPaper] = {}
    pending_index: bool = False  # papers landed since the index last took them in


@contextmanager
def sync_lock(corpus: Path) -> Iterator[None]:
    """One sync at a time per corpus: a second would clear the first's downloads and overwrite its state."""
    path = corpus / STATE_DIR / LOCK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise EngineError(f"another sync is running on {corpus}; wait for it to finish, then sync again") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def state_path(corpus: Path) -> Path:
    return corpus / STATE_DIR / STATE_FILE


def load_state(corpus: Path) -> SyncState:
    path = state_path(corpus)
    if not path.is_file():
        return SyncState()
    try:
        return SyncState.model_validate_json(path.read_bytes())
    except (ValidationError, OSError) as error:
        raise EngineError(f"{path}: the sync state is damaged ({type(error).__name__}); delete it and sync again, "
                          "papers already held are recognised by their content") from None


def save_state(corpus: Path, state: SyncState) -> None:
    write_atomically(state_path(corpus), state.model_dump_json(indent=1).encode("utf-8"))


def write_manifest(corpus: Path, state: SyncState) -> None:
    """One entry per synced file that exists, sorted by file, so the manifest diffs cleanly."""
    held = {paper.source: paper for paper in state.papers.values() if paper.primary}
    tables = [_entry(held[source]) for source in sorted(held) if (corpus / source).is_file()]
    write_atomically(corpus / SYNC_MANIFEST_NAME, (_MANIFEST_HEADER + "".join(tables)).encode("utf-8"))


def _entry(paper: HeldPaper) -> str:
    fields = {"file": paper.source, "title": paper.title, "council": paper.council, "body": paper.committee,
              "date": paper.date, "type": paper.doc_type, "url": paper.url, "draft": paper.draft or None}
    lines = ["", "[[document]]"]
    for key, value in fields.items():
        if value is None:
            continue
        rendered = value.isoformat() if isinstance(value, dt.date) else "true" if value is True else _toml_string(value)
        lines.append(f"{key} = {rendered}")
    return "\n".join(lines) + "\n"


def _toml_string(text: str) -> str:
    """JSON's string escapes are all valid TOML basic-string escapes."""
    return json.dumps(text, ensure_ascii=False)


def write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
