"""The audit log: every read of a sensitive record by someone other than its author, and
every sign-off, rating, role or supervisor change, attendance correction, CSV export and
password reset by an admin. Append-only: nothing here edits or deletes an event.

Reads are written in bulk (one statement per page, whatever it shows) so a supervisee page
listing fifty check-in notes costs one insert, not fifty.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, selectinload

from lms.models import AuditEvent, Person
from lms.models._types import utcnow
from lms.services import paging
from lms.services.errors import _l
from lms.services.paging import Paged

READ = "read"
DEBRIEF = "debrief"
CHECK_IN_NOTE = "check_in_note"

# What an event is (``action``), beyond reads. Kept here so the admin page can offer them.
SIGN_OFF = "sign_off"
OVERRIDE = "override"
RATING = "rating"
REVOCATION = "revocation"
ROLE_CHANGE = "role_change"
SUPERVISOR_CHANGE = "supervisor_change"
ATTENDANCE_CORRECTION = "attendance_correction"
CSV_EXPORT = "csv_export"
PASSWORD_RESET = "password_reset"  # noqa: S105 (an event name)
CERTIFICATE = "certificate"
JOIN = "join"  # an account's owner joined what a trainer enrolled its stand-in in
API_CALL = "api_call"  # a call to the JSON API, by a client (subject: the api_client)
API_CLIENT = "api_client"  # an admin issued or revoked an API token
ACTIONS = (READ, SIGN_OFF, OVERRIDE, RATING, REVOCATION, ROLE_CHANGE, SUPERVISOR_CHANGE,
           ATTENDANCE_CORRECTION, CSV_EXPORT, PASSWORD_RESET, CERTIFICATE, JOIN, API_CALL,
           API_CLIENT)


@dataclass(frozen=True)
class Subject:
    """One record read: its kind, id, whose record it is and who wrote it."""

    kind: str
    id: int
    person_id: int
    author_id: int | None


def record_reads(session: Session, actor_id: int, subjects: Iterable[Subject], *,
                 now: datetime | None = None) -> int:
    """Log that ``actor_id`` read each subject they did not write. Returns how many rows."""
    at = now or utcnow()
    rows = [{"at": at, "actor_id": actor_id, "action": READ, "subject_type": s.kind,
             "subject_id": s.id, "person_id": s.person_id}
            for s in subjects if s.author_id != actor_id]
    if rows:
        session.execute(insert(AuditEvent), rows)
    return len(rows)


def record(session: Session, actor_id: int | None, action: str, subject_type: str,
           subject_id: int | None = None, person_id: int | None = None,
           detail: dict | None = None, *, now: datetime | None = None) -> AuditEvent:
    """Append one event: ``actor_id`` did ``action`` to ``subject_type`` #``subject_id``,
    which is about ``person_id``. ``detail`` holds plain facts (never passwords or notes)."""
    event = AuditEvent(at=now or utcnow(), actor_id=actor_id, action=action,
                       subject_type=subject_type, subject_id=subject_id, person_id=person_id,
                       detail=detail)
    session.add(event)
    session.flush()
    return event


def events_for(session: Session, person_id: int, limit: int = 200) -> list[AuditEvent]:
    """The newest audit events about one person's records."""
    return list(session.scalars(
        select(AuditEvent).where(AuditEvent.person_id == person_id)
        .options(selectinload(AuditEvent.actor))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)))


# --- the admin's audit page: filter, page, export ---------------------------------------------
# Append-only: this module writes events (``record``, ``record_reads``) and reads them; there is
# deliberately no function that edits or deletes one.

MAX_ID = 2**31 - 1  # the largest id every database's integer column holds
MAX_PAGE = 1_000_000
PER_PAGE = 50


@dataclass(frozen=True)
class Filters:
    """What the admin asked to see. ``person`` and ``actor`` are an id or a name/email search;
    dates are whole days in the programme's zone, both ends included."""

    person: str = ""
    actor: str = ""
    action: str = ""
    date_from: date | None = None
    date_to: date | None = None

    def query_args(self) -> dict[str, str]:
        """The filters as query-string values (for page links and the CSV link)."""
        args = {"person": self.person, "actor": self.actor, "action": self.action,
                "from": self.date_from.isoformat() if self.date_from else "",
                "to": self.date_to.isoformat() if self.date_to else ""}
        return {k: v for k, v in args.items() if v}


