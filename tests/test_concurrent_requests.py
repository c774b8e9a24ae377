"""A double-click: two identical requests at the same moment get the same answer, never a 500.

Each pair is sent from two threads sharing one log-in (the same cookie), released together by a
barrier, against the test's real database file (SQLite) or PostgreSQL.
"""

from __future__ import annotations

import io
import threading

import pytest
from sqlalchemy import func, select

from lms.models import Attempt, Enrolment, ModuleProgress, Person
from tests.conftest import field_names, in_threads, log_in

PAIRS = 12


def twin_clients(app, person):
    """Two test clients holding the same log-in cookie, as two tabs of one browser."""
    first = app.test_client()
    log_in(first, person)
    second = app.test_client()
    for cookie in (first.get_cookie("session"),):
        second.set_cookie(cookie.key, cookie.value, domain=cookie.domain)
    return first, second


def at_once(clients, path: str, data: dict | None = None, make_data=None) -> list:
    """POST ``path`` from every client at the same moment; the responses, in client order.
    ``make_data`` builds each request's body (a file upload cannot be sent twice)."""
    barrier = threading.Barrier(len(clients))
    responses: list = [None] * len(clients)

    def send(index: int, client) -> None:
        body = make_data() if make_data else dict(data or {})
        barrier.wait()
        responses[index] = client.post(path, data=body)

    in_threads(send, list(enumerate(clients)))
    return responses


def test_double_click_on_start_the_quiz_opens_one_attempt(app, db, trainee, module):
    quiz_module = module("privacy")  # no wait between attempts
    clients = twin_clients(app, trainee)
    for _pair in range(PAIRS):
        first, second = at_once(clients, f"/modules/{quiz_module.slug}/quiz")
        assert first.status_code == second.status_code == 302
        assert "/attempts/" in first.headers["Location"], first.headers["Location"]
        # Both land on the same attempt: the second click joins the first one's.
        assert first.headers["Location"] == second.headers["Location"]
        db.expire_all()
        open_attempts = db.scalars(select(Attempt).where(
            Attempt.person_id == trainee.id, Attempt.submitted_at.is_(None))).all()
        assert len(open_attempts) == 1
        assert first.headers["Location"].endswith(f"/attempts/{open_attempts[0].id}")
        # Close it (as a submission would) so the next pair races for a new one.
        open_attempts[0].submitted_at = open_attempts[0].started_at
        open_attempts[0].score, open_attempts[0].passed = 0.0, False
        db.commit()


