"""Supervision records: individual or group meetings, agreed actions, reflections, and history.

Who may do what (``can_read``, ``can_edit``, and the checks inside each function):

- A supervisee reads the records they attended, never the private note, and writes their own
  reflection on each. They mark done the actions they own.
- The author reads their records always. They edit one only within the edit window
  (``LMS_RECORD_EDIT_WINDOW_DAYS`` after it was created) and only while someone at it is still
  their supervisee: a record written for a past supervisee is read-only. Every edit keeps the
  previous value of each field it changed (``RecordRevision``). After the window, a correction
  is a new note on the record (``RecordCorrection``).
- The current supervisor of anyone at the meeting reads the record (not the private note,
  which only its author ever sees), adds corrections and marks actions done.
- Nobody else reads a record: not trainers, not admins.

``revise`` and ``note_correction`` are generic over a supervision record or a debrief, so
debriefs keep their history the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, contains_eager, selectinload

from lms.models import (
    AgreedAction,
    Person,
    RecordCorrection,
    RecordRevision,
    SupervisionAttendee,
    SupervisionRecord,
)
from lms.models._types import utcnow
from lms.models.people import SUPERVISOR
from lms.services import supervisors
from lms.services.errors import ServiceError, _l

INDIVIDUAL = "individual"
GROUP = "group"
KINDS: tuple[str, ...] = (INDIVIDUAL, GROUP)
KIND_LABELS = {INDIVIDUAL: _l("Individual"), GROUP: _l("Group")}

FORMATS = {
    "in_person": _l("In person"),
    "phone": _l("Phone"),
    "video": _l("Video"),
    "messaging": _l("Messaging"),
}
TOPICS = {
    "caseload": _l("Caseload"),
    "boundaries": _l("Boundaries"),
    "difficult_situation": _l("A difficult situation"),
    "wellbeing": _l("Wellbeing"),
    "learning": _l("Learning and development"),
    "other": _l("Other"),
}

EARLIEST = date(2000, 1, 1)
MIN_MINUTES = 5
MAX_MINUTES = 600
MAX_NOTES = 10_000
MAX_ACTION = 1_000
MAX_CORRECTION = 5_000
MAX_REFLECTION = 5_000
# The same form sent twice (a double tap, a resent POST) within this time is one record.
DOUBLE_SUBMIT = timedelta(minutes=2)

# What a revision's ``previous`` keys mean, for the history a page shows.
FIELD_LABELS = {
    "trainee_ids": _l("Who was there"),
    "held_on": _l("Date"),
    "duration_minutes": _l("Minutes"),
    "format": _l("How you met"),
    "topics": _l("Topics"),
    "notes": _l("Notes"),
    "private_note": _l("Private note"),
    "reflection": _l("Reflection"),
}

CLOSED = _l("This record can no longer be edited; add a correction instead.")


class SupervisionError(ServiceError):
    """A supervision record (or a reflection, correction or action) that cannot be saved."""


@dataclass(frozen=True)
class ActionInput:
    """One action agreed at a supervision, as typed. A row with neither a description nor a
    due date is blank and ignored (a form offers a few rows; most stay empty)."""

    description: str
    owner_id: int | None
    due_on: date | None

    @property
    def blank(self) -> bool:
        return not (self.description or "").strip() and self.due_on is None


@dataclass
class _Fields:
    """A record's fields after checking."""

    trainee_ids: list[int]
    held_on: date | None
    duration_minutes: int | None
    format: str
    topics: list[str]
    notes: str
    private_note: str


# --- checks ---------------------------------------------------------------------------------


