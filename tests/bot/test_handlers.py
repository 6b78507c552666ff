"""The transport-neutral handlers over the real seed index: what each command replies, as data."""

from __future__ import annotations

import logging
import re

import pytest

from bot import handlers as handlers_module
from bot.answering import QueryError, fold
from bot.feedback import FeedbackStore
from bot.handlers import Cooldown, Field, Handlers, Reply, acronyms_in, failure, visit_pages
from bot.rendering import source_line

QUESTION = "When is the next full Ofsted inspection expected?"
UNCOVERED = "What is the recipe for a Victoria sponge cake?"


@pytest.fixture()
def handlers(seed_services, tmp_path) -> Handlers:
    return Handlers(seed_services, FeedbackStore(tmp_path / "feedback.sqlite"))


@pytest.fixture(scope="module")
def answered(seed_services, tmp_path_factory) -> tuple[Handlers, Reply]:
    """One real answer shared by the tests that only read it: embedding a question is the slow part."""
    handlers = Handlers(seed_services, FeedbackStore(tmp_path_factory.mktemp("fb") / "feedback.sqlite"))
    return handlers, handlers.ask(QUESTION)


def _buttons(reply: Reply, action: str) -> list[str]:
    return [button.argument for button in reply.buttons if button.action == action]


def test_an_answer_quotes_passages_verbatim_with_sources_and_buttons(answered, seed_services):
    handlers, reply = answered
    store = seed_services.store
    cited = _buttons(reply, "passage")
    assert reply.title == reply.topic == QUESTION and not reply.ephemeral
    sources = [field for field in reply.fields if field.name != "Terms"]
    assert 1 <= len(cited) <= 3 and len(sources) == len(cited)
    quotes = re.findall(r"“(.+?)(?: …)?” \[(\d)\]", reply.description)  # " …" marks a quote cut mid-sentence
    assert [int(n) for _, n in quotes] == list(range(1, len(cited) + 1))
    for (quote, n), chunk_id, field in zip(quotes, cited, sources):
        chunk = store.chunk(chunk_id)
        meta = store.document(chunk.doc_id)
        assert fold(quote) in fold(chunk.text)
        assert field.name == f"[{n}] {source_line(meta, chunk.location)}" and field.url == meta.url
        assert field.name.startswith(f"[{n}] {meta.council} · ") and field.value == f"id {chunk_id}"
    assert [b.label for b in reply.buttons] == [f"Show passage {n}" for n in range(1, len(cited) + 1)] + [
        "More results", "Helpful", "Not helpful"]


def test_the_answer_keeps_the_cores_lead_and_quotes_and_lists_sources_as_fields(handlers, seed_services):
    question = "When is the next monitoring visit?"
    core = seed_services.answerer.ask(question)
    reply = handlers.ask(question)
    assert "Sources:" in core.answer and "Sources:" not in reply.description
    assert core.answer.startswith(reply.description) and not reply.description.startswith("“")  # the lead first
    assert len([field for field in reply.fields if field.name != "Terms"]) == len(core.citations)


def test_more_results_gives_new_passages_each_press_then_says_when_none_are_left(answered):
    handlers, reply = answered
    answer_id = _buttons(reply, "more")[0]
    seen = set(_buttons(reply, "passage"))
    for _ in range(3):
        more = handlers.press("more", answer_id, "u1")
        assert more.ephemeral
        ids = {field.cut_hint.removeprefix("/quote ") for field in more.fields}
        assert ids and not ids & seen
        seen |= ids
    unknown = handlers.press("more", "00000000", "u1")
    assert unknown.ephemeral and "too old" in unknown.description


def test_votes_record_the_question_and_cited_passages(answered):
    handlers, reply = answered
    answer_id = _buttons(reply, "more")[0]
    assert "glad" in handlers.press("vote", f"{answer_id}:1", "u1").description
    assert "staff" in handlers.press("vote", f"{answer_id}:0", "u2").description
    summary = handlers.feedback.summary()
    assert (summary.votes, summary.helpful, summary.people) == (2, 1, 2)
    assert summary.recent_not_helpful[0].question == QUESTION
    assert summary.recent_not_helpful[0].chunk_ids == _buttons(reply, "passage")


def test_passage_button_shows_the_whole_passage_privately(answered, seed_services):
    handlers, reply = answered
    chunk_id = _buttons(reply, "passage")[0]
    shown = handlers.press("passage", chunk_id, "u1")
    chunk = seed_services.store.chunk(chunk_id)
    assert shown.ephemeral and shown.description == chunk.text.strip()
    assert chunk.location in shown.footer and chunk_id in shown.footer


