"""What kind of answer a question asks for, so that passages on its topic that cannot answer it are not offered as
if they did: "How much does Bury spend on agency social workers?" is not answered by a passage about agency staff
that gives no figure.
"""

from __future__ import annotations

import re

from index.lexical import analyse

_ASKS_AMOUNT = re.compile(
    r"\b(how\s+(?:much|many)|what\s+(?:percentage|proportion|share|number)\s+of|how\s+big|how\s+large"
    r"|cost(?:s|ing)?|spen(?:d|ds|t|ding)|budget(?:s|ed)?)\b", re.I)
_AMOUNT = re.compile(
    r"£?\d[\d,.]*\w*%?|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty"
    r"|fifty|sixty|seventy|eighty|ninety|hundreds?|thousands?|millions?|billions?|half|halves"
    r"|(?:a|one|two)\s+(?:third|quarter)s?|dozens?|double[ds]?|tripled?|once|twice)\b", re.I)


def asks_for_an_amount(question: str) -> bool:
    """'How many…', 'how much…', 'what percentage of…', or a question about cost, spending or a budget."""
    return bool(_ASKS_AMOUNT.search(question))


_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*"
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_DAYS = rf"{_DAY}(?:\s*(?:and|to|-|–)\s*{_DAY})?"  # '22 and 23', '12–13'
_DATE = re.compile(rf"\b(?:{_DAYS}\s+{_MONTH}|{_MONTH}\s+{_DAYS}\b|(?:19|20)\d\d\b|\d{{1,2}}/\d{{1,2}}/\d{{2,4}})",
                   re.I)  # dates are numbers but not amounts
_NUMBERED = re.compile(r"^\W*(?:\d+(?:\.\d+)*[.)]?|[a-z]{1,4}\))\s", re.I)  # '2.4 ', '(c) ', '12. ': its own number


def states_an_amount(text: str) -> bool:
    """Whether a passage gives any figure at all: digits, money, a percentage, a number or fraction in words (its
    own paragraph number does not count)."""
    return bool(_AMOUNT.search(_without_dates(text)))


def figure_terms(text: str) -> set[str]:
    """The analysed words of a passage that state figures, so the quote can prefer the sentence that gives one."""
    return set(analyse(" ".join(match.group(0) for match in _AMOUNT.finditer(_without_dates(text)))))


# 'Section 114', 'paragraph 3.2', 'Children Act 1989': numbers that name something rather than count it
_REFERENCE = re.compile(r"\b(?:sections?|s|paragraphs?|paras?|parts?|articles?|schedules?|regulations?|rules?|steps?"
                        r"|stages?|phases?|levels?|tiers?|pages?|items?|appendix|annex|chapters?|no|number|act)\.?\s*"
                        r"\d[\d.]*\b", re.I)


def _without_dates(text: str) -> str:
    """The text without its own paragraph number, dates and numbered references: what is left counts."""
    return _REFERENCE.sub(" ", _DATE.sub(" ", _NUMBERED.sub("", text.strip(), count=1)))
