"""Self-care check-ins: five items on a 1 to 5 scale where 5 is always the good end, an
optional note, and "I would like to talk to my supervisor".

A check-in belongs to the trainee. Their current supervisor sees it (``for_supervisor``);
trainers and admins see only that one happened, and when (``last_check_in_dates``), never its
scores or note. Every read of a non-empty note by anyone but the trainee is logged
(``log_note_reads``). Days are days in the programme's zone (``LMS_TIMEZONE``), the same
days the supervisor's flags use.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from lms.models import CheckIn, Person
from lms.models._types import utcnow
from lms.models.people import TRAINEE
from lms.services import audit, supervisors
from lms.services.errors import ServiceError, _l

MAX_NOTE = 2000
LOWEST, HIGHEST = 1, 5
# A second identical check-in this soon after the first is a double click, not news.
DOUBLE_SUBMIT_WINDOW = timedelta(minutes=2)

DUE, OVERDUE, NOT_YET = "due", "overdue", "not yet"


@dataclass(frozen=True)
class Item:
    """One question of the check-in. ``key`` is the CheckIn column; ``low`` and ``high`` name
    the ends of the scale (1 and 5); ``short`` names it in charts and tables."""

    key: str
    question: str
    short: str
    low: str
    high: str


# 5 is always the good end, so "stress" is asked as calm and "workload" as manageable: a low
# figure always means the same thing, on the form, the chart and the supervisor's flags.
ITEMS: tuple[Item, ...] = (
    Item("mood", _l("How is your mood?"), _l("Mood"), _l("Very low"), _l("Very good")),
    Item("calm", _l("How calm do you feel?"), _l("Calm"), _l("Very stressed"),
         _l("Very calm")),
    Item("manageable", _l("How manageable is your workload?"), _l("Workload"),
         _l("Too much"), _l("Easy to manage")),
    Item("sleep", _l("How well are you sleeping?"), _l("Sleep"), _l("Very badly"),
         _l("Very well")),
    Item("supported", _l("How supported do you feel?"), _l("Support"), _l("Not at all"),
         _l("Very much")),
)
ITEM_KEYS: tuple[str, ...] = tuple(item.key for item in ITEMS)


class CheckInError(ServiceError):
    """A check-in that cannot be recorded or shown; the problems say why."""


def scores_of(check_in: CheckIn) -> dict[str, int]:
    """The check-in's five figures by item key, in ``ITEMS`` order."""
    return {key: getattr(check_in, key) for key in ITEM_KEYS}


def _valid_score(value: object) -> bool:
    # bool is an int to Python, but True is not an answer to "how is your mood?".
    return isinstance(value, int) and not isinstance(value, bool) and \
        LOWEST <= value <= HIGHEST


