"""Attendance: registers, corrections with history, make-ups, and the one computation of
attended time that every page uses.

The rules, stated once (the policy trainees and trainers see):

* A session counts for a trainee only once it has ended, if it was not cancelled, and if it falls
  on or after the day they were enrolled and, for a trainee withdrawn from the cohort, on or
  before the day they were withdrawn. Their marks for later sessions are kept but not counted,
  and they leave the registers of later sessions.
* A counted session with no mark yet is "not yet marked": it is neither attended nor absent and
  stays out of the figures until someone marks it.
* Present credits the whole session (its length now, should it be edited after marking); late
  and left early credit the minutes recorded, never more than the session's length; absent
  credits nothing.
* Excused time leaves the percentage: it is neither attended nor missed. An excused core session
  still has to be made up, since the standards ask for every core session attended or made up.
* A make-up (a session of another cohort of the same curriculum covering the same modules, or an
  activity a trainer records) credits its minutes and counts a missed core session as made up.
  For an absent session the whole session is scheduled time and the make-up's minutes are
  credited against it; for an excused session only the make-up's minutes enter both sides, so a
  make-up never lowers the figure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import and_, bindparam, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload

from lms.models import (
    AttendanceChange,
    AttendanceRecord,
    AuditEvent,
    Cohort,
    Enrolment,
    MakeUp,
    Person,
    TrainingSession,
)
from lms.models._types import utcnow
from lms.models.agenda import ABSENT, EXCUSED, LATE, LEFT_EARLY, PRESENT, STATUSES
from lms.services import row_locks
from lms.services.agenda import IN_ORDER, has_happened
from lms.services.audit import ATTENDANCE_CORRECTION
from lms.services.errors import ServiceError, _l

PARTIAL = (LATE, LEFT_EARLY)
MISSED = (ABSENT, EXCUSED)
STATUS_LABELS = {PRESENT: _l("Present"), LATE: _l("Late"), LEFT_EARLY: _l("Left early"),
                 EXCUSED: _l("Excused"), ABSENT: _l("Absent")}


class AttendanceError(ServiceError):
    """Marks that cannot be saved. ``problems`` maps a person id (or 0 for the form) to why;
    for a make-up, a form field's name (or None for the form)."""

    def __init__(self, problems: dict) -> None:
        super().__init__(problems=problems)


# --- the register ----------------------------------------------------------------------


@dataclass
class Mark:
    person_id: int
    status: str
    minutes: int | None = None  # needed for late and left early
    # The mark the saver's page showed ("status:minutes", "" if unmarked), when known: a mark
    # left as it was shown is not a change, so it never overwrites someone else's newer one.
    seen: str | None = None
    # Set by "mark everyone not marked otherwise as present": only for someone still unmarked.
    filled: bool = False


@dataclass
class RegisterRow:
    person: Person
    record: AttendanceRecord | None
    # Set when the trainee has since been withdrawn (on or after this session's day).
    withdrawn_on: date | None = None


def in_enrolment(on_date: date, enrolled_on: date, withdrawn_on: date | None) -> bool:
    """Whether a day falls within an enrolment: from the day enrolled to the day withdrawn."""
    return enrolled_on <= on_date and (withdrawn_on is None or on_date <= withdrawn_on)


def counts_for(training_session: TrainingSession, enrolled_on: date,
               now: datetime, withdrawn_on: date | None = None) -> bool:
    return (not training_session.is_cancelled and has_happened(training_session, now)
            and in_enrolment(training_session.on_date, enrolled_on, withdrawn_on))