def _check_fields(session: Session, author: Person, problems: dict[str, Any], *,
                  trainee_ids: Iterable[int], held_on: date | None,
                  duration_minutes: int | None, format: str | None,
                  topics: Iterable[str] | None, notes: str | None, private_note: str | None,
                  today: date, keep: Iterable[int] = ()) -> _Fields:
    """Check a record's fields, adding every problem to ``problems``. People in ``keep``
    (already at the record being edited) may stay even if no longer the author's."""
    ids = list(dict.fromkeys(int(t) for t in (trainee_ids or ())))
    if not ids:
        problems["trainee_ids"] = _l("Choose who was at the supervision.")
    else:
        current = supervisors.current_supervisor_ids(session, ids, today)
        kept = set(keep)
        if any(current.get(t) != author.id and t not in kept for t in ids):
            # No names: someone not supervised by the author must not learn who is on the list.
            problems["trainee_ids"] = _l("You can record supervision only with your current "
                                         "supervisees.")
    if held_on is None:
        problems["held_on"] = _l("Give the date of the supervision.")
    elif held_on > today:
        problems["held_on"] = _l("The date cannot be in the future: record a supervision once "
                                 "it has happened.")
    elif held_on < EARLIEST:
        problems["held_on"] = _l("Check the year: the date is before 2000.")
    if duration_minutes is None:
        problems["duration_minutes"] = _l("Give how long it lasted, in minutes.")
    elif not MIN_MINUTES <= duration_minutes <= MAX_MINUTES:
        problems["duration_minutes"] = _l("Give a length from %(low)d to %(high)d minutes.",
                                          low=MIN_MINUTES, high=MAX_MINUTES)
    if format not in FORMATS:
        problems["format"] = _l("Choose how you met: in person, phone, video or messaging.")
    chosen = list(dict.fromkeys(topics or ()))
    if not chosen:
        problems["topics"] = _l("Choose at least one topic (or Other).")
    elif any(t not in TOPICS for t in chosen):
        problems["topics"] = _l("Choose topics from the list.")
    text = (notes or "").strip()
    if len(text) > MAX_NOTES:
        problems["notes"] = _l("Keep the notes to 10,000 characters or fewer.")
    private = (private_note or "").strip()
    if len(private) > MAX_NOTES:
        problems["private_note"] = _l("Keep the private note to 10,000 characters or fewer.")
    # Topics in the checklist's order, so an edit that only reorders them changes nothing.
    return _Fields(ids, held_on, duration_minutes, format or "",
                   [t for t in TOPICS if t in chosen], text, private)


def _check_actions(actions: Sequence[ActionInput], owners: set[int], held_on: date | None,
                   problems: dict[str, Any]) -> list[tuple[str, int, date]]:
    """The non-blank actions, checked; problems are keyed ``actions-<row>-<field>``."""
    found = []
    for row, action in enumerate(actions):
        if action.blank:
            continue
        key = f"actions-{row}-"
        text = (action.description or "").strip()
        if not text:
            problems[key + "description"] = _l("Describe the action agreed.")
        elif len(text) > MAX_ACTION:
            problems[key + "description"] = _l("Keep the action to 1,000 characters or fewer.")
        if action.owner_id not in owners:
            problems[key + "owner_id"] = _l("Choose who will do it: you or someone at the "
                                            "supervision.")
        if action.due_on is None:
            problems[key + "due_on"] = _l("Give the date it is due.")
        elif held_on is not None and action.due_on < held_on:
            problems[key + "due_on"] = _l("It cannot be due before the supervision.")
        found.append((text, action.owner_id, action.due_on))
    return found


def within_window(created_at: datetime, now: datetime, window_days: int) -> bool:
    """Whether a record created at ``created_at`` may still be edited at ``now``."""
    return now - created_at <= timedelta(days=window_days)


def _attendee_ids(record: SupervisionRecord) -> list[int]:
    return [a.trainee_id for a in record.attendees]


def supervises_attendee(session: Session, person_id: int, record: SupervisionRecord,
                        today: date) -> bool:
    """Whether ``person_id`` is today the supervisor of anyone at the meeting. One query."""
    current = supervisors.current_supervisor_ids(session, _attendee_ids(record), today)
    return person_id in current.values()


def can_read(session: Session, person: Person, record: SupervisionRecord,
             today: date) -> bool:
    """The author, an attendee, or the current supervisor of an attendee (see the module)."""
    if person.id == record.author_id or person.id in _attendee_ids(record):
        return True
    return person.has_role(SUPERVISOR) and supervises_attendee(session, person.id, record,
                                                               today)


def can_see_private_note(record: SupervisionRecord, person: Person) -> bool:
    """Only the author ever sees the private note (not the supervisee, not a later
    supervisor)."""
    return person.id == record.author_id


