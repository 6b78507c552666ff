"""Vectors an unfinished build has already computed, kept so that a killed build resumes where it stopped.

`index_dir/checkpoint.sqlite` holds one row per passage embedded by a build whose generation is not live yet,
keyed by passage id (a hash of the very text embedded), model and backend, so a vector is only reused for the
text, model and backend that made it. Rows are committed in batches (WAL mode: a kill loses at most the batch
being computed) and forgotten once a build has made a generation live: its own rows and every row older than
the build (which it either used or did not need), but not what a build running beside it has written since.

The checkpoint is a cache beside the index, never part of it: the live generation never reads it, a build only
copies verified vectors out of it, and a damaged file (torn, truncated, not a database, a row that fails its
CRC) is reported in one line, discarded and started afresh. Nothing here can fail a build.
"""

from __future__ import annotations

import sqlite3
import time
import zlib
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

CHECKPOINT = "checkpoint.sqlite"

# A rowid table: a row keeps its 1.5 kB vector in the page (WITHOUT ROWID would spill each to an overflow page).
_SCHEMA = """
CREATE TABLE IF NOT EXISTS vectors (chunk_id TEXT NOT NULL, model TEXT NOT NULL, backend TEXT NOT NULL,
                                    vector BLOB NOT NULL, crc INTEGER NOT NULL, written REAL NOT NULL,
                                    PRIMARY KEY (chunk_id, model, backend));
"""
_BUSY_SECONDS = 30.0  # two builds of one folder may write at once; SQLite serialises them


class Checkpoint:
    """The checkpoint of one index folder for one model and backend; `say` gets the one-line warnings."""

    def __init__(self, index_dir: Path, model: str, backend: str, dim: int, say: Callable[[str], None]):
        self.path = index_dir / CHECKPOINT
        self.model, self.backend, self.dim = model, backend, dim
        self._say = say
        self._db: sqlite3.Connection | None = None
        self._disabled = False
        self._started = time.time()

    def load(self, chunk_ids: Iterable[str]) -> dict[str, np.ndarray]:
        """The stored vectors among `chunk_ids`, each checked against its CRC and size."""
        wanted = set(chunk_ids)
        if not wanted or not self.path.exists():
            return {}
        try:
            rows = self._connect().execute("SELECT chunk_id, vector, crc FROM vectors WHERE model = ? AND backend = ?",
                                           (self.model, self.backend)).fetchall()
        except sqlite3.OperationalError as error:  # locked or unreadable, not damaged: left for the next build
            self._say(f"warning: cannot read the embedding checkpoint {self.path} ({error}); embedding without it")
            return {}
        except sqlite3.DatabaseError as error:
            self._discard(error)
            return {}
        found: dict[str, np.ndarray] = {}
        bad = 0
        for chunk_id, blob, crc in rows:
            if chunk_id not in wanted:
                continue
            if not isinstance(blob, bytes) or len(blob) != 4 * self.dim or zlib.crc32(blob) != crc:
                bad += 1
                continue
            found[chunk_id] = np.frombuffer(blob, dtype=np.float32).copy()
        if bad:
            self._say(f"warning: {bad} vector(s) in the embedding checkpoint {self.path} failed their check; "
                      "embedding them again")
        return found

    def save(self, chunk_ids: Sequence[str], vectors: np.ndarray) -> None:
        """Commit one batch; if the file cannot be written, warn once and let the build go on without it."""
        if self._disabled or not chunk_ids:
            return
        rows = []
        for chunk_id, vector in zip(chunk_ids, vectors):
            blob = np.ascontiguousarray(vector, dtype=np.float32).tobytes()
            rows.append((chunk_id, self.model, self.backend, blob, zlib.crc32(blob), time.time()))
        try:
            db = self._connect()
            with db:
                db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?, ?, ?, ?)", rows)
        except (sqlite3.DatabaseError, OSError) as error:  # a full disk, a read-only folder, a damaged file
            self._disabled = True
            self._say(f"warning: cannot write the embedding checkpoint {self.path} ({error}); "
                      "this build goes on, but a kill now would lose its vectors")

    def forget(self, live_ids: Iterable[str]) -> None:
        """After a generation holding `live_ids` went live: drop their rows (the live index has them now) and
        every row from before this build; give the space back when nothing is left."""
        if not self.path.exists():
            return
        try:
            db = self._connect()
            with db:
                db.execute("DELETE FROM vectors WHERE written < ?", (self._started,))
                db.executemany("DELETE FROM vectors WHERE chunk_id = ? AND model = ? AND backend = ?",
                               ((chunk_id, self.model, self.backend) for chunk_id in live_ids))
            if db.execute("SELECT 1 FROM vectors LIMIT 1").fetchone() is None:
                db.execute("VACUUM")
        except sqlite3.OperationalError:
            return  # busy with another build's batch: the rows are dropped next time
        except sqlite3.DatabaseError as error:
            self._discard(error)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def _connect(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=_BUSY_SECONDS)
            try:
                db.execute("PRAGMA journal_mode = WAL")
                db.execute("PRAGMA synchronous = NORMAL")  # with WAL: a kill never loses a committed batch
                db.executescript(_SCHEMA)
            except BaseException:
                db.close()
                raise
            self._db = db
        return self._db

    def _discard(self, error: sqlite3.DatabaseError) -> None:
        """A damaged checkpoint is only lost work: say so in one line and start an empty one."""
        self._say(f"warning: ignoring the damaged embedding checkpoint {self.path} ({error}); starting a new one")
        self.close()
        for suffix in ("-wal", "-shm", ""):  # the database last: a stale WAL must never meet a new file
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
