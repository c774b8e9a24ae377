"""The training agenda: add, edit, move, cancel and copy sessions; iCalendar output.

The agenda is always in date-and-time order, and a session's number is its place in that order
(``TrainingSession.position`` is kept equal to it). "Move up" and "Move down" therefore swap a
session's date and start time with its neighbour's: moving a session is changing its date.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import icalendar
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, object_session, selectinload

from lms.models import (
    AttendanceRecord,
    Cohort,
    Enrolment,
    Module,
    Person,
    PersonRole,
    SessionChange,
    SessionFeedback,
    SessionModule,
    TrainingSession,
)
from lms.models._types import utcnow
from lms.models.agenda import ACTIVITIES
from lms.models.people import ADMIN, TRAINER
from lms.services.errors import ServiceError, _l

MAX_DURATION = 24 * 60
# Sessions outside these years are typing mistakes (and 9999 would overflow date arithmetic).
EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)


class AgendaError(ServiceError):
    """Input that cannot be saved; ``problems`` maps a field name to its message."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__(problems=problems)


@dataclass
class SessionInput:
    title: str
    on_date: date
    start_time: time
    duration_minutes: int
    venue: str = ""
    online_link: str = ""
    facilitator_id: int | None = None
    module_ids: list[int] = field(default_factory=list)
    activities: list[str] = field(default_factory=list)
    is_core: bool = False


def to_instant(on_date: date, start_time: time, zone: str) -> datetime:
    local = datetime.combine(on_date, start_time).replace(tzinfo=ZoneInfo(zone))
    return local.astimezone(UTC)


def ends_at(training_session: TrainingSession) -> datetime:
    return training_session.starts_at + timedelta(minutes=training_session.duration_minutes)


def has_happened(training_session: TrainingSession, now: datetime | None = None) -> bool:
    """A session has happened once it has ended."""
    return ends_at(training_session) <= (now or utcnow())


# The one agenda order, used by every list of sessions (page, print, .ics, attendance, grid).
IN_ORDER = (TrainingSession.starts_at, TrainingSession.id)


def agenda(session: Session, cohort_id: int) -> list[TrainingSession]:
    return list(session.scalars(
        select(TrainingSession).where(TrainingSession.cohort_id == cohort_id)
        .options(selectinload(TrainingSession.facilitator),
                 selectinload(TrainingSession.module_links).selectinload(SessionModule.module)
                 .defer(Module.body_html),
                 selectinload(TrainingSession.changes).selectinload(SessionChange.changed_by))
        .order_by(*IN_ORDER)))


def _has_control(text: str) -> bool:
    """Control characters (C0, DEL, C1 such as U+0085) and the line and paragraph separators
    U+2028/U+2029: none belongs in a one-line title, place or reason."""
    return any(unicodedata.category(char) in ("Cc", "Zl", "Zp") for char in text)


def check_date(day: date, field: str = "on_date") -> None:
    if not EARLIEST <= day <= LATEST:
        raise AgendaError({field: _l("Choose a date between %(a)d and %(b)d.",
                                      a=EARLIEST.year, b=LATEST.year)})