def test_an_uncovered_question_says_so_and_lists_topics(handlers, seed_services):
    reply = handlers.ask(UNCOVERED)
    assert reply.description.startswith("The documents I have do not answer this")
    assert not _buttons(reply, "passage") and not _buttons(reply, "more")
    assert [b.label for b in reply.buttons] == ["Helpful", "Not helpful"]
    topics = reply.fields[0].value
    assert all(meta.title in topics for meta in seed_services.store.documents())


def test_filters_narrow_the_answer_and_bad_ones_are_refused(handlers, seed_services):
    reply = handlers.ask("What did the inspection find?", council="Bury", doc_type="minutes")
    assert _buttons(reply, "passage")
    for chunk_id in _buttons(reply, "passage"):
        meta = seed_services.store.document(seed_services.store.chunk(chunk_id).doc_id)
        assert meta.council == "Bury Council" and meta.doc_type == "minutes"
    with pytest.raises(QueryError, match="YYYY-MM-DD"):
        handlers.ask(QUESTION, since="last year")
    with pytest.raises(QueryError, match="not a document type"):
        handlers.ask(QUESTION, doc_type="memo")
    with pytest.raises(QueryError, match="empty"):
        handlers.ask("   ")


def test_since_keeps_only_documents_dated_from_that_day(handlers, seed_services):
    reply = handlers.ask(QUESTION, since="2025-01-01")
    cited = _buttons(reply, "passage")
    assert cited
    for chunk_id in cited:
        assert seed_services.store.document(seed_services.store.chunk(chunk_id).doc_id).date.year == 2025


def test_quote_with_context_shows_neighbours_and_refuses_bad_input(handlers, seed_services):
    store = seed_services.store
    meta = next(m for m in store.documents() if len(store.document_chunks(m.doc_id)) > 3)
    chunks = store.document_chunks(meta.doc_id)
    reply = handlers.quote(chunks[1].chunk_id.upper(), context=2)
    assert reply.description == chunks[1].text.strip() and reply.title == meta.title and not reply.ephemeral
    assert [f.name for f in reply.fields] == [f"Before · {chunks[0].location}", f"After · {chunks[2].location}",
                                              f"After · {chunks[3].location}"]
    assert reply.fields[0].cut_hint == f"/quote {chunks[0].chunk_id}"
    with pytest.raises(QueryError, match="no passage has id"):
        handlers.quote("nosuchid")
    with pytest.raises(QueryError, match="out of range"):
        handlers.quote(chunks[1].chunk_id, context=4)


def test_docs_are_paged_with_buttons_newest_first(handlers, seed_services, monkeypatch):
    monkeypatch.setattr(handlers_module, "DOCS_PER_PAGE", 2)
    first = handlers.docs()
    assert [b.argument for b in first.buttons] == ["2"] and first.footer.startswith("Page 1 of 3")
    middle = handlers.press("docs", "2", "u1")
    assert [b.label for b in middle.buttons] == ["◀ Newer", "Older ▶"]
    last = handlers.docs(99)
    assert [b.argument for b in last.buttons] == ["2"] and last.footer == "Page 3 of 3"
    titles = [f.name for page in (first, middle, last) for f in page.fields]
    newest_first = sorted(seed_services.store.documents(), key=lambda m: m.date, reverse=True)
    assert titles == [m.title for m in newest_first] and titles[0] == "Ofsted monitoring visit"


def test_reindex_is_refused_without_permission_and_runs_one_at_a_time(handlers, seed_services):
    refused = handlers.reindex(allowed=False)
    assert "Manage Server" in refused.description
    nested: list[Reply] = []

    def progress(step: str) -> None:
        if not nested:
            nested.append(handlers.reindex(allowed=True))

    done = handlers.reindex(allowed=True, progress=progress)
    assert "already running" in nested[0].description
    assert done.title == f"Indexed 5 documents, {seed_services.store.size} passages"
    assert "0 added" in done.description and "5 unchanged" in done.description


def test_reindex_refused_never_touches_the_index(handlers, seed_services, monkeypatch):
    calls = []
    monkeypatch.setattr(seed_services, "reindex", lambda **kw: calls.append(kw))
    handlers.reindex(allowed=False)
    assert calls == []


def test_channel_question_strips_the_mention_and_empty_mentions_get_help(handlers, monkeypatch):
    asked = []
    monkeypatch.setattr(handlers, "ask", lambda question, conversation=None: asked.append(question) or Reply())
    handlers.channel_question("<@42> When is the next visit?", bot_id=42)
    handlers.channel_question("<@!42>  what next?", bot_id=42)
    assert [q.strip() for q in asked] == ["When is the next visit?", "what next?"]
    assert handlers.channel_question("<@42>", bot_id=42).title == "Asking about the improvement journey"