def _clean_note(note: str | None) -> str:
    return (note or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def record_check_in(session: Session, trainee: Person, *, scores: Mapping[str, int],
                    note: str, wants_to_talk: bool,
                    now: datetime | None = None) -> CheckIn:
    """Record a check-in, refusing with every problem at once (each item by its key, the note
    as ``note``). The same check-in sent again within two minutes (a double click, a resent
    form) returns the first one instead of adding a second."""
    now = now or utcnow()
    if not trainee.has_role(TRAINEE):
        raise CheckInError(_l("Only trainees keep self-care check-ins."))
    problems: dict[str | None, str] = {}
    for item in ITEMS:
        if not _valid_score(scores.get(item.key)):
            problems[item.key] = _l("Choose a number from 1 to 5.")
    unknown = sorted(set(scores) - set(ITEM_KEYS))
    if unknown:
        problems[None] = _l("The check-in has a question this version does not know: "
                            "reload the page and try again.")
    cleaned = _clean_note(note)
    if len(cleaned) > MAX_NOTE:
        problems["note"] = _l("Keep your note to %(max)d characters or fewer (it has %(n)d).",
                              max=MAX_NOTE, n=len(cleaned))
    if problems:
        raise CheckInError(problems=problems)

    values = {key: int(scores[key]) for key in ITEM_KEYS}
    latest = session.scalar(
        select(CheckIn).where(CheckIn.trainee_id == trainee.id,
                              CheckIn.at >= now - DOUBLE_SUBMIT_WINDOW, CheckIn.at <= now)
        .order_by(CheckIn.at.desc(), CheckIn.id.desc()).limit(1))
    if latest is not None and scores_of(latest) == values and latest.note == cleaned \
            and latest.wants_to_talk == bool(wants_to_talk):
        return latest
    check_in = CheckIn(trainee_id=trainee.id, at=now, note=cleaned,
                       wants_to_talk=bool(wants_to_talk), **values)
    session.add(check_in)
    session.flush()
    return check_in


def history(session: Session, trainee_id: int, limit: int = 52) -> list[CheckIn]:
    """The trainee's check-ins, newest first (a year of weekly ones by default). It logs
    nothing: a page that shows notes to someone else calls ``log_note_reads``."""
    return list(session.scalars(
        select(CheckIn).where(CheckIn.trainee_id == trainee_id)
        .order_by(CheckIn.at.desc(), CheckIn.id.desc()).limit(limit)))


def for_supervisor(session: Session, supervisor_id: int, trainee_id: int, today: date,
                   limit: int = 52) -> list[CheckIn]:
    """The trainee's check-ins for their supervisor, newest first. Refused unless the person
    is the trainee's supervisor today (a past supervisor sees no check-ins). The caller logs
    the notes it shows with ``log_note_reads``."""
    if not supervisors.is_current_supervisor(session, supervisor_id, trainee_id, today):
        raise CheckInError(_l("This person is not one of your supervisees."))
    return history(session, trainee_id, limit)


def log_note_reads(session: Session, actor_id: int, check_ins: Iterable[CheckIn], *,
                   now: datetime | None = None) -> int:
    """Log that ``actor_id`` was shown the note of each check-in that has one (nothing for
    the trainee's own, nothing for a check-in without a note). One insert. Returns how many
    reads were logged."""
    subjects = [audit.Subject(audit.CHECK_IN_NOTE, c.id, c.trainee_id, c.trainee_id)
                for c in check_ins if c.note.strip()]
    return audit.record_reads(session, actor_id, subjects, now=now)


def day_of(at: datetime, zone: str) -> date:
    """The day an instant falls on in ``zone``."""
    return at.astimezone(ZoneInfo(zone)).date()


# Built once: every trainee's dashboard runs it (see readiness's statements).
_LAST_CHECK_INS = select(CheckIn.trainee_id, func.max(CheckIn.at)).where(
    CheckIn.trainee_id.in_(bindparam("ids", expanding=True))).group_by(CheckIn.trainee_id)


def last_check_in_dates(session: Session, trainee_ids: Iterable[int],
                        zone: str = "UTC") -> dict[int, date]:
    """What staff may know: the day (in ``zone``: pass LMS_TIMEZONE) of each trainee's
    latest check-in (trainees who never checked in are left out). No scores, no notes.
    One query."""
    ids = list(set(trainee_ids))
    if not ids:
        return {}
    rows = session.execute(_LAST_CHECK_INS, {"ids": ids})
    # max() keeps the column's type, so each instant comes back UTC-aware on every backend.
    return {trainee_id: day_of(at, zone) for trainee_id, at in rows}


@dataclass(frozen=True)
class DueState:
    """When the next check-in is due. ``state`` is DUE (today, or never checked in),
    OVERDUE (since ``due_on``) or NOT_YET (due on ``due_on``)."""

    state: str
    due_on: date
    last_on: date | None
    every_days: int

    @property
    def is_due(self) -> bool:
        return self.state in (DUE, OVERDUE)


def due_state(last_on: date | None, *, every_days: int, today: date) -> DueState:
    """The pure rule: due ``every_days`` after the last check-in's day; due today if never."""
    if last_on is None:
        return DueState(DUE, today, None, every_days)
    due_on = last_on + timedelta(days=every_days)
    state = NOT_YET if today < due_on else DUE if today == due_on else OVERDUE
    return DueState(state, due_on, last_on, every_days)


def due_after(last_at: datetime | None, *, every_days: int, today: date,
              zone: str) -> DueState:
    """The next check-in after one made at ``last_at`` (None: never), counted from its day in
    ``zone``; for a caller that has the instant already (read with the log-in session)."""
    return due_state(None if last_at is None else day_of(last_at, zone),
                     every_days=every_days, today=today)


def next_due(session: Session, trainee_id: int, *, every_days: int, today: date,
             zone: str) -> DueState:
    """The trainee's next check-in, counted from the day (in ``zone``) of their latest."""
    last = last_check_in_dates(session, [trainee_id], zone).get(trainee_id)
    return due_state(last, every_days=every_days, today=today)


# --- the chart: geometry only; the markup is lms/templates/lms/trainee/_check_in_chart.html ---

CHART_WIDTH = 320
# One small chart per item, stacked: five lines crossing in one box cannot be read on a phone.
PANEL_TITLE = 20  # the item's name above its plot
PLOT_HEIGHT = 32  # from 1 to 5: 8 units a step
PANEL_GAP = 14
PANEL_HEIGHT = PANEL_TITLE + PLOT_HEIGHT + PANEL_GAP
PLOT_LEFT, PLOT_RIGHT = 22, 312  # room on the left for the 1 and 5 of the scale
AXIS_HEIGHT = 8  # the first and last dates under the panels


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y: float
    value: int
    low: bool  # 1 or 2: worth a second look


@dataclass(frozen=True)
class ChartPanel:
    """One item's small chart. ``top`` is where the panel starts; ``y_high`` and ``y_low`` are
    the plot's lines for 5 and 1."""

    key: str
    label: str
    top: float
    y_high: float
    y_mid: float
    y_low: float
    points: tuple[ChartPoint, ...]
    latest: int

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:g},{p.y:g}" for p in self.points)


