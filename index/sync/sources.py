"""Optional per-corpus defaults for `sync`: `corpus/sources.toml`.

    [moderngov]
    base_url = "https://democracy.example.gov.uk"   # the site whose mgWebService.asmx is called
    committees = [123, 456]                          # lCommitteeId values
    council = "Example City Council"                 # written into each paper's manifest entry
    days = 365                                       # default window: meetings this many days back ...
    days_ahead = 60                                  # ... and this many ahead (agendas come out early)

Command-line flags win over these.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from index.errors import EngineError

SOURCES_FILE = "sources.toml"


class ModernGovSource(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_url: str | None = None
    committees: list[int] = []
    council: str | None = None
    days: int = Field(365, ge=0, le=36500)
    days_ahead: int = Field(60, ge=0, le=3650)


class Sources(BaseModel):
    model_config = ConfigDict(extra="forbid")

    moderngov: ModernGovSource = ModernGovSource()


def load_sources(corpus: Path) -> Sources:
    """The corpus's sources.toml, or the defaults when there is none; a bad one is one line naming the field."""
    path = corpus / SOURCES_FILE
    if not path.is_file():
        return Sources()
    try:
        return Sources.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise EngineError(f"{path}: not valid TOML ({error}); fix it or pass the sync options on the command line") from None
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "file"
        raise EngineError(f"{path}: field '{field}': {first['msg']}; fix it") from None
