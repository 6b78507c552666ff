"""Grade questions are answered from the judgement an inspection report's metadata records, quoted from the report."""

from __future__ import annotations

import pytest

REPORT = """Inspection of {council} local authority children's services
Inspection dates: 3 to 14 October {year}
Judgement Grade
The experiences and progress of children in care: {grade}
Overall effectiveness: {grade}
1. Children in {council} wait too long for decisions about where they will live.
"""
ROWS = [("bradford_2018-10-29.txt", "bradford", "2018-10-29", "Inadequate"),
        ("bradford_2023-01-31.txt", "bradford", "2023-01-31", "Requires improvement to be good"),
        ("hull_2019-05-17.txt", "kingston upon hull", "2019-05-17", "Requires improvement to be good"),
        ("hull_2026-05-18.txt", "kingston upon hull", "2026-05-18", "Good")]


@pytest.fixture(scope="module")
def graded(tmp_path_factory, fake_embedder):
    from bot.services import Services
    from bot.settings import Settings

    corpus = tmp_path_factory.mktemp("graded")
    lines = ["file\tcouncil\tpublished\toverall_effectiveness\tofsted_url"]
    for name, council, published, grade in ROWS:
        (corpus / name).write_text(REPORT.format(council=council.title(), year=published[:4], grade=grade),
                                   encoding="utf-8")
        lines.append(f"{name}\t{council}\t{published}\t{grade}\thttps://example.org/{name}")
    (corpus / "SOURCES.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    settings = Settings(corpus_dir=corpus, index_dir=corpus.parent / "graded-index", model=fake_embedder.name,
                        _env_file=None)
    services = Services(settings, fake_embedder)
    services.reindex()
    return services


def test_the_grade_of_the_year_asked_is_stated_and_quoted(graded):
    answer = graded.answerer.ask("What was Bradford's overall grade in 2023?")
    assert "Bradford" in answer.lead and "“Requires improvement to be good”" in answer.lead and "31 Jan 2023" in answer.lead
    assert answer.citations[0].quote == "Overall effectiveness: Requires improvement to be good"
    assert answer.citations[0].doc_id == "bradford_2023-01-31"


def test_without_a_year_the_latest_grade_is_given(graded):
    answer = graded.answerer.ask("How was Hull rated?")
    assert "“Good”" in answer.lead and "18 May 2026" in answer.lead
    assert all(c.council == "Kingston Upon Hull" for c in answer.citations)


def test_an_earlier_year_finds_the_earlier_report(graded):
    answer = graded.answerer.ask("What was Bradford judged in 2018?")
    assert "“Inadequate”" in answer.lead and answer.citations[0].doc_id == "bradford_2018-10-29"


def test_a_year_with_no_graded_report_says_so_and_gives_the_judgement_then_in_force(graded):
    answer = graded.answerer.ask("What was Bradford's grade in 2020?")
    assert answer.lead.splitlines()[-1].startswith("No Ofsted report on Bradford from 2020 is in the documents.")
    assert "“Inadequate”" in answer.lead and answer.citations[0].doc_id == "bradford_2018-10-29"


def test_a_year_before_every_report_gives_the_first_one(graded):
    answer = graded.answerer.ask("How was Hull rated in 2015?")
    assert "No Ofsted report on Kingston Upon Hull from 2015" in answer.lead and "17 May 2019" in answer.lead


def test_a_schools_grade_is_not_answered_with_the_councils(graded):
    answer = graded.answerer.ask("What grade did Ofsted give St Mary's Primary School in Bradford?")
    assert "judgement" not in (answer.lead or "")