def test_quote_choices_match_ids_and_titles(handlers, seed_services):
    chunk_id = seed_services.store.document_chunks(seed_services.store.documents()[0].doc_id)[0].chunk_id
    by_id = handlers.quote_choices(chunk_id[:6])
    assert by_id[0].value.startswith(chunk_id[:6]) and len(by_id) <= 25
    by_title = handlers.quote_choices("monitoring visit")
    assert by_title and all(c.name.startswith("Ofsted monitoring visit · ") for c in by_title)
    assert [c.value for c in handlers.council_choices("bur")] == ["Bury Council"]


def test_cooldown_is_per_user_and_expires():
    now = [100.0]
    cooldown = Cooldown(10, clock=lambda: now[0])
    assert cooldown.wait("a") == 0 and cooldown.wait("b") == 0
    now[0] = 104
    assert cooldown.wait("a") == pytest.approx(6)
    now[0] = 110
    assert cooldown.wait("a") == 0


def test_failures_carry_a_reference_and_log_the_traceback_under_it(caplog):
    caplog.set_level(logging.INFO, logger="bot.handlers")
    try:
        raise RuntimeError("database exploded with secret detail")
    except RuntimeError as error:
        reply = failure(error)
    reference = re.search(r"reference ([0-9a-f]{8})", reply.description)[1]
    assert reply.ephemeral and "secret detail" not in reply.description
    record = next(r for r in caplog.records if reference in r.getMessage())
    assert record.exc_info and record.exc_info[0] is RuntimeError
    refused = failure(QueryError("the question is empty"))
    assert "the question is empty" in refused.description and re.search(r"reference [0-9a-f]{8}", refused.description)


def test_plain_text_rendering_keeps_every_part():
    reply = Reply(title="T", url="https://example.org/t", description="D", footer="F",
                  fields=[Field(name="N", value="V", url="https://example.org/v")])
    assert reply.as_text() == "T <https://example.org/t>\n\nD\n\nN\nV <https://example.org/v>\n\nF"


def test_visit_pages_keep_every_line_whole_and_in_order():
    sections = [("Before", [f"past {n} " + "x" * 150 for n in range(9)]), ("Upcoming", ["none"]),
                ("Expected", ["late " + "y" * 500])]
    pages = visit_pages(sections, field_chars=400, page_chars=900)
    fields = [field for page in pages for field in page]
    lines = [line.removeprefix("• ") for field in fields for line in field.value.split("\n")]
    assert lines == [line for _, section in sections for line in section]
    assert len(pages) > 1 and all(len(field.value) <= 400 for field in fields if "\n" in field.value)
    assert [f.name for f in fields if f.name.startswith("Before")] == ["Before"] + ["Before (continued)"] * (
        len([f for f in fields if f.name.startswith("Before")]) - 1)
    assert visit_pages([("Before", [])], 400, 900) == [[Field(name="Before", value="",
                                                              cut_hint="/quote an id for the passage an event comes from")]]


def test_define_finds_a_term_by_any_of_its_names_and_suggests_close_ones(handlers):
    reply = handlers.define("looked after children")
    assert reply.title == "CLA — child looked after" and not reply.ephemeral
    assert reply.description.startswith("A child in the care of a local authority")
    assert "LAC" in reply.fields[0].value and reply.footer.startswith("Source: ")
    assert handlers.define("iro").title.startswith("IRO — ")
    unknown = handlers.define("MASHH")
    assert unknown.ephemeral and "\n" not in unknown.description
    assert unknown.description == "'MASHH' is not in the glossary. Did you mean MASH, LSCP?"
    assert "not in the glossary" in handlers.define("zzzz").description
    assert "name the term" in handlers.define("  ").description


def test_define_suggests_terms_as_they_are_typed(handlers):
    choices = handlers.term_choices("ir")
    assert choices[0].value == "IRO" and choices[0].name == "IRO — independent reviewing officer"
    assert "CLA" in [c.value for c in handlers.term_choices("looked after")]  # by another of its names
    assert len(handlers.term_choices("")) == 25


def test_acronyms_in_a_question_or_quote_are_explained_under_the_answer(handlers, seed_services):
    glossary = seed_services.glossary
    found = acronyms_in(glossary, ["Did Ofsted see the IRO and LACs?", "the MASH (multi-agency safeguarding hub)"])
    assert [entry.headword for entry in found] == ["IRO", "CLA"]  # not Ofsted (a word), not MASH (spelt out)
    assert len(acronyms_in(glossary, ["CLA IRO SEND PLO SGO EHCP"])) == 3
    reply = handlers.ask("What did the DCS report about the quality assurance framework?")
    assert "DCS" in reply.description and reply.fields[-1].name == "Terms"
    assert reply.fields[-1].value.startswith("DCS — Director of Children's Services")
