"""How pages show things: dates and times, module sections, errors, the current page."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

import pytest

from lms.content.markdown import render_markdown, sections
from lms.models._types import utcnow
from lms.web.formatting import lms_date, lms_datetime, lms_time, lms_without_title

NOON_UTC = datetime(2027, 3, 27, 12, 0, tzinfo=UTC)


def test_dates_and_times_in_one_format_and_the_cohorts_zone(app):
    with app.test_request_context("/"):
        assert lms_date(date(2027, 3, 27)) == "Mar 27, 2027"
        assert lms_date(date(2027, 3, 27), weekday=True) == "Sat, Mar 27, 2027"
        assert lms_time(time(14, 30)).replace("\u202f", " ") == "2:30 PM"  # a wall time, as is
        nairobi = lms_datetime(NOON_UTC, "Africa/Nairobi").replace("\u202f", " ")
        assert nairobi == "Mar 27, 2027, 3:00 PM"  # UTC+3
        # Nobody's zone is known: the zone is named, never a bare UTC timestamp.
        assert lms_datetime(NOON_UTC).replace("\u202f", " ") == "Mar 27, 2027, 12:00 PM (UTC)"
        assert lms_date(None) == lms_time(None) == lms_datetime(None) == ""


@pytest.mark.settings(BABEL_DEFAULT_LOCALE="en_GB")
def test_dates_follow_the_viewers_language(app):
    with app.test_request_context("/"):
        assert lms_date(date(2027, 3, 27)) == "27 Mar 2027"
        assert lms_datetime(NOON_UTC, "Africa/Nairobi") == "27 Mar 2027, 15:00"


def test_headings_have_stable_ids_and_make_the_on_this_page_list():
    html = render_markdown("# Title\n\n## Why it matters\n\nText.\n\n## Same\n\n## Same\n\n"
                           "## Limits {#conf-limits}\n\n## 聆听\n\n## Main\n\n### Not listed")
    assert sections(html) == [("c-why-it-matters", "Why it matters"), ("c-same", "Same"),
                              ("c-same_1", "Same"), ("c-conf-limits", "Limits"),
                              ("c-聆听", "聆听"), ("c-main", "Main")]  # never the page's "main"
    assert render_markdown("## Why it matters") == html.split("\n")[1]  # the same every time
    assert lms_without_title(html).startswith('<h2 id="c-why-it-matters">')


def test_module_page_starts_with_title_objectives_and_sections(db, trainee, login, module):
    found = module("listening")
    found.body_html = render_markdown("# Listening\n\nIntro.\n\n## First part\n\nA.\n\n"
                                      "## Second part\n\nB.\n")
    db.commit()
    page = login(trainee).get("/modules/listening").get_data(as_text=True)
    article = page[page.index("<article"):]
    assert article.index("<h1>Listening</h1>") < article.index("After this module you can")
    assert article.index("After this module you can") < article.index("On this page")
    assert '<a href="#c-first-part">First part</a>' in page
    assert '<a href="#c-second-part">Second part</a>' in page
    assert page.count("<h1") == 1  # the body's own "# Listening" is not shown twice


def test_error_summary_links_every_error_to_its_field(client):
    page = client.post("/login", data={"email": "", "password": ""}).get_data(as_text=True)
    summary = page[page.index('class="error-summary"'):page.index("</ul>")]
    assert "There is a problem" in summary
    assert 'href="#email"' in summary and 'href="#password"' in summary
    assert page.index('class="error-summary"') < page.index('<form method="post"')


def test_feedback_form_has_no_rating_chosen_and_room_to_write(db, trainee, login, make_session):
    from sqlalchemy import select

    from lms.models import Enrolment

    enrolment = db.scalar(select(Enrolment).where(Enrolment.person_id == trainee.id))
    enrolment.enrolled_on = (utcnow() - timedelta(days=30)).date()
    item = make_session(enrolment.cohort, utcnow() - timedelta(days=1), 60)
    page = login(trainee).get(f"/sessions/{item.id}/feedback").get_data(as_text=True)
    radios = re.findall(r'<input type="radio"[^>]*name="rating"[^>]*>', page)
    assert len(radios) == 5 and not any("checked" in r for r in radios)
    assert re.search(r'<textarea[^>]*rows="5"', page)


def test_navigation_marks_the_current_page(trainee, login):
    page = login(trainee).get("/progress").get_data(as_text=True)
    assert re.search(r'<a href="/progress" aria-current="page">', page)
    assert not re.search(r'<a href="/dashboard" aria-current', page)
    page = login(trainee).get("/modules/listening").get_data(as_text=True)
    assert re.search(r'<a href="/dashboard" aria-current="true">', page)  # inside "My training"


def test_a_percentage_is_worked_out_once_per_request_and_value(app, monkeypatch):
    # A report of 200 trainees writes over a thousand percentages, most of them alike.
    from lms.web import formatting

    worked_out: list[float | None] = []
    real = formatting._percent_text

    def counted(value, locale):
        worked_out.append(value)
        return real(value, locale)

    monkeypatch.setattr(formatting, "_percent_text", counted)
    with app.test_request_context("/", headers={"Accept-Language": "fr"}):
        shown = [formatting.lms_percent(v) for v in (79.96, 79.96, None, 100.0, None, 79.96)]
    assert shown == ["79,9\u00a0%", "79,9\u00a0%", "—", "100\u00a0%", "—", "79,9\u00a0%"]
    assert worked_out == [79.96, None, 100.0]
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert formatting.lms_percent(79.96) == "79.9%"  # a new request, a new language


def test_dates_keep_the_apps_configured_formats_and_the_language(app, monkeypatch):
    # lms formats through Babel with the locale found once per request; a host's configured
    # pattern (Flask-Babel's date_formats) still applies, and a day's text is remembered.
    from lms.web import formatting

    formats = app.extensions["babel"].instance.date_formats
    monkeypatch.setitem(formats, "date.medium", "dd/MM/yyyy")
    monkeypatch.setitem(formats, "time.short", "HH'h'mm")
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert lms_date(date(2027, 3, 27)) == "27/03/2027"
        assert lms_time(time(14, 30)) == "14h30"
        assert lms_datetime(NOON_UTC, "Africa/Nairobi") == "27/03/2027, 15h00"
    monkeypatch.setitem(formats, "date.medium", None)
    monkeypatch.setitem(formats, "time.short", None)
    formatting._day_in.cache_clear()
    with app.test_request_context("/", headers={"Accept-Language": "fr"}):
        assert [lms_date(date(2027, 3, 27)) for _ in range(3)] == ["27 mars 2027"] * 3
        assert lms_date(date(2027, 3, 27), weekday=True) == "sam. 27 mars 2027"
        assert lms_time(time(14, 30)) == "14:30"
    assert formatting._day_in.cache_info().hits >= 2


def test_dates_and_numbers_follow_a_locale_forced_within_the_request(app):
    # An email written in its recipient's language during someone else's request.
    from flask_babel import force_locale

    from lms.web.formatting import lms_percent

    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert (lms_date(date(2027, 3, 27)), lms_percent(79.96)) == ("Mar 27, 2027", "79.9%")
        with force_locale("fr"):
            assert lms_date(date(2027, 3, 27)) == "27 mars 2027"
            assert lms_percent(79.96) == "79,9\u00a0%"
            assert lms_datetime(NOON_UTC, "Africa/Nairobi") == "27 mars 2027, 15:00"
        assert (lms_date(date(2027, 3, 27)), lms_percent(79.96)) == ("Mar 27, 2027", "79.9%")