def _check(session: Session, cohort: Cohort, data: SessionInput) -> None:
    problems: dict[str, str] = {}
    if not data.title.strip():
        problems["title"] = _l("Give the session a title.")
    elif len(data.title) > 200:
        problems["title"] = _l("Keep the title under 200 characters.")
    # Control characters would break the lines of calendar files (and mean nothing here).
    for name in ("title", "venue", "online_link"):
        if _has_control(getattr(data, name)):
            problems[name] = _l("Remove the line breaks and control characters.")
    try:
        check_date(data.on_date)
    except AgendaError as exc:
        problems.update(exc.problems)
    if not 1 <= data.duration_minutes <= MAX_DURATION:
        problems["duration_minutes"] = _l("A session lasts between 1 minute and 24 hours.")
    link = data.online_link.strip()
    if link and "online_link" not in problems:
        try:
            parts = urlsplit(link)
            valid = parts.scheme.lower() in ("https", "http") and parts.netloc and " " not in link
        except ValueError:  # e.g. "http://[" is not a URL at all
            valid = False
        if not valid:
            problems["online_link"] = _l("An online link starts with https:// and has no spaces.")
    unknown = [a for a in data.activities if a not in ACTIVITIES]
    if unknown:
        problems["activities"] = _l("Unknown activity: %(names)s.", names=", ".join(unknown))
    if data.module_ids:
        valid = set(session.scalars(select(Module.id).where(
            Module.id.in_(data.module_ids), Module.curriculum_id == cohort.curriculum_id)))
        if set(data.module_ids) - valid:
            problems["module_ids"] = _l("Choose modules from this cohort's curriculum.")
    if data.facilitator_id is not None:
        facilitator = session.get(Person, data.facilitator_id)
        if facilitator is None or not facilitator.has_role(TRAINER, ADMIN):
            problems["facilitator_id"] = _l("The facilitator must be a trainer or an admin.")
    if problems:
        raise AgendaError(problems)


def _apply(training_session: TrainingSession, cohort: Cohort, data: SessionInput) -> None:
    training_session.title = data.title.strip()
    training_session.on_date = data.on_date
    training_session.start_time = data.start_time
    training_session.starts_at = to_instant(data.on_date, data.start_time, cohort.timezone)
    training_session.duration_minutes = data.duration_minutes
    training_session.venue = data.venue.strip()
    training_session.online_link = data.online_link.strip()
    training_session.facilitator_id = data.facilitator_id
    training_session.activities = [a for a in ACTIVITIES if a in data.activities]
    training_session.is_core = data.is_core
    wanted = set(data.module_ids)
    for link in list(training_session.module_links):
        if link.module_id not in wanted:
            training_session.module_links.remove(link)
    have = {link.module_id for link in training_session.module_links}
    for module_id in sorted(wanted - have):
        training_session.module_links.append(SessionModule(module_id=module_id))


def renumber(session: Session, cohort_id: int) -> None:
    """Keep ``position`` equal to each session's number in date-and-time order."""
    session.flush()
    for number, item in enumerate(session.scalars(
            select(TrainingSession).where(TrainingSession.cohort_id == cohort_id)
            .order_by(*IN_ORDER)), start=1):
        if item.position != number:
            item.position = number
    session.flush()


def _add(session: Session, cohort: Cohort, data: SessionInput) -> TrainingSession:
    _check(session, cohort, data)
    # Numbered last for now; ``renumber`` gives it its place in date order.
    last = session.scalar(select(func.max(TrainingSession.position))
                          .where(TrainingSession.cohort_id == cohort.id))
    training_session = TrainingSession(cohort_id=cohort.id, position=(last or 0) + 1)
    _apply(training_session, cohort, data)
    session.add(training_session)
    session.flush()
    return training_session


def add_session(session: Session, cohort: Cohort, data: SessionInput) -> TrainingSession:
    training_session = _add(session, cohort, data)
    renumber(session, cohort.id)
    return training_session


RESCHEDULED = "rescheduled"


def _when(training_session: TrainingSession) -> tuple:
    return (training_session.on_date, training_session.start_time,
            training_session.duration_minutes)


def _log_reschedule(session: Session, session_id: int, by: Person | None,
                    now: datetime | None = None) -> None:
    """A new date, time or length goes in the session's log: its calendar SEQUENCE counts the
    log, so a calendar app takes the new time instead of keeping the old one."""
    session.add(SessionChange(session_id=session_id, kind=RESCHEDULED,
                              changed_by_id=by.id if by else None, changed_at=now or utcnow()))


def update_session(session: Session, training_session: TrainingSession,
                   data: SessionInput, by: Person | None = None) -> None:
    cohort = training_session.cohort
    _check(session, cohort, data)
    before = _when(training_session)
    _apply(training_session, cohort, data)
    if _when(training_session) != before:
        _log_reschedule(session, training_session.id, by)
    renumber(session, cohort.id)