def can_edit(record: SupervisionRecord, person: Person, now: datetime, window_days: int, *,
             supervising: bool = True) -> bool:
    """The author, within the window. ``supervising``: whether anyone at the meeting is still
    the author's supervisee (``supervises_attendee``); a past supervisee's record is
    read-only."""
    return (person.id == record.author_id and supervising
            and within_window(record.created_at, now, window_days))


def can_correct(session: Session, record: SupervisionRecord, person: Person,
                today: date) -> bool:
    """The current supervisor of someone at the meeting (the author while still theirs). A
    supervisor whose supervisees have all moved on keeps the record read-only."""
    return supervises_attendee(session, person.id, record, today)


def shown_attendee_ids(session: Session, record: SupervisionRecord, person: Person,
                       today: date) -> set[int]:
    """Whose reflections and history a reader sees: the author sees everyone's; an attendee
    their own; another supervisor only their current supervisees' (a group record is not a
    window onto someone else's supervisee)."""
    ids = set(_attendee_ids(record))
    if person.id == record.author_id:
        return ids
    if person.id in ids:
        return {person.id}
    current = supervisors.current_supervisor_ids(session, ids, today)
    return {trainee for trainee, supervisor in current.items() if supervisor == person.id}


# --- generic history (supervision records and debriefs) ------------------------------------


def _json(value: Any) -> Any:
    """A value as a revision stores it: dates as ISO strings, lists as lists."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple, set)):
        return list(value)
    return value


def changed(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The previous value (JSON-ready) of every key whose value differs in ``new``."""
    return {key: _json(old[key]) for key in new if _json(old.get(key)) != _json(new[key])}


def revise(session: Session, *, supervision_id: int | None = None,
           debrief_id: int | None = None, editor: Person, previous: dict[str, Any],
           now: datetime | None = None) -> RecordRevision:
    """Keep ``previous`` (field -> value before the edit) of a supervision record or a
    debrief (exactly one of the ids)."""
    if (supervision_id is None) == (debrief_id is None):
        raise ValueError("a revision belongs to exactly one supervision record or debrief")
    revision = RecordRevision(supervision_id=supervision_id, debrief_id=debrief_id,
                              edited_by_id=editor.id, edited_at=now or utcnow(),
                              previous={k: _json(v) for k, v in previous.items()})
    session.add(revision)
    session.flush()
    return revision


def note_correction(session: Session, *, supervision_id: int | None = None,
                    debrief_id: int | None = None, author: Person, body: str | None,
                    now: datetime | None = None, field: str = "body") -> RecordCorrection:
    """Add a correction note to a supervision record or a debrief (exactly one of the ids).

    The body is required and at most 5,000 characters. The same note sent twice within two
    minutes is saved once (the first is returned)."""
    if (supervision_id is None) == (debrief_id is None):
        raise ValueError("a correction belongs to exactly one supervision record or debrief")
    now = now or utcnow()
    text = (body or "").strip()
    if not text:
        raise SupervisionError(_l("Write the correction."), field)
    if len(text) > MAX_CORRECTION:
        raise SupervisionError(_l("Keep the correction to 5,000 characters or fewer."), field)
    same = session.scalars(
        select(RecordCorrection).where(
            RecordCorrection.supervision_id.is_(None) if supervision_id is None
            else RecordCorrection.supervision_id == supervision_id,
            RecordCorrection.debrief_id.is_(None) if debrief_id is None
            else RecordCorrection.debrief_id == debrief_id,
            RecordCorrection.author_id == author.id,
            RecordCorrection.created_at >= now - DOUBLE_SUBMIT))
    for earlier in same:
        if earlier.body == text:
            return earlier
    correction = RecordCorrection(supervision_id=supervision_id, debrief_id=debrief_id,
                                  author_id=author.id, body=text, created_at=now)
    session.add(correction)
    session.flush()
    return correction


# --- recording and editing -------------------------------------------------------------------


