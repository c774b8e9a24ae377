"""Cohorts, their staff, and enrolment (one by one or from a CSV file)."""

from __future__ import annotations

import csv
import io
import secrets
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from zoneinfo import available_timezones

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from lms.models import Cohort, CohortStaff, Curriculum, Enrolment, Person
from lms.models.people import ADMIN, SUPERVISOR, TRAINEE, TRAINER
from lms.services import accounts

MAX_CSV_ROWS = 2000
MAX_CSV_BYTES = 2_000_000


class CohortError(ValueError):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones()) | {"UTC"}


def check_timezone(name: str) -> str:
    # Checked against the list, not by loading: "America" names a folder and would crash.
    if name not in _zones():
        raise CohortError(f"Unknown time zone '{name}'. Use a name like Africa/Nairobi.",
                          "timezone")
    return name


def create_cohort(session: Session, *, name: str, curriculum: Curriculum | None,
                  starts_on: date | None = None, ends_on: date | None = None,
                  timezone: str = "UTC", trainers: list[Person] = (),
                  supervisors: list[Person] = (), actor: Person | None = None) -> Cohort:
    """Create a cohort. A trainer (not an admin) who creates one is always among its trainers."""
    trainers = [t for t in trainers if t is not None]
    if actor is not None and actor.has_role(TRAINER) and not actor.has_role(ADMIN) \
            and actor.id not in [t.id for t in trainers]:
        trainers.append(actor)
    if curriculum is None:
        raise CohortError("Choose a curriculum.", "curriculum_id")
    if not name.strip():
        raise CohortError("A cohort needs a name.", "name")
    if starts_on and ends_on and ends_on < starts_on:
        raise CohortError("A cohort cannot end before it starts.", "ends_on")
    cohort = Cohort(name=name.strip(), curriculum_id=curriculum.id, starts_on=starts_on,
                    ends_on=ends_on, timezone=check_timezone(timezone))
    session.add(cohort)
    session.flush()
    set_staff(session, cohort, trainers=trainers, supervisors=supervisors)
    return cohort


def update_cohort(session: Session, cohort: Cohort, *, name: str, starts_on: date | None,
                  ends_on: date | None, timezone: str) -> None:
    if not name.strip():
        raise CohortError("A cohort needs a name.", "name")
    if starts_on and ends_on and ends_on < starts_on:
        raise CohortError("A cohort cannot end before it starts.", "ends_on")
    zone_changed = cohort.timezone != timezone
    cohort.name, cohort.starts_on, cohort.ends_on = name.strip(), starts_on, ends_on
    cohort.timezone = check_timezone(timezone)
    session.flush()
    if zone_changed:
        from lms.services.agenda import recompute_instants

        recompute_instants(session, cohort)


def set_staff(session: Session, cohort: Cohort, *, trainers: list[Person],
              supervisors: list[Person], actor: Person | None = None) -> None:
    """Set a cohort's trainers and supervisors. A trainer cannot remove themselves (they would
    lose the cohort); an admin can change anyone."""
    trainers = [t for t in trainers if t is not None]
    supervisors = [s for s in supervisors if s is not None]
    if actor is not None and not actor.has_role(ADMIN) and \
            actor.id not in [t.id for t in trainers]:
        raise CohortError("You cannot remove yourself as a trainer.", "trainers")
    for person in trainers:
        if not person.has_role(TRAINER, ADMIN):
            raise CohortError(f"{person.name} is not a trainer.", "trainers")
    for person in supervisors:
        if not person.has_role(SUPERVISOR):
            raise CohortError(f"{person.name} is not a supervisor.", "supervisors")
    wanted = {(p.id, TRAINER) for p in trainers} | {(p.id, SUPERVISOR) for p in supervisors}
    for row in list(cohort.staff):
        if (row.person_id, row.role) not in wanted:
            cohort.staff.remove(row)
    have = {(row.person_id, row.role) for row in cohort.staff}
    for person_id, role in sorted(wanted - have):
        cohort.staff.append(CohortStaff(person_id=person_id, role=role))
    session.flush()


def staff_ids(cohort: Cohort, role: str) -> list[int]:
    return [row.person_id for row in cohort.staff if row.role == role]


