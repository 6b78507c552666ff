"""Watched topics in SQLite: a person or a channel subscribes to a topic, and new papers with passages on it
are posted to them (the posting is not wired yet; this is the storage `watch add|list|remove` needs).

A subscriber is a kind ("user", posted to as a direct message, or "channel") and an id as text (a Discord
snowflake, or "console"). The same topic twice for one subscriber is one watch; each subscriber may keep
at most `MAX_WATCHES` so nobody can fill the table.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from contextlib import closing
from typing import Literal

from pydantic import BaseModel

from bot.sqlite_file import SQLiteFile

from bot.answering import QueryError, clean_query

SubscriberKind = Literal["user", "channel"]
MAX_WATCHES = 25
MAX_TOPIC_CHARS = 100

_SCHEMA = """
CREATE TABLE IF NOT EXISTS watches (
    watch_id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, subscriber TEXT NOT NULL,
    topic TEXT NOT NULL, topic_key TEXT NOT NULL, created TEXT NOT NULL,
    UNIQUE (kind, subscriber, topic_key));
"""


class Watch(BaseModel):
    watch_id: int
    kind: SubscriberKind
    subscriber: str
    topic: str
    created: dt.datetime


def clean_topic(text: str | None) -> str:
    """A topic as typed, control characters removed and spaces folded; empty or long ones refused in one line."""
    if text is None or not text.strip():
        raise QueryError("the topic is empty; name what to watch, e.g. /watch agency social workers")
    topic = clean_query(text)
    if len(topic) > MAX_TOPIC_CHARS:
        raise QueryError(f"the topic is {len(topic)} characters long; keep it under {MAX_TOPIC_CHARS}")
    return topic


def _key(topic: str) -> str:
    return topic.casefold()


class WatchStore(SQLiteFile):
    """One SQLite file; each call opens its own connection, so worker threads can share the store."""

    schema = _SCHEMA

    def add(self, kind: SubscriberKind, subscriber: str, topic: str) -> tuple[Watch, bool]:
        """The watch, and whether it is new (the same topic again returns the one already kept)."""
        topic = clean_topic(topic)
        with closing(self._connect()) as connection, connection:
            connection.execute("BEGIN IMMEDIATE")  # the count and the insert see the same rows
            held = self._find(connection, kind, subscriber, _key(topic))
            if held is not None:
                return held, False
            count = connection.execute("SELECT COUNT(*) FROM watches WHERE kind = ? AND subscriber = ?",
                                       (kind, subscriber)).fetchone()[0]
            if count >= MAX_WATCHES:
                raise QueryError(f"you already watch {count} topics, the most allowed; remove one first")
            connection.execute(
                "INSERT INTO watches (kind, subscriber, topic, topic_key, created) VALUES (?, ?, ?, ?, ?)",
                (kind, subscriber, topic, _key(topic), dt.datetime.now(dt.timezone.utc).isoformat()),
            )
            return self._find(connection, kind, subscriber, _key(topic)), True

    def list(self, kind: SubscriberKind | None = None, subscriber: str | None = None) -> list[Watch]:
        """One subscriber's watches, or every watch (for posting), oldest first."""
        if not self.path.exists():
            return []
        query, params = "SELECT * FROM watches", ()
        if kind is not None and subscriber is not None:
            query, params = query + " WHERE kind = ? AND subscriber = ?", (kind, subscriber)
        with closing(self._connect()) as connection:
            rows = connection.execute(query + " ORDER BY watch_id", params).fetchall()
        return [_watch(row) for row in rows]

    def remove(self, kind: SubscriberKind, subscriber: str, which: str) -> Watch:
        """Remove one of the subscriber's watches, named by its number or its topic; only their own."""
        which = " ".join((which or "").split())
        with closing(self._connect()) as connection, connection:
            if which.isdigit():
                row = connection.execute("SELECT * FROM watches WHERE watch_id = ? AND kind = ? AND subscriber = ?",
                                         (int(which), kind, subscriber)).fetchone()
            else:
                row = connection.execute("SELECT * FROM watches WHERE topic_key = ? AND kind = ? AND subscriber = ?",
                                         (_key(which), kind, subscriber)).fetchone()
            if row is None:
                raise QueryError(f"you have no watch '{which}'; list yours with `watch list`")
            connection.execute("DELETE FROM watches WHERE watch_id = ?", (row[0],))
        return _watch(row)

    @staticmethod
    def _find(connection: sqlite3.Connection, kind: str, subscriber: str, key: str) -> Watch | None:
        row = connection.execute("SELECT * FROM watches WHERE kind = ? AND subscriber = ? AND topic_key = ?",
                                 (kind, subscriber, key)).fetchone()
        return _watch(row) if row else None


def _watch(row: tuple) -> Watch:
    watch_id, kind, subscriber, topic, _, created = row
    return Watch(watch_id=watch_id, kind=kind, subscriber=subscriber, topic=topic,
                 created=dt.datetime.fromisoformat(created))
