"""How pages show dates, times and module sections: Jinja filters and globals, all ``lms_``.

One format everywhere, in the viewer's language (Flask-Babel's locale) and in the cohort's
time zone. Stored instants are UTC; a page passes the cohort's zone
(``lms_datetime(cohort.timezone)``) or, on a trainee's own pages, gets the zone of the
trainee's cohort (``lms_viewer_zone()``).
Session dates and start times are already local wall times and are shown as they are.
Machine formats (CSV, .ics) do not use these.

Installed by ``LMS.init_app`` as a Jinja extension: ``lms.web.formatting.Formatting``.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, numbers
from babel import dates as babel_dates
from flask import current_app, g, has_request_context, request
from flask_babel import format_date, format_time, get_locale, get_timezone
from flask_babel import gettext as _
from jinja2.ext import Extension

from lms.content.markdown import sections
from lms.services.standards import shown_percent

EXAMPLE_DAY = date(2027, 3, 27)


def _zone(tz: str | ZoneInfo | None):
    if tz is None:
        tz = lms_viewer_zone()
    if tz is None:
        return get_timezone()  # the host's (or Flask-Babel's default) zone
    if isinstance(tz, str):
        try:
            return ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            return get_timezone()
    return tz


def _local(value: datetime, tz) -> datetime:
    if value.tzinfo is None:  # stored instants are UTC
        value = value.replace(tzinfo=ZoneInfo("UTC"))
    return value.astimezone(_zone(tz))


# A page writes dozens of dates and times. Flask-Babel's format_date and format_time find the
# locale and the configured pattern through Flask's context-local proxies on every call, which
# cost several times Babel's own formatting; here the locale is found once per request and a
# day's text is remembered.


def _page_locale() -> Locale | None:
    """The viewer's locale as Flask-Babel holds it for this request: read from its
    per-request namespace, which ``refresh()`` and ``force_locale`` keep current, without its
    context look-ups; Flask-Babel's own answer when it has not chosen one yet."""
    if has_request_context():
        locale = getattr(g.get("_flask_babel"), "babel_locale", None)
        if locale is not None:
            return locale
    return get_locale()


def _pattern(kind: str, style: str) -> str:
    """The pattern Flask-Babel would use for ``kind`` ("date", "time") in ``style``: the app's
    configured one (``Babel.date_formats``), else the style, which Babel reads as the locale's."""
    return current_app.extensions["babel"].instance.date_formats.get(f"{kind}.{style}") or style


@lru_cache(maxsize=8192)
def _day_in(locale: Locale, day: date, pattern: str) -> str:
    return babel_dates.format_date(day, pattern, locale=locale)


@lru_cache(maxsize=4096)
def _weekday_day_in(locale: Locale, day: date) -> str:
    return babel_dates.format_skeleton("yMMMEd", day, locale=locale)


def _day(value: date, style: str) -> str:
    locale = _page_locale()
    if locale is None:
        return format_date(value, style)
    return _day_in(locale, value, _pattern("date", style))


def _time_of_day(value: time) -> str:
    locale = _page_locale()
    if locale is None:
        return format_time(value, "short", rebase=False)
    return babel_dates.format_time(value, _pattern("time", "short"), locale=locale)


def lms_date(value: date | datetime | None, style: str = "medium", weekday: bool = False,
             tz: str | None = None) -> str:
    """A day: "Sat, 27 Mar 2027" with ``weekday``; an instant is first moved into ``tz``."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = _local(value, tz).date()
    if weekday:
        return _weekday_day_in(_page_locale(), value)
    return _day(value, style)


def lms_time(value: time | datetime | None, tz: str | None = None) -> str:
    """A time of day: a session's local start time as it is, an instant moved into ``tz``."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = _local(value, tz).time()
    return _time_of_day(value)


def lms_datetime(value: datetime | None, tz: str | None = None) -> str:
    """An instant (stored in UTC) in the zone ``tz``, or the viewer's: "27 Mar 2027, 14:05".

    Without either (staff pages that are about no cohort) the default zone is named after it.
    """
    if value is None:
        return ""
    local = _local(value, tz)
    pattern = _page_locale().datetime_formats["medium"]
    text = str(pattern).replace("{1}", _day(local.date(), "medium")).replace(
        "{0}", _time_of_day(local.time()))
    if tz is None and lms_viewer_zone() is None:
        text += f" ({local.tzname()})"
    return text