def register(session: Session, training_session: TrainingSession) -> list[RegisterRow]:
    """Everyone expected at the session (enrolled on or before its day, and not withdrawn
    before it), with their mark."""
    day = training_session.on_date
    enrolled = session.execute(
        select(Enrolment.withdrawn_on, Person).join(Person, Person.id == Enrolment.person_id)
        .where(Enrolment.cohort_id == training_session.cohort_id,
               Enrolment.enrolled_on <= day,
               Enrolment.withdrawn_on.is_(None) | (Enrolment.withdrawn_on >= day))
        .order_by(Person.name, Person.id)).all()
    records = {r.person_id: r for r in session.scalars(
        select(AttendanceRecord).where(AttendanceRecord.session_id == training_session.id)
        .options(selectinload(AttendanceRecord.recorded_by))
        .execution_options(populate_existing=True))}  # as stored now, not as first loaded
    return [RegisterRow(person, records.get(person.id), withdrawn_on)
            for withdrawn_on, person in enrolled]


def has_register(training_session: TrainingSession, now: datetime | None = None) -> bool:
    """A register can be taken once the session has started, unless it was cancelled."""
    return not training_session.is_cancelled and training_session.starts_at <= (now or utcnow())


def marks_from_form(rows: list[RegisterRow], form: Mapping[str, str]) -> tuple[
        list[Mark], dict[int, tuple[str, str, str | None]], dict[int, str]]:
    """Read a register form: ``status-<id>``, ``minutes-<id>`` and ``was-<id>`` (the mark the
    page showed) per person, and ``everyone=present`` for "mark everyone not marked otherwise
    as present".

    Returns the marks, what was submitted per person (to show the form again) and problems.
    An unknown status raises ``ValueError`` (the form cannot produce one).
    """
    everyone = form.get("everyone") == "present"
    marks: list[Mark] = []
    submitted: dict[int, tuple[str, str]] = {}
    problems: dict[int, str] = {}
    for row in rows:
        pid = row.person.id
        status = form.get(f"status-{pid}", "")
        minutes_text = form.get(f"minutes-{pid}", "").strip()
        seen = form.get(f"was-{pid}")
        filled = everyone and not status
        if filled:
            status = PRESENT
        submitted[pid] = (status, minutes_text, seen)
        if not status:
            continue  # left unmarked
        if status not in STATUSES:
            raise ValueError(_l("Unknown attendance status."))
        try:
            minutes = int(minutes_text) if minutes_text else None
        except ValueError:
            problems[pid] = f"{row.person.name}: minutes must be a whole number."
            continue
        marks.append(Mark(pid, status, minutes, seen[:40] if seen is not None else None,
                          filled=filled))
    return marks, submitted, problems


def seen_value(status: str, minutes: int | None) -> str:
    """How a mark is written in the register form's ``was-<id>`` field ("" for unmarked)."""
    return f"{status}:{minutes}" if status else ""


def _shown_as(seen: str, status: str, minutes: int) -> bool:
    """Whether a mark is the one the page showed (``seen``). Minutes matter only for late and
    left early: present and missed follow the session's length, which may since have changed."""
    shown_status, _sep, shown_minutes = seen.partition(":")
    if shown_status != status:
        return False
    return status not in PARTIAL or shown_minutes == str(minutes)


def minutes_for(training_session: TrainingSession, status: str, minutes: int | None) -> int:
    if status == PRESENT:
        return training_session.duration_minutes
    if status in MISSED:
        return 0
    if minutes is None:
        raise ValueError(_l("How many minutes did they attend?"))
    if not 0 < minutes < training_session.duration_minutes:
        raise ValueError(str(_l("Minutes attended must be between 1 and %(most)d.",
                                    most=training_session.duration_minutes - 1)))
    return minutes