def record_supervision(session: Session, author: Person, *, trainee_ids: Iterable[int],
                       held_on: date | None, duration_minutes: int | None, format: str | None,
                       topics: Iterable[str] | None, notes: str | None = "",
                       private_note: str | None = "", actions: Sequence[ActionInput] = (),
                       today: date, now: datetime | None = None) -> SupervisionRecord:
    """Record a supervision held by ``author`` with their current supervisees ``trainee_ids``
    (one: individual; several: group), with the actions agreed.

    Every problem is reported at once (``SupervisionError.problems``, keyed by form field;
    actions as ``actions-<row>-description|owner_id|due_on``). The same record sent again
    within two minutes (same author, people, date, length and notes) is not saved twice: the
    first is returned.
    """
    if not author.has_role(SUPERVISOR):
        raise SupervisionError(_l("Only a supervisor can record supervision."))
    now = now or utcnow()
    problems: dict[str, Any] = {}
    fields = _check_fields(session, author, problems, trainee_ids=trainee_ids,
                           held_on=held_on, duration_minutes=duration_minutes, format=format,
                           topics=topics, notes=notes, private_note=private_note, today=today)
    agreed = _check_actions(actions, {author.id, *fields.trainee_ids}, fields.held_on,
                            problems)
    if problems:
        raise SupervisionError(problems=problems)
    earlier = _same_record(session, author, fields, now)
    if earlier is not None:
        return earlier
    record = SupervisionRecord(
        author_id=author.id, held_on=fields.held_on, duration_minutes=fields.duration_minutes,
        kind=INDIVIDUAL if len(fields.trainee_ids) == 1 else GROUP, format=fields.format,
        topics=fields.topics, notes=fields.notes, private_note=fields.private_note,
        created_at=now)
    record.attendees = [SupervisionAttendee(trainee_id=t) for t in fields.trainee_ids]
    record.actions = [AgreedAction(description=text, owner_id=owner, due_on=due, created_at=now)
                      for text, owner, due in agreed]
    session.add(record)
    session.flush()
    return record


def _same_record(session: Session, author: Person, fields: _Fields,
                 now: datetime) -> SupervisionRecord | None:
    candidates = session.scalars(
        select(SupervisionRecord).where(
            SupervisionRecord.author_id == author.id,
            SupervisionRecord.held_on == fields.held_on,
            SupervisionRecord.duration_minutes == fields.duration_minutes,
            SupervisionRecord.created_at >= now - DOUBLE_SUBMIT)
        .options(selectinload(SupervisionRecord.attendees)))
    for record in candidates:
        if record.notes == fields.notes and set(_attendee_ids(record)) == set(fields.trainee_ids):
            return record
    return None


def edit_record(session: Session, record: SupervisionRecord, editor: Person, *,
                trainee_ids: Iterable[int], held_on: date | None,
                duration_minutes: int | None, format: str | None,
                topics: Iterable[str] | None, notes: str | None, private_note: str | None,
                now: datetime | None = None, window_days: int,
                today: date | None = None) -> SupervisionRecord:
    """Change a record: its author only, within ``window_days`` of its creation, while
    someone at it is still their supervisee. The previous value of each changed field is
    kept first (one ``RecordRevision``). Someone who has written a reflection or owns an
    action cannot be taken off the record."""
    now = now or utcnow()
    today = today or now.date()
    if editor.id != record.author_id:
        raise SupervisionError(_l("Only the person who wrote this record can edit it."))
    if not within_window(record.created_at, now, window_days):
        raise SupervisionError(CLOSED)
    if not supervises_attendee(session, editor.id, record, today):
        raise SupervisionError(_l("Nobody at this supervision is your supervisee any more, so "
                                  "the record is read-only."))
    problems: dict[str, Any] = {}
    before = _attendee_ids(record)
    fields = _check_fields(session, editor, problems, trainee_ids=trainee_ids,
                           held_on=held_on, duration_minutes=duration_minutes, format=format,
                           topics=topics, notes=notes, private_note=private_note, today=today,
                           keep=before)
    leaving = set(before) - set(fields.trainee_ids)
    if leaving and "trainee_ids" not in problems:
        owners = {a.owner_id for a in record.actions}
        if any(a.trainee_id in leaving and a.reflection for a in record.attendees):
            problems["trainee_ids"] = _l("Someone you took off the list has written a "
                                         "reflection on this record: add a correction "
                                         "instead.")
        elif leaving & owners:
            problems["trainee_ids"] = _l("Someone you took off the list owns an action agreed "
                                         "at this supervision: add a correction instead.")
    if problems:
        raise SupervisionError(problems=problems)
    old = {"trainee_ids": sorted(before), "held_on": record.held_on,
           "duration_minutes": record.duration_minutes, "format": record.format,
           "topics": list(record.topics or []), "notes": record.notes or "",
           "private_note": record.private_note or ""}
    new = {"trainee_ids": sorted(fields.trainee_ids), "held_on": fields.held_on,
           "duration_minutes": fields.duration_minutes, "format": fields.format,
           "topics": fields.topics, "notes": fields.notes, "private_note": fields.private_note}
    previous = changed(old, new)
    if not previous:  # nothing changed (or the same form sent twice): no empty revision
        return record
    revise(session, supervision_id=record.id, editor=editor, previous=previous, now=now)
    if "trainee_ids" in previous:
        record.attendees = ([a for a in record.attendees if a.trainee_id not in leaving]
                            + [SupervisionAttendee(trainee_id=t) for t in fields.trainee_ids
                               if t not in before])
        record.kind = INDIVIDUAL if len(fields.trainee_ids) == 1 else GROUP
    record.held_on = fields.held_on
    record.duration_minutes = fields.duration_minutes
    record.format = fields.format
    record.topics = fields.topics
    record.notes = fields.notes
    record.private_note = fields.private_note
    record.updated_at = now
    session.flush()
    return record


