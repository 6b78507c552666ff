"""The command line's newer commands (define, progress, compare, watch, gaps), run in-process over real indexes."""

from __future__ import annotations

import json

from tests.bot.test_cli import run


def test_define_json_and_text(seed_services):
    status, out, _ = run(seed_services, "define", "cla", "--json")
    payload = json.loads(out)
    assert status == 0 and set(payload) == {"term", "expansion", "definition", "synonyms", "source"}
    assert payload["term"] == "CLA" and payload["expansion"] == "child looked after" and "LAC" in payload["synonyms"]
    status, out, _ = run(seed_services, "define", "IRO")
    assert status == 0 and out.startswith("IRO — independent reviewing officer\n\n")