def record_register(session: Session, training_session: TrainingSession, marks: Iterable[Mark],
                    recorder: Person, reason: str = "", now: datetime | None = None) -> int:
    """Save marks; a change to an existing mark is a correction and needs a reason.

    Returns how many marks were created or changed. All or nothing: any problem raises
    ``AttendanceError`` and nothing is written.
    """
    now = now or utcnow()
    if training_session.is_cancelled:
        raise AttendanceError({0: _l("This session was cancelled; it has no register.")})
    if training_session.starts_at > now:
        raise AttendanceError({0: _l("This session has not started yet.")})
    # Savers of one register go one at a time, each reading the marks the previous one
    # wrote: every correction's "was" is then the mark it replaced, so history is a chain.
    row_locks.hold(session, TrainingSession, training_session.id)
    rows = {row.person.id: row for row in register(session, training_session)}
    problems: dict[int, str] = {}
    planned: list[tuple[Mark, int, AttendanceRecord | None]] = []
    for mark in marks:
        row = rows.get(mark.person_id)
        if row is None:
            problems[mark.person_id] = _l("This person is not on the register of this session.")
            continue
        if mark.status not in STATUSES:
            problems[mark.person_id] = _l("Unknown status '%(status)s'.", status=mark.status)
            continue
        try:
            minutes = minutes_for(training_session, mark.status, mark.minutes)
        except ValueError as exc:
            problems[mark.person_id] = _l("%(name)s: %(problem)s", name=row.person.name,
                                          problem=str(exc))
            continue
        record = row.record
        if mark.filled and record is not None:
            continue  # marked by someone meanwhile: "everyone else present" no longer means them
        if mark.seen is not None and _shown_as(mark.seen, mark.status, minutes):
            continue  # left as the page showed it: not this saver's change
        if record is not None and record.status == mark.status and (
                mark.status == PRESENT or record.minutes_credited == minutes):
            continue  # unchanged (present always means the whole session)
        if record is not None and not reason.strip():
            problems[mark.person_id] = _l(
                "%(name)s was already marked %(status)s: say why you are changing it.",
                name=row.person.name, status=str(STATUS_LABELS[record.status]).lower())
            continue
        planned.append((mark, minutes, record))
    if problems:
        raise AttendanceError(problems)
    try:
        _write_marks(session, training_session, planned, recorder, reason, now)
    except IntegrityError:
        session.rollback()
        raise AttendanceError({0: _l("Someone else saved this register at the same moment. "
                                     "Reload the page and check the marks.")}) from None
    return len(planned)


def _write_marks(session: Session, training_session: TrainingSession, planned: list,
                 recorder: Person, reason: str, now: datetime) -> None:
    corrections: list[dict] = []
    for mark, minutes, record in planned:
        old_status = record.status if record else None
        old_minutes = record.minutes_credited if record else None
        if record is None:
            record = AttendanceRecord(session_id=training_session.id, person_id=mark.person_id,
                                      status=mark.status, minutes_credited=minutes,
                                      recorded_by_id=recorder.id, recorded_at=now)
            session.add(record)
            session.flush()
        else:
            record.status, record.minutes_credited = mark.status, minutes
            record.recorded_by_id, record.recorded_at = recorder.id, now
        session.add(AttendanceChange(
            record_id=record.id, old_status=old_status, new_status=mark.status,
            old_minutes=old_minutes, new_minutes=minutes, changed_by_id=recorder.id,
            changed_at=now, reason=reason.strip() if old_status else ""))
        if old_status is not None:
            # A correction is audited without its reason (reasons may name people).
            corrections.append({
                "at": now, "actor_id": recorder.id, "action": ATTENDANCE_CORRECTION,
                "subject_type": "attendance_record", "subject_id": record.id,
                "person_id": mark.person_id,
                "detail": {"session_id": training_session.id, "from": old_status,
                           "to": mark.status, "from_minutes": old_minutes,
                           "to_minutes": minutes}})
    session.flush()
    if corrections:
        session.execute(insert(AuditEvent), corrections)


def history(session: Session, training_session: TrainingSession) -> list[tuple]:
    """Every mark and correction for a session: (change, person), newest first."""
    return list(session.execute(
        select(AttendanceChange, Person)
        .join(AttendanceRecord, AttendanceRecord.id == AttendanceChange.record_id)
        .join(Person, Person.id == AttendanceRecord.person_id)
        .where(AttendanceRecord.session_id == training_session.id)
        .options(selectinload(AttendanceChange.changed_by))
        .order_by(AttendanceChange.changed_at.desc(), AttendanceChange.id.desc())).all())


