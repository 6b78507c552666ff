"""A question that asks for a figure is answered only by passages that give one."""

from __future__ import annotations

import pytest

from bot.answer_kinds import asks_for_an_amount, figure_terms, states_an_amount


@pytest.mark.parametrize("question, asks", [
    ("How many children are in care in Nottingham?", True),
    ("How much did the council spend on agency staff?", True),
    ("What percentage of assessments were timely?", True),
    ("What is the cost of the improvement programme?", True),
    ("How well are care leavers supported?", False),
    ("When is the next monitoring visit?", False),
])
def test_questions_that_ask_for_a_figure_are_recognised(question, asks):
    assert asks_for_an_amount(question) is asks


@pytest.mark.parametrize("text, gives", [
    ("Around 700 children are in care.", True),
    ("Caseloads are high, with some social workers holding 40 children.", True),
    ("A third of children had no plan.", True),
    ("£44,990,000 was paid to private providers.", True),
    ("Too many children wait too long.", False),
    ("The visit took place on November 22 and 23, 2023.", False),
    ("2.4 Challenges: assessments are inconsistent.", False),
    ("(c) the third monitoring visit looked at care leavers.", False),
])
def test_a_figure_is_a_number_money_or_a_fraction_not_a_date_or_a_paragraph_number(text, gives):
    assert states_an_amount(text) is gives


def test_the_words_that_give_the_figure_are_found_for_the_quote():
    assert figure_terms("12. On 3 March 2024 around 700 children, a third of them") >= {"700", "third"}
    assert "2024" not in figure_terms("On 3 March 2024 around 700 children")


def test_a_question_for_a_figure_quotes_the_passage_that_gives_it(seed_services):
    answer = seed_services.answerer.ask("How many children are in the care of Nottingham City Council?")
    assert answer.found and "Around 700 Nottingham children are currently in the care" in answer.citations[0].quote


def test_a_question_for_a_figure_no_passage_gives_is_declined(seed_services):
    answer = seed_services.answerer.ask("How much does Bury Council spend on agency social workers each year?")
    assert not answer.found and "none of the passages that do gives a figure" in answer.answer


@pytest.mark.parametrize("text", ["The council issued a Section 114 notice.",
                                  "Under the Children Act 1989, s47 enquiries", "See paragraph 3.2 and Appendix 4."])
def test_numbers_that_name_a_section_or_an_act_are_not_figures(text):
    assert not states_an_amount(text)
