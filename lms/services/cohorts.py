"""Cohorts, their staff, and enrolment (one by one or from a CSV file)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from lms.database import is_unique_violation
from lms.models import Cohort, CohortStaff, Curriculum, Enrolment, Person
from lms.models._types import utcnow
from lms.models.people import ADMIN, SUPERVISOR, TRAINEE, TRAINER
from lms.services import accounts, invitations, joining, time_zones
from lms.services import supervisors as supervisor_rules
from lms.services.agenda import EARLIEST, LATEST, recompute_instants
from lms.services.enrolled_curricula import enrolled_curriculum_ids  # noqa: F401 (importable here, as before)
from lms.services.errors import ServiceError, _l

MAX_CSV_ROWS = 2000
MAX_ENROLMENT_AHEAD = timedelta(days=366)
MAX_CSV_BYTES = 2_000_000


class CohortError(ServiceError):
    """A cohort or enrolment request that cannot be carried out."""


def _cohort_problems(name: str, starts_on: date | None, ends_on: date | None,
                     timezone: str) -> tuple[dict[str, str], str | None]:
    """Every problem with a cohort's fields at once, so a form shows them together."""
    problems: dict[str, str] = {}
    if not name.strip():
        problems["name"] = _l("A cohort needs a name.")
    for field_name, day in (("starts_on", starts_on), ("ends_on", ends_on)):
        if day and not EARLIEST <= day <= LATEST:
            problems[field_name] = _l("Choose a date between %(a)d and %(b)d.",
                                      a=EARLIEST.year, b=LATEST.year)
    if starts_on and ends_on and ends_on < starts_on:
        problems["ends_on"] = _l("A cohort cannot end before it starts.")
    zone = time_zones.resolve(timezone)
    if zone is None:
        problems["timezone"] = _l("Unknown time zone '%(zone)s'. Choose one from the list, or "
                                  "type a city such as Nairobi.", zone=timezone)
    return problems, zone


def create_cohort(session: Session, *, name: str, curriculum: Curriculum | None = None,
                  curriculum_id: int | None = None, starts_on: date | None = None,
                  ends_on: date | None = None, timezone: str = "UTC",
                  trainers: list[Person] = (), supervisors: list[Person] = (),
                  actor: Person | None = None) -> Cohort:
    """Create a cohort. A trainer (not an admin) who creates one is always among its trainers."""
    trainers = [t for t in trainers if t is not None]
    if actor is not None and actor.has_role(TRAINER) and not actor.has_role(ADMIN) \
            and actor.id not in [t.id for t in trainers]:
        trainers.append(actor)
    if curriculum is None and curriculum_id:
        curriculum = session.get(Curriculum, curriculum_id)
    problems, zone = _cohort_problems(name, starts_on, ends_on, timezone)
    if curriculum is None:
        problems["curriculum_id"] = _l("Choose a curriculum.")
    if problems:
        raise CohortError(problems=problems)
    cohort = Cohort(name=name.strip(), curriculum_id=curriculum.id, starts_on=starts_on,
                    ends_on=ends_on, timezone=zone)
    session.add(cohort)
    session.flush()
    set_staff(session, cohort, trainers=trainers, supervisors=supervisors)
    return cohort


def update_cohort(session: Session, cohort: Cohort, *, name: str, starts_on: date | None,
                  ends_on: date | None, timezone: str) -> None:
    problems, zone = _cohort_problems(name, starts_on, ends_on, timezone)
    if problems:
        raise CohortError(problems=problems)
    zone_changed = cohort.timezone != zone
    cohort.name, cohort.starts_on, cohort.ends_on = name.strip(), starts_on, ends_on
    cohort.timezone = zone
    session.flush()
    if zone_changed:
        recompute_instants(session, cohort)


def set_staff(session: Session, cohort: Cohort, *, trainers: list[Person],
              supervisors: list[Person], actor: Person | None = None) -> None:
    """Set a cohort's trainers and supervisors. A trainer cannot remove themselves (they would
    lose the cohort); an admin can change anyone."""
    trainers = [t for t in trainers if t is not None]
    supervisors = [s for s in supervisors if s is not None]
    if actor is not None and not actor.has_role(ADMIN) and \
            actor.id not in [t.id for t in trainers]:
        raise CohortError(_l("You cannot remove yourself as a trainer."), "trainers")
    for person in trainers:
        if not person.has_role(TRAINER, ADMIN):
            raise CohortError(_l("%(name)s is not a trainer.", name=person.name), "trainers")
    for person in supervisors:
        if not person.has_role(SUPERVISOR):
            raise CohortError(_l("%(name)s is not a supervisor.", name=person.name), "supervisors")
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


