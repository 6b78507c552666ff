"""Date phrases in council prose turned into explicit ranges with a precision.

dateparser finds the year of a day or month given without one (relative to the document's date,
preferring the past for things that happened and the future for things expected). Fuzzy periods
("mid-April", "the second half of 2025", "before the end of the year") have explicit rules, since
dateparser would read each as a single day.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal


from index.visits.models import Precision

Tense = Literal["past", "future"]

_MONTHS = {name.casefold(): n for n, name in enumerate(calendar.month_name) if name}
_MONTHS |= {name.casefold(): n for n, name in enumerate(calendar.month_abbr) if name} | {"sept": 9}
_STEP_MONTHS: dict[str, int] = {"month": 1, "season": 3, "half-year": 6, "year": 12}

_MONTH_NAME = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December)\b"
    r"|(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\b(?:\.(?=\s+\d))?"
)
_MONTH = rf"(?P<m>{_MONTH_NAME})"
_FIRST_MONTH = rf"(?P<m1>{_MONTH_NAME})"
_DAY = r"\d{1,2}(?:\s?(?:st|nd|rd|th))?(?!\d)"
_YEAR = r"(?<!Act\s)(?<!Regulations\s)(?P<y>(?:19|20)\d\d)(?![\d/])"  # not 'the Children Act 1989'
_AND = r"\s*(?:and|to|&|-|–)\s*"
_PART = r"(?P<part>(?i:early|mid|late|the\s+(?:beginning|start|middle|end)\s+of))[\s-]*"


@dataclass(frozen=True)
class Span:
    """A date phrase found in a sentence: its words, where they are, and the range they stand for."""

    text: str
    pos: tuple[int, int]
    start: dt.date | None
    end: dt.date | None
    precision: Precision


@dataclass(frozen=True)
class DateContext:
    """The document's 'now': its date (moved later when its text proves it), and how exact that date is."""

    anchor: dt.date | None
    precision: str

    @property
    def period_end(self) -> dt.date | None:
        """Last day the document could have been written on."""
        if self.anchor is None or self.precision == "day":
            return self.anchor
        first = self.anchor.replace(month=1, day=1) if self.precision == "year" else self.anchor.replace(day=1)
        return period_end(first, self.precision)


@dataclass(frozen=True)
class _Found:
    """One base phrase: its range and whether it named its own year (a later month in the sentence follows it)."""

    start: dt.date | None
    end: dt.date | None
    precision: Precision
    explicit_year: bool


