"""A small store in one SQLite file (feedback votes, watches): the schema made on first use, a connection per call."""

from __future__ import annotations

import sqlite3
from pathlib import Path


class SQLiteFile:
    """Each call opens its own connection, so worker threads can share the store; `schema` is run on each open
    (CREATE TABLE IF NOT EXISTS), so a new or older file gets what is missing."""

    schema = ""

    def __init__(self, path: Path):
        self.path = path

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path)
        connection.executescript(self.schema)
        return connection
