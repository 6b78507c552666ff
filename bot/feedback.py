"""Helpful / Not helpful votes in SQLite, and the summary staff read to see where the documents fall short.

A vote keeps the question, the passages that were shown and when; the voter only as a salted SHA-256 of
their id, so staff can count people without being able to tell who they are. A person's second vote on the
same answer replaces their first. Questions the bot declined are kept too (question and time only): with the
"Not helpful" votes they are the coverage gaps staff read (`gaps`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import sqlite3
from contextlib import closing
from typing import Literal

from pydantic import BaseModel

from bot.sqlite_file import SQLiteFile

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS votes (
    answer_id TEXT NOT NULL, user_hash TEXT NOT NULL, question TEXT NOT NULL, chunk_ids TEXT NOT NULL,
    helpful INTEGER NOT NULL, at TEXT NOT NULL, PRIMARY KEY (answer_id, user_hash));
CREATE TABLE IF NOT EXISTS declined (question TEXT NOT NULL, at TEXT NOT NULL);
"""
MAX_DECLINED = 10_000  # the oldest are dropped beyond this, so nobody can fill the disk by asking


class Vote(BaseModel):
    question: str
    chunk_ids: list[str]
    helpful: bool
    at: dt.datetime


class GapQuestion(BaseModel):
    """A question the documents did not answer well: declined, or answered and marked not helpful."""

    question: str
    why: Literal["declined", "not helpful"]
    at: dt.datetime


class FeedbackSummary(BaseModel):
    votes: int
    helpful: int
    not_helpful: int
    people: int
    recent_not_helpful: list[Vote]

    def render(self) -> str:
        if not self.votes:
            return "No feedback yet."
        share = round(100 * self.helpful / self.votes)
        lines = [f"{self.votes} votes from {self.people} people: {self.helpful} helpful ({share}%), "
                 f"{self.not_helpful} not helpful."]
        if self.recent_not_helpful:
            lines.append("\nMost recent answers marked not helpful:")
        for vote in self.recent_not_helpful:
            shown = ", ".join(vote.chunk_ids) or "no passages (said not covered)"
            lines.append(f"- {vote.at:%Y-%m-%d %H:%M} “{vote.question}” — showed {shown}")
        return "\n".join(lines)


class FeedbackStore(SQLiteFile):
    """One SQLite file; each call opens its own connection, so worker threads can share the store."""

    schema = _SCHEMA

    def _user_hash(self, connection: sqlite3.Connection, user: str) -> str:
        """Salted per database, so a hash cannot be matched against a list of known Discord ids."""
        connection.execute("INSERT OR IGNORE INTO meta VALUES ('salt', ?)", (secrets.token_hex(16),))
        salt = connection.execute("SELECT value FROM meta WHERE key = 'salt'").fetchone()[0]
        return hashlib.sha256(f"{salt}:{user}".encode()).hexdigest()

    def record(self, answer_id: str, question: str, chunk_ids: list[str], helpful: bool, user: str) -> None:
        with closing(self._connect()) as connection, connection:
            connection.execute(
                "INSERT OR REPLACE INTO votes VALUES (?, ?, ?, ?, ?, ?)",
                (answer_id, self._user_hash(connection, user), question, json.dumps(chunk_ids), int(helpful),
                 dt.datetime.now(dt.timezone.utc).isoformat()),
            )

    def record_declined(self, question: str) -> None:
        with closing(self._connect()) as connection, connection:
            connection.execute("INSERT INTO declined VALUES (?, ?)",
                               (question, dt.datetime.now(dt.timezone.utc).isoformat()))
            connection.execute("DELETE FROM declined WHERE rowid <= (SELECT MAX(rowid) FROM declined) - ?",
                               (MAX_DECLINED,))

    def gap_questions(self) -> list[GapQuestion]:
        """Declined questions and those marked not helpful, newest first."""
        if not self.path.exists():
            return []
        with closing(self._connect()) as connection:
            rows = connection.execute(
                "SELECT question, 'declined', at FROM declined UNION ALL "
                "SELECT question, 'not helpful', at FROM votes WHERE helpful = 0 ORDER BY at DESC").fetchall()
        return [GapQuestion(question=q, why=why, at=dt.datetime.fromisoformat(at)) for q, why, at in rows]

    def summary(self, recent: int = 10) -> FeedbackSummary:
        if not self.path.exists():
            return FeedbackSummary(votes=0, helpful=0, not_helpful=0, people=0, recent_not_helpful=[])
        with closing(self._connect()) as connection:
            votes, helpful, people = connection.execute(
                "SELECT COUNT(*), COALESCE(SUM(helpful), 0), COUNT(DISTINCT user_hash) FROM votes").fetchone()
            rows = connection.execute(
                "SELECT question, chunk_ids, at FROM votes WHERE helpful = 0 ORDER BY at DESC LIMIT ?", (recent,)
            ).fetchall()
        unhelpful = [Vote(question=q, chunk_ids=json.loads(ids), helpful=False, at=dt.datetime.fromisoformat(at))
                     for q, ids, at in rows]
        return FeedbackSummary(votes=votes, helpful=helpful, not_helpful=votes - helpful, people=people,
                               recent_not_helpful=unhelpful)
