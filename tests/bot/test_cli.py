"""The command line's JSON shapes, batches and error exits, run in-process over the real seed index."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from bot.answering import Answer
from bot.cli import Cli, build_parser, main

SEARCH_KEYS = {"rank", "score", "chunk_id", "doc_id", "source", "title", "date", "location", "text"}
CITATION_KEYS = {"n", "chunk_id", "doc_id", "source", "title", "council", "date", "location", "quote", "later_than"}
ANSWER_KEYS = {"question", "found", "answer", "lead", "citations"}  # documented; later fields may only add to it


def run(services, *argv: str, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    args = build_parser().parse_args(list(argv))
    status = getattr(Cli(services, out=out, err=err, stdin=io.StringIO(stdin)), args.command)(args)
    return status, out.getvalue(), err.getvalue()


def test_search_json_shape(seed_services):
    status, out, _ = run(seed_services, "search", "agency staff costs", "--k", "3", "--json")
    payload = json.loads(out)
    assert status == 0 and set(payload) == {"query", "results"}
    assert payload["query"] == "agency staff costs"
    assert [r["rank"] for r in payload["results"]] == [1, 2, 3]
    assert all(set(r) == SEARCH_KEYS for r in payload["results"])
    assert all(r["source"].endswith(".txt") for r in payload["results"])


def test_ask_json_shape(seed_services):
    status, out, _ = run(seed_services, "ask", "How much can agency social workers earn?", "--json")
    payload = json.loads(out)
    assert status == 0 and set(payload) == set(Answer.model_fields) and ANSWER_KEYS <= set(payload)
    assert payload["found"] is True
    assert all(set(c) == CITATION_KEYS for c in payload["citations"])
    assert "upwards of £30 an hour" in payload["answer"]


def test_batch_reads_json_lines_and_survives_bad_ones(seed_services):
    lines = "\n".join([
        json.dumps({"id": 1, "query": "Who designed the practice conference?"}),
        "this is not json",
        json.dumps({"id": "two", "query": ""}),
        json.dumps({"id": 3, "nothing": "here"}),
        json.dumps({"id": 4, "query": "x" * 1001}),
        json.dumps({"id": 5, "query": "How many children were in care in 2016?"}),
    ])
    status, out, _ = run(seed_services, "ask", "--batch", "--json", stdin=lines)
    replies = [json.loads(line) for line in out.splitlines()]
    assert status == 0 and len(replies) == 6
    assert replies[0]["id"] == 1 and replies[0]["found"] is True
    assert replies[1] == {"id": None, "error": replies[1]["error"]} and "not JSON" in replies[1]["error"]
    assert replies[2]["id"] == "two" and "empty" in replies[2]["error"]
    assert replies[3]["id"] == 3 and "error" in replies[3]
    assert replies[4]["id"] == 4 and "1000" in replies[4]["error"]
    assert replies[5]["id"] == 5 and set(replies[5]) == {"id", *Answer.model_fields}


def test_search_batch_carries_ids(seed_services):
    status, out, _ = run(seed_services, "search", "--batch", "--json",
                         stdin=json.dumps({"id": 7, "query": "practice conference"}) + "\n")
    reply = json.loads(out)
    assert reply["id"] == 7 and set(reply) == {"id", "query", "results"}


def test_quote_returns_the_whole_passage_with_neighbours(seed_services):
    hit = seed_services.searcher.search("Personal Advisors plan with Care Leavers", k=1)[0]
    status, out, _ = run(seed_services, "quote", hit.chunk.chunk_id, "--context", "1", "--json")
    payload = json.loads(out)
    assert status == 0 and payload["text"] == hit.chunk.text
    assert payload["location"] == "para (m)"
    assert [c["location"] for c in payload["before"]] == ["para (l)"]
    assert [c["location"] for c in payload["after"]] == ["para (n)"]


def test_docs_json_lists_every_document(seed_services):
    status, out, _ = run(seed_services, "docs", "--json")
    documents = json.loads(out)["documents"]
    assert status == 0 and len(documents) == 5
    bury = next(d for d in documents if d["council"] == "Bury Council")
    assert bury["type"] == "minutes" and bury["inferred"] is False and bury["passages"] > 0


@pytest.mark.parametrize("argv", [
    ["quote", "000000000000"],
    ["ask", "   "],
    ["ask", "x" * 1001],
    ["search", "anything", "--k", "0"],
    ["search", "anything", "--since", "2024-13-01"],
    ["visits", "--as-of", "March 2024"],
    ["quote", "000000000000", "--context", "9"],
    ["define", "MASHH"],
])
def test_bad_requests_exit_2_with_one_line(seed_services, monkeypatch, capsys, argv):
    monkeypatch.setattr("bot.cli.Services", lambda settings: seed_services)
    status = main(["--index-dir", str(seed_services.index_dir), *argv])
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("error: ") and err.count("\n") == 1


def test_console_script_and_module_run(tmp_path):
    """`python -m bot` runs without the model for commands that need none, and reports a missing index."""
    result = subprocess.run([sys.executable, "-m", "bot", "--index-dir", str(tmp_path / "none"), "docs"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "no index" in result.stderr and "python -m bot index" in result.stderr


# --- admin safety (issue 13): `index` says what it skipped, and `docs` what is served from an older version ------

@pytest.fixture()
def small_services(tmp_path, fake_embedder):
    from bot.services import Services
    from bot.settings import Settings

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "plan.txt").write_text("Improvement plan\n\nThe plan has six priorities for children in care.\n")
    (corpus / "update.txt").write_text("Scrutiny update\n\nAgency staff costs fell by a fifth this year.\n")
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index", model=fake_embedder.name,
                        feedback_db=tmp_path / "feedback.sqlite", _env_file=None)
    return Services(settings, fake_embedder)


def test_index_exits_3_with_a_one_line_summary_of_what_it_skipped(small_services):
    corpus = small_services.corpus
    assert run(small_services, "index")[0] == 0
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "update.txt").write_bytes(b"Agenda\x00\x01")  # an update that cannot be read
    (corpus / "manifest.toml").write_text('[[document]]\nfile = "gone.txt"\ntitle = "Deleted paper"\n')
    status, out, err = run(small_services, "index")
    assert status == 3
    [summary] = out.splitlines()
    assert summary.startswith("indexed 2 documents")
    assert "1 skipped: empty.txt (empty file)" in summary
    assert "served from an older version, the new file cannot be read: update.txt (binary content" in summary
    assert "1 manifest entry names a missing file: gone.txt" in summary
    assert all(line.startswith("problem: ") for line in err.splitlines()[-3:])


def test_docs_flags_a_document_served_from_an_older_version(small_services):
    import datetime as dt

    run(small_services, "index")
    (small_services.corpus / "update.txt").write_bytes(b"")
    assert run(small_services, "index")[0] == 3
    documents = {d["source"]: d for d in json.loads(run(small_services, "docs", "--json")[1])["documents"]}
    assert documents["update.txt"]["stale_since"] == dt.date.today().isoformat()
    assert documents["update.txt"]["stale_reason"] == "empty file (0 bytes)"
    assert documents["plan.txt"]["stale_since"] is None
    text = run(small_services, "docs")[1]
    assert "OLDER VERSION served since" in text and text.count("OLDER VERSION") == 1
    (small_services.corpus / "update.txt").write_text("Scrutiny update\n\nAgency costs fell again.\n")
    assert run(small_services, "index")[0] == 0  # fixed: served fresh, flag gone
    assert "OLDER VERSION" not in run(small_services, "docs")[1]


# --- one line where a traceback was printed (issue 13) -----------------------------------------------------------

WELL_FORMED_TOKEN = "MTAxMjM0NTY3ODkwMTIzNDU2Nzg5.GaBcDe.abcdefghijklmnopqrstuvwxyz0123456789AB"


def _bot(tmp_path, repo_root, *argv: str, stdin: str = "", env: dict | None = None, script: str | None = None):
    import os

    environment = {**os.environ, "BOT_FEEDBACK_DB": str(tmp_path / "feedback.sqlite"), **(env or {})}
    command = [sys.executable, "-c", script, *argv] if script else [sys.executable, "-m", "bot", *argv]
    return subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=120, cwd=repo_root,
                          env=environment)


def test_every_bad_setting_is_named_at_once(monkeypatch):
    from bot.settings import load_settings
    from index.errors import EngineError

    monkeypatch.setenv("BOT_COOLDOWN_SECONDS", "-1")
    monkeypatch.setenv("BOT_SYNC_RETRIES", "99")
    monkeypatch.setenv("BOT_ANSWER_DMS", "maybe")
    with pytest.raises(EngineError) as raised:
        load_settings()
    message = str(raised.value)
    assert message.startswith("3 settings are invalid: ") and "\n" not in message
    assert all(name in message for name in ("BOT_COOLDOWN_SECONDS", "BOT_SYNC_RETRIES", "BOT_ANSWER_DMS"))


def test_a_missing_model_is_named_not_taken_for_an_index_to_rebuild(small_services):
    from bot.services import Services
    from index.errors import EngineError

    run(small_services, "index")
    settings = small_services.settings.model_copy(update={"model": "/nonexistent"})
    with pytest.raises(EngineError) as raised:
        Services(settings).store
    assert "BOT_MODEL" in str(raised.value) and "--rebuild" not in str(raised.value)


def test_a_model_folder_with_a_bad_config_is_one_line(tmp_path):
    from index.embedding import Embedder
    from index.errors import EngineError

    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(EngineError, match="cannot be loaded") as raised:
        Embedder(str(tmp_path))
    assert "\n" not in str(raised.value) and raised.value.__cause__ is None


def test_console_without_an_index_says_sorry_without_a_traceback(tmp_path, repo_root):
    result = _bot(tmp_path, repo_root, "--index-dir", str(tmp_path / "none"), "console", stdin="hello\nagain\n")
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.count("Sorry: no index in") >= 2 and "Traceback" not in result.stdout


def test_serve_that_cannot_reach_discord_is_one_line_and_exit_2(tmp_path, repo_root):
    """A well-formed token and no way to reach Discord (its API pointed at a closed port on 127.0.0.1)."""
    script = ("import sys, discord.http\ndiscord.http.Route.BASE = 'http://127.0.0.1:9/api/v10'\n"
              "from bot.cli import main\nsys.exit(main(sys.argv[1:]))")
    result = _bot(tmp_path, repo_root, "--index-dir", str(tmp_path / "none"), "serve", script=script,
                  env={"BOT_DISCORD_TOKEN": WELL_FORMED_TOKEN})
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1].startswith("error: cannot reach Discord (")
