"""The whole cohort's attendance at once: every trainee by every session held so far, with each
mark, the percentage and the core sessions missed; sorted and filtered the same way for the
page and its CSV.

Every figure comes from the one computation, ``attendance.cohort_attendance(with_lines=True)``;
this module only arranges it. "Below the standard" is readiness's attendance rule
(``readiness.attendance_met`` against the curriculum's standards policy, plus
``core_sessions`` when the policy requires every core session attended or made up), applied as
the progress grid applies it: a trainee with no figure yet is not below it, and a withdrawn
trainee is not judged. Without a policy nobody is below.

A fixed number of queries, whatever the number of trainees or sessions.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.models import Cohort, Enrolment, Person, TrainingSession
from lms.models._types import utcnow
from lms.models.agenda import ABSENT, EXCUSED, LATE, LEFT_EARLY, PRESENT
from lms.services import readiness, standards
from lms.services.agenda import IN_ORDER, has_happened
from lms.services.attendance import SessionLine, TraineeAttendance, cohort_attendance
from lms.services.cohort_grid import neutralise

SORTS = ("name", "percentage", "core_missed")
SHOWS = ("all", "below")

# What a cell can say. The page turns each into a short translated code (the legend explains
# them); the CSV writes the English code.
CANCELLED, NOT_COUNTED, UNMARKED, MADE_UP = "cancelled", "not_counted", "unmarked", "made_up"
KINDS = (PRESENT, LATE, LEFT_EARLY, ABSENT, EXCUSED, MADE_UP, UNMARKED, NOT_COUNTED, CANCELLED)
CSV_CODES = {PRESENT: "P", LATE: "L", LEFT_EARLY: "E", ABSENT: "A", EXCUSED: "X",
             MADE_UP: "M", UNMARKED: "?", NOT_COUNTED: "–", CANCELLED: "–"}


class Trainee(NamedTuple):
    """What the report needs of a person: plain columns, read in one query (loading the
    models would also load every person's roles)."""

    id: int
    name: str
    email: str


@dataclass
class Row:
    person: Trainee
    withdrawn_on: date | None
    attendance: TraineeAttendance
    # One (kind, minutes attended or None) per shown session, in column order.
    cells: list[tuple[str, int | None]]
    below: bool

    @property
    def withdrawn(self) -> bool:
        return self.withdrawn_on is not None


@dataclass
class Report:
    cohort: Cohort
    sessions: list[TrainingSession]  # the columns: sessions held (or due) so far
    later: int  # sessions still to come, not shown
    rows: list[Row]
    policy: standards.Policy | None


def cell_of(line: SessionLine) -> tuple[str, int | None]:
    """What one trainee's line for one session shows."""
    if line.session.is_cancelled:
        return CANCELLED, None
    if not line.counts:
        return NOT_COUNTED, None
    if line.status is None:
        return UNMARKED, None
    if line.make_up is not None:
        return MADE_UP, None
    if line.status in (LATE, LEFT_EARLY):
        return line.status, line.minutes
    return line.status, None


def below_standard(att: TraineeAttendance, policy: standards.Policy | None,
                   withdrawn: bool = False) -> bool:
    """Readiness's attendance criteria not met (see the module's docstring)."""
    if policy is None or withdrawn:
        return False
    if att.percentage is not None and not readiness.attendance_met(att, policy):
        return True
    return policy.core_sessions_required and bool(att.core_missed)


def attendance_report(session: Session, cohort: Cohort, *, now: datetime | None = None,
                      sort: str = "name", show: str = "all") -> Report:
    """The report in the order and filter asked for (unknown values fall back to the first)."""
    now = now or utcnow()
    sort = sort if sort in SORTS else SORTS[0]
    show = show if show in SHOWS else SHOWS[0]
    policy_row = standards.current_policy(session, cohort.curriculum_id)
    policy = standards.Policy.from_rules(policy_row.rules) if policy_row else None
    sessions = list(session.scalars(
        select(TrainingSession).where(TrainingSession.cohort_id == cohort.id)
        .order_by(*IN_ORDER)))
    enrolled = session.execute(
        select(Person.id, Person.name, Person.email, Enrolment.enrolled_on,
               Enrolment.withdrawn_on)
        .join(Person, Person.id == Enrolment.person_id)
        .where(Enrolment.cohort_id == cohort.id)).all()
    # The enrolments just read are handed over, not read again.
    figures = cohort_attendance(session, cohort, now, with_lines=True, sessions=sessions,
                                enrolled=[(pid, on, off) for pid, _n, _e, on, off in enrolled])
    # Only sessions that have ended are columns: a later one has nothing to show yet.
    shown = [i for i, item in enumerate(sessions) if has_happened(item, now)]
    rows = []
    for pid, name, email, _enrolled_on, withdrawn_on in enrolled:
        att = figures[pid]
        lines = att.lines
        rows.append(Row(Trainee(pid, name, email), withdrawn_on, att,
                        [cell_of(lines[i]) for i in shown],
                        below_standard(att, policy, withdrawn_on is not None)))
    if show == "below":
        rows = [r for r in rows if r.below]
    rows.sort(key=_sort_key(sort))
    return Report(cohort, [sessions[i] for i in shown], len(sessions) - len(shown), rows,
                  policy)


def _sort_key(sort: str):
    if sort == "percentage":  # lowest first; no figure yet last
        return lambda r: (r.attendance.percentage if r.attendance.percentage is not None
                          else 101.0, r.person.name.lower(), r.person.id)
    if sort == "core_missed":  # most first
        return lambda r: (-len(r.attendance.core_missed), r.person.name.lower(), r.person.id)
    return lambda r: (r.person.name.lower(), r.person.id)


def csv_code(kind: str, minutes: int | None) -> str:
    """A cell as the CSV writes it: the page's codes in English (L45: late, 45 minutes
    attended)."""
    code = CSV_CODES[kind]
    return f"{code}{minutes}" if minutes is not None else code


def report_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    header = ["Name", "Email", "Attendance %", "Core sessions missed", "Not yet marked",
              "Below standard", "Status", "Withdrawn on"]
    header += [f"{s.on_date.isoformat()} {s.title}" + (" (cancelled)" if s.is_cancelled else "")
               for s in report.sessions]
    writer.writerow([neutralise(h) for h in header])
    for row in report.rows:
        att = row.attendance
        withdrawn_on = row.withdrawn_on
        line = [row.person.name, row.person.email, standards.shown_percent(att.percentage),
                len(att.core_missed), len(att.unmarked), "yes" if row.below else "no",
                "withdrawn" if row.withdrawn else "active",
                withdrawn_on.isoformat() if withdrawn_on else ""]
        line += [csv_code(kind, minutes) for kind, minutes in row.cells]
        writer.writerow([neutralise(c) for c in line])
    return out.getvalue()