# --- make-ups ------------------------------------------------------------------------------


def record_make_up(session: Session, person: Person, missed: TrainingSession, *,
                   recorder: Person, via: TrainingSession | None = None, activity: str = "",
                   minutes: int | None = None, now: datetime | None = None) -> MakeUp:
    now = now or utcnow()
    problems: dict[str | None, str] = {}
    enrolment = session.scalar(select(Enrolment).where(
        Enrolment.cohort_id == missed.cohort_id, Enrolment.person_id == person.id))
    record = session.scalar(select(AttendanceRecord).where(
        AttendanceRecord.session_id == missed.id, AttendanceRecord.person_id == person.id))
    if enrolment is None or not counts_for(missed, enrolment.enrolled_on, now,
                                           enrolment.withdrawn_on):
        problems[None] = _l("That session does not count for this trainee.")
    elif record is None or record.status not in MISSED:
        problems[None] = _l("Only a session marked absent or excused can be made up.")
    elif session.scalar(select(MakeUp.id).where(MakeUp.person_id == person.id,
                                                MakeUp.missed_session_id == missed.id)):
        problems[None] = _l("This session has already been made up.")
    if via is not None:
        if via.cohort_id == missed.cohort_id:
            problems["via_session_id"] = _l("Choose a session from another cohort.")
        elif via.cohort.curriculum_id != missed.cohort.curriculum_id:
            problems["via_session_id"] = _l("Choose a session of a cohort on the same curriculum.")
        elif not missed.module_ids:
            problems["via_session_id"] = _l(
                "The missed session covers no modules, so no other session can stand in for "
                "it: record a make-up activity instead.")
        elif via.is_cancelled or not has_happened(via, now):
            problems["via_session_id"] = _l("That session was cancelled or has not happened yet.")
        elif not set(missed.module_ids) <= set(via.module_ids):
            problems["via_session_id"] = _l("That session does not cover the same modules.")
        elif session.scalar(select(MakeUp.id).where(MakeUp.person_id == person.id,
                                                    MakeUp.via_session_id == via.id)):
            problems["via_session_id"] = _l("That session already made up another missed session.")
        credited = min(via.duration_minutes, missed.duration_minutes)
    else:
        if not activity.strip():
            problems["activity"] = _l("Describe the make-up activity.")
        if minutes is None or not 0 < minutes <= missed.duration_minutes:
            problems["minutes"] = _l("Credit between 1 and %(most)d minutes.",
                                     most=missed.duration_minutes)
        credited = minutes or 0
    if problems:
        raise AttendanceError(problems)
    if len(activity) > 2000:
        raise AttendanceError({"activity": _l("Keep the description under 2,000 characters.")})
    make_up = MakeUp(person_id=person.id, missed_session_id=missed.id,
                     via_session_id=via.id if via else None, activity=activity.strip(),
                     minutes_credited=credited, recorded_by_id=recorder.id, recorded_at=now)
    try:
        with session.begin_nested():  # undone alone on failure: the session carries on
            session.add(make_up)
    except IntegrityError:
        raise AttendanceError({None: _l("This session has already been made up.")}) from None
    return make_up


def make_up_candidates(session: Session, missed: TrainingSession,
                       now: datetime | None = None) -> list[TrainingSession]:
    """Sessions of other cohorts on the same curriculum that happened and cover the missed
    session's modules (none if it covers no modules)."""
    now = now or utcnow()
    needed = set(missed.module_ids)
    if not needed:
        return []
    same_curriculum = select(Cohort.id).where(
        Cohort.curriculum_id == missed.cohort.curriculum_id, Cohort.id != missed.cohort_id)
    others = session.scalars(
        select(TrainingSession).where(TrainingSession.cohort_id.in_(same_curriculum),
                                      TrainingSession.cancelled_at.is_(None),
                                      TrainingSession.starts_at <= now)
        .options(selectinload(TrainingSession.cohort))
        .order_by(TrainingSession.starts_at.desc()).limit(500))
    return [s for s in others if has_happened(s, now) and needed <= set(s.module_ids)]