def add_correction(session: Session, record: SupervisionRecord, author: Person,
                   body: str | None, now: datetime | None = None,
                   today: date | None = None) -> RecordCorrection:
    """A correction note on a record, at any time, by its author or the current supervisor of
    someone at the meeting."""
    now = now or utcnow()
    if not can_correct(session, record, author, today or now.date()):
        raise SupervisionError(_l("Only the author or a current supervisor of someone at this "
                                  "supervision can add a correction."))
    return note_correction(session, supervision_id=record.id, author=author, body=body,
                           now=now)


def add_reflection(session: Session, record: SupervisionRecord, trainee: Person,
                   text: str | None, now: datetime | None = None) -> SupervisionAttendee:
    """Write or rewrite the trainee's own reflection on a record they attended. A rewrite
    keeps the previous text (a ``RecordRevision`` with ``reflection`` and ``trainee_id``)."""
    now = now or utcnow()
    attendee = next((a for a in record.attendees if a.trainee_id == trainee.id), None)
    if attendee is None:
        raise SupervisionError(_l("You can reflect only on supervision you attended."))
    body = (text or "").strip()
    if not body:
        raise SupervisionError(_l("Write your reflection."), "reflection")
    if len(body) > MAX_REFLECTION:
        raise SupervisionError(_l("Keep your reflection to 5,000 characters or fewer."),
                               "reflection")
    if body == attendee.reflection:  # sent twice, or saved unchanged
        return attendee
    if attendee.reflection:
        revise(session, supervision_id=record.id, editor=trainee,
               previous={"reflection": attendee.reflection, "trainee_id": trainee.id}, now=now)
    attendee.reflection = body
    attendee.reflection_at = now
    session.flush()
    return attendee


def can_mark_action(session: Session, action: AgreedAction, person: Person,
                    today: date) -> bool:
    """The action's owner, or the current supervisor of someone at the meeting (the author
    only while still their supervisor: a past supervisee's record is read-only)."""
    record = action.supervision
    if record is None:
        return False
    return person.id == action.owner_id or supervises_attendee(session, person.id, record,
                                                               today)


def set_action_done(session: Session, action: AgreedAction, person: Person, done: bool,
                    on: date) -> AgreedAction:
    """Mark an agreed action done on ``on`` (by ``person``), or not done again. Marking it
    the way it already is changes nothing (a double tap)."""
    if not can_mark_action(session, action, person, on):
        raise SupervisionError(_l("Only the person who owns this action or their supervisor "
                                  "can mark it."))
    if done and action.done_on is None:
        action.done_on = on
        action.done_by_id = person.id
    elif not done and action.done_on is not None:
        action.done_on = None
        action.done_by_id = None
    session.flush()
    return action


# --- reading ---------------------------------------------------------------------------------