def move_session(session: Session, training_session: TrainingSession,
                 step: int, by: Person | None = None) -> TrainingSession | None:
    """Swap the session's date and start time with its neighbour's (step -1: the session
    before it, +1: the one after), so the agenda stays in date order and the two trade places.

    Returns the neighbour, or None when there is none that way. Cancelled sessions keep their
    dates (their history says when they were to happen): they are skipped as neighbours and
    cannot be moved. A session with a register or feedback has happened on its date, so it is
    not moved either. Lengths, venues and everything else stay with each session.
    """
    if training_session.is_cancelled:
        raise AgendaError({"direction": _l("A cancelled session keeps its date. Reinstate "
                                           "it first, or edit its date.")})
    live = [s for s in agenda(session, training_session.cohort_id) if not s.is_cancelled]
    index = next(i for i, s in enumerate(live) if s.id == training_session.id)
    if not 0 <= index + step < len(live):
        return None
    other = live[index + step]
    mine = (training_session.on_date, training_session.start_time)
    theirs = (other.on_date, other.start_time)
    if mine == theirs:
        raise AgendaError({"direction": _l(
            "“%(one)s” and “%(other)s” start at the same time: edit one of them to change the "
            "order.", one=training_session.title, other=other.title)})
    both = [training_session.id, other.id]
    if session.scalar(select(AttendanceRecord.id).where(AttendanceRecord.session_id.in_(both))
                      .limit(1)) or session.scalar(
            select(SessionFeedback.id).where(SessionFeedback.session_id.in_(both)).limit(1)):
        raise AgendaError({"direction": _l(
            "“%(one)s” or “%(other)s” already has a register or feedback, so it keeps its date. "
            "Edit a session to change its date.", one=training_session.title, other=other.title)})
    zone = training_session.cohort.timezone
    # Compare-and-set: each row changes only if it still has the date this request read, so
    # two clicks at once cannot both swap (and silently undo each other).
    for item, was, becomes in ((training_session, mine, theirs), (other, theirs, mine)):
        done = session.execute(
            update(TrainingSession)
            .where(TrainingSession.id == item.id, TrainingSession.on_date == was[0],
                   TrainingSession.start_time == was[1])
            .values(on_date=becomes[0], start_time=becomes[1],
                    starts_at=to_instant(becomes[0], becomes[1], zone))
            .execution_options(synchronize_session=False))
        if done.rowcount != 1:
            raise AgendaError({"direction": _l("Someone changed the agenda at the same moment. "
                                               "Look at it again and move the session if you "
                                               "still need to.")})
    for item in (training_session, other):
        _log_reschedule(session, item.id, by)
    session.expire(training_session)
    session.expire(other)
    renumber(session, training_session.cohort_id)
    return other


def cancel_session(session: Session, training_session: TrainingSession, reason: str,
                   now: datetime | None = None, by: Person | None = None) -> None:
    """Cancel, keeping the session and its history; it then leaves the attendance figures."""
    if training_session.is_cancelled:
        raise AgendaError({"reason": _l("This session is already cancelled.")})
    if not reason.strip():
        raise AgendaError({"reason": _l("Say why the session is cancelled.")})
    if len(reason) > 500 or _has_control(reason):
        raise AgendaError({"reason": _l("Give the reason in one line of at most 500 characters.")})
    now = now or utcnow()
    training_session.cancelled_at = now
    training_session.cancel_reason = reason.strip()
    session.add(SessionChange(session_id=training_session.id, kind="cancelled",
                              reason=reason.strip(), changed_by_id=by.id if by else None,
                              changed_at=now))
    session.flush()


