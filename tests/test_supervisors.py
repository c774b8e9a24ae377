"""Who supervises whom: one current supervisor, history, cohort defaults, the trainer's page."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from lms.models import Enrolment, SupervisorAssignment
from lms.models._types import utcnow
from lms.services import cohorts, supervisors
from lms.services.supervisors import SupervisorError

DAY = date(2026, 11, 2)


@pytest.fixture
def sara(make_person):
    return make_person("supervisor", name="Sara Supervisor")


@pytest.fixture
def tom(make_person):
    return make_person("supervisor", name="Tom Supervisor")


def test_a_change_keeps_the_history_and_ends_the_old_span_that_day(db, trainee, sara, tom):
    assert supervisors.assign(db, trainee, sara, on=DAY)
    assert supervisors.assign(db, trainee, tom, on=DAY + timedelta(days=10))
    db.commit()
    spans = supervisors.history(db, trainee.id)
    assert [(s.supervisor_id, s.starts_on, s.ends_on) for s in spans] == [
        (tom.id, DAY + timedelta(days=10), None), (sara.id, DAY, DAY + timedelta(days=10))]
    later = DAY + timedelta(days=10)
    assert supervisors.is_current_supervisor(db, sara.id, trainee.id, later - timedelta(days=1))
    assert not supervisors.is_current_supervisor(db, sara.id, trainee.id, later)
    assert supervisors.is_current_supervisor(db, tom.id, trainee.id, later)
    assert supervisors.ever_supervised(db, sara.id, trainee.id)
    assert supervisors.supervisee_ids(db, sara.id, later) == []


def test_the_same_supervisor_again_changes_nothing(db, trainee, sara):
    supervisors.assign(db, trainee, sara, on=DAY)
    assert not supervisors.assign(db, trainee, sara, on=DAY + timedelta(days=3))
    db.commit()
    assert len(supervisors.history(db, trainee.id)) == 1


def test_only_supervisors_supervise_and_nobody_themselves(db, trainee, make_person, trainer):
    with pytest.raises(SupervisorError, match="is not a supervisor"):
        supervisors.assign(db, trainee, trainer, on=DAY)
    both = make_person("trainee", "supervisor")
    with pytest.raises(SupervisorError, match="supervise themselves"):
        supervisors.assign(db, both, both, on=DAY)
    off = make_person("supervisor", active=False)
    with pytest.raises(SupervisorError, match="switched off"):
        supervisors.assign(db, trainee, off, on=DAY)


def test_one_current_span_per_trainee_is_enforced_by_the_database(db, trainee, sara, tom):
    from sqlalchemy.exc import IntegrityError
    supervisors.assign(db, trainee, sara, on=DAY)
    db.commit()
    db.add(SupervisorAssignment(trainee_id=trainee.id, supervisor_id=tom.id, starts_on=DAY))
    with pytest.raises(IntegrityError):
        db.commit()
    db.rollback()


def test_the_cohort_default_moves_only_those_without_their_own(db, cohort, make_person, sara,
                                                               tom):
    own = make_person("trainee", name="Has Own")
    cohorts.enrol(db, cohort, own, supervisor=tom)
    db.commit()
    today = utcnow().date()
    moved = supervisors.set_cohort_supervisor(db, cohort, sara, on=today)
    db.commit()
    ids = [e.person_id for e in cohorts.enrolments(db, cohort.id)]
    current = supervisors.current_supervisor_ids(db, ids, today)
    assert current[own.id] == tom.id
    assert moved == len(ids) - 1 and all(current[i] == sara.id for i in ids if i != own.id)
    assert any(s.person_id == sara.id and s.role == "supervisor" for s in cohort.staff)
    # A new default moves those who had the old default, and a newcomer gets it.
    supervisors.set_cohort_supervisor(db, cohort, tom, on=today)
    newcomer = make_person("trainee")
    cohorts.enrol(db, cohort, newcomer)
    db.commit()
    assert supervisors.current_supervisor_ids(db, [newcomer.id], today) == {newcomer.id: tom.id}


def test_assign_in_cohort_checks_every_choice_first(db, cohort, trainee, sara, trainer,
                                                    make_person):
    stranger = make_person("trainee")
    with pytest.raises(SupervisorError) as error:
        supervisors.assign_in_cohort(db, cohort, {trainee.id: trainer.id, stranger.id: sara.id},
                                     on=DAY)
    assert error.value.problems == {f"supervisor-{trainee.id}": "Choose a supervisor from the "
                                    "list.", f"supervisor-{stranger.id}": "That person is not "
                                    "in this cohort."}
    assert supervisors.current_supervisor_ids(db, [trainee.id], DAY) == {}


def test_frequencies_come_from_the_curriculum_or_config(db, trainee, cohort):
    cohort.curriculum.supervision_every_days = 14
    cohort.curriculum.check_in_every_days = None
    db.commit()
    found = supervisors.frequencies(db, [trainee.id, 999], supervision_default=30,
                                    check_in_default=7)
    assert found[trainee.id] == supervisors.Frequencies(14, 7)
    assert found[999] == supervisors.Frequencies(30, 7)
    # The same rule on enrolments already loaded (the dashboard's way), without a query.
    enrolments = list(db.scalars(select(Enrolment).where(Enrolment.person_id == trainee.id)))
    curricula = {cohort.curriculum.id: cohort.curriculum}
    assert supervisors.frequencies_from(enrolments, curricula, supervision_default=30,
                                        check_in_default=7) == found[trainee.id]
    assert supervisors.frequencies_from([], curricula, supervision_default=30,
                                        check_in_default=7) == found[999]
    enrolments[0].withdrawn_on = DAY  # a withdrawn enrolment does not set them
    assert supervisors.frequencies_from(enrolments, curricula, supervision_default=30,
                                        check_in_default=7) == found[999]
    db.rollback()


def test_the_latest_current_enrolment_sets_the_frequencies():
    """As ``frequencies`` orders them: by day enrolled, then id; withdrawn ones left out."""
    from lms.models import Cohort, Curriculum

    curricula = {1: Curriculum(id=1, supervision_every_days=14, check_in_every_days=3),
                 2: Curriculum(id=2, supervision_every_days=60, check_in_every_days=None)}

    def enrolment(number, day, curriculum_id, withdrawn=None):
        return Enrolment(id=number, enrolled_on=day, withdrawn_on=withdrawn,
                         cohort=Cohort(curriculum_id=curriculum_id))

    older, newer = enrolment(1, DAY, 1), enrolment(2, DAY + timedelta(days=5), 2)
    defaults = {"supervision_default": 30, "check_in_default": 7}
    assert supervisors.frequencies_from([newer, older], curricula, **defaults) == \
        supervisors.Frequencies(60, 7)
    newer.withdrawn_on = DAY + timedelta(days=9)
    assert supervisors.frequencies_from([newer, older], curricula, **defaults) == \
        supervisors.Frequencies(14, 3)
    same_day = enrolment(3, DAY, 2)  # the same day: the later id wins
    assert supervisors.frequencies_from([same_day, older], curricula, **defaults) == \
        supervisors.Frequencies(60, 7)


# --- the trainer's page ---------------------------------------------------------------------


def test_the_trainer_sets_the_default_and_a_person_s_own(app, db, cohort, trainer, trainee,
                                                          sara, tom, client_for):
    client = client_for(trainer)
    url = f"/cohorts/{cohort.id}/supervisors"
    page = client.get(url)
    assert page.status_code == 200 and "Sara Supervisor" in page.get_data(as_text=True)
    response = client.post(url, data={"form": "default", "default_supervisor": str(sara.id)})
    assert response.status_code == 302
    today = utcnow().date()
    assert supervisors.current_supervisor_ids(db, [trainee.id], today) == {trainee.id: sara.id}
    response = client.post(url, data={"form": "people", f"supervisor-{trainee.id}": str(tom.id)})
    assert response.status_code == 302
    db.expire_all()
    assert supervisors.current_supervisor_ids(db, [trainee.id], today) == {trainee.id: tom.id}
    shown = client.get(url).get_data(as_text=True)
    assert "Sara Supervisor" in shown  # in the history column


def test_a_bad_choice_is_shown_with_the_input_kept(db, cohort, trainer, trainee, client_for):
    client = client_for(trainer)
    response = client.post(f"/cohorts/{cohort.id}/supervisors",
                           data={"form": "people", f"supervisor-{trainee.id}": "banana"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "There is a problem" in html and "Choose a supervisor from the list." in html
    assert f'href="#supervisor-{trainee.id}"' in html


def test_other_trainers_and_supervisors_are_refused(cohort, make_person, client_for, sara):
    other = make_person("trainer")
    url = f"/cohorts/{cohort.id}/supervisors"
    assert client_for(other).get(url).status_code == 403
    assert client_for(sara).get(url).status_code == 403
    assert client_for(sara).post(url, data={"form": "default",
                                            "default_supervisor": str(sara.id)}
                                 ).status_code == 403


def test_ids_too_big_for_the_database_are_refused_not_a_500(db, cohort, trainer, trainee, sara,
                                                           client_for):
    huge = "9" * 23
    client = client_for(trainer)
    url = f"/cohorts/{cohort.id}/supervisors"
    assert client.post(url, data={"form": "default", "default_supervisor": huge}
                       ).status_code == 400
    response = client.post(url, data={"form": "people", f"supervisor-{trainee.id}": huge})
    assert response.status_code == 400
    assert "Choose a supervisor from the list." in response.get_data(as_text=True)
    assert client_for(sara).get(f"/supervision/records/new?person_id={huge}"
                                ).status_code == 404
    assert client_for(sara).get("/supervision/records/new?person_id=2147483648"
                                ).status_code == 404


@pytest.mark.settings(LMS_TIMEZONE="UTC")
def test_enrolling_starts_the_supervisor_on_the_programme_s_day(db, make_cohort, sara,
                                                                make_person):
    from datetime import UTC, datetime
    cohort = make_cohort(timezone="Pacific/Kiritimati")  # UTC+14: already tomorrow there
    noon = datetime(2026, 12, 1, 12, tzinfo=UTC)
    pat = make_person("trainee")
    cohorts.enrol(db, cohort, pat, supervisor=sara, now=noon, supervision_day=noon.date())
    db.commit()
    assert supervisors.is_current_supervisor(db, sara.id, pat.id, noon.date())