def test_double_click_on_mark_as_read_marks_it_once(app, db, trainee, module):
    clients = twin_clients(app, trainee)
    slugs = ["listening", "wellbeing"]
    for slug in slugs * (PAIRS // 2):
        db.execute(ModuleProgress.__table__.delete())
        db.commit()
        first, second = at_once(clients, f"/modules/{slug}/read")
        assert first.status_code == second.status_code == 302
        assert first.headers["Location"] == second.headers["Location"]
        db.expire_all()
        assert db.scalar(select(func.count()).select_from(ModuleProgress).where(
            ModuleProgress.person_id == trainee.id)) == 1


@pytest.mark.parametrize("form", ["one", "csv"])
def test_enrolling_the_same_new_address_twice_at_once_enrols_it_once(app, db, cohort, trainer,
                                                                     form):
    clients = twin_clients(app, trainer)
    for number in range(PAIRS // 2):
        email = f"new{number}-{form}@example.org"
        if form == "one":
            responses = at_once(clients, f"/cohorts/{cohort.id}/enrol",
                                {"one-name": "Nia New", "one-email": email})
        else:
            responses = at_once(clients, f"/cohorts/{cohort.id}/enrol-csv",
                                make_data=lambda e=email: {"csv-file": (
                                    io.BytesIO(f"name,email\nNia New,{e}\n".encode()),
                                    "people.csv")})
        assert [r.status_code for r in responses] == [200, 200], \
            [r.get_data(as_text=True)[-3000:] for r in responses if r.status_code != 200]
        db.expire_all()
        people = db.scalars(select(Person).where(Person.email == email)).all()
        assert len(people) == 1
        assert db.scalar(select(func.count()).select_from(Enrolment).where(
            Enrolment.person_id == people[0].id, Enrolment.cohort_id == cohort.id)) == 1
        # One click enrolled them (and shows their link); the other says they already are.
        pages = [r.get_data(as_text=True) for r in responses]
        assert sum("/invitation/" in page for page in pages) == 1
        assert sum("already enrolled" in page for page in pages) == 1


def test_an_admin_creating_the_same_person_twice_at_once_gets_one_account(app, db, make_person):
    admin = make_person("admin", name="Ada Admin")
    clients = twin_clients(app, admin)
    for number in range(PAIRS // 2):
        email = f"twice{number}@example.org"
        responses = at_once(clients, "/admin/people/new",
                            {"name": "Tam Twice", "email": email, "roles": "trainee"})
        statuses = sorted(r.status_code for r in responses)
        assert 500 not in statuses
        db.expire_all()
        assert len(db.scalars(select(Person).where(Person.email == email)).all()) == 1
        if statuses != [200, 200]:
            # The loser keeps what was typed and is told the address is now taken.
            loser = next(r for r in responses if r.status_code != 200)
            assert loser.status_code in (409, 422)
            page = loser.get_data(as_text=True)
            assert email in page
            assert "already uses this email" in page or "another request" in page


def test_four_staff_saving_one_register_at_once_leave_a_true_history_chain(
        app, db, cohort, trainer, make_person, make_session):
    """Each save reads the marks the previous one wrote: every change's "was" is the mark it
    replaced, every acknowledged save is in the history, and nothing is a 500."""
    import random
    from datetime import timedelta

    from lms.models import AttendanceChange, AttendanceRecord, CohortStaff
    from lms.models._types import utcnow

    staff = [trainer]
    for number in range(3):
        other = make_person("trainer", name=f"Trainer {number}")
        db.add(CohortStaff(cohort_id=cohort.id, person_id=other.id, role="trainer"))
        staff.append(other)
    trainees = [make_person("trainee", name=f"Pat {n}") for n in range(3)]
    for person in trainees:
        db.add(Enrolment(cohort_id=cohort.id, person_id=person.id,
                         enrolled_on=(utcnow() - timedelta(days=30)).date()))
    db.commit()
    item = make_session(cohort, utcnow() - timedelta(hours=3), 120)
    url = f"/cohorts/{cohort.id}/sessions/{item.id}/register"
    clients = []
    for person in staff:
        client = app.test_client()
        log_in(client, person)
        clients.append(client)
    acknowledged: list[int] = []
    lock = threading.Lock()

    def save_many(client, seed: int) -> None:
        chooser = random.Random(seed)
        for _save in range(15):
            # An old page: no "was" fields, so every different mark is a correction.
            data = {f"status-{p.id}": chooser.choice(["present", "absent", "excused"])
                    for p in trainees}
            data["reason"] = "Checked the sign-in sheet"
            response = client.post(url, data=data)
            assert response.status_code in (302, 422), response.status_code
            if response.status_code == 302:
                with lock:
                    acknowledged.append(seed)

    in_threads(save_many, [(c, n) for n, c in enumerate(clients)])
    assert acknowledged  # the saves went through (a refusal would be a 422 with a reason)
    db.expire_all()
    for person in trainees:
        record = db.scalar(select(AttendanceRecord).where(
            AttendanceRecord.session_id == item.id, AttendanceRecord.person_id == person.id))
        changes = db.scalars(select(AttendanceChange).where(
            AttendanceChange.record_id == record.id).order_by(AttendanceChange.id)).all()
        assert changes[0].old_status is None
        for before, after in zip(changes, changes[1:], strict=False):
            assert after.old_status == before.new_status, (before.id, after.id)
            assert after.old_status != after.new_status  # a change, never a repeat
        assert changes[-1].new_status == record.status


def test_a_page_left_as_shown_does_not_undo_a_newer_mark(app, db, cohort, trainer, trainee,
                                                         make_person, make_session):
    """Two staff open the register; the first corrects a mark; the second saves their page
    unchanged for that trainee: the first's correction stands."""
    from datetime import timedelta

    from lms.models import AttendanceRecord
    from lms.models._types import utcnow

    item = make_session(cohort, utcnow() - timedelta(hours=3), 120)
    url = f"/cohorts/{cohort.id}/sessions/{item.id}/register"
    first = app.test_client()
    log_in(first, trainer)
    assert first.post(url, data={f"status-{trainee.id}": "present"}).status_code == 302
    second_page = first.get(url).get_data(as_text=True)
    assert f'name="was-{trainee.id}" value="present:120"' in second_page
    assert first.post(url, data={f"status-{trainee.id}": "absent", "reason": "Left at once",
                                 f"was-{trainee.id}": "present:120"}).status_code == 302
    # The other tab still shows "present": sending it back is not a change by its user.
    assert first.post(url, data={f"status-{trainee.id}": "present",
                                 f"was-{trainee.id}": "present:120"}).status_code == 302
    db.expire_all()
    assert db.scalar(select(AttendanceRecord.status).where(
        AttendanceRecord.session_id == item.id)) == "absent"


def test_enrolling_an_existing_trainee_twice_at_once_is_never_a_500(app, db, make_person,
                                                                    make_cohort):
    """The enrolment reads the cohort's enrolments before it writes: on SQLite that read must
    not be left unable to become a write ("database is locked" at once)."""
    admin = make_person("admin", name="Ada Admin")
    clients = twin_clients(app, admin)
    for number in range(PAIRS // 2):
        person = make_person("trainee", name=f"Existing {number}")
        cohort = make_cohort()
        responses = at_once(clients, f"/cohorts/{cohort.id}/enrol",
                            {"one-name": person.name, "one-email": person.email})
        assert [r.status_code for r in responses] == [200, 200]
        db.expire_all()
        assert db.scalar(select(func.count()).select_from(Enrolment).where(
            Enrolment.person_id == person.id, Enrolment.cohort_id == cohort.id)) == 1


def test_a_double_click_on_submit_shows_the_result_both_times(app, db, trainee, module):
    clients = twin_clients(app, trainee)
    for _pair in range(PAIRS // 2):
        start = clients[0].post("/modules/privacy/quiz")
        attempt_id = int(start.headers["Location"].rsplit("/", 1)[1])
        page = clients[0].get(f"/attempts/{attempt_id}").get_data(as_text=True)
        assert set(field_names(page)) == {"q-p1", "q-p2"}
        first, second = at_once(clients, f"/attempts/{attempt_id}",
                                {"q-p1": "true", "q-p2": "a"})
        assert first.status_code == second.status_code == 302
        assert first.headers["Location"] == second.headers["Location"]
        assert first.headers["Location"].endswith(f"/attempts/{attempt_id}/result")


def test_a_stale_page_marking_everyone_present_leaves_a_newer_mark_alone(
        app, db, cohort, trainer, trainee, make_person, make_session):
    from datetime import timedelta

    from lms.models import AttendanceRecord, CohortStaff
    from lms.models._types import utcnow

    other = make_person("trainer", name="Other Trainer")
    second = make_person("trainee", name="Ann Second")
    db.add(CohortStaff(cohort_id=cohort.id, person_id=other.id, role="trainer"))
    db.add(Enrolment(cohort_id=cohort.id, person_id=second.id,
                     enrolled_on=(utcnow() - timedelta(days=30)).date()))
    db.commit()
    item = make_session(cohort, utcnow() - timedelta(hours=3), 60)
    url = f"/cohorts/{cohort.id}/sessions/{item.id}/register"
    mine, theirs = app.test_client(), app.test_client()
    log_in(mine, trainer)
    log_in(theirs, other)
    assert mine.post(url, data={f"status-{second.id}": "present"}).status_code == 302
    # My page now shows the trainee unmarked and Ann present. Meanwhile the other trainer
    # marks the trainee absent.
    assert theirs.post(url, data={f"status-{trainee.id}": "absent"}).status_code == 302
    # From my stale page I correct Ann and tick "everyone else present".
    response = mine.post(url, data={
        "everyone": "present", f"was-{trainee.id}": "", f"status-{second.id}": "late",
        f"minutes-{second.id}": "30", f"was-{second.id}": "present:60",
        "reason": "Ann arrived late"})
    assert response.status_code == 302
    db.expire_all()
    marks = dict(db.execute(select(AttendanceRecord.person_id, AttendanceRecord.status)).all())
    assert marks == {trainee.id: "absent", second.id: "late"}
    # A session made longer since the page was drawn: "present" left alone is still no change.
    item.duration_minutes = 90
    db.commit()
    assert mine.post(url, data={f"status-{trainee.id}": "present",
                                f"was-{trainee.id}": "absent:0",
                                f"status-{second.id}": "late", f"minutes-{second.id}": "30",
                                f"was-{second.id}": "late:30",
                                "reason": "Recounted"}).status_code == 302
    db.expire_all()
    assert db.scalar(select(AttendanceRecord.status).where(
        AttendanceRecord.person_id == trainee.id)) == "present"