def can_manage(person: Person, cohort: Cohort) -> bool:
    """Admins manage every cohort; trainers only the cohorts they train."""
    if person.has_role(ADMIN):
        return True
    return person.has_role(TRAINER) and person.id in staff_ids(cohort, TRAINER)


def cohorts_for(session: Session, person: Person) -> list[Cohort]:
    query = select(Cohort).options(selectinload(Cohort.staff), selectinload(Cohort.curriculum))
    if not person.has_role(ADMIN):
        query = query.join(CohortStaff).where(CohortStaff.person_id == person.id,
                                              CohortStaff.role == TRAINER)
    return list(session.scalars(query.order_by(Cohort.starts_on.desc(), Cohort.name)).unique())


def list_cohorts(session: Session) -> list[Cohort]:
    return list(session.scalars(select(Cohort).order_by(Cohort.name)))


def enrol(session: Session, cohort: Cohort, person: Person, on: date,
          supervisor: Person | None = None) -> Enrolment:
    """Enrol ``person`` (idempotent: an existing enrolment is returned, its supervisor set)."""
    existing = session.scalar(select(Enrolment).where(
        Enrolment.cohort_id == cohort.id, Enrolment.person_id == person.id))
    if existing:
        if supervisor is not None:
            existing.supervisor_id = supervisor.id
        return existing
    enrolment = Enrolment(cohort_id=cohort.id, person_id=person.id, enrolled_on=on,
                          supervisor_id=supervisor.id if supervisor else None)
    session.add(enrolment)
    session.flush()
    return enrolment


def enrolments(session: Session, cohort_id: int) -> list[Enrolment]:
    return list(session.scalars(
        select(Enrolment).where(Enrolment.cohort_id == cohort_id)
        .options(selectinload(Enrolment.person), selectinload(Enrolment.supervisor))
        .join(Person, Person.id == Enrolment.person_id).order_by(Person.name, Person.id)))


def enrolments_of(session: Session, person_id: int) -> list[Enrolment]:
    return list(session.scalars(select(Enrolment).where(Enrolment.person_id == person_id)
                                .options(selectinload(Enrolment.cohort))))


def is_enrolled(session: Session, person_id: int, cohort_id: int) -> bool:
    return session.scalar(select(Enrolment.id).where(
        Enrolment.person_id == person_id, Enrolment.cohort_id == cohort_id)) is not None


def enrolled_curriculum_ids(session: Session, person_id: int) -> set[int]:
    return set(session.scalars(
        select(Cohort.curriculum_id).join(Enrolment, Enrolment.cohort_id == Cohort.id)
        .where(Enrolment.person_id == person_id)
    ))


# --- enrolling people by name and email (one, or a CSV of many) ---------------------------


@dataclass
class EnrolmentRow:
    line: int
    name: str
    email: str
    supervisor_email: str = ""


@dataclass
class EnrolmentResult:
    enrolled: list[Person] = field(default_factory=list)
    already: list[Person] = field(default_factory=list)
    # New accounts and their one-time passwords, to hand to each trainee.
    new_accounts: list[tuple[Person, str]] = field(default_factory=list)


class EnrolmentErrors(ValueError):
    def __init__(self, errors: list[tuple[int, str]]) -> None:
        super().__init__("; ".join(f"row {n}: {reason}" for n, reason in errors))
        self.errors = errors