# --- the computation -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SessionShown:
    """A training session as a trainee's own attendance reads and shows it: a plain row, at a
    third of the cost of loading the model (a dashboard reads 40). It has the attributes of
    ``TrainingSession`` that attendance, readiness and the trainee's pages read."""

    id: int
    cohort_id: int
    title: str
    on_date: date
    starts_at: datetime
    duration_minutes: int
    is_core: bool
    cancelled_at: datetime | None

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None


class MadeUp(NamedTuple):
    """A make-up as a cohort's reports read it: that it stands, and the minutes it credits."""

    id: int
    minutes_credited: int


@dataclass(slots=True)
class SessionLine:
    session: TrainingSession | SessionShown
    counts: bool
    status: str | None  # None: not yet marked (or not counted)
    minutes: int
    make_up: MakeUp | MadeUp | None = None  # the model on a trainee's own pages

    @property
    def state(self) -> str:
        if self.session.is_cancelled:
            return "cancelled"
        if not self.counts:
            return "not counted"
        if self.status is None:
            return "not yet marked"
        return STATUS_LABELS[self.status].lower()


@dataclass
class TraineeAttendance:
    person_id: int
    scheduled_minutes: int = 0
    attended_minutes: int = 0
    excused_minutes: int = 0
    unmarked: list[TrainingSession | SessionShown] = field(default_factory=list)
    core_missed: list[TrainingSession | SessionShown] = field(default_factory=list)
    core_made_up: list[TrainingSession | SessionShown] = field(default_factory=list)
    lines: list[SessionLine] = field(default_factory=list)
    # The day they were withdrawn from the cohort: later sessions do not count.
    withdrawn_on: date | None = None

    @property
    def percentage(self) -> float | None:
        """Unrounded: compare it as it is, and show it with ``standards.shown_percent`` (which
        never shows a figure below a threshold as the threshold)."""
        if not self.scheduled_minutes:
            return None
        return 100.0 * self.attended_minutes / self.scheduled_minutes


class _Facts(NamedTuple):
    """What the arithmetic needs of a session, read once per cohort (cheaper than the ORM)."""

    session: TrainingSession | SessionShown
    id: int
    on_date: date
    minutes: int
    is_core: bool
    live: bool  # not cancelled and already ended


def _facts(sessions: list[TrainingSession] | list[SessionShown], now: datetime) -> list[_Facts]:
    return [_Facts(item, item.id, item.on_date, item.duration_minutes, item.is_core,
                   item.cancelled_at is None and has_happened(item, now)) for item in sessions]