def enrol(session: Session, cohort: Cohort, person: Person, on: date | None = None,
          supervisor: Person | None = None, *, now: datetime | None = None,
          supervision_day: date | None = None) -> Enrolment:
    """Enrol ``person`` (idempotent: an existing enrolment is returned, its supervisor set).

    ``on`` defaults to today in the cohort's time zone, the calendar its sessions use. Only
    trainees are enrolled: a cohort's staff are its trainers and supervisors. A supervisor
    named (or the cohort's default) starts on ``supervision_day``: today in the programme's
    zone (``LMS_TIMEZONE``, which views pass), else in the cohort's."""
    if not person.has_role(TRAINEE):
        raise CohortError(_l("Only trainees can be enrolled in a cohort; give %(name)s the "
                             "trainee role first.", name=person.name), "cohort_id")
    today = time_zones.local_today(cohort.timezone, now)
    supervised_from = supervision_day or today
    existing = session.scalar(select(Enrolment).where(
        Enrolment.cohort_id == cohort.id, Enrolment.person_id == person.id))
    if existing:
        if supervisor is not None:
            supervisor_rules.assign(session, person, supervisor, on=supervised_from)
        return existing
    enrolment = Enrolment(cohort_id=cohort.id, person_id=person.id,
                          enrolled_on=on or today)
    session.add(enrolment)
    session.flush()
    if supervisor is not None:
        supervisor_rules.assign(session, person, supervisor, on=supervised_from)
    else:
        supervisor_rules.default_for_new(session, cohort, [person.id], supervised_from)
    return enrolment


def enrolments(session: Session, cohort_id: int) -> list[Enrolment]:
    return list(session.scalars(
        select(Enrolment).where(Enrolment.cohort_id == cohort_id)
        .options(selectinload(Enrolment.person).lazyload(Person.role_rows))
        .join(Person, Person.id == Enrolment.person_id).order_by(Person.name, Person.id)))


def enrolments_of(session: Session, person_id: int) -> list[Enrolment]:
    return list(session.scalars(select(Enrolment).where(Enrolment.person_id == person_id)
                                .options(selectinload(Enrolment.cohort))))


def is_enrolled(session: Session, person_id: int, cohort_id: int) -> bool:
    return session.scalar(select(Enrolment.id).where(
        Enrolment.person_id == person_id, Enrolment.cohort_id == cohort_id)) is not None


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
    # New accounts have no password: each gets an invitation link to choose one, shown once.
    new_accounts: list[Person] = field(default_factory=list)
    links: list[invitations.IssuedLink] = field(default_factory=list)
    enrolled_on: date | None = None


class EnrolmentErrors(ServiceError):
    """Every bad row of an enrolment, as (line, reason): nobody is enrolled until all are good."""

    def __init__(self, errors: list[tuple[int, str]], *,
                 problems: dict[str, str] | None = None,
                 fields: list[tuple[str, str]] = ()) -> None:
        found = dict(problems or {})
        if errors:
            found[None] = "; ".join(f"row {n}: {reason}" for n, reason in errors)
        super().__init__(problems=found)
        # Plain text (see ServiceError): row reasons can quote what the file held.
        self.errors = [(line, str(reason)) for line, reason in errors]
        # For a one-person form: each row problem with the field it is about.
        self.fields = [(name, str(reason)) for name, reason in fields]