def _with_details(query):
    """Attendees, actions (with owners) and the author, loaded in a fixed number of queries."""
    return query.options(
        selectinload(SupervisionRecord.attendees).selectinload(SupervisionAttendee.trainee),
        selectinload(SupervisionRecord.actions).selectinload(AgreedAction.owner),
        selectinload(SupervisionRecord.author))


def record_for(session: Session, record_id: int) -> SupervisionRecord | None:
    """One record with its attendees, actions and author."""
    return session.scalar(_with_details(select(SupervisionRecord)
                                        .where(SupervisionRecord.id == record_id)))


def action_for(session: Session, action_id: int) -> AgreedAction | None:
    """An action agreed at a supervision (not a debrief's follow-up), with its record."""
    return session.scalar(
        select(AgreedAction).where(AgreedAction.id == action_id,
                                   AgreedAction.supervision_id.is_not(None))
        .options(selectinload(AgreedAction.supervision)
                 .selectinload(SupervisionRecord.attendees)))


def _attended_by(trainee_id: int):
    return select(SupervisionAttendee.record_id).where(
        SupervisionAttendee.trainee_id == trainee_id)


def records_for_trainee(session: Session, trainee_id: int) -> list[SupervisionRecord]:
    """Every record the trainee attended, newest first, with details loaded."""
    return list(session.scalars(_with_details(
        select(SupervisionRecord).where(SupervisionRecord.id.in_(_attended_by(trainee_id)))
        .order_by(SupervisionRecord.held_on.desc(), SupervisionRecord.id.desc()))))


def records_visible_to_supervisor(session: Session, supervisor_id: int, trainee_id: int,
                                  today: date) -> list[SupervisionRecord]:
    """The trainee's records a supervisor may read: all of them while they are the trainee's
    current supervisor, otherwise only those they wrote (read-only)."""
    query = select(SupervisionRecord).where(SupervisionRecord.id.in_(_attended_by(trainee_id)))
    if not supervisors.is_current_supervisor(session, supervisor_id, trainee_id, today):
        query = query.where(SupervisionRecord.author_id == supervisor_id)
    return list(session.scalars(_with_details(
        query.order_by(SupervisionRecord.held_on.desc(), SupervisionRecord.id.desc()))))


