"""The glossary: the packaged data is complete and consistent, lookups forgive spelling, scans respect acronym case."""

from __future__ import annotations

import time

import pytest

from index.glossary import Glossary, GlossaryError


@pytest.fixture(scope="module")
def glossary() -> Glossary:
    return Glossary.load()


def _term(entry) -> str | None:
    return entry.term if entry else None


def test_packaged_file_has_at_least_170_complete_entries(glossary):
    assert len(glossary) >= 170
    for entry in glossary:
        assert entry.definition.strip() and entry.source.strip(), entry.term
    headwords = [entry.headword.lower() for entry in glossary]
    assert len(headwords) == len(set(headwords))


def test_every_name_looks_up_its_own_entry(glossary):
    for entry in glossary:
        for name in (entry.term, *entry.names):
            assert glossary.lookup(name) is entry, name


@pytest.mark.parametrize(
    ("typed", "term"),
    [
        ("CLA", "CLA"),
        ("cla", "CLA"),
        ("child looked after", "CLA"),
        ("Looked-After Children", "CLA"),
        ("LAC's", "CLA"),
        ("s114", "s114"),
        ("section 114", "s114"),
        ("S.114", "s114"),
        ("s. 114", "s114"),
        ("Section 114 notice", "s114"),
        ("financial crisis", "s114"),
        ("section 47 enquiries", "s47"),
        ("CPPs", "CPP"),
        ("kids leaving care", "care leaver"),
        ("temporary social workers", "agency social worker"),
        ("locum", "agency social worker"),
        ("first contact", "front door"),
        ("YOT", "YJS"),
        ("pa", "PA"),
        ("personal adviser", "PA"),
        ("good", "good (Ofsted grade)"),
        ("children\u2019s homes", "children's home"),
    ],
)
def test_lookup_forgives_case_plurals_possessives_and_punctuation(glossary, typed, term):
    assert _term(glossary.lookup(typed)) == term


@pytest.mark.parametrize("typed", ["", "  ", "nonsense words", "section", "114"])
def test_lookup_of_an_unknown_term_is_none(glossary, typed):
    assert glossary.lookup(typed) is None


def _found(glossary: Glossary, text: str) -> list[str]:
    return [entry.term for entry in glossary.entries_in(text)]


def test_acronyms_that_are_ordinary_words_match_only_in_capitals(glossary):
    assert _found(glossary, "When does Bury have to send its plan to the DfE?") == ["DfE"]
    assert "SEND" in _found(glossary, "What did Ofsted say about SEND provision?")
    assert _found(glossary, "the pa system and a cp file; iro") == []
    assert _found(glossary, "The IRO and the PA met about the CP plan.") == ["IRO", "PA", "CPP"]
    assert _found(glossary, "Two PAs left; CPPs and LAC's reviews") == ["PA", "CPP", "CLA review"]


def test_phrases_match_in_any_case_but_only_as_whole_words(glossary):
    assert _found(glossary, "KIDS LEAVING CARE and Staying Put") == ["care leaver", "staying put"]
    assert _found(glossary, "classic irony: a sender of careless pathways") == []
    assert _found(glossary, "S.114 and section 20") == ["s114", "s20"]


def test_longest_name_wins_and_sentence_punctuation_ends_a_phrase(glossary):
    assert _found(glossary, "The children in care council met.") == ["Children in Care Council"]
    assert _found(glossary, "We asked children in care. Council staff listened.") == ["CLA"]
    assert _found(glossary, "an interim care order was made") == ["ICO"]


def test_a_bracketed_headword_is_not_spotted_as_a_common_word(glossary):
    assert _found(glossary, "It was a good day.") == []
    assert _found(glossary, "The council was rated good in 2023.") == ["good (Ofsted grade)"]


def test_expansions_add_other_names_without_repeating_typed_words(glossary):
    question = "How many temporary social workers does the council use for kids leaving care?"
    extra = glossary.expansions(question)
    assert {"agency staff", "locum", "care leaver", "young people leaving care"} <= set(extra)
    assert not {"temporary social workers", "temporary social worker", "kids leaving care"} & set(extra)
    assert len({name.lower() for name in extra}) == len(extra)

    extra = glossary.expansions("Did it issue a section 114 notice?")
    assert {"bankruptcy", "s114"} <= set(extra)  # matched as one name, but a search needs both spellings
    assert not {"section 114", "section 114 notice"} & set(extra)


def test_expansions_of_text_without_terms_are_empty(glossary):
    assert glossary.expansions("What happened in Leeds last Tuesday?") == []


def test_scanning_a_long_question_is_fast(glossary):
    text = ("What did Ofsted say about the IRO service, kids leaving care, agency staff at the MASH "
            "front door, caseloads and a section 114 notice? ") * 8
    glossary.expansions(text)
    started = time.perf_counter()
    for _ in range(100):
        glossary.expansions(text[:1000])
    assert (time.perf_counter() - started) / 100 < 0.005  # measured ~0.6 ms; 5 ms catches a slow rewrite


def _write(tmp_path, text: str):
    path = tmp_path / "glossary.toml"
    path.write_text(text, encoding="utf-8")
    return path


_GOOD = (  # lines 1-6; the entry under test starts on line 7
    '[[term]]\nterm = "CIN"\nexpansion = "child in need"\ndefinition = "A child needing help."\nsource = "CA 1989"\n\n'
)


def test_malformed_toml_is_one_line_naming_file_and_line(tmp_path):
    path = _write(tmp_path, _GOOD + '[[term]]\nterm = "CP\ndefinition = "x"\n')
    with pytest.raises(GlossaryError) as caught:
        Glossary.load(path)
    message = str(caught.value)
    assert "\n" not in message
    assert str(path) in message and "line 8" in message and "not valid TOML" in message


def test_entry_missing_definition_is_one_line_naming_entry_and_field(tmp_path):
    path = _write(tmp_path, _GOOD + '[[term]]\nterm = "CP"\nexpansion = "child protection"\nsource = "WT 2023"\n')
    with pytest.raises(GlossaryError) as caught:
        Glossary.load(path)
    message = str(caught.value)
    assert "\n" not in message
    assert str(path) in message and "line 7" in message
    assert "term 2 ('CP')" in message and "'definition'" in message


def test_a_name_given_to_two_entries_is_rejected(tmp_path):
    path = _write(tmp_path, _GOOD + '[[term]]\nterm = "CiN"\ndefinition = "d"\nsource = "s"\n')
    expected = r"line 7: term 2 \('CiN'\) name 'CiN' is already a name of term 1 \('CIN'\)"
    with pytest.raises(GlossaryError, match=expected):
        Glossary.load(path)


def test_a_missing_file_is_one_line(tmp_path):
    with pytest.raises(GlossaryError, match="cannot read the glossary"):
        Glossary.load(tmp_path / "absent.toml")
