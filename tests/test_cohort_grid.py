"""The cohort grid: figures per trainee, 'behind', CSV export, and a constant query count."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from lms.models import Module, Quiz
from lms.models._types import utcnow
from lms.services import agenda, attendance, cohort_grid, progress, quizzes
from lms.services.attendance import Mark
from lms.services.cohort_grid import grid_csv, neutralise
from tests import factories

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
    db.expire_all()
    with count_queries() as five:
        grid5 = cohort_grid.cohort_grid(db, small)
    db.expire_all()
    with count_queries() as fifty:
        grid50 = cohort_grid.cohort_grid(db, large)
    assert len(grid5.rows) == 5 and len(grid50.rows) == 50
    assert len(five) == len(fifty)
    assert len(five) <= 20


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
    assert any("attendance 50.0% (below 80%)" in r for r in rows[late.id].behind)
    assert any("core session" in r for r in rows[late.id].behind)
    only = cohort_grid.cohort_grid(db, cohort, only_behind=True)
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
