"""The cohort grid: figures per trainee, 'behind', CSV export, and a constant query count."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

from sqlalchemy import select

from lms.models import CohortStaff, Module, Quiz
from lms.models._types import utcnow
from lms.services import (
    agenda,
    attendance,
    cohort_grid,
    content_cache,
    progress,
    quizzes,
    withdrawal,
)
from lms.services.attendance import Mark
from lms.services.cohort_grid import grid_csv, neutralise
from tests import factories
from tests.conftest import log_in

RIGHT = {"q-l1": ["b"], "q-l2": ["a", "c"], "q-l3": ["true"], "q-l4": ["x"]}


def populate(db, cohort, trainer, count, make_session, module):
    now = utcnow()
    quiz = db.scalar(select(Quiz).join(Quiz.module).where(Module.slug == "listening"))
    sessions = [make_session(cohort, now - timedelta(days=d), 60,
                             modules=[module("listening")], core=True) for d in (3, 2)]
    people = []
    for n in range(count):
        person = factories.PersonFactory(roles=("trainee",), name=f"T{n:03}")
        factories.EnrolmentFactory(cohort_id=cohort.id, person_id=person.id,
                                   enrolled_on=(now - timedelta(days=10)).date())
        db.flush()
        progress.mark_read(db, person.id, module("listening"))
        attempt = quizzes.start_attempt(db, person.id, quiz, now=now)
        quizzes.submit_attempt(db, person.id, attempt, RIGHT, now=now)
        people.append(person)
    for item in sessions:
        attendance.record_register(db, item, [Mark(p.id, "present") for p in people], trainer,
                                   now=now)
    db.commit()
    return people


def test_query_count_is_the_same_for_5_and_50_trainees(db, content, make_person, make_cohort,
                                                       make_session, module, count_queries):
    trainer = make_person("trainer")
    small, large = make_cohort(), make_cohort()
    populate(db, small, trainer, 5, make_session, module)
    populate(db, large, trainer, 50, make_session, module)
    content_cache.content(db)  # content is read once per process, not per page
    db.expire_all()
    with count_queries() as five:
        grid5 = cohort_grid.cohort_grid(db, small)
    db.expire_all()
    with count_queries() as fifty:
        grid50 = cohort_grid.cohort_grid(db, large)
    assert len(grid5.rows) == 5 and len(grid50.rows) == 50
    assert len(five) == len(fifty)
    assert len(five) <= 20
    # Of each person only what the grid shows is read (not the password hash, nor the dates),
    # and what the CSV adds (the email) is there too: writing it runs no query.
    assert not [s for s in fifty if "lms_person.password_hash" in s]
    # The enrolments are read once, and attendance is worked out from them.
    assert sum(s.lstrip().startswith("SELECT lms_enrolment.") for s in fifty) == 1, fifty
    with count_queries() as writing:
        assert grid50.rows[0].person.email in cohort_grid.grid_csv(grid50)
    assert writing == []


def test_grid_figures_and_behind(db, content, make_person, make_cohort, make_session, module):
    trainer = make_person("trainer")
    cohort = make_cohort()
    keen, late = populate(db, cohort, trainer, 2, make_session, module)
    # 'late' was absent from the second core session and has read nothing else.
    second = sorted(agenda.agenda(db, cohort.id), key=lambda s: s.starts_at)[1]
    attendance.record_register(db, second, [Mark(late.id, "absent")], trainer,
                               reason="Marked wrongly")
    db.commit()
    grid = cohort_grid.cohort_grid(db, cohort)
    rows = {r.person.id: r for r in grid.rows}
    listening = module("listening")
    assert rows[keen.id].cells[listening.id].passed
    assert rows[keen.id].cells[listening.id].best_score == 100.0
    assert rows[keen.id].attendance.percentage == 100.0
    assert rows[keen.id].behind == []
    assert rows[late.id].attendance.percentage == 50.0
    assert any("attendance 50% (below 80%)" in r for r in rows[late.id].behind)
    assert any("core session" in r for r in rows[late.id].behind)
    only = cohort_grid.cohort_grid(db, cohort, show="behind")
    assert [r.person.id for r in only.rows] == [late.id]
    by_attendance = cohort_grid.cohort_grid(db, cohort, sort="attendance")
    assert [r.person.id for r in by_attendance.rows] == [late.id, keen.id]


def test_csv_export_neutralises_formulas(db, content, make_person, make_cohort):
    evil = make_person("trainee", name="=HYPERLINK(\"http://evil\")")
    cohort = make_cohort(evil)
    text = grid_csv(cohort_grid.cohort_grid(db, cohort))
    assert "'=HYPERLINK" in text
    assert "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text
    assert text.splitlines()[0].startswith("Name,Email,Attendance %")
    for dangerous in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx"):
        assert neutralise(dangerous).startswith("'")
    assert neutralise("plain") == "plain"


# --- who is due what: enrolment and withdrawal dates -------------------------------------


def enrol(db, cohort, name, enrolled_on):
    person = factories.PersonFactory(roles=("trainee",), name=name)
    factories.EnrolmentFactory(cohort_id=cohort.id, person_id=person.id, enrolled_on=enrolled_on)
    db.commit()
    return person


def test_a_module_covered_before_someone_enrolled_is_not_due_for_them(
        db, content, make_cohort, make_session, module):
    now = utcnow()
    cohort = make_cohort()
    make_session(cohort, now - timedelta(days=10), 60, modules=[module("listening")])
    early = enrol(db, cohort, "Early", (now - timedelta(days=20)).date())
    joiner = enrol(db, cohort, "Joiner", (now - timedelta(days=5)).date())
    rows = {r.person.id: r for r in cohort_grid.cohort_grid(db, cohort, now=now).rows}
    assert any(r.startswith("not finished: ") for r in rows[early.id].behind)
    assert rows[joiner.id].behind == []
    assert rows[joiner.id].status == "active"


def test_a_trainee_enrolled_from_a_future_day_has_not_started_and_is_not_behind(
        db, content, make_cohort, make_session, module):
    now = utcnow()
    cohort = make_cohort()
    make_session(cohort, now - timedelta(days=10), 60, modules=[module("listening")], core=True)
    future = enrol(db, cohort, "Future", (now + timedelta(days=3)).date())
    grid = cohort_grid.cohort_grid(db, cohort, now=now)
    [row] = grid.rows
    assert row.person.id == future.id
    assert row.behind == []
    assert row.not_started and row.status == "not started yet"
    assert cohort_grid.cohort_grid(db, cohort, now=now, show="behind").rows == []


def withdrawn_setting(db, make_person, make_cohort, make_session, module):
    """Two trainees enrolled 20 days ago, both absent from a core session 10 days ago; one of
    them withdrawn 5 days ago."""
    now = utcnow()
    trainer = make_person("trainer")
    cohort = make_cohort()
    db.add(CohortStaff(cohort_id=cohort.id, person_id=trainer.id, role="trainer"))
    core = make_session(cohort, now - timedelta(days=10), 60, modules=[module("listening")],
                        core=True)
    staying = enrol(db, cohort, "Staying", (now - timedelta(days=20)).date())
    leaving = enrol(db, cohort, "Leaving", (now - timedelta(days=20)).date())
    attendance.record_register(db, core, [Mark(staying.id, "absent"), Mark(leaving.id, "absent")],
                               trainer, now=now)
    enrolment = withdrawal.enrolment_in(db, cohort, leaving.id)
    withdrawal.withdraw(db, enrolment, (now - timedelta(days=5)).date(), "Moved away", trainer,
                        now=now)
    db.commit()
    return now, cohort, staying, leaving


def test_withdrawn_trainees_are_shown_as_withdrawn_never_behind_and_can_be_filtered(
        db, content, make_person, make_cohort, make_session, module):
    now, cohort, staying, leaving = withdrawn_setting(db, make_person, make_cohort,
                                                      make_session, module)
    rows = {r.person.id: r for r in cohort_grid.cohort_grid(db, cohort, now=now).rows}
    assert set(rows) == {staying.id, leaving.id}  # everyone by default
    assert rows[leaving.id].withdrawn and rows[leaving.id].status == "withdrawn"
    assert rows[leaving.id].behind == []
    assert rows[leaving.id].attendance.percentage == 0.0  # their record is kept
    assert rows[staying.id].behind and not rows[staying.id].withdrawn

    def shown(show):
        return [r.person.id for r in cohort_grid.cohort_grid(db, cohort, now=now,
                                                             show=show).rows]

    assert shown("behind") == [staying.id]
    assert shown("active") == [staying.id]
    assert shown("withdrawn") == [leaving.id]
    assert sorted(shown("all")) == sorted([staying.id, leaving.id])


def test_csv_says_who_is_withdrawn_and_when(db, content, make_person, make_cohort,
                                            make_session, module):
    now, cohort, staying, leaving = withdrawn_setting(db, make_person, make_cohort,
                                                      make_session, module)
    leaving.active = False  # a switched-off account says so in words
    db.commit()
    lines = list(csv.DictReader(io.StringIO(grid_csv(cohort_grid.cohort_grid(db, cohort,
                                                                              now=now)))))
    by_name = {line["Name"]: line for line in lines}
    assert by_name["Leaving"]["Status"] == "withdrawn"
    assert by_name["Leaving"]["Withdrawn on"] == (now - timedelta(days=5)).date().isoformat()
    assert by_name["Leaving"]["Behind"] == ""
    assert by_name["Leaving"]["Account"] == "switched off"
    assert by_name["Staying"]["Status"] == "active" and by_name["Staying"]["Withdrawn on"] == ""
    assert by_name["Staying"]["Behind"] != ""


def test_grid_csv_follows_the_grids_filter(db, app, make_person, make_cohort, trainee):
    from lms.models import CohortStaff, Enrolment
    from lms.services import withdrawal
    from tests.conftest import log_in

    enrolment = db.scalar(select(Enrolment).where(Enrolment.person_id == trainee.id))
    other = make_person("trainee", name="Still Here")
    db.add(Enrolment(cohort_id=enrolment.cohort_id, person_id=other.id,
                     enrolled_on=enrolment.enrolled_on))
    trainer = make_person("trainer")
    db.add(CohortStaff(cohort_id=enrolment.cohort_id, person_id=trainer.id, role="trainer"))
    db.flush()
    withdrawal.withdraw(db, enrolment, enrolment.enrolled_on, "Left", trainer)
    db.commit()
    client = app.test_client()
    log_in(client, trainer)
    everyone = client.get(f"/cohorts/{enrolment.cohort_id}/grid.csv").get_data(as_text=True)
    assert trainee.name in everyone and "Still Here" in everyone
    gone = client.get(f"/cohorts/{enrolment.cohort_id}/grid.csv?show=withdrawn")
    assert trainee.name in gone.get_data(as_text=True)
    assert "Still Here" not in gone.get_data(as_text=True)
    assert "grid-withdrawn.csv" in gone.headers["Content-Disposition"]


def _cells(read=False, attempts=0, best_score=None, passed=False, has_quiz=False):
    return cohort_grid.ModuleCell(read=read, attempts=attempts, best_score=best_score,
                                  passed=passed, has_quiz=has_quiz)


def test_module_cells_give_each_state_its_class_and_words(app):
    from lms.web.trainer.reports import cell_words, module_cells

    row = cohort_grid.GridRow(None, dict(enumerate([
        _cells(),  # nothing yet
        _cells(read=True, has_quiz=True),  # read, quiz still to do
        _cells(read=True),  # read, no quiz: done
        _cells(read=True, attempts=3, best_score=92.85, passed=True, has_quiz=True),
        _cells(attempts=1, best_score=100.0, passed=True, has_quiz=True),  # passed, unread
        _cells(read=True, attempts=2, best_score=40.0, has_quiz=True)])), None)
    percents: dict = {}
    with app.test_request_context():
        html = str(module_cells(row, cell_words(), percents))
        # A page's rows share the scores' texts: a second row writes the same cells.
        assert str(module_cells(row, cell_words(), percents)) == html
    assert percents == {92.85: "92.8%", 100.0: "100%", 40.0: "40%"}
    assert html == (
        '<td class="none"><b>not read</b></td>'
        '<td class="info"><b>read</b></td>'
        '<td class="ok"><b>read</b></td>'
        '<td class="ok"><b>passed</b><br>92.8% · attempts: 3</td>'
        # Passed but not read: not done, so the pass is said after the figures.
        '<td class="none"><b>not read</b><br>100% · attempts: 1 · passed</td>'
        '<td class="info"><b>read</b><br>40% · attempts: 2</td>')


def test_module_cells_escape_the_words(app, monkeypatch):
    from lms.web.trainer import reports
    from lms.web.trainer.reports import cell_words, module_cells

    # A translation could hold "<" or "&": cell_words escapes each word once.
    own = {"passed": "<i>passed</i>", "read": "read & seen"}
    monkeypatch.setattr(reports, "_", lambda word: own.get(word, word))
    with app.test_request_context():
        words = cell_words()
    assert words.passed == "&lt;i&gt;passed&lt;/i&gt;" and words.read == "read &amp; seen"
    row = cohort_grid.GridRow(None, {1: _cells(read=True, attempts=1, best_score=80.0,
                                               passed=True, has_quiz=True)}, None)
    with app.test_request_context():
        html = str(module_cells(row, words))
    assert html == '<td class="ok"><b>&lt;i&gt;passed&lt;/i&gt;</b><br>80% · attempts: 1</td>'


def test_the_grid_page_shows_one_cell_per_module_for_each_trainee(
        db, app, content, make_person, make_cohort, make_session, module):
    trainer = make_person("trainer")
    cohort = make_cohort()
    people = populate(db, cohort, trainer, 2, make_session, module)
    db.add(CohortStaff(cohort_id=cohort.id, person_id=trainer.id, role="trainer"))
    db.commit()
    client = app.test_client()
    log_in(client, trainer)
    page = client.get(f"/cohorts/{cohort.id}/grid").get_data(as_text=True)
    modules = re.findall(r'<th scope="col"><a [^>]*>([^<]*)</a></th>', page)
    assert len(modules) > 1
    rows = re.findall(r'<th scope="row">(.*?)</tr>', page, re.S)
    assert len(rows) == len(people)
    for row in rows:
        cells = re.findall(r'<td class="(ok|info|none)"><b>([^<]*)</b>((?:<br>[^<]*)?)</td>', row)
        assert len(cells) == len(modules)
        # Each trainee read "listening" and passed its quiz with every answer right.
        assert ("ok", "passed", "<br>100% · attempts: 1") in cells
