"""Errors the engine raises; each message is one line that names what was wrong and what to do."""

from __future__ import annotations

from pathlib import Path


class EngineError(Exception):
    """Base for every error the engine reports to a user."""


class DocumentError(EngineError):
    """A corpus file that cannot be read; it is skipped and everything else still indexes."""

    def __init__(self, path: Path | str, problem: str, hint: str = "fix or remove the file, then index again"):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}; {hint}")


class ManifestError(EngineError):
    """A manifest entry with a bad field."""


class IndexUnavailable(EngineError):
    """No usable index: missing, torn, or built with another model. The engine names no command: each adapter adds
    how to build (`rebuild=False`) or rebuild the index in its own terms."""

    def __init__(self, message: str, rebuild: bool = True):
        self.rebuild = rebuild
        super().__init__(message)