def compute(sessions: list[TrainingSession] | list[SessionShown] | list[_Facts],
            enrolled_on: date, person_id: int,
            records: dict[int, tuple[str, int]], make_ups: Mapping[int, MakeUp | MadeUp],
            now: datetime,
            with_lines: bool = True, withdrawn_on: date | None = None) -> TraineeAttendance:
    """The arithmetic for one trainee, on rows already loaded (no queries here).

    ``records`` maps a session id to its mark as a plain ``(status, minutes_credited)`` tuple:
    a cohort's report runs this for 8,000 marks, and reading a SQLAlchemy row's fields by name
    cost more than the arithmetic. Sessions after ``withdrawn_on`` do not count, whatever
    their marks.
    """
    facts = sessions if (sessions and isinstance(sessions[0], _Facts)) else \
        _facts(sessions, now)  # type: ignore[arg-type]
    result = TraineeAttendance(person_id=person_id, withdrawn_on=withdrawn_on)
    # Locals, not attributes, in the loop: a cohort's report runs it 8,000 times.
    lines = result.lines if with_lines else None
    unmarked, core_missed, core_made_up = result.unmarked, result.core_missed, result.core_made_up
    scheduled = attended = excused = 0
    for fact in facts:
        on_date = fact.on_date
        counts = fact.live and enrolled_on <= on_date and (
            withdrawn_on is None or on_date <= withdrawn_on)  # in_enrolment, inlined
        record = records.get(fact.id)
        status, credited_minutes = record if record is not None else (None, 0)
        # A make-up stands only while the session is still marked as missed.
        make_up = make_ups.get(fact.id) if status in MISSED else None
        if lines is not None:
            lines.append(SessionLine(
                fact.session, counts, status if counts else None,
                credited_minutes if counts else 0, make_up))
        if not counts:
            continue
        if record is None:
            unmarked.append(fact.session)
            continue
        minutes = fact.minutes
        if make_up is not None:
            credited = min(make_up.minutes_credited, minutes)
            if status == EXCUSED:
                excused += minutes - credited
                scheduled += credited
            else:
                scheduled += minutes
            attended += credited
            if fact.is_core:
                core_made_up.append(fact.session)
            continue
        if status == EXCUSED:
            excused += minutes
        else:
            scheduled += minutes
            attended += minutes if status == PRESENT else min(credited_minutes, minutes)
        if fact.is_core and status in MISSED:
            core_missed.append(fact.session)
    result.scheduled_minutes, result.attended_minutes = scheduled, attended
    result.excused_minutes = excused
    return result


def cohort_attendance(session: Session, cohort: Cohort, now: datetime | None = None,
                      with_lines: bool = True,
                      sessions: list[TrainingSession] | None = None,
                      enrolled: Iterable[tuple[int, date, date | None]] | None = None,
                      ) -> dict[int, TraineeAttendance]:
    """Every enrolled trainee's attendance in four queries, whatever the cohort's size
    (fewer when the caller hands over the cohort's ``sessions``, or every enrolment as
    ``enrolled``: (person id, enrolled on, withdrawn on), already loaded).

    ``with_lines=False`` skips the per-session lines (the grid needs only the totals)."""
    now = now or utcnow()
    if sessions is None:
        sessions = list(session.scalars(
            select(TrainingSession).where(TrainingSession.cohort_id == cohort.id)
            .order_by(*IN_ORDER)))
    if enrolled is None:
        enrolled = session.execute(
            select(Enrolment.person_id, Enrolment.enrolled_on, Enrolment.withdrawn_on)
            .where(Enrolment.cohort_id == cohort.id))
    by_person = {pid: (on, withdrawn_on) for pid, on, withdrawn_on in enrolled}
    session_ids = [s.id for s in sessions]
    records: dict[int, dict[int, tuple[str, int]]] = {pid: {} for pid in by_person}
    make_ups: dict[int, dict[int, MakeUp | MadeUp]] = {pid: {} for pid in by_person}
    if session_ids:
        # Plain rows on the Core path, not model instances nor the ORM's row processing: a big
        # cohort has thousands of marks (8,000 for 200 trainees x 40 sessions). The Core path
        # does not autoflush, so flush first.
        session.flush()
        # Fetched all at once (iterating the result would fetch the rows one call at a time).
        for row in session.connection().execute(
                select(AttendanceRecord.session_id, AttendanceRecord.person_id,
                       AttendanceRecord.status, AttendanceRecord.minutes_credited)
                .where(AttendanceRecord.session_id.in_(select(TrainingSession.id).where(
                    TrainingSession.cohort_id == cohort.id)))).all():
            by_session = records.get(row[1])
            if by_session is None:
                by_session = records[row[1]] = {}
            by_session[row[0]] = (row[2], row[3])
        # Make-ups as plain rows too: the reports ask only whether one stands and what it
        # credits, and a cohort of 200 has hundreds of them.
        for make_up_id, person_id, missed_id, credited in session.connection().execute(
                select(MakeUp.id, MakeUp.person_id, MakeUp.missed_session_id,
                       MakeUp.minutes_credited)
                .where(MakeUp.missed_session_id.in_(select(TrainingSession.id).where(
                    TrainingSession.cohort_id == cohort.id)))).all():
            make_ups.setdefault(person_id, {})[missed_id] = MadeUp(make_up_id, credited)
    facts = _facts(sessions, now)
    return {pid: compute(facts, on, pid, records[pid], make_ups[pid], now, with_lines,
                         withdrawn_on)
            for pid, (on, withdrawn_on) in by_person.items()}