def read_enrolment_csv(data: bytes) -> tuple[list[EnrolmentRow], list[tuple[int, str]]]:
    """Read ``name,email[,supervisor]`` rows, and every row that cannot be read (line, reason).
    A header row is recognised and skipped; semicolons and old Mac line endings are accepted."""
    if len(data) > MAX_CSV_BYTES:
        return [], [(1, _l("the file is larger than 2 MB; split it"))]
    if b"\x00" in data:
        return [], [(1, _l("the file holds NUL characters: save it as CSV text"))]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [(1, _l("the file is not UTF-8 text; save it as CSV UTF-8"))]
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    first_line = text.lstrip("\n").split("\n", 1)[0]
    # Spreadsheets in many languages save CSV with semicolons.
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    rows: list[EnrolmentRow] = []
    errors: list[tuple[int, str]] = []
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    seen_content = False
    number = 1
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
                errors.append((number, _l("a file may hold at most %(n)d rows", n=MAX_CSV_ROWS)))
                break
            if len(cells) < 2 or len(cells) > 3:
                errors.append((number, _l("expected name, email and an optional supervisor "
                                          "email, separated by commas")))
                continue
            rows.append(EnrolmentRow(number, cells[0], cells[1],
                                     cells[2] if len(cells) > 2 else ""))
    except csv.Error as exc:
        errors.append((number + 1, _l("this row cannot be read: one cell is far too long")
                       if "field larger" in str(exc) else
                       _l("this row cannot be read: check its quotation marks (a quote that is "
                          "opened must be closed on the same row)")))
    if not rows and not errors:
        errors.append((1, _l("the file has no rows")))
    return rows, errors


def parse_enrolment_csv(data: bytes) -> list[EnrolmentRow]:
    """The readable rows of a CSV; raises ``EnrolmentErrors`` if any row cannot be read."""
    rows, errors = read_enrolment_csv(data)
    if errors:
        raise EnrolmentErrors(errors)
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


def enrolment_date(cohort: Cohort, on: date | None, reason: str,
                   now: datetime | None = None) -> tuple[date, str | None]:
    """The enrolment date: today in the cohort's zone unless given. A date before today is a
    back-dated enrolment and needs a reason, which is kept."""
    today = time_zones.local_today(cohort.timezone, now)
    on = on or today
    reason = " ".join((reason or "").split())
    if on > today + MAX_ENROLMENT_AHEAD:
        raise CohortError(_l("Choose a date within a year from today."), "enrolled_on")
    if on < EARLIEST:
        raise CohortError(_l("Choose a date after %(year)d.", year=EARLIEST.year),
                          "enrolled_on")
    if on < today:
        if not reason:
            raise CohortError(_l("Say why the enrolment is back-dated (for example: joined "
                                 "the first session before being enrolled)."), "backdate_reason")
        if len(reason) > 500:
            raise CohortError(_l("Keep the reason under 500 characters."), "backdate_reason")
        return on, reason
    return on, None


def enrol_one(session: Session, cohort: Cohort, *, name: str, email: str,
              supervisor_id: int | None = None, on: date | None = None,
              backdate_reason: str = "", actor: Person | None = None,
              valid_for: timedelta | None = timedelta(days=14),
              now: datetime | None = None,
              supervision_day: date | None = None) -> EnrolmentResult:
    """Enrol one person by name and email, as a one-row CSV would; every problem at once."""
    problems = enrol_one_problems(session, cohort, name=name, email=email,
                                  supervisor_id=supervisor_id, on=on,
                                  backdate_reason=backdate_reason, actor=actor, now=now)
    if problems:
        raise CohortError(problems=problems)
    supervisor = session.get(Person, supervisor_id) if supervisor_id else None
    row = EnrolmentRow(1, name.strip(), email.strip(), supervisor.email if supervisor else "")
    return enrol_rows(session, cohort, [row], on, actor=actor, backdate_reason=backdate_reason,
                      valid_for=valid_for, now=now, supervision_day=supervision_day)


def enrol_one_problems(session: Session, cohort: Cohort, *, name: str, email: str,
                       supervisor_id: int | None = None, on: date | None = None,
                       backdate_reason: str = "", actor: Person | None = None,
                       now: datetime | None = None) -> dict[str, str]:
    """Every reason ``enrol_one`` would refuse, by field, without writing anything: a form whose
    own checks failed still shows every problem at once."""
    problems: dict[str, str] = {}
    try:
        enrolment_date(cohort, on, backdate_reason, now)
    except CohortError as exc:
        problems.update({k: v for k, v in exc.problems.items() if isinstance(k, str)})
    supervisor_email = ""
    if supervisor_id:
        supervisor = session.get(Person, supervisor_id)
        if supervisor is None:
            problems["supervisor_id"] = _l("Choose a supervisor from the list.")
        else:
            supervisor_email = supervisor.email
    row = EnrolmentRow(1, (name or "").strip(), (email or "").strip(), supervisor_email)
    for _line, field_name, reason in check_rows(session, [row], actor).errors:
        text = str(reason)
        problems.setdefault(field_name, text[:1].upper() + text[1:] + ".")
    return problems


