"""Text that looks like it could identify a client: a prompt for the writer, not a guarantee.

Debrief notes must not identify clients. Before a debrief is saved, its free text is run
through ``find``, and anything that looks like a phone number, an email address, a date of
birth or a health-record number is pointed out so the writer can edit it or keep it as written.
It is a reminder, nothing more: it misses names, addresses and everything written in words
("her number starts oh-seven-seven"), and it will sometimes point at something harmless. It
leans towards fewer false alarms on the things a debrief is full of — years ("in 2024"),
durations ("45 minutes"), counts ("3 sessions") and recent dates ("on 3 December") — because
a warning on every form teaches people to click past it.

What it looks for:

- ``phone``: international (+44 7700 900123), national with a leading 0 (07700 900123),
  North American ((555) 123-4567, 555-123-4567), and other runs of at least 7 digits in
  groups separated by spaces, dashes or dots (one group of 3 or more digits; a run spaced
  only by spaces needs a leading 0, +, a bracket or 9 digits, so "in 2023 450 people" is no
  phone). Anything shaped like a date is left to the date rule.
- ``email``: name@domain.tld.
- ``date_of_birth``: a date near "DOB", "d.o.b.", "born", "date of birth", "birthday" (a day
  and month are enough there), or any full date more than 10 years before today
  (12/03/1985, 1985-03-12, 12 March 1985, March 12, 1985).
- ``health_record_number``: an NHS number (10 digits, often 3-3-4, whose modulus-11 check
  digit is right), a US social security number (123-45-6789), and an id of 5 or more letters
  and digits (with a digit) after "MRN", "NHS number", or "hospital", "record", "patient",
  "medical record" or "case" followed by "number", "no." or "ID".

Pure Python (only ``re`` and ``datetime``), so it runs anywhere a service does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

PHONE = "phone"
EMAIL = "email"
DATE_OF_BIRTH = "date_of_birth"
HEALTH_RECORD_NUMBER = "health_record_number"
KINDS: tuple[str, ...] = (PHONE, EMAIL, DATE_OF_BIRTH, HEALTH_RECORD_NUMBER)

# When two findings overlap, the more specific kind wins (an NHS number is also digit groups).
_PRIORITY = {HEALTH_RECORD_NUMBER: 0, EMAIL: 1, DATE_OF_BIRTH: 2, PHONE: 3}

# A date of birth is at least this many years before today, when no DOB word is near it.
ADULT_YEARS = 10
# How far a DOB word may be from the date (characters before it, and after it).
_WORD_BEFORE = 40
_WORD_AFTER = 25


@dataclass(frozen=True)
class Finding:
    """One piece of text that looks identifying: its kind, the text, and where it is."""

    kind: str
    excerpt: str
    start: int
    end: int


# --- email -----------------------------------------------------------------------------------

_EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
                    r"\.[A-Za-z]{2,}\b")

# --- health-record numbers -------------------------------------------------------------------

_NHS = re.compile(r"(?<![\w+/.-])(\d{3})([ -]?)(\d{3})\2(\d{4})(?![\w/]|[.-]\d)")
_SSN = re.compile(r"(?<![\w+/.-])\d{3}-\d{2}-\d{4}(?![\w/]|[.-]\d)")
_LABELLED_ID = re.compile(
    r"\b(?:MRN\b|NHS\s*(?:no\b\.?|number|num\b|#)|(?:hospital|record|patient|medical\s+record|"
    r"case)\s*(?:no\b\.?|number|num\b|#|id\b))"
    r"(?:\s*(?:is|was|of|:|#|=|-)\s*|\s+)"
    # 943 476 5919, or one word of 5+ letters and digits with a digit in it: RX123456
    r"(?P<id>\d{3}[ -]\d{3}[ -]\d{4}|(?=[A-Za-z0-9/-]*\d)[A-Za-z0-9][A-Za-z0-9/-]{3,}[A-Za-z0-9])"
    r"(?!\w)",
    re.IGNORECASE)


def nhs_number_is_valid(digits: str) -> bool:
    """The NHS modulus-11 check: weights 10..2 on the first nine digits; 11 minus the
    remainder (11 counts as 0; 10 is never valid) must be the tenth digit."""
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def _health_record_numbers(text: str) -> Iterable[Finding]:
    for match in _NHS.finditer(text):
        digits = match.group(1) + match.group(3) + match.group(4)
        # 0000000000 passes the check digit but is no one's number.
        if len(set(digits)) > 1 and nhs_number_is_valid(digits):
            yield Finding(HEALTH_RECORD_NUMBER, match.group(0), match.start(), match.end())
    for match in _SSN.finditer(text):
        yield Finding(HEALTH_RECORD_NUMBER, match.group(0), match.start(), match.end())
    for match in _LABELLED_ID.finditer(text):
        yield Finding(HEALTH_RECORD_NUMBER, match.group(0), match.start(), match.end())


# --- dates -----------------------------------------------------------------------------------

_MONTH_NAME = (r"(?P<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|"
               r"aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_ORDINAL = r"(?:st|nd|rd|th)?"
_NOT_BEFORE = r"(?<![\w/.-])"
_NOT_AFTER = r"(?![\w/]|[.-]\d)"
# Numeric dates: "a" and "b" are day and month in either order (both orders are tried).
_NUMERIC_DATES = [
    # 12/03/1985, 12-03-85, 12.03.1985
    re.compile(_NOT_BEFORE + r"(?P<a>\d{1,2})(?P<sep>[/.-])(?P<b>\d{1,2})(?P=sep)"
               r"(?P<year>\d{4}|\d{2})" + _NOT_AFTER),
    # 1985-03-12, 1985/03/12 (year, month, day)
    re.compile(_NOT_BEFORE + r"(?P<year>\d{4})(?P<sep>[/.-])(?P<b>\d{1,2})(?P=sep)(?P<a>\d{1,2})"
               + _NOT_AFTER),
    # 12/03 (no year: a date of birth only next to a DOB word)
    re.compile(_NOT_BEFORE + r"(?P<a>\d{1,2})/(?P<b>\d{1,2})" + _NOT_AFTER),
]
# Dates in words, the year optional: 12 March 1985, 12th of March, 1985, March 12, 1985.
_WORD_DATES = [
    re.compile(r"\b(?P<day>\d{1,2})" + _ORDINAL + r"\s+(?:of\s+)?" + _MONTH_NAME
               + r"(?:,?\s+(?P<year>\d{4}))?(?!\w)", re.IGNORECASE),
    re.compile(r"\b" + _MONTH_NAME + r"\s+(?P<day>\d{1,2})" + _ORDINAL
               + r"(?:,?\s+(?P<year>\d{4}))?(?!\w)", re.IGNORECASE),
]
# "born in March 1985": a month and a year, only next to a DOB word.
_MONTH_YEAR = re.compile(r"\b" + _MONTH_NAME + r",?\s+(?P<year>\d{4})(?!\w)", re.IGNORECASE)
_DOB_WORDS = re.compile(
    r"(?<!\w)(?:d\.?\s?o\.?\s?b\b\.?|born\b|date\s+of\s+birth|birth\s?days?\b|"
    r"birth\s?date\b|b'?day\b)", re.IGNORECASE)


@dataclass(frozen=True)
class _DateMatch:
    start: int
    end: int
    # The earliest day it can be (day and month order may be unknown); None without a year.
    earliest: date | None


def _full_year(text: str, today: date) -> int:
    year = int(text)
    if len(text) == 2:  # 85 -> 1985, 09 -> 2009 (whichever is not in the future)
        year += 2000 if 2000 + year <= today.year else 1900
    return year


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _dates(text: str, today: date) -> list[_DateMatch]:
    found: list[_DateMatch] = []

    def free(match: re.Match[str]) -> bool:
        return not any(d.start < match.end() and match.start() < d.end for d in found)

    for pattern in _NUMERIC_DATES:
        for match in pattern.finditer(text):
            a, b = int(match["a"]), int(match["b"])
            year_text = match.groupdict().get("year")
            if not free(match) or not (1 <= a <= 31 and 1 <= b <= 31):
                continue
            if year_text is None:
                if min(a, b) <= 12:
                    found.append(_DateMatch(match.start(), match.end(), None))
                continue
            year = _full_year(year_text, today)
            # The year-first form is always year-month-day; the others day/month or month/day.
            orders = [(b, a)] if match.group(0).startswith(year_text) else [(b, a), (a, b)]
            valid = [d for d in (_safe_date(year, m, d) for m, d in orders) if d is not None]
            if valid:
                found.append(_DateMatch(match.start(), match.end(), min(valid)))
    for pattern in _WORD_DATES:
        for match in pattern.finditer(text):
            if not free(match):
                continue
            month = _MONTHS.index(match["month"].lower()[:3]) + 1
            day = int(match["day"])
            if match["year"]:
                earliest = _safe_date(int(match["year"]), month, day)
                if earliest is None:
                    continue
            elif _safe_date(2000, month, day) is None:  # 2000 is a leap year: 29 Feb is fine
                continue
            else:
                earliest = None
            found.append(_DateMatch(match.start(), match.end(), earliest))
    for match in _MONTH_YEAR.finditer(text):
        if free(match):
            found.append(_DateMatch(match.start(), match.end(), None))
    return found


def _near_dob_word(text: str, start: int, end: int) -> bool:
    before = text[max(0, start - _WORD_BEFORE):start]
    after = text[end:end + _WORD_AFTER]
    return bool(_DOB_WORDS.search(before) or _DOB_WORDS.search(after))


def _years_before(today: date, years: int) -> date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def _dates_of_birth(text: str, today: date) -> Iterable[Finding]:
    adult = _years_before(today, ADULT_YEARS)
    for item in _dates(text, today):
        old_enough = item.earliest is not None and item.earliest < adult
        if old_enough or _near_dob_word(text, item.start, item.end):
            yield Finding(DATE_OF_BIRTH, text[item.start:item.end], item.start, item.end)


# --- phone numbers ---------------------------------------------------------------------------

# Digit groups joined by one separator (space, dash, dot), with an optional + and a bracketed
# area code: +44 7700 900123, +44 (0)7700 900123, (555) 123-4567, 555-123-4567, 07700 900123.
_PHONE = re.compile(
    r"(?<![\w+/.:,-])(?:\+\s?)?(?:\(\d{1,5}\)\s?\d{1,6}|\d{1,6})"
    r"(?:(?:[ .-]|\s?\(\d{1,5}\)\s?)\d{1,6}){0,6}(?![\w/:]|[.,-]\d)")
_LONG_RUN = re.compile(r"(?<![\w+/.:,-])\+?\d{10,15}(?![\w/:]|[.,-]\d)")
_DATE_SHAPED = re.compile(r"^(?:\d{1,2}([/.-])\d{1,2}\1(?:\d{2}|\d{4})"
                          r"|\d{4}([/.-])\d{1,2}\2\d{1,2})$")


def _phones(text: str) -> Iterable[Finding]:
    for match in _PHONE.finditer(text):
        found = match.group(0)
        groups = re.findall(r"\d+", found)
        digits = "".join(groups)
        if len(digits) < 7 or len(digits) > 15 or len(groups) < 2:
            continue
        if _DATE_SHAPED.match(found):
            continue  # a date, left to the date rule
        if max(len(g) for g in groups) < 3:
            continue  # times and scores: 9.30-10.45, 1 2 3 4 5 6 7
        if all(len(g) == 4 and g[:2] in ("19", "20") for g in groups):
            continue  # years: 2024-2025
        spaced_only = not re.search(r"[().+-]", found) and "." not in found
        if spaced_only and not (found.startswith("0") or len(digits) >= 9):
            continue  # "in 2023 450 people"
        yield Finding(PHONE, found, match.start(), match.end())
    for match in _LONG_RUN.finditer(text):  # 07700900123 (a valid NHS number wins over it)
        yield Finding(PHONE, match.group(0), match.start(), match.end())


# --- all together ----------------------------------------------------------------------------


def find(text: str, *, today: date | None = None) -> list[Finding]:
    """Everything in ``text`` that looks identifying, in the order it appears.

    ``today`` decides which dates are old enough to be a date of birth (default: today).
    Overlapping findings keep the most specific kind only.
    """
    if not text:
        return []
    today = today or date.today()
    candidates = [*_health_record_numbers(text), *(Finding(EMAIL, m.group(0), m.start(), m.end())
                                                   for m in _EMAIL.finditer(text)),
                  *_dates_of_birth(text, today), *_phones(text)]
    candidates.sort(key=lambda f: (_PRIORITY[f.kind], f.start, -(f.end - f.start)))
    kept: list[Finding] = []
    for finding in candidates:
        if not any(finding.start < k.end and k.start < finding.end for k in kept):
            kept.append(finding)
    return sorted(kept, key=lambda f: f.start)


def find_in_fields(fields: Mapping[str, str | None], *,
                   today: date | None = None) -> dict[str, list[Finding]]:
    """``find`` over each field; only the fields with something found, in the given order."""
    found: dict[str, list[Finding]] = {}
    for name, text in fields.items():
        items = find(text or "", today=today)
        if items:
            found[name] = items
    return found


def kinds_found(findings: Mapping[str, list[Finding]]) -> list[str]:
    """The distinct kinds in ``find_in_fields``'s answer, in ``KINDS`` order."""
    seen = {f.kind for items in findings.values() for f in items}
    return [kind for kind in KINDS if kind in seen]