def lms_viewer_zone() -> str | None:
    """The zone of the signed-in trainee's cohort (their latest enrolment), else None.

    Read with the log-in session (no query of its own); otherwise one small query per request,
    made by the layout on every trainee page, so a page costs the same number of queries
    whether or not it shows a time.
    """
    if not has_request_context():
        return None
    if "lms_viewer_zone" not in g:
        from sqlalchemy import select
        from sqlalchemy.exc import SQLAlchemyError

        from lms.models import Cohort, Enrolment
        from lms.web.access import current_person, db_session

        zone = None
        try:
            person = current_person()
            if person is not None and person.has_role("trainee") and person.cohort_zone_known:
                zone = person.cohort_zone  # read with the log-in session, no query
            elif person is not None and person.has_role("trainee"):
                zone = db_session().scalar(
                    select(Cohort.timezone).join(Enrolment, Enrolment.cohort_id == Cohort.id)
                    .where(Enrolment.person_id == person.id)
                    .order_by(Enrolment.enrolled_on.desc(), Enrolment.id.desc()).limit(1))
        except SQLAlchemyError:  # an error page after a database error: show times in UTC
            zone = None
        g.lms_viewer_zone = zone
    return g.lms_viewer_zone


def lms_date_hint() -> str:
    return _("For example, %(day)s. If you see a plain text box, type it as 2027-03-27.",
             day=format_date(EXAMPLE_DAY, "long"))


def lms_time_hint() -> str:
    return _("For example, 14:30. If you see a plain text box, use the 24-hour clock.")


def lms_locale() -> str:
    """The page's language for ``<html lang>``, as BCP 47 ("fr", "en-GB")."""
    locale = get_locale() if has_request_context() else None
    return str(locale).replace("_", "-") if locale else "en"


def lms_current(*endpoints: str, section: tuple[str, ...] = ()) -> str | None:
    """``aria-current``: "page" on one of ``endpoints``; "true" on another endpoint whose name
    starts with one of ``section`` (a page inside that part of the site)."""
    endpoint = request.endpoint or ""
    if endpoint in endpoints:
        return "page"
    if any(endpoint.startswith(prefix) for prefix in section):
        return "true"
    return None


_LEADING_H1 = re.compile(r"^\s*<h1\b[^>]*>.*?</h1>\s*", re.S | re.I)


def lms_without_title(html: str | None) -> str:
    """Module HTML without its leading ``# Title``: the page shows the title itself."""
    return _LEADING_H1.sub("", html or "", count=1)


def lms_percent(value: float | None) -> str:
    """"79.9%" for 79.96: cut, never rounded up to a threshold (``standards.shown_percent``);
    "—" for no figure."""
    if not has_request_context():  # a PDF, a command: plain unless a locale is forced
        return _percent_text(value, get_locale())
    # Remembered per request, locale and value: a report of 200 trainees writes over a
    # thousand percentages, and working each out again (cut, locale, cache key) cost more
    # than the cell.
    locale = _page_locale()
    kept = g.get("lms_percents")
    if kept is None or kept[0] is not locale:
        kept = g.lms_percents = (locale, {})
    found = kept[1].get(value)
    if found is None:
        found = kept[1][value] = _percent_text(value, locale)
    return found


def _percent_text(value: float | None, locale: Locale | None) -> str:
    shown = shown_percent(value)
    if not shown:
        return "—"
    if locale is None:
        return f"{shown}%"
    return _percent_in(locale, shown)


@lru_cache(maxsize=4096)
def _percent_in(locale: Locale, shown: str) -> str:
    # Remembered: a grid of 200 trainees writes a thousand percentages, most of them alike,
    # and Babel takes tens of microseconds for each.
    # The cut figure, written the locale's way ("79.9%", "79,9 %"); never rounded again.
    pattern = locale.percent_formats[None].pattern.replace("0", "0.#", 1)
    return numbers.format_percent(Decimal(shown) / 100, pattern, locale=locale)


FILTERS = {
    "lms_percent": lms_percent,
    "lms_date": lms_date,
    "lms_time": lms_time,
    "lms_datetime": lms_datetime,
    "lms_sections": sections,
    "lms_without_title": lms_without_title,
}
GLOBALS = {
    "lms_viewer_zone": lms_viewer_zone,
    "lms_date_hint": lms_date_hint,
    "lms_time_hint": lms_time_hint,
    "lms_current": lms_current,
    "lms_locale": lms_locale,
}


class Formatting(Extension):
    """``app.jinja_env.add_extension("lms.web.formatting.Formatting")`` installs the above."""

    def __init__(self, environment) -> None:
        super().__init__(environment)
        environment.filters.update(FILTERS)
        for name, value in GLOBALS.items():
            environment.globals.setdefault(name, value)