@dataclass
class CheckedRows:
    known: dict[str, Person]  # existing accounts by email (trainees and supervisors named)
    errors: list[tuple[int, str, str]]  # (line, field, reason)
    # Who each row's email enrols when it is not a new account: an account the actor may
    # enrol, or a stand-in of theirs made earlier.
    trainees: dict[str, Person] = field(default_factory=dict)
    # Addresses whose account the actor may not know of: each is enrolled as a stand-in.
    hidden: dict[str, Person] = field(default_factory=dict)


def check_rows(session: Session, rows: list[EnrolmentRow],
               actor: Person | None) -> CheckedRows:
    """Every problem of every row, with the field it is about (name, email, supervisor_id).

    Nothing here depends on whether an address the actor may not know of has an account: such
    an address is "hidden" and will be enrolled as a stand-in (see ``lms.services.joining``),
    just as a new address is enrolled as a new account."""
    errors: list[tuple[int, str, str]] = []
    emails = {accounts.normalise_email(r.email) for r in rows}
    emails |= {accounts.normalise_email(r.supervisor_email) for r in rows if r.supervisor_email}
    known: dict[str, Person] = {}
    wanted = list(emails)
    for start in range(0, len(wanted), 500):  # bounded IN lists
        known.update((p.email, p) for p in session.scalars(
            select(Person).where(Person.email.in_(wanted[start:start + 500]),
                                 Person.stands_in.is_(False))))
    allowed = enrollable_existing(session, actor) if actor is not None else None
    own_stand_ins = joining.stand_ins_in_reach(session, emails, allowed) \
        if allowed is not None else {}
    checked = CheckedRows(known, errors)
    seen: dict[str, int] = {}
    for row in rows:
        email = accounts.normalise_email(row.email)
        if accounts.blank_name(row.name):
            errors.append((row.line, "name", _l("the name is empty")))
        elif len(row.name) > 200:
            errors.append((row.line, "name", _l("the name is longer than 200 characters")))
        problem = accounts.email_problem(email)
        if problem:
            errors.append((row.line, "email", str(problem).rstrip(".")))
        elif email in seen:
            errors.append((row.line, "email", _l("%(email)s is also on row %(n)d", email=email,
                                                 n=seen[email])))
        else:
            seen[email] = row.line
            person = known.get(email)
            if person is not None and allowed is not None and person.id not in allowed:
                # Not the actor's to know about: enrolled as a stand-in (or the one they made
                # before), with the same words and pages as a new address.
                if email in own_stand_ins:
                    checked.trainees[email] = own_stand_ins[email]
                else:
                    checked.hidden[email] = person
            elif person is not None and not person.has_role(TRAINEE):
                errors.append((row.line, "email", _l("%(email)s belongs to someone who is not "
                                                     "a trainee", email=email)))
            elif person is not None:
                checked.trainees[email] = person
        if row.supervisor_email:
            supervisor = known.get(accounts.normalise_email(row.supervisor_email))
            if supervisor is None or not supervisor.has_role(SUPERVISOR):
                errors.append((row.line, "supervisor_id",
                               _l("supervisor %(email)s is not a supervisor here",
                                  email=row.supervisor_email)))
    return checked


def enrol_csv(session: Session, cohort: Cohort, data: bytes, on: date | None = None, *,
              actor: Person | None = None, backdate_reason: str = "",
              valid_for: timedelta | None = timedelta(days=14),
              now: datetime | None = None,
              supervision_day: date | None = None) -> EnrolmentResult:
    """Enrol the rows of a CSV file: every problem of the file, its rows and the date is
    reported at once, and nobody is enrolled until there are none."""
    rows, errors = read_enrolment_csv(data)
    return enrol_rows(session, cohort, rows, on, actor=actor, backdate_reason=backdate_reason,
                      valid_for=valid_for, now=now, extra_errors=errors,
                      supervision_day=supervision_day)