def add_months(day: dt.date, months: int) -> dt.date:
    total = day.year * 12 + day.month - 1 + months
    year, month = divmod(total, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def period_end(start: dt.date, precision: str) -> dt.date:
    """Last day of the period of `precision` that begins on `start`."""
    if precision == "day":
        return start
    return add_months(start, _STEP_MONTHS[precision]) - dt.timedelta(days=1)


def precision_of(start: dt.date, end: dt.date) -> Precision:
    """The coarsest label a computed range still fits, for ranges no single phrase named."""
    days = (end - start).days + 1
    for limit, label in ((1, "day"), (31, "month"), (92, "season"), (184, "half-year")):
        if days <= limit:
            return label  # type: ignore[return-value]
    return "year"


def _date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _infer_year(month: int, day: int, ctx: DateContext, tense: Tense, hint: dt.date | None) -> int | None:
    """Year of a day/month given without one.

    After an earlier dated phrase in the same sentence, lists run forward ('February 2023, and the
    second in July'); a document dated only to a year speaks of its own year; otherwise the nearest
    such month before (past) or after (future) the document's date, the current month included.
    """
    if hint is None and ctx.anchor is not None and ctx.precision == "year":
        return ctx.anchor.year
    base, prefer = (hint, "future") if hint else (ctx.anchor, tense)
    if base is None:
        return None
    relative = period_end(base.replace(day=1), "month") if prefer == "past" else base.replace(day=1) - dt.timedelta(days=1)
    settings = {
        "RELATIVE_BASE": dt.datetime.combine(relative, dt.time()),
        "PREFER_DATES_FROM": prefer,
        "DATE_ORDER": "DMY",
    }
    import dateparser  # only when building the timeline: its import would cost every question 0.1 s

    parsed = dateparser.parse(f"{min(day, 28)} {calendar.month_name[month]}", languages=["en"], settings=settings)
    return parsed.year if parsed else None


def _month_no(m: re.Match[str], group: str = "m") -> int:
    return _MONTHS[m[group].rstrip(".").casefold()]


def _day_number(text: str) -> int:
    return int(re.match(r"\d+", text).group())  # type: ignore[union-attr]


def _calendar_day(day: int, month: int, year: str | None, ctx: DateContext, tense: Tense, hint: dt.date | None) -> dt.date | None:
    found_year = int(year) if year else _infer_year(month, day, ctx, tense, hint)
    return _date(found_year, month, day) if found_year else None


def _days(m: re.Match[str], ctx: DateContext, tense: Tense, hint: dt.date | None) -> _Found:
    """'29th August 2023', 'November 22 and 23', '12th and 13th November'."""
    start = _calendar_day(_day_number(m["d1"]), _month_no(m), m["y"], ctx, tense, hint)
    end = _date(start.year, start.month, _day_number(m["d2"])) if start and m.groupdict().get("d2") else start
    return _Found(start, end if start and end and end >= start else start, "day", bool(m["y"]))


def _day_to_day(m: re.Match[str], ctx: DateContext, tense: Tense, hint: dt.date | None) -> _Found:
    """'3 June to 14 July 2019': the end names the year, and the start falls before the end."""
    end = _calendar_day(_day_number(m["d"]), _month_no(m), m["y"], ctx, tense, hint)
    if end is None:
        return _Found(None, None, "day", False)
    month = _month_no(m, "m1")
    start = _date(end.year, month, _day_number(m["d1"]))
    if start and start > end:
        start = _date(end.year - 1, month, _day_number(m["d1"]))
    return _Found(start, end, "day", bool(m["y"]))


def _month(m: re.Match[str], ctx: DateContext, tense: Tense, hint: dt.date | None) -> _Found:
    month = _month_no(m)
    year = int(m["y"]) if m["y"] else _infer_year(month, 1, ctx, tense, hint)
    if year is None:
        return _Found(None, None, "month", False)
    start = dt.date(year, month, 1)
    end = period_end(start, "month")
    part = re.sub(r"\s+", " ", (m.groupdict().get("part") or "").casefold())
    if part in ("early", "the beginning of", "the start of"):
        end = start.replace(day=10)
    elif part in ("mid", "the middle of"):
        start, end = start.replace(day=11), start.replace(day=20)
    elif part in ("late", "the end of"):
        start = start.replace(day=21)
    return _Found(start, end, "month", bool(m["y"]))


def _relative_year(m: re.Match[str], ctx: DateContext) -> int | None:
    if m["y"]:
        return int(m["y"])
    if ctx.anchor is None:
        return None
    return ctx.anchor.year + (1 if (m.groupdict().get("rel") or "").casefold() == "next" else 0)


_SEASONS = {"spring": (3, 3), "summer": (6, 3), "autumn": (9, 3), "winter": (12, 3), "spring term": (1, 4),
            "summer term": (4, 4), "autumn term": (9, 4)}
_PARTS_OF_YEAR = {"early": (1, 4), "the beginning of": (1, 3), "the start of": (1, 3), "mid": (5, 4),
                  "the middle of": (5, 4), "late": (9, 4), "the end of": (10, 3)}


def _months_of_year(first_month: int, count: int, year: int | None, precision: Precision, explicit: bool) -> _Found:
    if year is None:
        return _Found(None, None, precision, False)
    start = dt.date(year, first_month, 1)
    return _Found(start, add_months(start, count) - dt.timedelta(days=1), precision, explicit)


def _half(m: re.Match[str], ctx: DateContext, tense: Tense, hint: dt.date | None) -> _Found:
    first = 1 if m["half"].casefold() == "first" else 7
    return _months_of_year(first, 6, _relative_year(m, ctx), "half-year", bool(m["y"]))


def _season(m: re.Match[str], ctx: DateContext, tense: Tense, hint: dt.date | None) -> _Found:
    first, count = _SEASONS[re.sub(r"\s+", " ", m["season"].casefold())]
    year = int(m["y"]) if m["y"] else _infer_year(first, 1, ctx, tense, hint)
    return _months_of_year(first, count, year, "season", bool(m["y"]))


def _quarter(m: re.Match[str], ctx: DateContext, tense: Tense, hint: dt.date | None) -> _Found:
    return _months_of_year(3 * int(m["q"]) - 2, 3, int(m["y"]), "season", True)


def _part_of_year(m: re.Match[str], ctx: DateContext, tense: Tense, hint: dt.date | None) -> _Found:
    first, count = _PARTS_OF_YEAR[re.sub(r"\s+", " ", m["part"].casefold())]
    return _months_of_year(first, count, int(m["y"]), "season", True)


def _year(m: re.Match[str], ctx: DateContext, tense: Tense, hint: dt.date | None) -> _Found:
    return _months_of_year(1, 12, int(m["y"]), "year", True)


def _rest_of_year(m: re.Match[str], ctx: DateContext, tense: Tense, hint: dt.date | None) -> _Found:
    if ctx.anchor is None:
        return _Found(None, None, "year", False)
    end = dt.date(ctx.anchor.year, 12, 31)
    return _Found(ctx.anchor, end, precision_of(ctx.anchor, end), False)


def _next_year(m: re.Match[str], ctx: DateContext, tense: Tense, hint: dt.date | None) -> _Found:
    year = ctx.anchor.year + 1 if ctx.anchor else None
    if m["early"] or m["new"]:
        return _months_of_year(1, 3, year, "season", False)
    return _months_of_year(1, 12, year, "year", False)


def _coming_months(m: re.Match[str], ctx: DateContext, tense: Tense, hint: dt.date | None) -> _Found:
    if ctx.anchor is None:
        return _Found(None, None, "season", False)
    return _Found(ctx.anchor, add_months(ctx.anchor, 3), "season", False)


_Resolver = Callable[[re.Match[str], DateContext, Tense, "dt.date | None"], _Found]
_MOD = r"(?:\b(?P<mod>(?i:from|after|beyond|before|by|until|till))\s+)?"
_ONWARDS = r"(?P<onwards>\s+(?i:onwards?))?"
_BASE: tuple[tuple[str, _Resolver], ...] = (
    (rf"(?P<d1>{_DAY})\s+(?:of\s+)?{_FIRST_MONTH}{_AND}(?P<d>{_DAY})\s+(?:of\s+)?{_MONTH}(?:,?\s+{_YEAR})?", _day_to_day),
    (rf"(?P<d1>{_DAY}){_AND}(?P<d2>{_DAY})\s+(?:of\s+)?{_MONTH}(?:,?\s+{_YEAR})?", _days),
    (rf"{_MONTH}\s+(?P<d1>{_DAY}){_AND}(?P<d2>{_DAY})(?:,?\s+{_YEAR})?", _days),
    (rf"(?P<d1>{_DAY})\s+(?:of\s+)?{_MONTH}(?:,?\s+{_YEAR})?", _days),
    (rf"{_MONTH}\s+(?P<d1>{_DAY})(?:,?\s+{_YEAR})?", _days),
    (rf"{_PART}{_MONTH}(?:\s+{_YEAR})?", _month),
    (rf"{_MONTH}(?:\s+{_YEAR})?", _month),
    (rf"(?i:the\s+(?P<half>first|second)\s+half\s+of\s+(?:(?P<rel>this|next|the)\s+year|{_YEAR}))", _half),
    (rf"(?i:(?P<season>(?:spring|summer|autumn)(?:\s+term)?|winter)\b(?:\s+(?:of\s+)?{_YEAR})?)", _season),
    (rf"\bQ(?P<q>[1-4])\s+{_YEAR}", _quarter),
    (rf"{_PART}{_YEAR}", _part_of_year),
    (rf"(?:(?i:during|throughout)\s+)?{_YEAR}", _year),
)
_RELATIVE: tuple[tuple[str, _Resolver], ...] = (
    (r"(?i:(?:before|by)\s+the\s+end\s+of\s+(?:the|this)\s+year|later\s+(?:this|in\s+the)\s+year)", _rest_of_year),
    (r"(?i:(?P<early>early\s+)?next\s+year|in\s+the\s+(?P<new>new)\s+year)", _next_year),
    (r"(?i:(?:in\s+|over\s+)?the\s+(?:coming|next\s+few)\s+months)", _coming_months),
)
_AFTER_THAT = re.compile(r"(?i:\bafter\s+(?:that\s+point|that\s+date|that|then)\b|\bthereafter\b)")
_PATTERNS = [(re.compile(rf"\b{_MOD}{p}{_ONWARDS}"), r, True) for p, r in _BASE]
_PATTERNS += [(re.compile(rf"\b{p}\b"), r, False) for p, r in _RELATIVE]


def _modified(m: re.Match[str], found: _Found, ctx: DateContext) -> tuple[dt.date | None, dt.date | None, Precision]:
    """Apply 'from X onwards', 'after X' and 'by X' to the range of X."""
    mod = (m.groupdict().get("mod") or "").casefold()
    if (mod == "from" and found.precision != "day") or m.groupdict().get("onwards"):
        return found.start, None, found.precision
    if mod in ("after", "beyond"):
        return (found.end + dt.timedelta(days=1) if found.end else None), None, found.precision
    if mod in ("before", "by", "until", "till") and found.end:
        start = ctx.anchor if ctx.anchor and ctx.anchor <= found.end else None
        return start, found.end, precision_of(start, found.end) if start else found.precision
    return found.start, found.end, found.precision


def _matches(sentence: str) -> list[tuple[re.Match[str], _Resolver, bool]]:
    """Every date phrase, earliest first, the longest winning where phrases overlap."""
    found = [(m, r, base) for pattern, r, base in _PATTERNS for m in pattern.finditer(sentence)]
    found.sort(key=lambda f: (f[0].start(), -f[0].end()))
    chosen: list[tuple[re.Match[str], _Resolver, bool]] = []
    for item in found:
        if not chosen or item[0].start() >= chosen[-1][0].end():
            chosen.append(item)
    return chosen


def _base_text(m: re.Match[str]) -> str:
    """The phrase without 'from'/'after'/'onwards', for naming it as another phrase's antecedent."""
    begin = m.end("mod") if m["mod"] else m.start()
    end = m.start("onwards") if m["onwards"] else m.end()
    return m.string[begin:end].strip()


def find_spans(sentence: str, ctx: DateContext, tense_at: Callable[[int], Tense]) -> list[Span]:
    """Date phrases of one sentence, resolved; 'after that point' takes the phrase before it."""
    spans: list[Span] = []
    bases: list[Span] = []
    hint: dt.date | None = None
    for m, resolve, is_base in _matches(sentence):
        found = resolve(m, ctx, tense_at(m.start()), hint)
        start, end, precision = found.start, found.end, found.precision
        if is_base:
            start, end, precision = _modified(m, found, ctx)
            bases.append(Span(_base_text(m), m.span(), found.start, found.end, found.precision))
        spans.append(Span(m.group(), m.span(), start, end, precision))
        if found.explicit_year and found.start:
            hint = found.start
    return sorted(spans + _after_that(sentence, bases), key=lambda s: s.pos)


def _after_that(sentence: str, bases: list[Span]) -> list[Span]:
    """'until September 2025 so ... after that point' means after September 2025."""
    out: list[Span] = []
    for m in _AFTER_THAT.finditer(sentence):
        before = [b for b in bases if b.pos[1] <= m.start() and b.end]
        if before:
            ante = before[-1]
            out.append(Span(f"after {ante.text}", m.span(), ante.end + dt.timedelta(days=1), None, ante.precision))  # type: ignore[operator]
    return out