def trainee_attendance(session: Session, person_id: int,
                       now: datetime | None = None) -> list[tuple[Cohort, TraineeAttendance]]:
    """A trainee's own attendance in each cohort they are enrolled in (two queries in all)."""
    return [(e.cohort, result) for e, result in enrolment_attendance(session, person_id, now)]


# A trainee's own attendance, on every trainee's dashboard: the statements are built once
# (building one and its cache key cost more than running it), with the values bound per call.
_OWN_ENROLMENTS = (select(Enrolment).where(Enrolment.person_id == bindparam("person_id"))
                   .options(joinedload(Enrolment.cohort))
                   .order_by(Enrolment.enrolled_on.desc(), Enrolment.id.desc()))
# The sessions of the trainee's cohorts, each with the trainee's own mark and the make-up for
# it, if any, in one statement (at most one mark per session and person, and one make-up per
# missed session and person). The sessions come as plain rows (``SessionShown``) with only
# the columns attendance and the pages showing it read: on SQLite each date and time is parsed
# in Python, and loading 40 models cost three times the row. A make-up counts only while its
# session is marked as missed, so one without a mark is never needed: it is joined to the mark.
_SESSION_COLUMNS = (TrainingSession.id, TrainingSession.cohort_id, TrainingSession.title,
                    TrainingSession.on_date, TrainingSession.starts_at,
                    TrainingSession.duration_minutes, TrainingSession.is_core,
                    TrainingSession.cancelled_at)
_SESSIONS_WITH_OWN_MARKS = (
    select(*_SESSION_COLUMNS, AttendanceRecord.status, AttendanceRecord.minutes_credited, MakeUp)
    .outerjoin(AttendanceRecord, and_(AttendanceRecord.session_id == TrainingSession.id,
                                      AttendanceRecord.person_id == bindparam("person_id")))
    .outerjoin(MakeUp, and_(MakeUp.person_id == AttendanceRecord.person_id,
                            MakeUp.missed_session_id == AttendanceRecord.session_id))
    .where(TrainingSession.cohort_id.in_(bindparam("cohort_ids", expanding=True)))
    .order_by(*IN_ORDER))


def enrolment_attendance(session: Session, person_id: int, now: datetime | None = None
                         ) -> list[tuple[Enrolment, TraineeAttendance]]:
    """Each of the trainee's enrolments (latest first, cohort loaded) with its attendance."""
    now = now or utcnow()
    enrolments = list(session.scalars(_OWN_ENROLMENTS, {"person_id": person_id}))
    cohort_ids = [e.cohort_id for e in enrolments]
    sessions: dict[int, list[SessionShown]] = {cid: [] for cid in cohort_ids}
    records: dict[int, tuple[str, int]] = {}
    make_ups: dict[int, MakeUp] = {}
    for row in session.execute(
            _SESSIONS_WITH_OWN_MARKS, {"person_id": person_id, "cohort_ids": cohort_ids}):
        item = SessionShown(*row[:8])
        status, minutes, make_up = row[8], row[9], row[10]
        sessions[item.cohort_id].append(item)
        if status is not None:  # a mark (its status is never NULL)
            records[item.id] = (status, minutes)
            if make_up is not None:
                make_ups[item.id] = make_up
    return [(e, compute(sessions[e.cohort_id], e.enrolled_on, person_id, records,
                        make_ups, now, withdrawn_on=e.withdrawn_on))
            for e in enrolments]
