"""/progress and /compare wired through the handlers, the console, the command line and Discord, over three real
Bradford reports and a report whose improvement section is prose (the fake embedder: wiring, not meaning)."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from bot import handlers as handlers_module
from bot.answering import QueryError
from bot.feedback import FeedbackStore
from bot.handlers import Handlers
from bot.services import Services
from bot.settings import Settings
from tests.bot.test_cli import run
from tests.bot.test_console import chat
from tests.bot.test_discord_cog import assert_safe, fake_interaction, make_cog, sent
from tests.fakes import FakeEmbedder

SUFFIX = "_ofsted-childrens-services-inspection.pdf"
DATES = ("2018-10-29", "2023-01-31", "2026-05-21")
B2018, B2023, B2026 = (f"bradford_{d}{SUFFIX.removesuffix('.pdf')}" for d in DATES)
PROSE = ("Testshire inspection\n\nIntro.\n\nWhat needs to improve?\n\n"
         "There are a very small number of areas of variability.\n")
MANIFEST = '[[document]]\nfile = "prose.txt"\ntitle = "Inspection of Testshire"\ncouncil = "Testshire Council"\n' \
           'body = "Ofsted"\ndate = 2022-03-01\ntype = "report"\n'
AREA_KEYS = {"id", "text", "context", "source", "evidence", "latest_evidence_date"}
EVIDENCE_KEYS = {"doc_id", "title", "date", "chunk_id", "location", "quote", "score"}


@pytest.fixture(scope="module")
def services(tmp_path_factory, shared_dir) -> Services:
    source = shared_dir / "corpora" / "ofsted-ilacs"
    corpus = tmp_path_factory.mktemp("bradford")
    stems = [f"bradford_{d}{SUFFIX}" for d in DATES]
    for name in stems:
        shutil.copy(source / name, corpus)
    rows = (source / "SOURCES.tsv").read_text(encoding="utf-8").splitlines()
    (corpus / "SOURCES.tsv").write_text("\n".join([rows[0], *(r for r in rows if r.split("\t")[0] in stems)]),
                                        encoding="utf-8")
    (corpus / "prose.txt").write_text(PROSE, encoding="utf-8")
    (corpus / "manifest.toml").write_text(MANIFEST, encoding="utf-8")
    fake = FakeEmbedder()
    root = tmp_path_factory.mktemp("bradford-var")
    services = Services(Settings(corpus_dir=corpus, index_dir=root / "index", model=fake.name,
                                 feedback_db=root / "feedback.sqlite", _env_file=None), fake)
    services.reindex()
    services.tracker.bar = 0.0  # the fake embedder's scores are not the model's: show every candidate
    return services


@pytest.fixture()
def handlers(services, tmp_path) -> Handlers:
    return Handlers(services, FeedbackStore(tmp_path / "feedback.sqlite"))


def _text(store, doc_id: str) -> str:
    return " ".join(store.document_text(doc_id).split())


def test_progress_quotes_every_area_and_its_later_evidence_across_pages(handlers, services, monkeypatch):
    monkeypatch.setattr(handlers_module, "VISIT_PAGE_CHARS", 1500)
    assert services.tracker.progress("Bradford").inspection.doc_id == B2026  # the latest by default
    first = handlers.progress(council="Bradford", inspection="2018")
    report = services.tracker.progress("Bradford", "2018")
    assert first.title.startswith("Progress since: Bradford · ")
    later = [b for b in first.buttons if b.label == "Later ▶"]
    assert later and re.search(r"Page 1 of \d+ · /progress council:Bradford inspection:2018 page:2 for the next page",
                               first.footer)
    pages, reply = [first], first
    while later:
        reply = handlers.press("progress", later[0].argument, "u1")
        pages.append(reply)
        later = [b for b in reply.buttons if b.label == "Later ▶"]
    lines = [line.removeprefix("• ") for page in pages for field in page.fields for line in field.value.split("\n")]
    store = services.store
    for area in report.areas:  # every area whole, quoted verbatim from the report, in order
        assert any(line.startswith(f"“{area.text}”") for line in lines)
        assert area.text in _text(store, B2018)


def test_progress_of_an_earlier_inspection_shows_dated_evidence_from_later_documents(handlers, services):
    reply = handlers.progress(council="Bradford", inspection="2018", page=None)
    evidence = [line for field in reply.fields for line in field.value.split("\n") if "id " in line and ": “" in line]
    assert evidence and all(("2023" in line or "2026" in line) for line in evidence if not line.startswith("• “"))
    for line in evidence:
        chunk_id, quote = re.search(r"id ([0-9a-f]{12}): “(.+)”$", line).groups()
        assert quote in " ".join(services.store.chunk(chunk_id).text.split())


def test_progress_theme_keeps_only_the_areas_on_it(handlers, services):
    areas = services.tracker.progress("Bradford").areas
    word = next(w for w in ("supervision", "management oversight", "care leavers", "permanence")
                if sum(w in a.text.casefold() for a in areas) == 1)
    reply = handlers.progress(word, council="Bradford", page=None)
    assert reply.description.startswith(f"The area on “{word}”")
    assert len(reply.fields) == 1 and word in reply.fields[0].value.casefold()


def test_progress_theme_is_matched_through_the_glossary_and_else_by_meaning(handlers):
    reply = handlers.progress("kids leaving care", council="Bradford", inspection="2023", page=None)
    assert reply.description.startswith("The area on “kids leaving care”")  # the glossary: care leavers
    assert [f.name for f in reply.fields] == ["Area 12"] and "homes for care leavers" in reply.fields[0].value
    both = handlers.progress("IROs", council="Bradford", inspection="2023", page=None)
    assert [f.name for f in both.fields] == ["Area 9"]  # 'IROs' is 'independent reviewing officers' too
    unnamed = handlers.progress("zebra crossings", council="Bradford", inspection="2023", page=None)
    assert unnamed.description.startswith("No area names “zebra crossings”; the nearest in meaning is shown")
    assert len(unnamed.fields) == 1


def test_progress_errors_are_one_line(handlers):
    with pytest.raises(QueryError, match="^no inspection of Nowhere is in the documents; councils with one: "):
        handlers.progress(council="Nowhere")
    with pytest.raises(QueryError, match="YYYY-MM-DD"):
        handlers.progress(council="Bradford", since="yesterday")


def test_compare_sets_two_reports_side_by_side(handlers, services):
    reply = handlers.compare(B2023, B2018, page=None)  # in either order: the earlier one's areas lead
    comparison = services.tracker.compare(B2018, B2023)
    assert reply.title.startswith("Compared: Bradford · ") and len(reply.fields) == len(comparison.themes)
    assert all(field.value.startswith("• ") and "\n• " in field.value for field in reply.fields)
    with pytest.raises(QueryError, match="no document 'nope' in the index"):
        handlers.compare(B2018, "nope")


def test_docs_list_reports_whose_improvement_section_could_not_be_read(handlers, services):
    unread = handlers.docs().fields[-1]
    assert unread.name == "Improvement sections that could not be read"
    assert unread.value.startswith("• prose.txt: 'What needs to improve?' at line 5 is not followed by a list")
    status, out, _ = run(services, "docs", "--json")
    assert json.loads(out)["improvement_problems"][0]["source"] == "prose.txt"


def test_cli_progress_json_has_the_documented_shape(services):
    status, out, err = run(services, "progress", "--council", "Bradford", "--inspection", "2018", "--json")
    payload = json.loads(out)
    assert status == 0 and set(payload) == {"council", "inspection", "areas"}
    assert set(payload["inspection"]) == {"doc_id", "title", "date"} and payload["inspection"]["doc_id"] == B2018
    assert all(set(area) == AREA_KEYS and set(area["source"]) == {"chunk_id", "location"}
               for area in payload["areas"])
    assert any(area["evidence"] for area in payload["areas"])
    assert all(set(e) == EVIDENCE_KEYS for area in payload["areas"] for e in area["evidence"])


def test_cli_progress_and_compare_text(services):
    status, out, _ = run(services, "progress", "--council", "Bradford")
    assert status == 0 and out.startswith("Progress since: Bradford · ") and "Area 1:\n  • “" in out
    status, out, _ = run(services, "compare", B2018, B2026)
    assert status == 0 and out.startswith("Compared: ") and "Area 1:\n  • " in out
    status, out, _ = run(services, "compare", B2018, B2026, "--json")
    payload = json.loads(out)
    assert set(payload) == {"council", "earlier", "later", "themes"} and payload["later"]["doc_id"] == B2026


def test_cli_progress_errors_exit_2_with_one_line(services, monkeypatch, capsys):
    from bot.cli import main

    monkeypatch.setattr("bot.cli.Services", lambda settings: services)
    assert main(["progress", "--council", "Nowhere"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no inspection of Nowhere") and err.count("\n") == 1
    assert main(["progress", "--council", "Testshire"]) == 2  # its report's section is prose: said, with why
    assert capsys.readouterr().err.splitlines() == [
        "not read: prose.txt: 'What needs to improve?' at line 5 is not followed by a list of items the extractor "
        "can read", "error: no inspection of Testshire is in the documents; councils with one: Bradford"]


def test_console_progress_and_compare(handlers):
    _, replies = chat(handlers, '/progress council:"Bradford" inspection:2018', f"/compare {B2018} {B2023}",
                      "/compare only-one")
    assert replies[0] == handlers.progress(None, "Bradford", "2018").as_text()
    assert replies[1] == handlers.compare(B2018, B2023).as_text()
    assert "give two document ids" in replies[2]


def test_discord_progress_pages_in_place_and_suggests_inspections(services, tmp_path, monkeypatch):
    import asyncio

    monkeypatch.setattr(handlers_module, "VISIT_PAGE_CHARS", 1500)
    cog = make_cog(services, tmp_path)
    interaction = fake_interaction()
    asyncio.run(cog.progress.callback(cog, interaction, None, "Bradford", "2018", None, 1))
    kwargs = sent(interaction.followup.send)
    assert_safe(kwargs)
    assert kwargs["embed"].title.startswith("Progress since") and kwargs["embed"].footer.text.startswith("Page 1 of")
    later = next(item.button for item in kwargs["view"].children if item.button.label == "Later ▶")
    pressed = fake_interaction()
    asyncio.run(cog.press(pressed, later))
    pressed.response.defer.assert_awaited_once_with()
    edited = sent(pressed.edit_original_response)
    assert edited["embed"].footer.text.startswith("Page 2 of") and edited["embed"].title == kwargs["embed"].title
    assert [c.value for c in cog.handlers.inspection_choices("2023")] == [B2023]
    assert [c.value for c in cog.handlers.inspection_choices("bradford")] == [B2026, B2023, B2018]