def reinstate_session(session: Session, training_session: TrainingSession,
                      now: datetime | None = None, by: Person | None = None) -> None:
    """Undo a cancellation; the log keeps both the cancellation and the reinstatement."""
    if not training_session.is_cancelled:
        raise AgendaError({"reason": _l("This session is not cancelled.")})
    training_session.cancelled_at = None
    training_session.cancel_reason = ""
    session.add(SessionChange(session_id=training_session.id, kind="reinstated",
                              changed_by_id=by.id if by else None, changed_at=now or utcnow()))
    session.flush()


def copy_agenda(session: Session, source: Cohort, target: Cohort,
                first_date: date) -> list[TrainingSession]:
    """Copy every session that was not cancelled, moved so the first falls on ``first_date``.

    The gaps between sessions are kept. Modules carry over only where the target cohort follows
    the same curriculum.
    """
    sessions = [s for s in agenda(session, source.id) if not s.is_cancelled]
    if not sessions:
        raise AgendaError({"source_id": _l("That cohort has no sessions to copy.")})
    if source.id == target.id:
        raise AgendaError({"source_id": _l("Choose another cohort to copy from.")})
    check_date(first_date, "first_date")
    shift = first_date - min(s.on_date for s in sessions)
    check_date(max(s.on_date for s in sessions) + shift, "first_date")
    same_curriculum = source.curriculum_id == target.curriculum_id
    facilitators = {p.id for p in facilitator_choices(session)}
    copies = []
    for item in sessions:
        data = SessionInput(
            title=item.title, on_date=item.on_date + shift, start_time=item.start_time,
            duration_minutes=item.duration_minutes, venue=item.venue,
            online_link=item.online_link,
            # A facilitator who has since left the trainers is dropped, not a reason to fail.
            facilitator_id=item.facilitator_id if item.facilitator_id in facilitators else None,
            module_ids=item.module_ids if same_curriculum else [],
            activities=list(item.activities), is_core=item.is_core)
        copies.append(_add(session, target, data))
    renumber(session, target.id)
    return copies


def facilitator_choices(session: Session, keep: int | None = None) -> list[Person]:
    """Who may facilitate: active trainers and admins (and ``keep``, the current one)."""
    return people_with_roles(session, (TRAINER, ADMIN), keep=keep)


def people_with_roles(session: Session, roles: tuple[str, ...],
                      keep: list[int] | int | None = None) -> list[Person]:
    """Active people holding any of ``roles``, filtered in SQL; ``keep`` ids always included."""
    keep_ids = [keep] if isinstance(keep, int) else list(keep or [])
    holders = select(PersonRole.person_id).where(PersonRole.role.in_(roles))
    condition = Person.id.in_(holders) & Person.active.is_(True)
    if keep_ids:
        condition = condition | Person.id.in_(keep_ids)
    return list(session.scalars(select(Person).where(condition).order_by(Person.name)))


def agenda_for_cohorts(session: Session, cohort_ids: list[int]) -> dict[int, list[TrainingSession]]:
    """The agendas of several cohorts in one query (plus their facilitators and modules)."""
    out: dict[int, list[TrainingSession]] = {cid: [] for cid in cohort_ids}
    for item in session.scalars(
            select(TrainingSession).where(TrainingSession.cohort_id.in_(cohort_ids))
            .options(selectinload(TrainingSession.facilitator),
                     selectinload(TrainingSession.module_links).selectinload(
                         SessionModule.module).defer(Module.body_html))
            .order_by(*IN_ORDER)):
        out[item.cohort_id].append(item)
    return out


def enrolment_agendas(session: Session, enrolments: list[Enrolment],
                      ) -> list[tuple[Cohort, list[TrainingSession]]]:
    """A trainee's own agendas: each enrolment's cohort with its sessions, in one query.

    Once they are withdrawn, sessions after their last day are left out: they are no longer
    expected there (and their calendar app should stop showing them)."""
    agendas = agenda_for_cohorts(session, [e.cohort_id for e in enrolments])
    return [(e.cohort, [s for s in agendas[e.cohort_id]
                        if e.withdrawn_on is None or s.on_date <= e.withdrawn_on])
            for e in enrolments]


