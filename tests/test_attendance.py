"""Attendance arithmetic, corrections with history, and make-ups."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from lms.models import AttendanceRecord, Cohort, Enrolment, MakeUp
from lms.models._types import utcnow
from lms.services import attendance
from lms.services.attendance import AttendanceError, Mark, cohort_attendance


@pytest.fixture
def setting(db, make_person, make_cohort, make_session):
    """A cohort with a trainee enrolled long ago, a trainer, and a clock."""
    now = utcnow().replace(microsecond=0)
    trainer = make_person("trainer")
    trainee = make_person("trainee")
    cohort = make_cohort()
    from tests.factories import EnrolmentFactory

    EnrolmentFactory(cohort_id=cohort.id, person_id=trainee.id,
                     enrolled_on=(now - timedelta(days=60)).date())
    db.commit()
    return now, trainer, trainee, cohort


def mark(db, session_, trainer, person, status, minutes=None, reason="", now=None):
    attendance.record_register(db, session_, [Mark(person.id, status, minutes)], trainer,
                               reason=reason, now=now)
    db.commit()


def figures(db, cohort, person, now):
    return cohort_attendance(db, cohort, now)[person.id]


def test_present_late_left_early_and_absent(db, setting, make_session):
    now, trainer, trainee, cohort = setting
    sessions = [make_session(cohort, now - timedelta(days=d), 120) for d in (10, 9, 8, 7)]
    mark(db, sessions[0], trainer, trainee, "present", now=now)
    mark(db, sessions[1], trainer, trainee, "late", 90, now=now)
    mark(db, sessions[2], trainer, trainee, "left_early", 60, now=now)
    mark(db, sessions[3], trainer, trainee, "absent", now=now)
    result = figures(db, cohort, trainee, now)
    assert result.scheduled_minutes == 480
    assert result.attended_minutes == 120 + 90 + 60
    assert result.percentage == pytest.approx(56.2, abs=0.05)


def test_excused_time_leaves_the_denominator(db, setting, make_session):
    now, trainer, trainee, cohort = setting
    a = make_session(cohort, now - timedelta(days=3), 120)
    b = make_session(cohort, now - timedelta(days=2), 60)
    mark(db, a, trainer, trainee, "present", now=now)
    mark(db, b, trainer, trainee, "excused", now=now)
    result = figures(db, cohort, trainee, now)
    assert (result.scheduled_minutes, result.attended_minutes) == (120, 120)
    assert result.excused_minutes == 60
    assert result.percentage == 100.0


def test_future_unmarked_and_cancelled_sessions_do_not_count(db, setting, make_session):
    now, trainer, trainee, cohort = setting
    past = make_session(cohort, now - timedelta(days=5), 120)
    make_session(cohort, now + timedelta(days=5), 120)  # future
    unmarked = make_session(cohort, now - timedelta(days=4), 120)
    cancelled = make_session(cohort, now - timedelta(days=3), 120, core=True)
    cancelled.cancelled_at, cancelled.cancel_reason = now - timedelta(days=4), "Flooding"
    db.commit()
    mark(db, past, trainer, trainee, "present", now=now)
    result = figures(db, cohort, trainee, now)
    assert (result.scheduled_minutes, result.attended_minutes) == (120, 120)
    assert [s.id for s in result.unmarked] == [unmarked.id]  # shown as not yet marked...
    assert result.core_missed == []  # ...never as absent, and the cancelled core one is gone
    states = {line.session.id: line.state for line in result.lines}
    assert states[unmarked.id] == "not yet marked"
    assert states[cancelled.id] == "cancelled"


def test_a_session_still_running_does_not_count_yet(db, setting, make_session):
    now, trainer, trainee, cohort = setting
    running = make_session(cohort, now - timedelta(minutes=30), 120)
    mark(db, running, trainer, trainee, "present", now=now)  # marking on the day is allowed
    assert figures(db, cohort, trainee, now).scheduled_minutes == 0
    later = now + timedelta(hours=2)
    assert figures(db, cohort, trainee, later).attended_minutes == 120


def test_a_trainee_enrolled_mid_course_is_not_charged_for_earlier_sessions(
        db, setting, make_person, make_session):
    now, trainer, _old, cohort = setting
    newcomer = make_person("trainee")
    from tests.factories import EnrolmentFactory

    EnrolmentFactory(cohort_id=cohort.id, person_id=newcomer.id,
                     enrolled_on=(now - timedelta(days=5)).date())
    db.commit()
    before = make_session(cohort, now - timedelta(days=10), 120, core=True)
    after = make_session(cohort, now - timedelta(days=2), 120)
    register = attendance.register(db, before)
    assert newcomer.id not in [row.person.id for row in register]
    with pytest.raises(AttendanceError, match="not on the register"):
        attendance.record_register(db, before, [Mark(newcomer.id, "absent")], trainer, now=now)
    db.rollback()
    mark(db, after, trainer, newcomer, "present", now=now)
    result = figures(db, cohort, newcomer, now)
    assert (result.scheduled_minutes, result.attended_minutes) == (120, 120)
    assert result.core_missed == []


def test_core_session_missed_then_made_up_by_another_cohorts_session(
        db, setting, make_cohort, make_session, module):
    now, trainer, trainee, cohort = setting
    listening = module("listening")
    missed = make_session(cohort, now - timedelta(days=6), 120, modules=[listening], core=True)
    mark(db, missed, trainer, trainee, "absent", now=now)
    result = figures(db, cohort, trainee, now)
    assert [s.id for s in result.core_missed] == [missed.id]
    assert result.percentage == 0.0

    other = make_cohort()
    wrong = make_session(other, now - timedelta(days=2), 90, modules=[module("privacy")])
    with pytest.raises(AttendanceError, match="same modules"):
        attendance.record_make_up(db, trainee, missed, recorder=trainer, via=wrong, now=now)
    db.rollback()
    right = make_session(other, now - timedelta(days=1), 90,
                         modules=[listening, module("privacy")])
    assert right.id in [s.id for s in attendance.make_up_candidates(db, missed, now)]
    attendance.record_make_up(db, trainee, missed, recorder=trainer, via=right, now=now)
    db.commit()
    result = figures(db, cohort, trainee, now)
    assert result.core_missed == []
    assert [s.id for s in result.core_made_up] == [missed.id]
    # The make-up credits its own length (90 minutes) against the missed 120.
    assert (result.scheduled_minutes, result.attended_minutes) == (120, 90)
    with pytest.raises(AttendanceError, match="already been made up"):
        attendance.record_make_up(db, trainee, missed, recorder=trainer, activity="x",
                                  minutes=10, now=now)


def test_make_up_activity_credits_its_minutes(db, setting, make_session):
    now, trainer, trainee, cohort = setting
    missed = make_session(cohort, now - timedelta(days=6), 120, core=True)
    mark(db, missed, trainer, trainee, "excused", now=now)
    with pytest.raises(AttendanceError):
        attendance.record_make_up(db, trainee, missed, recorder=trainer, activity="",
                                  minutes=500, now=now)
    db.rollback()
    attendance.record_make_up(db, trainee, missed, recorder=trainer,
                              activity="Read the notes and did the role-play with a trainer",
                              minutes=60, now=now)
    db.commit()
    result = figures(db, cohort, trainee, now)
    # Excused, then made up: only the make-up's minutes enter the figure, on both sides.
    assert (result.scheduled_minutes, result.attended_minutes) == (60, 60)
    assert result.excused_minutes == 60
    assert result.core_missed == [] and len(result.core_made_up) == 1


def test_corrections_need_a_reason_and_keep_history(db, setting, make_session):
    now, trainer, trainee, cohort = setting
    item = make_session(cohort, now - timedelta(days=1), 120)
    mark(db, item, trainer, trainee, "absent", now=now)
    with pytest.raises(AttendanceError, match="say why"):
        attendance.record_register(db, item, [Mark(trainee.id, "late", 100)], trainer, now=now)
    db.rollback()
    mark(db, item, trainer, trainee, "late", 100, reason="Arrived after the register", now=now)
    mark(db, item, trainer, trainee, "late", 100, now=now)  # unchanged: no new history
    changes = attendance.history(db, item)
    assert [(c.old_status, c.new_status, c.reason) for c, _p in changes] == [
        ("absent", "late", "Arrived after the register"), (None, "absent", "")]
    assert all(c.changed_by_id == trainer.id for c, _p in changes)
    assert figures(db, cohort, trainee, now).attended_minutes == 100


@pytest.mark.parametrize("status, minutes, message", [
    ("late", None, "How many minutes"),
    ("left_early", 120, "between 1 and 119"),
    ("sleeping", None, "Unknown status"),
])
def test_bad_marks_are_refused(db, setting, make_session, status, minutes, message):
    now, trainer, trainee, cohort = setting
    item = make_session(cohort, now - timedelta(days=1), 120)
    with pytest.raises(AttendanceError, match=message):
        attendance.record_register(db, item, [Mark(trainee.id, status, minutes)], trainer,
                                   now=now)


def test_no_register_for_future_or_cancelled_sessions(db, setting, make_session):
    now, trainer, trainee, cohort = setting
    future = make_session(cohort, now + timedelta(days=1), 120)
    with pytest.raises(AttendanceError, match="not started"):
        attendance.record_register(db, future, [Mark(trainee.id, "present")], trainer, now=now)
    gone = make_session(cohort, now - timedelta(days=1), 120)
    gone.cancelled_at = now
    with pytest.raises(AttendanceError, match="cancelled"):
        attendance.record_register(db, gone, [Mark(trainee.id, "present")], trainer, now=now)


def test_trainee_sees_own_attendance_per_cohort(db, setting, make_session):
    now, trainer, trainee, cohort = setting
    item = make_session(cohort, now - timedelta(days=1), 120)
    mark(db, item, trainer, trainee, "present", now=now)
    [(seen_cohort, result)] = attendance.trainee_attendance(db, trainee.id, now)
    assert seen_cohort.id == cohort.id and result.percentage == 100.0
    assert date.today() >= item.on_date


def test_make_up_must_come_from_another_cohort(db, trainee, make_person, make_session, module):
    trainer = make_person("trainer")
    enrolment = db.scalar(select(Enrolment).where(Enrolment.person_id == trainee.id))
    enrolment.enrolled_on = (utcnow() - timedelta(days=30)).date()
    now = utcnow()
    missed = make_session(enrolment.cohort, now - timedelta(days=5), 60,
                          modules=[module("listening")], core=True)
    same = make_session(enrolment.cohort, now - timedelta(days=2), 60,
                        modules=[module("listening")])
    attendance.record_register(db, missed, [attendance.Mark(trainee.id, "absent")], trainer)
    with pytest.raises(attendance.AttendanceError, match="another cohort"):
        attendance.record_make_up(db, trainee, missed, recorder=trainer, via=same)


def test_present_follows_the_session_length_and_partial_minutes_are_capped(
        db, setting, make_session):
    now, trainer, trainee, cohort = setting
    present = make_session(cohort, now - timedelta(days=3), 120)
    late = make_session(cohort, now - timedelta(days=2), 120)
    mark(db, present, trainer, trainee, "present", now=now)
    mark(db, late, trainer, trainee, "late", 100, now=now)
    present.duration_minutes = late.duration_minutes = 60  # edited after marking
    db.commit()
    result = figures(db, cohort, trainee, now)
    assert (result.scheduled_minutes, result.attended_minutes) == (120, 120)
    # Saving the unchanged register again is not a correction.
    assert attendance.record_register(db, present, [Mark(trainee.id, "present")], trainer,
                                      now=now) == 0


def test_make_up_of_an_excused_session_never_lowers_the_figure(db, setting, make_session):
    now, trainer, trainee, cohort = setting
    a = make_session(cohort, now - timedelta(days=3), 120)
    b = make_session(cohort, now - timedelta(days=2), 120, core=True)
    mark(db, a, trainer, trainee, "present", now=now)
    mark(db, b, trainer, trainee, "excused", now=now)
    assert figures(db, cohort, trainee, now).percentage == 100.0
    assert [s.id for s in figures(db, cohort, trainee, now).core_missed] == [b.id]
    attendance.record_make_up(db, trainee, b, recorder=trainer, activity="Catch-up", minutes=30,
                              now=now)
    db.commit()
    result = figures(db, cohort, trainee, now)
    assert result.percentage == 100.0 and result.core_missed == []
    assert (result.scheduled_minutes, result.attended_minutes) == (150, 150)


def test_a_correction_to_present_drops_the_make_up(db, setting, make_session):
    now, trainer, trainee, cohort = setting
    item = make_session(cohort, now - timedelta(days=3), 120, core=True)
    mark(db, item, trainer, trainee, "absent", now=now)
    attendance.record_make_up(db, trainee, item, recorder=trainer, activity="x", minutes=60,
                              now=now)
    mark(db, item, trainer, trainee, "present", reason="Was there after all", now=now)
    result = figures(db, cohort, trainee, now)
    assert result.core_made_up == [] and result.attended_minutes == 120
    assert [line.make_up for line in result.lines] == [None]


def test_make_up_via_a_session_of_another_curriculum_or_without_modules_is_refused(
        db, setting, make_session, make_cohort, module):
    from lms.models import Curriculum

    now, trainer, trainee, cohort = setting
    no_modules = make_session(cohort, now - timedelta(days=5), 120)
    mark(db, no_modules, trainer, trainee, "absent", now=now)
    other_curriculum = Curriculum(slug="other", title="Other", content_hash="x")
    db.add(other_curriculum)
    db.commit()
    foreign = make_session(make_cohort(curriculum=other_curriculum), now - timedelta(days=1),
                           10, modules=[module("listening")])
    assert attendance.make_up_candidates(db, no_modules, now) == []
    with pytest.raises(AttendanceError, match="same curriculum"):
        attendance.record_make_up(db, trainee, no_modules, recorder=trainer, via=foreign,
                                  now=now)
    db.rollback()
    sibling = make_session(make_cohort(), now - timedelta(days=1), 60)
    with pytest.raises(AttendanceError, match="covers no modules"):
        attendance.record_make_up(db, trainee, no_modules, recorder=trainer, via=sibling,
                                  now=now)


def test_sessions_after_the_withdrawal_date_do_not_count(db, setting, make_session):
    now, trainer, trainee, cohort = setting
    before = make_session(cohort, now - timedelta(days=20), 120, core=True)
    on_the_day = make_session(cohort, now - timedelta(days=15), 60)
    after = make_session(cohort, now - timedelta(days=10), 90, core=True)
    mark(db, before, trainer, trainee, "present", now=now)
    mark(db, on_the_day, trainer, trainee, "present", now=now)
    mark(db, after, trainer, trainee, "absent", now=now)  # marked before the withdrawal
    enrolment = db.scalar(select(Enrolment).where(Enrolment.person_id == trainee.id))
    enrolment.withdrawn_on = (now - timedelta(days=15)).date()  # their last day
    db.commit()

    result = figures(db, cohort, trainee, now)
    assert (result.scheduled_minutes, result.attended_minutes) == (180, 180)
    assert result.percentage == 100.0
    assert result.core_missed == [] and result.unmarked == []
    assert result.withdrawn_on == enrolment.withdrawn_on
    states = {line.session.id: line.state for line in result.lines}
    assert states == {before.id: "present", on_the_day.id: "present", after.id: "not counted"}
    # Their own page counts the same way.
    [(_cohort, own)] = attendance.trainee_attendance(db, trainee.id, now)
    assert (own.scheduled_minutes, own.withdrawn_on) == (180, enrolment.withdrawn_on)
    # The mark is kept, but they are no longer on that session's register...
    assert db.scalar(select(AttendanceRecord.status).where(
        AttendanceRecord.session_id == after.id)) == "absent"
    assert trainee.id not in [row.person.id for row in attendance.register(db, after)]
    with pytest.raises(AttendanceError, match="not on the register"):
        attendance.record_register(db, after, [Mark(trainee.id, "present")], trainer,
                                   reason="Fix", now=now)
    db.rollback()
    # ...and nothing after the withdrawal needs making up.
    with pytest.raises(AttendanceError, match="does not count"):
        attendance.record_make_up(db, trainee, after, recorder=trainer, activity="Reading",
                                  minutes=30, now=now)
    db.rollback()
    # They stay on the registers of earlier sessions, marked as withdrawn.
    rows = {row.person.id: row for row in attendance.register(db, on_the_day)}
    assert rows[trainee.id].withdrawn_on == enrolment.withdrawn_on


def test_a_trainees_attendance_reads_only_the_session_columns_it_shows(
        db, trainee, make_session, count_queries):
    enrolment = db.scalar(select(Enrolment).where(Enrolment.person_id == trainee.id))
    cohort = db.get(Cohort, enrolment.cohort_id)
    made = make_session(cohort, utcnow() - timedelta(days=2), 90, core=True)
    db.commit()
    db.expire_all()
    with count_queries() as statements:
        [(_, found)] = attendance.enrolment_attendance(db, trainee.id)
    loaded = next(s for s in statements if "FROM lms_training_session" in s
                  and "lms_training_session.title" in s)
    # Not the venue, the activities (JSON) nor the audit columns: parsing them was most of
    # the cost of a trainee's attendance on SQLite. The sessions are plain rows, not models.
    for column in ("venue", "activities", "cancel_reason", "created_at", "online_link"):
        assert f"lms_training_session.{column}" not in loaded
    [line] = found.lines
    assert isinstance(line.session, attendance.SessionShown)
    assert (line.session.id, line.session.title, line.session.is_core) == (
        made.id, made.title, True)
    assert line.session.starts_at == made.starts_at and not line.session.is_cancelled
    with pytest.raises(AttributeError):
        line.session.venue  # noqa: B018 - a page needing more reads the model


def test_a_trainees_own_figures_count_make_ups_as_the_cohorts_do(db, setting, make_session,
                                                                 count_queries):
    now, trainer, trainee, cohort = setting
    excused = make_session(cohort, now - timedelta(days=6), 120, core=True)
    absent = make_session(cohort, now - timedelta(days=5), 60, core=True)
    present = make_session(cohort, now - timedelta(days=4), 60)
    corrected = make_session(cohort, now - timedelta(days=3), 60, core=True)
    for item, status in ((excused, "excused"), (absent, "absent"), (present, "present"),
                         (corrected, "absent")):
        mark(db, item, trainer, trainee, status, now=now)
    for item, minutes in ((excused, 60), (absent, 30), (corrected, 45)):
        attendance.record_make_up(db, trainee, item, recorder=trainer, activity="Role-play",
                                  minutes=minutes, now=now)
    db.commit()
    # Marked present after all: its make-up no longer counts, for the trainee or the cohort.
    mark(db, corrected, trainer, trainee, "present", reason="Was there after all", now=now)
    trainee_id = trainee.id
    db.expire_all()
    with count_queries() as statements:
        [(_enrolment, own)] = attendance.enrolment_attendance(db, trainee_id, now)
    # Enrolments, then the sessions with the trainee's marks and their make-ups (one statement).
    assert len(statements) == 2
    cohort_view = figures(db, cohort, trainee, now)
    for found in (own, cohort_view):
        assert (found.scheduled_minutes, found.attended_minutes) == (60 + 60 + 60 + 60,
                                                                     60 + 30 + 60 + 60)
        assert found.excused_minutes == 60
        assert {s.id for s in found.core_made_up} == {excused.id, absent.id}
        assert found.core_missed == []
    made_up = {line.session.id: line.make_up for line in own.lines}
    assert made_up[absent.id].minutes_credited == 30 and made_up[corrected.id] is None


def test_a_cohorts_make_ups_are_read_as_plain_rows(db, setting, make_session):
    # The reports only ask whether a make-up stands and what it credits: a cohort of 200 has
    # hundreds, and loading each as a model cost more than the arithmetic.
    now, trainer, trainee, cohort = setting
    item = make_session(cohort, now - timedelta(days=3), 120)
    mark(db, item, trainer, trainee, "absent", now=now)
    attendance.record_make_up(db, trainee, item, recorder=trainer, activity="Reading",
                              minutes=60, now=now)
    db.commit()
    db.expunge_all()
    found = cohort_attendance(db, db.get(Cohort, cohort.id), now)[trainee.id]
    assert not any(isinstance(o, MakeUp) for o in db.identity_map.values())
    (line,) = found.lines
    assert line.make_up is not None and line.make_up.minutes_credited == 60
    assert (found.scheduled_minutes, found.attended_minutes) == (120, 60)