def parse_enrolment_csv(data: bytes) -> list[EnrolmentRow]:
    """Read ``name,email[,supervisor]`` rows. A header row is recognised and skipped."""
    if len(data) > MAX_CSV_BYTES:
        raise EnrolmentErrors([(1, "the file is larger than 2 MB; split it")])
    if b"\x00" in data:
        raise EnrolmentErrors([(1, "the file holds NUL characters: save it as CSV text")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise EnrolmentErrors([(1, "the file is not UTF-8 text; save it as CSV UTF-8")]) from None
    rows: list[EnrolmentRow] = []
    errors: list[tuple[int, str]] = []
    reader = csv.reader(io.StringIO(text))
    seen_content = False
    try:
        for cells in reader:
            number = reader.line_num  # the file's line (a quoted field may span lines)
            cells = [c.strip() for c in cells]
            if not any(cells):
                continue
            first, seen_content = not seen_content, True
            if first and cells[0].lower() in ("name", "full name") and \
                    len(cells) > 1 and "email" in cells[1].lower():
                continue  # the header row
            if len(rows) + len(errors) >= MAX_CSV_ROWS:
                errors.append((number, f"a file may hold at most {MAX_CSV_ROWS} rows"))
                break
            if len(cells) < 2 or len(cells) > 3:
                errors.append((number, "expected name, email and an optional supervisor email"))
                continue
            rows.append(EnrolmentRow(number, cells[0], cells[1],
                                     cells[2] if len(cells) > 2 else ""))
    except csv.Error as exc:
        errors.append((reader.line_num, f"the file cannot be read as CSV: {exc}"))
    if errors:
        raise EnrolmentErrors(errors)
    if not rows:
        raise EnrolmentErrors([(1, "the file has no rows")])
    return rows


def enrollable_existing(session: Session, actor: Person) -> set[int] | None:
    """Existing accounts ``actor`` may enrol: None means any (admins).

    A trainer may enrol someone who already has an account only if that person is already a
    trainee of one of the trainer's cohorts; otherwise enrolling would open another cohort's
    trainee's record to them. An admin enrols anyone else.
    """
    if actor.has_role(ADMIN):
        return None
    own = select(CohortStaff.cohort_id).where(CohortStaff.person_id == actor.id,
                                              CohortStaff.role == TRAINER)
    return set(session.scalars(select(Enrolment.person_id).where(Enrolment.cohort_id.in_(own))))


def enrol_rows(session: Session, cohort: Cohort, rows: list[EnrolmentRow], on: date,
               password_factory=None, actor: Person | None = None) -> EnrolmentResult:
    """Check every row first; enrol all or none. Raises ``EnrolmentErrors`` with each bad row.

    ``actor`` is who enrols: unless an admin, they may enrol existing accounts only from their
    own cohorts (see ``enrollable_existing``)."""
    password_factory = password_factory or (lambda: secrets.token_urlsafe(9))
    errors: list[tuple[int, str]] = []
    emails = {accounts.normalise_email(r.email) for r in rows}
    emails |= {accounts.normalise_email(r.supervisor_email) for r in rows if r.supervisor_email}
    known = {p.email: p for p in session.scalars(select(Person).where(Person.email.in_(emails)))}
    allowed = enrollable_existing(session, actor) if actor is not None else None
    seen: dict[str, int] = {}
    for row in rows:
        email = accounts.normalise_email(row.email)
        if not row.name:
            errors.append((row.line, "the name is empty"))
        elif len(row.name) > 200:
            errors.append((row.line, "the name is longer than 200 characters"))
        if "@" not in email or " " in email or len(email) > 254 or email.startswith("@"):
            errors.append((row.line, f"'{row.email}' is not an email address"))
        elif email in seen:
            errors.append((row.line, f"{email} is also on row {seen[email]}"))
        else:
            seen[email] = row.line
            person = known.get(email)
            if person is not None and allowed is not None and person.id not in allowed:
                # The same words whoever owns the address: nothing about them is revealed.
                errors.append((row.line, f"{email} already has an account; ask an admin to "
                                         "enrol it"))
            elif person is not None and not person.has_role(TRAINEE):
                errors.append((row.line, f"{email} belongs to someone who is not a trainee"))
        if row.supervisor_email:
            supervisor = known.get(accounts.normalise_email(row.supervisor_email))
            if supervisor is None or not supervisor.has_role(SUPERVISOR):
                errors.append((row.line, f"supervisor {row.supervisor_email} is not a "
                                         "supervisor here"))
    if errors:
        raise EnrolmentErrors(sorted(errors))

    result = EnrolmentResult()
    current = {e.person_id for e in session.scalars(
        select(Enrolment).where(Enrolment.cohort_id == cohort.id))}
    for row in rows:
        email = accounts.normalise_email(row.email)
        person = known.get(email)
        if person is None:
            password = password_factory()
            person = accounts.create_person(session, email=email, name=row.name,
                                            password=password, roles=[TRAINEE])
            known[email] = person
            result.new_accounts.append((person, password))
        supervisor = known.get(accounts.normalise_email(row.supervisor_email)) \
            if row.supervisor_email else None
        if person.id in current:
            result.already.append(person)
        else:
            result.enrolled.append(person)
        enrol(session, cohort, person, on, supervisor)
    return result