def recompute_instants(session: Session, cohort: Cohort, by: Person | None = None) -> None:
    """After a time-zone change, the local dates and times stay; the instants move (and so
    does each session in a calendar app, which reads the instant)."""
    for item in agenda(session, cohort.id):
        instant = to_instant(item.on_date, item.start_time, cohort.timezone)
        if instant != item.starts_at:
            item.starts_at = instant
            _log_reschedule(session, item.id, by)
    renumber(session, cohort.id)


# --- iCalendar (RFC 5545) ---------------------------------------------------------------

PRODID = "-//lms//peer-supporter training//EN"
# Characters that end a line for some reader (U+2028, U+2029, U+0085, VT, FF, the C0 and C1
# controls) or cannot be written as UTF-8 (lone surrogates). icalendar escapes only CR and LF,
# and passes the rest through into the file.
_NOT_IN_CALENDARS = frozenset(("Cc", "Cs", "Zl", "Zp"))


def _plain(text: str) -> str:
    """``text`` on one line: every line separator or control character becomes a space."""
    return "".join(" " if unicodedata.category(char) in _NOT_IN_CALENDARS else char
                   for char in str(text))


def _revisions(sessions: list[TrainingSession]) -> dict[int, int]:
    """Each session's SEQUENCE: how often it was cancelled, reinstated or rescheduled (an
    append-only log,
    so the number only grows). One query, whichever way the sessions were loaded."""
    db = object_session(sessions[0]) if sessions else None
    if db is None:
        return {}
    return dict(db.execute(
        select(SessionChange.session_id, func.count())
        .where(SessionChange.session_id.in_([item.id for item in sessions]))
        .group_by(SessionChange.session_id)).all())


def calendar(sessions: list[TrainingSession], name: str, host: str = "lms",
             now: datetime | None = None) -> str:
    """The sessions as an iCalendar file (CRLF lines, folded at 75 octets), times in UTC.

    UIDs are ``session-<id>@<host>``, so a calendar app updates the same events on each fetch.
    Text is made ``_plain`` before icalendar escapes and folds it.
    """
    stamp = (now or utcnow()).astimezone(UTC)
    revisions = _revisions(sessions)
    out = icalendar.Calendar()
    out.add("prodid", PRODID)
    out.add("version", "2.0")
    out.add("calscale", "GREGORIAN")
    out.add("method", "PUBLISH")
    # An X- property is not TEXT to icalendar unless told, and would go out unescaped.
    out.add("x-wr-calname", icalendar.vText(_plain(name)))
    for item in sessions:
        description = []
        if item.module_links:
            description.append("Modules: " + ", ".join(
                _plain(link.module.title) for link in item.module_links))
        if item.activities:
            description.append("Activities: " + ", ".join(map(_plain, item.activities)))
        if item.is_core:
            description.append("Core session: attendance required.")
        if item.online_link:
            description.append(f"Join: {_plain(item.online_link)}")
        if item.is_cancelled:
            description.append(f"Cancelled: {_plain(item.cancel_reason)}")
        event = icalendar.Event()
        event.add("uid", _plain(f"session-{item.id}@{host}"))
        event.add("dtstamp", stamp)
        event.add("dtstart", item.starts_at.astimezone(UTC))
        event.add("dtend", ends_at(item).astimezone(UTC))
        event.add("summary", _plain(item.title))
        event.add("status", "CANCELLED" if item.is_cancelled else "CONFIRMED")
        event.add("sequence", revisions.get(item.id, 0))
        location = item.venue or item.online_link
        if location:
            event.add("location", _plain(location))
        if description:
            event.add("description", "\n".join(description))
        # A URI is written as it is, not escaped: only a link that is already plain goes out.
        if item.online_link and _plain(item.online_link) == item.online_link:
            event.add("url", item.online_link)
        out.add_component(event)
    return out.to_ical().decode("utf-8")