def enrol_rows(session: Session, cohort: Cohort, rows: list[EnrolmentRow],
               on: date | None = None, *, actor: Person | None = None,
               backdate_reason: str = "", valid_for: timedelta | None = timedelta(days=14),
               now: datetime | None = None,
               extra_errors: list[tuple[int, str]] = (),
               supervision_day: date | None = None) -> EnrolmentResult:
    """Check every row first; enrol all or none. Raises ``EnrolmentErrors`` with each bad row.

    ``actor`` is who enrols: unless an admin, they may enrol existing accounts only from their
    own cohorts (see ``enrollable_existing``). New accounts are made in bulk with no password,
    each with an invitation link valid for ``valid_for``."""
    now = now or utcnow()
    problems: dict[str, str] = {}
    try:
        on, reason = enrolment_date(cohort, on, backdate_reason, now)
    except CohortError as exc:
        problems.update(exc.problems)
    for last_try in (False, True):
        checked = check_rows(session, rows, actor)
        errors = sorted(set(extra_errors) | {(line, why) for line, _f, why in checked.errors})
        if errors or problems:
            raise EnrolmentErrors(errors, problems=problems,
                                  fields=[(field_name, why) for _l_, field_name, why
                                          in sorted(checked.errors)])
        try:
            with session.begin_nested():  # all of it, or none of it
                return _write_enrolment(session, cohort, rows, checked, on, reason,
                                        actor=actor, valid_for=valid_for, now=now,
                                        supervision_day=supervision_day)
        except IntegrityError as error:
            if not is_unique_violation(error):
                raise
            # Another request enrolled some of these addresses a moment ago (a double-click):
            # check again, now seeing its rows, and answer as it did ("already enrolled").
            session.expire_all()  # nothing loaded inside the undone step is trusted
            if last_try:
                break
    raise EnrolmentErrors([(1, _l("someone enrolled one of these people at the same moment; "
                                  "reload the cohort and try again"))])


def _write_enrolment(session: Session, cohort: Cohort, rows: list[EnrolmentRow],
                     checked: CheckedRows, on: date, reason: str | None, *,
                     actor: Person | None, valid_for: timedelta | None, now: datetime,
                     supervision_day: date | None) -> EnrolmentResult:
    known, trainees = checked.known, dict(checked.trainees)
    result = EnrolmentResult(enrolled_on=on)
    emails = [accounts.normalise_email(row.email) for row in rows]
    fresh = [(row.name, email) for row, email in zip(rows, emails, strict=True)
             if email not in trainees and email not in checked.hidden]
    hidden = [(row.name, email, checked.hidden[email])
              for row, email in zip(rows, emails, strict=True) if email in checked.hidden]
    made = accounts.create_trainees(session, fresh)
    made += joining.make_stand_ins(session, cohort, hidden, by=actor, now=now)
    if made:
        trainees.update((p.email, p) for p in made)
        # In the rows' order, so new accounts and stand-ins are listed alike.
        made_ids = {p.id for p in made}
        result.new_accounts = [trainees[e] for e in emails if trainees[e].id in made_ids]
        if valid_for is not None:  # None: a host app's users, who log in through the host
            result.links = invitations.issue(session, result.new_accounts,
                                             purpose=invitations.INVITE,
                                             valid_for=valid_for, created_by=actor, now=now)
    current = {e.person_id: e for e in session.scalars(
        select(Enrolment).where(Enrolment.cohort_id == cohort.id))}
    new_rows: list[dict] = []
    named: dict[int, int | None] = {}  # trainee -> the supervisor their row names
    for row in rows:
        person = trainees[accounts.normalise_email(row.email)]
        supervisor = known.get(accounts.normalise_email(row.supervisor_email)) \
            if row.supervisor_email else None
        if supervisor is not None:
            named[person.id] = supervisor.id
        if person.id in current:
            result.already.append(person)
            continue
        result.enrolled.append(person)
        new_rows.append({"cohort_id": cohort.id, "person_id": person.id, "enrolled_on": on,
                         "enrolled_by_id": actor.id if actor else None,
                         "backdate_reason": reason})
    session.flush()
    if new_rows:
        session.execute(insert(Enrolment), new_rows)  # one executemany
    today = supervision_day or time_zones.local_today(cohort.timezone, now)
    supervisor_rules.assign_many(session, named, on=today, by=actor)
    supervisor_rules.default_for_new(session, cohort, [r["person_id"] for r in new_rows], today,
                                by=actor)
    return result