def last_supervision(session: Session, trainee_ids: Iterable[int]
                     ) -> dict[int, tuple[date, datetime]]:
    """Each trainee's latest supervision date, and when their latest record was written
    (trainees never supervised are left out). One query whatever the number."""
    ids = list(set(trainee_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(SupervisionAttendee.trainee_id, func.max(SupervisionRecord.held_on),
               func.max(SupervisionRecord.created_at))
        .join(SupervisionRecord, SupervisionRecord.id == SupervisionAttendee.record_id)
        .where(SupervisionAttendee.trainee_id.in_(ids))
        .group_by(SupervisionAttendee.trainee_id))
    return {trainee: (held_on, recorded_at) for trainee, held_on, recorded_at in rows}


def last_held_on(session: Session, trainee_ids: Iterable[int]) -> dict[int, date]:
    """Each trainee's latest supervision date (trainees never supervised are left out).
    One query whatever the number."""
    ids = list(set(trainee_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(SupervisionAttendee.trainee_id, func.max(SupervisionRecord.held_on))
        .join(SupervisionRecord, SupervisionRecord.id == SupervisionAttendee.record_id)
        .where(SupervisionAttendee.trainee_id.in_(ids))
        .group_by(SupervisionAttendee.trainee_id))
    return dict(rows.all())


def open_actions(session: Session, trainee_ids: Iterable[int]
                 ) -> list[tuple[int, AgreedAction]]:
    """Actions not yet done that concern each trainee, as (trainee id, action) pairs, soonest
    due first: on records they attended, owned by them or by the supervisor (an action another
    member of a group owns is that member's). ``action.supervision`` is loaded; the owner is
    not (use ``owner_id``). One query whatever the number."""
    ids = list(set(trainee_ids))
    if not ids:
        return []
    rows = session.execute(
        select(SupervisionAttendee.trainee_id, AgreedAction)
        .join(SupervisionRecord, SupervisionRecord.id == SupervisionAttendee.record_id)
        .join(AgreedAction, AgreedAction.supervision_id == SupervisionRecord.id)
        .where(SupervisionAttendee.trainee_id.in_(ids), AgreedAction.done_on.is_(None),
               or_(AgreedAction.owner_id.is_(None),
                   AgreedAction.owner_id == SupervisionAttendee.trainee_id,
                   AgreedAction.owner_id == SupervisionRecord.author_id))
        .options(contains_eager(AgreedAction.supervision))
        .order_by(AgreedAction.due_on.is_(None), AgreedAction.due_on, AgreedAction.id))
    return [(trainee_id, action) for trainee_id, action in rows.all()]


@dataclass
class Change:
    """One field's value before an edit: ``value`` is a date, a number, text, or a list of
    words (topic labels, people's names)."""

    field: str
    label: str
    value: Any


@dataclass
class HistoryEntry:
    """An edit (``changes``), a rewritten reflection (``trainee``, ``changes``) or a
    correction (``body``), in the order they happened."""

    kind: str  # edit | reflection | correction
    at: datetime
    by: Person | None
    changes: list[Change] = field(default_factory=list)
    body: str = ""
    trainee: Person | None = None


def _shown(key: str, value: Any, names: dict[int, str]) -> Any:
    if key == "held_on" and value:
        return date.fromisoformat(value)
    if key == "format":
        return str(FORMATS.get(value, value))
    if key == "topics":
        return [str(TOPICS.get(t, t)) for t in value or []]
    if key == "trainee_ids":
        return [names.get(t, "?") for t in value or []]
    return value


def history(session: Session, record: SupervisionRecord, *,
            viewer: Person | None = None, shown: set[int] | None = None
            ) -> list[HistoryEntry]:
    """The record's edits, rewritten reflections and corrections, oldest first.

    With a ``viewer``, only what they may see: a private note's earlier text only to the
    author; an attendee sees earlier versions of their own reflection, not others', and not
    who else was once listed. ``shown`` (from ``shown_attendee_ids``) limits the reflections
    to those attendees', and anyone but the author does not see who was once listed."""
    revisions = list(session.scalars(
        select(RecordRevision).where(RecordRevision.supervision_id == record.id)
        .options(selectinload(RecordRevision.edited_by))))
    corrections = list(session.scalars(
        select(RecordCorrection).where(RecordCorrection.supervision_id == record.id)
        .options(selectinload(RecordCorrection.author))))
    mentioned = {t for r in revisions for t in r.previous.get("trainee_ids", [])}
    mentioned |= {r.previous["trainee_id"] for r in revisions if "trainee_id" in r.previous}
    people = ({p.id: p for p in session.scalars(select(Person).where(Person.id.in_(mentioned)))}
              if mentioned else {})
    names = {pid: p.name for pid, p in people.items()}
    private = viewer is None or can_see_private_note(record, viewer)
    attendee = viewer is not None and viewer.id in _attendee_ids(record)
    entries: list[HistoryEntry] = []
    for revision in revisions:
        previous = revision.previous or {}
        if "reflection" in previous:
            whose = previous.get("trainee_id")
            if (attendee and whose != viewer.id) or (shown is not None and whose not in shown):
                continue
            entries.append(HistoryEntry(
                "reflection", revision.edited_at, revision.edited_by,
                [Change("reflection", str(FIELD_LABELS["reflection"]), previous["reflection"])],
                trainee=people.get(whose)))
            continue
        # A supervisee sees earlier text, not the private note nor who else was once listed.
        hidden = set() if private else {"private_note"}
        if attendee or (viewer is not None and viewer.id != record.author_id):
            hidden.add("trainee_ids")
        changes = [Change(key, str(FIELD_LABELS.get(key, key)), _shown(key, value, names))
                   for key, value in previous.items()
                   if key in FIELD_LABELS and key not in hidden]
        if changes:
            entries.append(HistoryEntry("edit", revision.edited_at, revision.edited_by,
                                        changes))
    entries += [HistoryEntry("correction", c.created_at, c.author, body=c.body)
                for c in corrections]
    entries.sort(key=lambda e: e.at)
    return entries


def format_label(value: str) -> str:
    return str(FORMATS.get(value, value))


def topic_labels(values: Iterable[str]) -> list[str]:
    return [str(TOPICS.get(t, t)) for t in values or []]
