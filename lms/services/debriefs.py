"""Debriefs after a critical incident: started by the peer supporter or their supervisor.

Who may do what:

- Start: the trainee for themself, or their current supervisor. The debrief records the
  trainee's supervisor at that moment (``supervisor_id``; None when they have none, and then
  no supervisor sees it until one is assigned).
- Read (``can_read``): the trainee, the person who started it, and the trainee's current
  supervisor. A past supervisor keeps only the debriefs they started themself, read-only.
  Trainers and admins never read debrief text. Every read by anyone other than the person who
  started it is written to the audit log (``read_debrief``).
- Edit: the person who started it, within ``LMS_RECORD_EDIT_WINDOW_DAYS`` and while they are
  still the trainee or the trainee's current supervisor; every edit keeps the previous values
  (``RecordRevision``). After that, a correction is a note on the debrief (``RecordCorrection``),
  added by the trainee or their current supervisor.
- Follow-ups (``AgreedAction`` with ``debrief_id``) are marked done by the trainee or their
  current supervisor.

Notes must not identify clients. Every free text (and every follow-up) is run through
``lms.services.identifying_text`` before it is saved. Anything found stops the save with
``IdentifyingTextFound`` (the findings per field) unless the writer chose to keep it as
written; what they kept is recorded in ``identifying_kept``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from lms.models import AgreedAction, Debrief, Person, RecordCorrection, RecordRevision
from lms.models._types import utcnow
from lms.models.people import SUPERVISOR
from lms.services import audit, identifying_text, supervision, supervisors
from lms.services.errors import ServiceError, _l
from lms.services.identifying_text import Finding

INCIDENT_TYPES = {
    "risk_of_harm": _l("Disclosure of risk of harm"),
    "safeguarding": _l("Safeguarding concern"),
    "death": _l("Death of a client"),
    "aggression": _l("Aggression or threat"),
    "other": _l("Other"),
}

# How a finding's kind reads in "looks like a phone number".
FINDING_KINDS = {
    identifying_text.PHONE: _l("a phone number"),
    identifying_text.EMAIL: _l("an email address"),
    identifying_text.DATE_OF_BIRTH: _l("a date of birth"),
    identifying_text.HEALTH_RECORD_NUMBER: _l("a health-record number"),
}

TEXT_FIELDS = ("what_happened", "how_now", "support_needed")
MAX_TEXT = 10_000
# An incident is debriefed soon after it happens; a year back is room for a late one.
OLDEST = timedelta(days=365)
DOUBLE_SUBMIT = supervision.DOUBLE_SUBMIT

# What a revision's ``previous`` keys mean, for the history a page shows.
FIELD_LABELS = {
    "incident_type": _l("Type of incident"),
    "incident_on": _l("Date of the incident"),
    "what_happened": _l("What happened"),
    "how_now": _l("How they were"),
    "support_needed": _l("Support needed"),
    "actions": _l("Follow-ups"),
}


class DebriefError(ServiceError):
    """A debrief (or a follow-up or correction of one) that cannot be saved."""


class DebriefNotReadable(DebriefError):
    """The person may not read this debrief."""


class IdentifyingTextFound(DebriefError):
    """Text that looks like it identifies a client, and the writer has not chosen to keep it.

    ``findings`` maps each field (``what_happened``, ``action_2``, ``body``...) to what was
    found in it. ``problems`` holds only the other problems of the form, if any, so a view
    shows both and keeps everything typed."""

    def __init__(self, findings: Mapping[str, list[Finding]],
                 problems: Mapping[str, Any] | None = None) -> None:
        super().__init__(problems=problems or {})
        self.findings = dict(findings)
        self.args = (str(_l("Some of the text looks like it could identify a client.")),)


# --- who may do what -------------------------------------------------------------------------


def _supervises(session: Session, person: Person, trainee_id: int, today: date) -> bool:
    return person.has_role(SUPERVISOR) and supervisors.is_current_supervisor(
        session, person.id, trainee_id, today)


def may_start(session: Session, person: Person, trainee: Person, today: date) -> bool:
    """The trainee for themself, or their current supervisor."""
    return person.id == trainee.id or _supervises(session, person, trainee.id, today)


def can_read(session: Session, person: Person, debrief: Debrief, today: date) -> bool:
    """The trainee, whoever started it, and the trainee's current supervisor. A supervisor
    who has been replaced keeps only what they started; trainers and admins get nothing."""
    if person.id in (debrief.trainee_id, debrief.started_by_id):
        return True
    return _supervises(session, person, debrief.trainee_id, today)


def can_edit(session: Session, person: Person, debrief: Debrief, *, now: datetime,
             window_days: int, today: date) -> bool:
    """Whoever started it, within the window, while still the trainee or their current
    supervisor (a past supervisor's debriefs are read-only)."""
    if person.id != debrief.started_by_id:
        return False
    if not supervision.within_window(debrief.created_at, now, window_days):
        return False
    return person.id == debrief.trainee_id or _supervises(session, person, debrief.trainee_id,
                                                          today)


def can_correct(session: Session, person: Person, debrief: Debrief, today: date) -> bool:
    """The trainee, or their current supervisor."""
    return person.id == debrief.trainee_id or _supervises(session, person, debrief.trainee_id,
                                                          today)


def can_mark_follow_up(session: Session, person: Person, action: AgreedAction,
                       today: date) -> bool:
    """The trainee, or their current supervisor."""
    debrief = action.debrief
    if debrief is None:
        return False
    return person.id == debrief.trainee_id or _supervises(session, person, debrief.trainee_id,
                                                          today)


# --- checks ----------------------------------------------------------------------------------


def _clean(text: str | None) -> str:
    return (text or "").strip()


def _check_fields(problems: dict[str, Any], *, incident_type: str | None,
                  incident_on: date | None, what_happened: str, how_now: str,
                  support_needed: str, today: date) -> None:
    if incident_type not in INCIDENT_TYPES:
        problems["incident_type"] = _l("Choose the type of incident.")
    if incident_on is None:
        problems["incident_on"] = _l("Give the date of the incident.")
    elif incident_on > today:
        problems["incident_on"] = _l("The incident cannot be in the future: give today's date "
                                     "or an earlier one.")
    elif incident_on < today - OLDEST:
        problems["incident_on"] = _l("The incident was more than a year ago: debriefs are for "
                                     "recent incidents.")
    if not what_happened:
        problems["what_happened"] = _l("Say what happened, in general terms.")
    for name, text in (("what_happened", what_happened), ("how_now", how_now),
                       ("support_needed", support_needed)):
        if len(text) > MAX_TEXT and name not in problems:
            problems[name] = _l("Keep this to 10,000 characters or fewer.")


def _valid_date(problems: Mapping[str, Any], incident_on: date | None) -> date | None:
    """The incident date to check follow-ups against, unless it is wrong itself."""
    return None if "incident_on" in problems else incident_on


def _check_actions(problems: dict[str, Any], actions: Sequence[tuple[str | None, date | None]],
                   incident_on: date | None) -> list[tuple[int, str, date]]:
    """The follow-ups that are not blank, as (row number, description, due date). Problems go
    on ``action_<n>`` and ``action_<n>_due``, the names of the form's fields."""
    found: list[tuple[int, str, date]] = []
    for number, (description, due_on) in enumerate(actions, start=1):
        text = _clean(description)
        if not text and due_on is None:
            continue  # a blank row: forms offer a few, most stay empty
        key = f"action_{number}"
        if not text:
            problems[key] = _l("Say what the follow-up is, or clear its date.")
        elif len(text) > MAX_TEXT:
            problems[key] = _l("Keep this to 10,000 characters or fewer.")
        if due_on is None:
            problems[key + "_due"] = _l("Give the date this follow-up is due.")
        elif incident_on is not None and due_on < incident_on:
            problems[key + "_due"] = _l("A follow-up cannot be due before the incident.")
        if text and due_on is not None:
            found.append((number, text, due_on))
    return found


def _screen(texts: Mapping[str, str], *, keep: bool, problems: Mapping[str, Any],
            today: date) -> list[str]:
    """Look for identifying text. Raise ``IdentifyingTextFound`` unless the writer keeps it;
    return the kinds they kept (to record), or raise the other problems."""
    findings = identifying_text.find_in_fields(texts, today=today)
    if findings and not keep:
        raise IdentifyingTextFound(findings, problems)
    if problems:
        raise DebriefError(problems=problems)
    return identifying_text.kinds_found(findings)


def _merge_kept(old: Iterable[str], new: Iterable[str]) -> list[str]:
    both = set(old) | set(new)
    return [kind for kind in identifying_text.KINDS if kind in both]


# --- starting and editing --------------------------------------------------------------------


def start_debrief(session: Session, started_by: Person, trainee: Person, *,
                  incident_type: str | None, incident_on: date | None,
                  what_happened: str | None, how_now: str | None = "",
                  support_needed: str | None = "",
                  actions: Sequence[tuple[str | None, date | None]] = (),
                  keep_identifying: bool = False, today: date,
                  now: datetime | None = None) -> Debrief:
    """Save a debrief of ``trainee``'s incident, with its follow-ups.

    Every problem is reported at once (``DebriefError.problems``). Text that looks identifying
    raises ``IdentifyingTextFound`` unless ``keep_identifying``. The same debrief sent twice
    within two minutes is saved once: the first is returned.
    """
    now = now or utcnow()
    if not may_start(session, started_by, trainee, today):
        raise DebriefError(_l("You can start a debrief only for yourself or for someone you "
                              "supervise now."))
    texts = {"what_happened": _clean(what_happened), "how_now": _clean(how_now),
             "support_needed": _clean(support_needed)}
    problems: dict[str, Any] = {}
    _check_fields(problems, incident_type=incident_type, incident_on=incident_on, today=today,
                  **texts)
    rows = _check_actions(problems, actions, _valid_date(problems, incident_on))
    kept = _screen({**texts, **{f"action_{n}": text for n, text, _due in rows}},
                   keep=keep_identifying, problems=problems, today=today)
    earlier = _same_debrief(session, started_by, trainee, incident_on, texts["what_happened"],
                            now)
    if earlier is not None:
        return earlier
    debrief = Debrief(
        trainee_id=trainee.id, started_by_id=started_by.id,
        supervisor_id=supervisors.current_supervisor_ids(session, [trainee.id], today)
        .get(trainee.id),
        incident_type=incident_type, incident_on=incident_on, identifying_kept=kept,
        created_at=now, **texts)
    debrief.actions = [AgreedAction(description=text, due_on=due, created_at=now)
                       for _n, text, due in rows]
    session.add(debrief)
    session.flush()
    return debrief


def _same_debrief(session: Session, started_by: Person, trainee: Person,
                  incident_on: date | None, what_happened: str,
                  now: datetime) -> Debrief | None:
    return session.scalars(
        select(Debrief).where(Debrief.trainee_id == trainee.id,
                              Debrief.started_by_id == started_by.id,
                              Debrief.incident_on == incident_on,
                              Debrief.what_happened == what_happened,
                              Debrief.created_at >= now - DOUBLE_SUBMIT)
        .order_by(Debrief.id).limit(1)).first()


def edit_debrief(session: Session, debrief: Debrief, editor: Person, *,
                 incident_type: str | None, incident_on: date | None,
                 what_happened: str | None, how_now: str | None = "",
                 support_needed: str | None = "",
                 new_actions: Sequence[tuple[str | None, date | None]] = (),
                 keep_identifying: bool = False, today: date, window_days: int,
                 now: datetime | None = None) -> Debrief:
    """Change a debrief within the edit window, keeping the previous values of what changed
    (one ``RecordRevision``); ``new_actions`` adds follow-ups. Sending the same edit twice
    changes nothing the second time."""
    now = now or utcnow()
    if not can_edit(session, editor, debrief, now=now, window_days=window_days, today=today):
        raise DebriefError(_l("This debrief can no longer be edited; add a correction "
                              "instead."))
    texts = {"what_happened": _clean(what_happened), "how_now": _clean(how_now),
             "support_needed": _clean(support_needed)}
    problems: dict[str, Any] = {}
    _check_fields(problems, incident_type=incident_type, incident_on=incident_on, today=today,
                  **texts)
    existing = {(a.description, a.due_on) for a in debrief.actions}
    rows = [row for row in _check_actions(problems, new_actions,
                                          _valid_date(problems, incident_on))
            if (row[1], row[2]) not in existing]  # a resent form adds nothing twice
    kept = _screen({**texts, **{f"action_{n}": text for n, text, _due in rows}},
                   keep=keep_identifying, problems=problems, today=today)
    new = {"incident_type": incident_type, "incident_on": incident_on, **texts}
    old = {key: getattr(debrief, key) for key in new}
    previous = supervision.changed(old, new)
    if rows:
        previous["actions"] = [_action_text(a) for a in debrief.actions]
    if not previous:
        return debrief
    supervision.revise(session, debrief_id=debrief.id, editor=editor, previous=previous,
                       now=now)
    for key, value in new.items():
        setattr(debrief, key, value)
    for _n, text, due in rows:
        debrief.actions.append(AgreedAction(description=text, due_on=due, created_at=now))
    debrief.identifying_kept = _merge_kept(debrief.identifying_kept or [], kept)
    debrief.updated_at = now
    session.flush()
    return debrief


def _action_text(action: AgreedAction) -> str:
    return f"{action.description} ({action.due_on.isoformat() if action.due_on else '-'})"


def add_correction(session: Session, debrief: Debrief, author: Person, body: str | None, *,
                   keep_identifying: bool = False, today: date,
                   now: datetime | None = None) -> RecordCorrection:
    """A note on the debrief (by the trainee or their current supervisor), screened for
    identifying text like the debrief itself. The same note sent twice is saved once."""
    if not can_correct(session, author, debrief, today):
        raise DebriefError(_l("Only the peer supporter and their current supervisor can add "
                              "a correction to this debrief."))
    text = _clean(body)
    kept = _screen({"body": text}, keep=keep_identifying, problems={}, today=today)
    correction = supervision.note_correction(session, debrief_id=debrief.id, author=author,
                                             body=text, now=now)
    if kept:
        debrief.identifying_kept = _merge_kept(debrief.identifying_kept or [], kept)
        session.flush()
    return correction


def set_follow_up_done(session: Session, action: AgreedAction, person: Person, done: bool,
                       on: date) -> AgreedAction:
    """Mark a debrief's follow-up done on ``on`` (or not done). Marking it done twice keeps
    the first date."""
    if action.debrief_id is None:
        raise DebriefError(_l("That is not a follow-up of a debrief."))
    if not can_mark_follow_up(session, person, action, on):
        raise DebriefError(_l("Only the peer supporter and their current supervisor can mark "
                              "this follow-up."))
    if done and action.done_on is None:
        action.done_on = on
        action.done_by_id = person.id
    elif not done:
        action.done_on = None
        action.done_by_id = None
    session.flush()
    return action


# --- reading ---------------------------------------------------------------------------------


def _with_details(query):
    return query.options(selectinload(Debrief.actions), selectinload(Debrief.started_by),
                         selectinload(Debrief.trainee), selectinload(Debrief.supervisor))


def debrief_for(session: Session, debrief_id: int) -> Debrief | None:
    return session.scalars(_with_details(select(Debrief).where(Debrief.id == debrief_id))
                           ).first()


def follow_up_for(session: Session, action_id: int) -> AgreedAction | None:
    """A debrief's follow-up (a supervision record's action is not one: None)."""
    return session.scalars(
        select(AgreedAction).where(AgreedAction.id == action_id,
                                   AgreedAction.debrief_id.is_not(None))
        .options(selectinload(AgreedAction.debrief))).first()


def read_debrief(session: Session, reader: Person, debrief: Debrief, today: date, *,
                 now: datetime | None = None) -> Debrief:
    """The debrief, for a reader allowed to see it; a read by anyone other than the person who
    started it goes to the audit log (the caller commits)."""
    if not can_read(session, reader, debrief, today):
        raise DebriefNotReadable(_l("You cannot read this debrief."))
    audit.record_reads(session, reader.id, [
        audit.Subject(audit.DEBRIEF, debrief.id, debrief.trainee_id, debrief.started_by_id)],
        now=now)
    return debrief


def _newest_first(query):
    return query.order_by(Debrief.incident_on.desc(), Debrief.id.desc())


def debriefs_for_trainee(session: Session, trainee_id: int) -> list[Debrief]:
    """All of a trainee's debriefs, newest incident first, with their follow-ups."""
    return list(session.scalars(_newest_first(_with_details(
        select(Debrief).where(Debrief.trainee_id == trainee_id)))))


def debriefs_visible_to_supervisor(session: Session, supervisor_id: int, trainee_id: int,
                                   today: date) -> list[Debrief]:
    """Everything for a current supervisee; for a past one, only what this supervisor
    started."""
    query = select(Debrief).where(Debrief.trainee_id == trainee_id)
    if not supervisors.is_current_supervisor(session, supervisor_id, trainee_id, today):
        query = query.where(Debrief.started_by_id == supervisor_id)
    return list(session.scalars(_newest_first(_with_details(query))))


def open_follow_ups(session: Session, trainee_ids: Iterable[int]
                    ) -> list[tuple[int, AgreedAction]]:
    """Every debrief follow-up not done yet, as (trainee id, action), soonest due first.
    One query whatever the number of trainees."""
    ids = sorted(set(trainee_ids))
    if not ids:
        return []
    rows = session.execute(
        select(Debrief.trainee_id, AgreedAction)
        .join(AgreedAction, AgreedAction.debrief_id == Debrief.id)
        .where(Debrief.trainee_id.in_(ids), AgreedAction.done_on.is_(None))
        .order_by(AgreedAction.due_on.is_(None), AgreedAction.due_on, AgreedAction.id))
    return [(trainee_id, action) for trainee_id, action in rows.all()]


def history(session: Session, debrief: Debrief) -> list[supervision.HistoryEntry]:
    """The debrief's edits (the values before each) and corrections, oldest first."""
    revisions = session.scalars(
        select(RecordRevision).where(RecordRevision.debrief_id == debrief.id)
        .options(selectinload(RecordRevision.edited_by)))
    corrections = session.scalars(
        select(RecordCorrection).where(RecordCorrection.debrief_id == debrief.id)
        .options(selectinload(RecordCorrection.author)))
    entries = [supervision.HistoryEntry(
        "edit", r.edited_at, r.edited_by,
        [supervision.Change(key, str(FIELD_LABELS[key]), _shown(key, value))
         for key, value in (r.previous or {}).items() if key in FIELD_LABELS])
        for r in revisions]
    entries += [supervision.HistoryEntry("correction", c.created_at, c.author, body=c.body)
                for c in corrections]
    entries.sort(key=lambda e: e.at)
    return entries


def _shown(key: str, value: Any) -> Any:
    if key == "incident_on" and value:
        return date.fromisoformat(value)
    if key == "incident_type":
        return str(INCIDENT_TYPES.get(value, value))
    return value


def incident_label(value: str) -> str:
    return str(INCIDENT_TYPES.get(value, value))