def parse_filters(args: Mapping[str, str]) -> tuple[Filters, int, dict[str, object]]:
    """Filters and page number from a query string. A value that cannot be used is left out
    and named in the returned problems (field -> message), so the page still shows."""
    problems: dict[str, object] = {}  # lazy messages, translated when shown
    dates: dict[str, date | None] = {}
    for key, label in (("from", _l("The 'from' date")), ("to", _l("The 'to' date"))):
        raw = (args.get(key) or "").strip()[:40]
        dates[key] = None
        if raw:
            try:
                found = date.fromisoformat(raw)
                # Years far out overflow the day arithmetic and the database's instants.
                if not 2000 <= found.year <= 2100:
                    raise ValueError(raw)
                dates[key] = found
            except ValueError:
                problems[key] = _l("%(what)s must be a real date, like 2027-03-31.",
                                   what=label)
    if dates["from"] and dates["to"] and dates["from"] > dates["to"]:
        problems["to"] = _l("The 'to' date must be on or after the 'from' date.")
        dates["to"] = None
    action = (args.get("action") or "").strip()
    if action and action not in ACTIONS:
        problems["action"] = _l("Choose a kind of event from the list.")
        action = ""
    raw_page = (args.get("page") or "1").strip()
    page = int(raw_page) if raw_page.isdigit() and len(raw_page) < 8 else 1
    filters = Filters(person=" ".join((args.get("person") or "").split())[:200],
                      actor=" ".join((args.get("actor") or "").split())[:200],
                      action=action, date_from=dates["from"], date_to=dates["to"])
    return filters, max(1, min(page, MAX_PAGE)), problems


def _people_matching(text: str):
    """A condition on a person-id column: the id typed, or anyone whose name or email
    contains the text (any case). An id too big for the database matches nobody."""
    if text.isdigit():
        value = int(text) if len(text) < 12 else 0
        return lambda column: column == (value if 0 < value <= MAX_ID else -1)
    pattern = "%" + text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") \
        + "%"
    matching = select(Person.id).where(func.lower(Person.name).like(pattern, escape="\\")
                                       | func.lower(Person.email).like(pattern, escape="\\"))
    return lambda column: column.in_(matching)


def _conditions(filters: Filters, zone: str) -> list:
    conditions = []
    if filters.person:
        conditions.append(_people_matching(filters.person)(AuditEvent.person_id))
    if filters.actor:
        conditions.append(_people_matching(filters.actor)(AuditEvent.actor_id))
    if filters.action:
        conditions.append(AuditEvent.action == filters.action)
    tz = ZoneInfo(zone)
    if filters.date_from:
        conditions.append(AuditEvent.at >= datetime.combine(filters.date_from, time(), tz))
    if filters.date_to:
        # Up to the end of that day where the programme is: the 'to' day is included.
        conditions.append(AuditEvent.at < datetime.combine(filters.date_to + timedelta(days=1),
                                                           time(), tz))
    return conditions


@dataclass(frozen=True)
class PersonRef:
    """Enough of a person to name them on the audit page (no roles, nothing else)."""

    id: int
    name: str
    email: str


@dataclass
class EventPage(Paged):
    events: list[AuditEvent]
    people: dict[int, PersonRef]  # actors, whose records, and people named in details
    total: int
    page: int
    per_page: int


def _detail_person_ids(event: AuditEvent) -> list[int]:
    """People a detail names by id (a supervisor change's old and new supervisor)."""
    if event.action != SUPERVISOR_CHANGE or not isinstance(event.detail, dict):
        return []
    return [v for v in (event.detail.get("from"), event.detail.get("to")) if isinstance(v, int)]


def _people_of(session: Session, events: list[AuditEvent]) -> dict[int, PersonRef]:
    """Everyone the events name, in one query whatever the number of events."""
    ids = {i for e in events for i in (e.actor_id, e.person_id, *_detail_person_ids(e))
           if i is not None}
    if not ids:
        return {}
    return {row.id: PersonRef(row.id, row.name, row.email) for row in session.execute(
        select(Person.id, Person.name, Person.email).where(Person.id.in_(ids)))}


def list_events(session: Session, filters: Filters, *, zone: str, page: int = 1,
                per_page: int = 50) -> EventPage:
    """One page of the events matching ``filters``, newest first: three queries (count,
    events, the people they name) whatever the number of events."""
    conditions = _conditions(filters, zone)
    total = session.scalar(select(func.count()).select_from(AuditEvent).where(*conditions)) or 0
    page = paging.clamp(page, total, per_page)
    events = list(session.scalars(
        select(AuditEvent).where(*conditions)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .offset(paging.offset(page, per_page)).limit(per_page)))
    return EventPage(events, _people_of(session, events), total, page, per_page)


CSV_HEADER = ["At (UTC)", "Actor id", "Actor", "Action", "Subject type", "Subject id",
              "Person id", "Person", "Detail"]


def events_csv(session: Session, filters: Filters, *, zone: str) -> tuple[str, int]:
    """Every event matching ``filters`` (no paging), newest first, as CSV text that starts
    with a byte-order mark so spreadsheets read accents; formula-like cells are neutralised.
    Returns the text and the number of events in it."""
    events = list(session.scalars(
        select(AuditEvent).where(*_conditions(filters, zone))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())))
    people = _people_of(session, events)
    # Imported here: cohort_grid imports attendance, which imports this module.
    from lms.services.cohort_grid import neutralise

    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for e in events:
        actor, person = people.get(e.actor_id or 0), people.get(e.person_id or 0)
        writer.writerow([neutralise(cell) for cell in (
            e.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"), e.actor_id,
            actor.name if actor else "", e.action, e.subject_type, e.subject_id, e.person_id,
            person.name if person else "",
            json.dumps(e.detail, sort_keys=True, ensure_ascii=False) if e.detail else "")])
    return out.getvalue(), len(events)