@dataclass(frozen=True)
class ChartRow:
    """One check-in in the chart's table: its day and its five figures in ``ITEMS`` order."""

    on: date
    values: tuple[int, ...]


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    right: int
    axis_y: float
    panels: tuple[ChartPanel, ...]
    rows: tuple[ChartRow, ...]  # oldest first, as the chart reads
    items: tuple[Item, ...] = ITEMS

    @property
    def first_on(self) -> date:
        return self.rows[0].on

    @property
    def last_on(self) -> date:
        return self.rows[-1].on

    @property
    def latest(self) -> tuple[tuple[Item, int], ...]:
        return tuple(zip(self.items, self.rows[-1].values, strict=True))


def chart_points(check_ins: Sequence[CheckIn], *, zone: str = "UTC") -> Chart | None:
    """Where each figure goes in the check-in chart (SVG user units), oldest on the left and
    spaced by time so a gap shows as a gap; None without check-ins. Pure: no database."""
    ordered = sorted(check_ins, key=lambda c: (c.at, c.id or 0))
    if not ordered:
        return None
    start, end = ordered[0].at, ordered[-1].at
    span = (end - start).total_seconds()
    width = PLOT_RIGHT - PLOT_LEFT

    def x_of(at: datetime) -> float:
        if span <= 0:  # one check-in (or several at once): at the right, where "now" is
            return float(PLOT_RIGHT)
        return round(PLOT_LEFT + (at - start).total_seconds() / span * width, 1)

    xs = [x_of(c.at) for c in ordered]
    step = PLOT_HEIGHT / (HIGHEST - LOWEST)
    panels = []
    for index, item in enumerate(ITEMS):
        top = index * PANEL_HEIGHT
        y_high = top + PANEL_TITLE

        def y_of(value: int, y_high: float = y_high) -> float:
            return round(y_high + (HIGHEST - value) * step, 1)

        values = [getattr(c, item.key) for c in ordered]
        panels.append(ChartPanel(
            key=item.key, label=str(item.short), top=top, y_high=y_of(HIGHEST),
            y_mid=y_of((HIGHEST + LOWEST) // 2), y_low=y_of(LOWEST),
            points=tuple(ChartPoint(x, y_of(v), v, v <= 2) for x, v in zip(xs, values,
                                                                          strict=True)),
            latest=values[-1]))
    body = PANEL_HEIGHT * len(ITEMS)
    return Chart(width=CHART_WIDTH, height=body + AXIS_HEIGHT, left=PLOT_LEFT,
                 right=PLOT_RIGHT, axis_y=body + AXIS_HEIGHT - 2, panels=tuple(panels),
                 rows=tuple(ChartRow(day_of(c.at, zone), tuple(scores_of(c).values()))
                            for c in ordered))
