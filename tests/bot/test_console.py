"""The terminal chat, driven through its input and output streams over the real seed index."""

from __future__ import annotations

import io
import re

import pytest

from bot.console import run_console
from bot.feedback import FeedbackStore
from bot.handlers import Handlers

QUESTION = "When is the next full Ofsted inspection expected?"


@pytest.fixture()
def handlers(seed_services, tmp_path) -> Handlers:
    return Handlers(seed_services, FeedbackStore(tmp_path / "feedback.sqlite"))


def chat(handlers: Handlers, *lines: str) -> tuple[int, list[str]]:
    """Each reply, in order: the output split at the prompts, greeting dropped."""
    out = io.StringIO()
    status = run_console(handlers, io.StringIO("".join(f"{line}\n" for line in lines)), out)
    return status, [reply.strip() for reply in out.getvalue().split("> ")[1:]]


def test_plain_text_and_ask_give_the_same_answer_as_the_handlers(handlers):
    status, replies = chat(handlers, QUESTION, f"/ask {QUESTION}")
    expected = handlers.ask(QUESTION).as_text()
    assert status == 0 and replies[:2] == [expected, expected]
    assert "“" in expected and "[1] " in expected and "Sources" not in expected


def test_ask_options_narrow_the_search(handlers, seed_services):
    _, replies = chat(handlers, '/ask What did the inspection find? council:"Bury Council" type:minutes')
    ids = re.findall(r"id ([0-9a-f]{12})", replies[0])
    assert ids
    store = seed_services.store
    assert {store.document(store.chunk(i).doc_id).council for i in ids} == {"Bury Council"}


def test_quote_docs_and_help(handlers, seed_services):
    store = seed_services.store
    meta = next(m for m in store.documents() if len(store.document_chunks(m.doc_id)) > 2)
    first, second, third = store.document_chunks(meta.doc_id)[:3]
    _, replies = chat(handlers, f"/quote {second.chunk_id} 1", "/docs", "/help")
    quote, docs, help_text = replies[:3]
    assert quote.startswith(f"{meta.title}") and second.text.strip() in quote
    assert f"Before · {first.location}" in quote and f"After · {third.location}" in quote
    assert all(m.title in docs for m in store.documents()) and "Page 1 of 1" in docs
    assert "/ask QUESTION" in help_text and "/quote ID" in help_text


def test_mistakes_get_one_line_with_a_reference_and_the_chat_goes_on(handlers):
    status, replies = chat(handlers, "/quote nosuch", "/frobnicate", "/quote abc two", "/ask since:2024-13-01 hello")
    assert status == 0 and len(replies) == 5
    for reply, words in zip(replies, ("no passage has id 'nosuch'", "no command /frobnicate", "not a number",
                                      "not a date")):
        assert words in reply and re.search(r"\(reference [0-9a-f]{8}\)$", reply) and "\n" not in reply


def test_quit_stops_reading(handlers):
    status, replies = chat(handlers, "/help", "/quit", QUESTION)
    assert status == 0 and len(replies) == 2 and replies[1] == ""


def test_reindex_prints_progress_then_the_report(handlers, seed_services):
    _, replies = chat(handlers, "/reindex")
    assert replies[0].startswith("… reading the document folder")
    assert f"Indexed 5 documents, {seed_services.store.size} passages" in replies[0]


def test_a_long_timeline_says_which_command_shows_its_next_page(handlers, monkeypatch):
    from bot import handlers as handlers_module

    monkeypatch.setattr(handlers_module, "VISIT_PAGE_CHARS", 700)
    _, replies = chat(handlers, '/visits as_of:2026-11-22 include_past:true council:"Nottingham City Council"')
    typed = re.search(r"Page 1 of (\d+) · (/visits .+ page:2) for the next page", replies[0])
    assert typed and int(typed[1]) > 1
    _, replies = chat(handlers, typed[2])
    first = handlers.visits("2026-11-22", "Nottingham City Council", True)
    later = next(b for b in first.buttons if b.label.startswith("Later"))
    assert replies[0] == handlers.press("visits", later.argument, "u1").as_text()
    assert replies[0].startswith("Inspections and visits — Nottingham City Council") and "Page 2 of" in replies[0]


def test_define_explains_a_term_and_suggests_close_ones(handlers):
    _, replies = chat(handlers, "/define CLA", "/define MASHH")
    assert replies[0] == handlers.define("CLA").as_text() and replies[0].startswith("CLA — child looked after")
    assert replies[1] == "'MASHH' is not in the glossary. Did you mean MASH, LSCP?"
