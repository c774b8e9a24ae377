"""Flags for supervisors, derived from the records every time and never stored as truth.

Seven kinds: supervision overdue, a low check-in (any item at 1 or 2), a falling trend (the
mean of the last three check-ins at least 1 point below the three before), a missed
check-in, an agreed action or a debrief follow-up past its due date, and "would like to talk".

Each flag has a ``key`` naming its episode (the run of low check-ins it started with, the last
supervision it counts from, the action it is about) and a ``severity``. A supervisor's
acknowledgement names the key and the severity it saw: the flag stays acknowledged while the
same episode is no worse, and shows again when it gets worse or a new episode starts. A flag
clears when its cause does (a good check-in, supervision held, the action done).

``compute`` is pure (hand-made histories in the tests); ``load_facts`` gathers what it needs
for any number of trainees in a fixed number of queries.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from lms.models import (
    CheckIn,
    FlagAcknowledgement,
    Person,
    SignOff,
    SupervisorAssignment,
)
from lms.models._types import utcnow
from lms.services import check_ins, debriefs, supervision, supervisors
from lms.services.errors import ServiceError, _l

SUPERVISION_OVERDUE = "supervision_overdue"
LOW_CHECK_IN = "low_check_in"
FALLING_TREND = "falling_trend"
MISSED_CHECK_IN = "missed_check_in"
ACTION_OVERDUE = "action_overdue"
FOLLOW_UP_OVERDUE = "follow_up_overdue"
WANTS_TO_TALK = "wants_to_talk"
REVIEW_DUE = "review_due"  # a deferred sign-off's review date has come
KINDS = (WANTS_TO_TALK, LOW_CHECK_IN, FALLING_TREND, FOLLOW_UP_OVERDUE, REVIEW_DUE,
         SUPERVISION_OVERDUE, MISSED_CHECK_IN, ACTION_OVERDUE)

# How urgent each kind is, for ordering the dashboard (higher first).
URGENCY = {WANTS_TO_TALK: 60, LOW_CHECK_IN: 50, FALLING_TREND: 40, FOLLOW_UP_OVERDUE: 35,
           REVIEW_DUE: 32, SUPERVISION_OVERDUE: 30, MISSED_CHECK_IN: 20, ACTION_OVERDUE: 10}

ITEMS = check_ins.ITEM_KEYS
LOW = 2  # an item at or below this is low
TREND_DROP = 1.0
TREND_WINDOW = 3
CHECK_INS_KEPT = 12  # check-ins read per trainee: enough for the trend and its episode
ACTION_WORSE_EVERY_DAYS = 7  # an overdue action counts as worse each further week


@dataclass(frozen=True)
class Settings:
    """The programme's zone (whose days check-ins fall on) and default frequencies (a
    curriculum may set its own), from config."""

    zone: str = "UTC"
    supervision_every_days: int = 30
    check_in_every_days: int = 7


@dataclass(frozen=True)
class CheckInFact:
    id: int
    on: date  # the local day it was made
    scores: dict[str, int]
    wants_to_talk: bool = False
    at: datetime | None = None  # the instant, to compare with a record made the same day

    @property
    def low_items(self) -> list[tuple[str, int]]:
        return [(item, self.scores[item]) for item in ITEMS if self.scores[item] <= LOW]

    @property
    def mean(self) -> float:
        return sum(self.scores[item] for item in ITEMS) / len(ITEMS)


@dataclass(frozen=True)
class ActionFact:
    id: int
    description: str
    due_on: date
    follow_up: bool = False  # a debrief follow-up rather than a supervision action


@dataclass
class Facts:
    """Everything the flag rules read about one trainee."""

    trainee_id: int
    supervision_every_days: int
    check_in_every_days: int
    since: date | None  # when they first had a supervisor: nothing is due before that
    last_supervision: date | None = None
    # When the latest supervision record was written: one held the same day as a request to
    # talk answers it only if it was written after the request.
    last_supervision_recorded_at: datetime | None = None
    check_ins: list[CheckInFact] = field(default_factory=list)  # newest first, at most 12
    open_actions: list[ActionFact] = field(default_factory=list)
    # The latest check-in with no low item, even when it is older than the twelve read: a run
    # of low check-ins is one episode, named by the good one before it.
    last_good_check_in_id: int | None = None
    # The latest sign-off when it is a deferral: (its id, review date, the day it was made).
    deferred: tuple[int, date, date] | None = None


@dataclass
class Flag:
    kind: str
    key: str
    severity: int
    on: date  # when the cause began (due date, check-in date)
    details: dict = field(default_factory=dict)  # what the sentence needs
    acknowledgement: FlagAcknowledgement | None = None
    came_back: bool = False  # acknowledged before, and worse since

    @property
    def acknowledged(self) -> bool:
        return self.acknowledgement is not None and not self.came_back

    @property
    def urgency(self) -> int:
        return URGENCY[self.kind] + self.severity


def _low_check_in(facts: Facts) -> Flag | None:
    check_ins = facts.check_ins
    if not check_ins or not check_ins[0].low_items:
        return None
    start = 0
    while start + 1 < len(check_ins) and check_ins[start + 1].low_items:
        start += 1
    # The episode is named by the good check-in before the run, so a run longer than the
    # check-ins read keeps its name (and its acknowledgement).
    before = check_ins[start + 1].id if start + 1 < len(check_ins) \
        else facts.last_good_check_in_id
    latest = check_ins[0]
    severity = sum(LOW + 1 - score for _item, score in latest.low_items)
    return Flag(LOW_CHECK_IN, f"after:{before or 'none'}", severity, latest.on,
                {"items": latest.low_items, "check_in_on": latest.on})


def _drop_at(check_ins: list[CheckInFact], position: int) -> float | None:
    window = check_ins[position:position + 2 * TREND_WINDOW]
    if len(window) < 2 * TREND_WINDOW:
        return None
    recent = sum(c.mean for c in window[:TREND_WINDOW]) / TREND_WINDOW
    before = sum(c.mean for c in window[TREND_WINDOW:]) / TREND_WINDOW
    return before - recent


def _falling_trend(check_ins: list[CheckInFact]) -> Flag | None:
    drop = _drop_at(check_ins, 0)
    # A tiny tolerance so 1.0 computed as 0.9999999 still counts as a drop of 1.
    if drop is None or drop < TREND_DROP - 1e-9:
        return None
    start = 0
    while (following := _drop_at(check_ins, start + 1)) is not None \
            and following >= TREND_DROP - 1e-9:
        start += 1
    recent = sum(c.mean for c in check_ins[:TREND_WINDOW]) / TREND_WINDOW
    return Flag(FALLING_TREND, f"check_in:{check_ins[start].id}", round(drop * 10),
                check_ins[0].on,
                {"recent": round(recent, 1), "before": round(recent + drop, 1)})


def _every(due: date, today: date, every: int) -> int:
    """1 once overdue, one more for each further full period."""
    return 1 + (today - due).days // every


def _supervision_overdue(facts: Facts, today: date) -> Flag | None:
    start = facts.last_supervision or facts.since
    if start is None:
        return None
    due = date.fromordinal(start.toordinal() + facts.supervision_every_days)
    if today <= due:
        return None
    key = f"last:{facts.last_supervision.isoformat()}" if facts.last_supervision else "none"
    return Flag(SUPERVISION_OVERDUE, key, _every(due, today, facts.supervision_every_days), due,
                {"last": facts.last_supervision, "due": due,
                 "every": facts.supervision_every_days})


def _missed_check_in(facts: Facts, today: date) -> Flag | None:
    last = facts.check_ins[0].on if facts.check_ins else None
    start = last or facts.since
    if start is None:
        return None
    due = date.fromordinal(start.toordinal() + facts.check_in_every_days)
    if today <= due:
        return None
    key = f"last:{last.isoformat()}" if last else "none"
    return Flag(MISSED_CHECK_IN, key, _every(due, today, facts.check_in_every_days), due,
                {"last": last, "due": due, "every": facts.check_in_every_days})


def _answered(facts: Facts, item: CheckInFact) -> bool:
    """Whether supervision has been held since the check-in: on a later day, or the same day
    and written down after it."""
    last = facts.last_supervision
    if last is None or last < item.on:
        return False
    if last > item.on:
        return True
    recorded = facts.last_supervision_recorded_at
    return item.at is None or recorded is None or recorded >= item.at


def _wants_to_talk(facts: Facts) -> Flag | None:
    for item in facts.check_ins:  # newest first
        if _answered(facts, item):
            return None  # they have had supervision since asking
        if item.wants_to_talk:
            return Flag(WANTS_TO_TALK, f"check_in:{item.id}", 1, item.on,
                        {"check_in_on": item.on})
    return None


def _overdue_actions(facts: Facts, today: date) -> list[Flag]:
    out = []
    for action in facts.open_actions:
        if action.due_on is None or action.due_on >= today:
            continue
        kind = FOLLOW_UP_OVERDUE if action.follow_up else ACTION_OVERDUE
        out.append(Flag(kind, f"action:{action.id}",
                        _every(action.due_on, today, ACTION_WORSE_EVERY_DAYS), action.due_on,
                        {"description": action.description, "due": action.due_on}))
    return out


def _review_due(facts: Facts, today: date) -> Flag | None:
    if facts.deferred is None:
        return None
    sign_off_id, review_on, deferred_on = facts.deferred
    if today < review_on:
        return None
    return Flag(REVIEW_DUE, f"sign_off:{sign_off_id}", _every(review_on, today, 7), review_on,
                {"review_on": review_on, "deferred_on": deferred_on})


def compute(facts: Facts, today: date,
            acknowledgements: Iterable[FlagAcknowledgement] = ()) -> list[Flag]:
    """Every current flag for one trainee, most urgent first, with its acknowledgement."""
    found = [f for f in (_wants_to_talk(facts), _low_check_in(facts),
                         _falling_trend(facts.check_ins), _supervision_overdue(facts, today),
                         _missed_check_in(facts, today)) if f is not None]
    found += _overdue_actions(facts, today)
    review = _review_due(facts, today)
    if review is not None:
        found.append(review)
    latest: dict[tuple[str, str], FlagAcknowledgement] = {}
    for ack in sorted(acknowledgements, key=lambda a: (a.at, a.id or 0)):
        latest[(ack.kind, ack.key)] = ack
    for flag in found:
        ack = latest.get((flag.kind, flag.key))
        if ack is not None:
            flag.acknowledgement = ack
            flag.came_back = flag.severity > ack.severity
    found.sort(key=lambda f: (f.acknowledged, -f.urgency, f.on))
    return found


# --- loading facts in bulk ----------------------------------------------------------------


def _local_day(at: datetime, zone: ZoneInfo) -> date:
    return at.astimezone(zone).date()


def load_facts(session: Session, trainee_ids: Iterable[int],
               settings: Settings) -> dict[int, Facts]:
    """Facts for every trainee named, in seven queries whatever their number."""
    ids = sorted(set(trainee_ids))
    if not ids:
        return {}
    tz = ZoneInfo(settings.zone)
    every = supervisors.frequencies(session, ids,
                                    supervision_default=settings.supervision_every_days,
                                    check_in_default=settings.check_in_every_days)
    since = dict(session.execute(
        select(SupervisorAssignment.trainee_id, func.min(SupervisorAssignment.starts_on))
        .where(SupervisorAssignment.trainee_id.in_(ids))
        .group_by(SupervisorAssignment.trainee_id)).all())
    facts = {t: Facts(t, every[t].supervision_days, every[t].check_in_days, since.get(t))
             for t in ids}
    for trainee_id, (held_on, recorded_at) in supervision.last_supervision(session,
                                                                          ids).items():
        facts[trainee_id].last_supervision = held_on
        facts[trainee_id].last_supervision_recorded_at = recorded_at
    score_columns = [getattr(CheckIn, i) for i in ITEMS]
    # The columns are ranked with the rows, not joined back to the table by id afterwards:
    # PostgreSQL answered that join by scanning every check-in of the programme (112,000
    # rows: 19 ms against 0.9 for the index on trainee and time alone).
    ranked = select(CheckIn.id, CheckIn.trainee_id, CheckIn.at, CheckIn.wants_to_talk,
                    *score_columns, func.row_number().over(
                        partition_by=CheckIn.trainee_id,
                        order_by=(CheckIn.at.desc(), CheckIn.id.desc())).label("n")) \
        .where(CheckIn.trainee_id.in_(ids)).subquery()
    # Plain rows, not model instances: sixty supervisees bring hundreds of check-ins. Their
    # fields are unpacked, not read by name (slow on a SQLAlchemy row).
    for check_in_id, trainee_id, at, wants_to_talk, *scores in session.execute(
            select(ranked.c.id, ranked.c.trainee_id, ranked.c.at, ranked.c.wants_to_talk,
                   *[ranked.c[i] for i in ITEMS])
            .where(ranked.c.n <= CHECK_INS_KEPT)
            .order_by(ranked.c.trainee_id, ranked.c.at.desc(), ranked.c.id.desc())):
        facts[trainee_id].check_ins.append(CheckInFact(
            check_in_id, _local_day(at, tz), dict(zip(ITEMS, scores, strict=True)),
            wants_to_talk, at))
    good = select(CheckIn.id, CheckIn.trainee_id, func.row_number().over(
        partition_by=CheckIn.trainee_id,
        order_by=(CheckIn.at.desc(), CheckIn.id.desc())).label("n")) \
        .where(CheckIn.trainee_id.in_(ids), *[c > LOW for c in score_columns]).subquery()
    for check_in_id, trainee_id in session.execute(
            select(good.c.id, good.c.trainee_id).where(good.c.n == 1)):
        facts[trainee_id].last_good_check_in_id = check_in_id
    for trainee_id, action in supervision.open_actions(session, ids):
        facts[trainee_id].open_actions.append(
            ActionFact(action.id, action.description, action.due_on))
    latest: dict[int, SignOff] = {}
    for sign_off in session.scalars(select(SignOff).where(SignOff.trainee_id.in_(ids))
                                    .order_by(SignOff.created_at, SignOff.id)):
        latest[sign_off.trainee_id] = sign_off
    for trainee_id, sign_off in latest.items():
        if sign_off.decision == "defer" and sign_off.review_on is not None:
            facts[trainee_id].deferred = (sign_off.id, sign_off.review_on,
                                          _local_day(sign_off.created_at, tz))
    for trainee_id, action in debriefs.open_follow_ups(session, ids):
        facts[trainee_id].open_actions.append(
            ActionFact(action.id, action.description, action.due_on, follow_up=True))
    return facts


def acknowledgements(session: Session, trainee_ids: Iterable[int], by_id: int | None = None
                     ) -> dict[int, list[FlagAcknowledgement]]:
    """Each trainee's acknowledgements, oldest first; with ``by_id``, only that supervisor's
    (a new supervisor starts from the flags, not from their predecessor's decisions)."""
    ids = sorted(set(trainee_ids))
    out: dict[int, list[FlagAcknowledgement]] = {t: [] for t in ids}
    if ids:
        query = select(FlagAcknowledgement).where(FlagAcknowledgement.trainee_id.in_(ids))
        if by_id is not None:
            query = query.where(FlagAcknowledgement.by_id == by_id)
        for ack in session.scalars(
                query
                .options(selectinload(FlagAcknowledgement.by))
                .order_by(FlagAcknowledgement.at, FlagAcknowledgement.id)):
            out[ack.trainee_id].append(ack)
    return out


@dataclass
class SuperviseeFlags:
    person: Person
    flags: list[Flag]

    @property
    def open_flags(self) -> list[Flag]:
        return [f for f in self.flags if not f.acknowledged]

    @property
    def urgency(self) -> int:
        return max((f.urgency for f in self.open_flags), default=0)


def for_trainees(session: Session, people: list[Person], today: date, settings: Settings,
                 viewer_id: int | None = None) -> list[SuperviseeFlags]:
    """Each person with their flags, the one who needs attention first at the top; with
    ``viewer_id``, acknowledged only by that supervisor."""
    facts = load_facts(session, [p.id for p in people], settings)
    acks = acknowledgements(session, facts, by_id=viewer_id)
    rows = [SuperviseeFlags(p, compute(facts[p.id], today, acks[p.id])) for p in people]
    rows.sort(key=lambda r: (-r.urgency, -len(r.open_flags),
                             min((f.on for f in r.open_flags), default=today),
                             r.person.name.casefold(), r.person.id))
    return rows


def dashboard(session: Session, supervisor_id: int, today: date,
              settings: Settings) -> list[SuperviseeFlags]:
    """The supervisor's current supervisees by urgency. A fixed number of queries."""
    return for_trainees(session, supervisors.supervisees(session, supervisor_id, today), today,
                        settings, viewer_id=supervisor_id)


def acknowledge(session: Session, supervisor: Person, trainee: Person, kind: str, key: str,
                note: str, today: date, settings: Settings, *,
                now: datetime | None = None) -> FlagAcknowledgement:
    """Acknowledge a current flag of a current supervisee, keeping the severity seen.

    Acknowledging the same flag at the same severity again returns the first acknowledgement
    (a double-click), so the history holds one row per decision."""
    note = (note or "").strip()
    if not supervisors.is_current_supervisor(session, supervisor.id, trainee.id, today):
        raise ServiceError(_l("This person is not one of your supervisees."))
    if len(note) > 2000:
        raise ServiceError(_l("Keep the note under 2,000 characters."), "note")
    if not note:
        raise ServiceError(_l("Write a note: what you did or decided about this flag."), "note")
    flag = find(session, trainee.id, kind, key, today, settings, viewer_id=supervisor.id)
    if flag is None:
        raise ServiceError(_l("This flag has already cleared, so there is nothing to "
                              "acknowledge."))
    if flag.acknowledged:
        return flag.acknowledgement
    ack = FlagAcknowledgement(trainee_id=trainee.id, kind=kind, key=key,
                              severity=flag.severity, note=note, by_id=supervisor.id,
                              at=now or utcnow())
    session.add(ack)
    session.flush()
    return ack


def for_trainee(session: Session, trainee_id: int, today: date, settings: Settings,
                viewer_id: int | None = None) -> list[Flag]:
    facts = load_facts(session, [trainee_id], settings)[trainee_id]
    acks = acknowledgements(session, [trainee_id], by_id=viewer_id)[trainee_id]
    return compute(facts, today, acks)


def find(session: Session, trainee_id: int, kind: str, key: str, today: date,
         settings: Settings, viewer_id: int | None = None) -> Flag | None:
    return next((f for f in for_trainee(session, trainee_id, today, settings, viewer_id)
                 if f.kind == kind and f.key == key), None)
