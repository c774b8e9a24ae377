"""Is this peer supporter ready to work with clients? One explained answer, against the
curriculum's current standards policy (``lms.services.standards``).

Each criterion says met or not, the evidence (figures, dates, records) and what is missing, as
``Todo`` items a template turns into sentences a trainee understands ("Attend 3 more hours of
training", "Make up the session on boundaries of 12 March"). The criteria:

* attendance: the percentage of counted training time (``lms.services.attendance``), compared
  unrounded with the policy's minimum;
* core sessions: every core session attended or made up (when the policy asks for it);
* quizzes: each named core module's quiz passed (at the policy's pass mark, else the quiz's
  own), the pass no older than ``valid_for_months``;
* agreements: the current version of each agreement signed;
* supervision: at least so many sessions and hours of supervision;
* competencies: each observed competency's latest rating reaches the rating required.

A whole cohort is evaluated in a fixed number of queries (``cohort_readiness``); the grid's
"behind", the trainee's pages and the supervisor's readiness page all read this module.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    Date,
    Float,
    Integer,
    Select,
    String,
    bindparam,
    cast,
    func,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import Session, defer, joinedload

from lms.models import (
    Agreement,
    AgreementSignature,
    Attempt,
    Cohort,
    CompetencyRating,
    Enrolment,
    Module,
    Person,
    SignOff,
    StandardsPolicy,
    SupervisionAttendee,
    SupervisionRecord,
)
from lms.models._types import UTCDateTime, utcnow
from lms.services import attendance as attendance_rules
from lms.services import standards
from lms.services.attendance import TraineeAttendance
from lms.services.content_cache import content
from lms.services.standards import Policy

ATTENDANCE = "attendance"
CORE_SESSIONS = "core_sessions"
QUIZZES = "quizzes"
AGREEMENTS = "agreements"
SUPERVISION = "supervision"
COMPETENCIES = "competencies"
CRITERIA = (ATTENDANCE, CORE_SESSIONS, QUIZZES, AGREEMENTS, SUPERVISION, COMPETENCIES)


@dataclass(frozen=True)
class Todo:
    """One thing left to do; ``kind`` picks the sentence, ``params`` fill it."""

    kind: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class Criterion:
    key: str
    met: bool
    evidence: dict[str, Any] = field(default_factory=dict)
    todo: list[Todo] = field(default_factory=list)


@dataclass
class Readiness:
    person: Person
    cohort: Cohort
    policy: StandardsPolicy | None
    criteria: list[Criterion]
    latest_sign_off: SignOff | None = None
    withdrawn: bool = False

    @property
    def ready(self) -> bool:
        return self.policy is not None and all(c.met for c in self.criteria)

    @property
    def done(self) -> int:
        return sum(1 for c in self.criteria if c.met)

    @property
    def todo(self) -> list[Todo]:
        return [t for c in self.criteria for t in c.todo]

    def criterion(self, key: str) -> Criterion | None:
        return next((c for c in self.criteria if c.key == key), None)

    def snapshot(self) -> dict[str, Any]:
        """The evidence as plain JSON, for a sign-off to keep whatever changes later."""
        return {"policy_id": self.policy.id if self.policy else None,
                "policy_number": self.policy.number if self.policy else None,
                "ready": self.ready,
                "criteria": [{"key": c.key, "met": c.met, "evidence": _plain(c.evidence),
                              "todo": [{"kind": t.kind, "params": _plain(t.params)}
                                       for t in c.todo]} for c in self.criteria]}


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


# --- the criteria, pure -------------------------------------------------------------------------


def attendance_met(att: TraineeAttendance | None, policy: Policy) -> bool:
    """At or above the minimum, compared unrounded (79.96% is below 80%)."""
    if policy.minimum_attendance_percent <= 0:
        return True
    return att is not None and att.percentage is not None \
        and att.percentage >= policy.minimum_attendance_percent


def _attendance(att: TraineeAttendance | None, policy: Policy) -> list[Criterion]:
    minimum = policy.minimum_attendance_percent
    evidence = {"percent": att.percentage if att else None,
                "attended_minutes": att.attended_minutes if att else 0,
                "scheduled_minutes": att.scheduled_minutes if att else 0,
                "excused_minutes": att.excused_minutes if att else 0,
                "minimum_percent": minimum}
    met = attendance_met(att, policy)
    todo: list[Todo] = []
    if not met:
        if att is None or att.percentage is None:
            todo.append(Todo("attend_sessions"))
        else:
            # Minutes to reach the minimum if no more sessions were held.
            needed = math.ceil(minimum * att.scheduled_minutes / 100 - att.attended_minutes)
            todo.append(Todo("attend_minutes", {"minutes": max(needed, 1),
                                                "minimum_percent": minimum}))
    out = [Criterion(ATTENDANCE, met, evidence, todo)]
    if policy.core_sessions_required:
        missed = list(att.core_missed) if att else []
        out.append(Criterion(
            CORE_SESSIONS, not missed,
            {"made_up": [{"title": s.title, "on": s.on_date, "id": s.id}
                         for s in (att.core_made_up if att else [])],
             "missed": [{"title": s.title, "on": s.on_date, "id": s.id} for s in missed]},
            [Todo("make_up", {"title": s.title, "on": s.on_date, "session_id": s.id})
             for s in missed]))
    return out


def _months_before(day: date, months: int) -> date:
    """The same day ``months`` earlier, or that month's last day (31 Dec - 1 -> 30 Nov)."""
    return standards.add_months(day, -months)


@dataclass(frozen=True)
class QuizPass:
    score: float
    on: date


def _quizzes(modules: list[Module], passes: dict[int, list[QuizPass]], policy: Policy,
             today: date) -> Criterion:
    fresh_from = _months_before(today, policy.quiz_valid_for_months) \
        if policy.quiz_valid_for_months else None
    evidence: list[dict] = []
    todo: list[Todo] = []
    for module in modules:
        quiz_passes = passes.get(module.id, [])
        fresh = [p for p in quiz_passes if fresh_from is None or p.on >= fresh_from]
        best = max(fresh, key=lambda p: (p.score, p.on)) if fresh else None
        stale = max(quiz_passes, key=lambda p: p.on) if quiz_passes and not fresh else None
        evidence.append({"module": module.title, "slug": module.slug,
                         "score": best.score if best else None,
                         "on": best.on if best else None,
                         "stale_on": stale.on if stale else None})
        if best is None:
            todo.append(Todo("retake_stale" if stale else "pass_quiz",
                             {"title": module.title, "slug": module.slug,
                              "passed_on": stale.on if stale else None,
                              "months": policy.quiz_valid_for_months}))
    return Criterion(QUIZZES, not todo, {"modules": evidence,
                                         "valid_for_months": policy.quiz_valid_for_months},
                     todo)


def _agreements(policy: Policy, current: dict[str, Agreement],
                signed: dict[str, tuple[int, datetime]]) -> Criterion:
    """``signed``: key -> (version number signed most recently, when)."""
    evidence: list[dict] = []
    todo: list[Todo] = []
    for key in policy.agreements:
        agreement = current.get(key)
        mine = signed.get(key)
        title = agreement.title if agreement else key
        up_to_date = agreement is not None and mine is not None and mine[0] == agreement.number
        evidence.append({"key": key, "title": title,
                         "signed_version": mine[0] if mine else None,
                         "signed_at": mine[1] if mine else None,
                         "current_version": agreement.number if agreement else None})
        if not up_to_date:
            todo.append(Todo("sign_new_version" if mine else "sign",
                             {"key": key, "title": title}))
    return Criterion(AGREEMENTS, not todo, {"agreements": evidence}, todo)


def _supervision(policy: Policy, sessions: int, minutes: int) -> Criterion:
    needed_sessions = max(0, policy.minimum_supervision_sessions - sessions)
    needed_minutes = max(0, math.ceil(policy.minimum_supervision_hours * 60) - minutes)
    todo = []
    if needed_sessions:
        todo.append(Todo("supervision_sessions", {"count": needed_sessions}))
    if needed_minutes:
        todo.append(Todo("supervision_minutes", {"minutes": needed_minutes}))
    return Criterion(SUPERVISION, not todo,
                     {"sessions": sessions, "minutes": minutes,
                      "minimum_sessions": policy.minimum_supervision_sessions,
                      "minimum_hours": policy.minimum_supervision_hours}, todo)


def _competencies(policy: Policy, latest: dict[str, Any]) -> Criterion:
    evidence: list[dict] = []
    todo: list[Todo] = []
    for competency in policy.competencies:
        rating = latest.get(competency.key)
        evidence.append({"key": competency.key, "title": competency.title,
                         "required": competency.required,
                         "rating": rating.rating if rating else None,
                         "observed_on": rating.observed_on if rating else None,
                         "rating_id": rating.id if rating else None})
        if not standards.rating_meets(rating.rating if rating else None, competency.required):
            todo.append(Todo("competency", {"key": competency.key, "title": competency.title,
                                            "required": competency.required,
                                            "rating": rating.rating if rating else None}))
    return Criterion(COMPETENCIES, not todo, {"competencies": evidence}, todo)


# --- loading in bulk ------------------------------------------------------------------------


def _evaluate(session: Session, cohort: Cohort, enrolments: list[Enrolment],
              attendance: dict[int, TraineeAttendance], today: date,
              whose: _Whose) -> list[Readiness]:
    """Readiness of these enrolments in ``cohort``: a fixed number of queries. ``whose``
    names the same trainees to the database: the cohort's, or one trainee."""
    if not enrolments:
        return []
    known = content(session)
    policy_row = known.policy(cohort.curriculum_id)
    if policy_row is None:
        latest_sign_offs = _latest_sign_offs(session, whose, cohort.curriculum_id)
        return [Readiness(e.person, cohort, None, [], latest_sign_offs.get(e.person_id),
                          e.is_withdrawn) for e in enrolments]
    policy = Policy.from_rules(policy_row.rules)
    modules = [m for m in (known.module(slug) for slug in policy.quiz_modules)
               if m is not None and m.curriculum_id == cohort.curriculum_id]
    found = _evidence(session, whose, cohort.curriculum_id, modules, policy)
    # Loaded only when the evidence found some, by the same trainees, not by a list of ids.
    latest_sign_offs = _latest_sign_offs(session, whose, cohort.curriculum_id) \
        if found.latest_sign_off_ids else {}
    current_agreements = {a.key: a for a in known.agreements(cohort.curriculum_id)}
    out = []
    for e in enrolments:
        pid = e.person_id
        criteria = _attendance(attendance.get(pid), policy)
        criteria.append(_quizzes(modules, found.passes.get(pid, {}), policy, today))
        criteria.append(_agreements(policy, current_agreements, found.signed.get(pid, {})))
        criteria.append(_supervision(policy, *found.supervised.get(pid, (0, 0))))
        criteria.append(_competencies(policy, found.ratings.get(pid, {})))
        out.append(Readiness(e.person, cohort, policy_row, criteria,
                             latest_sign_offs.get(pid), e.is_withdrawn))
    return out


# The statements readiness runs for every trainee page that shows it (the dashboard among them)
# are built once: building a statement and its cache key cost more than running it. The
# values are bound per call.
_CURRICULUM = bindparam("curriculum_id")

# Whose evidence: a cohort's trainees, named by the cohort (the database finds its members: a
# list of 200 ids bound five times made a statement of 1,000 parameters that the driver parsed
# again on every call, a third of the evidence's time on PostgreSQL), or one trainee.
COHORT, TRAINEE = "cohort", "trainee"
_OF = {COHORT: lambda person: person.in_(
           select(Enrolment.person_id).where(Enrolment.cohort_id == bindparam("cohort_id"))),
       TRAINEE: lambda person: person == bindparam("person_id")}


class _Whose(NamedTuple):
    """The trainees a readiness statement reads: ``COHORT`` with the cohort's id, or
    ``TRAINEE`` with the person's."""

    scope: str
    id: int

    def values(self) -> dict[str, int]:
        return {"cohort_id" if self.scope == COHORT else "person_id": self.id}


# Five kinds of evidence come back in one statement (UNION ALL), as rows of one shape: on
# PostgreSQL each statement is a round trip, and a trainee's dashboard shows readiness. The
# fifth, each trainee's latest sign-off, is only an id: the sign-offs load when there are any.
_PASS_ROW, _SIGNATURE_ROW, _SUPERVISION_ROW, _RATING_ROW, _SIGN_OFF_ROW = 1, 2, 3, 4, 5
_TYPES = {"number": Integer(), "amount": Integer(), "key": String(), "label": String(),
          "score": Float(), "at": UTCDateTime(), "on": Date()}


def _evidence_row(kind: int, person: Any, **values: Any) -> list[Any]:
    """The columns of one kind's rows: (kind, person, number, amount, key, label, score, at,
    on), those it does not use as typed NULLs (PostgreSQL types each column of a union)."""
    return [literal_column(str(kind), Integer()).label("kind"), person.label("person")] + [
        (values[name] if name in values else cast(null(), type_)).label(name)
        for name, type_ in _TYPES.items()]


def _ranked_sign_offs(of: Any) -> Any:
    """The trainees' sign-offs of the curriculum, each trainee's latest ranked 1."""
    return select(SignOff.id, func.row_number().over(
        partition_by=SignOff.trainee_id,
        order_by=(SignOff.created_at.desc(), SignOff.id.desc())).label("rank")).where(
        of(SignOff.trainee_id), SignOff.curriculum_id == _CURRICULUM).subquery()


def _evidence_statements(of: Any) -> dict[bool, Select]:
    """The evidence of the trainees ``of`` picks, by whether the policy sets a pass mark."""

    def passes(where: Any) -> Select:
        # A pass: at least the policy's pass mark when it sets one, else the quiz's own
        # verdict. The database leaves the rest out (a cohort's failed attempts are never read).
        return select(*_evidence_row(_PASS_ROW, Attempt.person_id, number=Attempt.quiz_id,
                                     score=Attempt.score, at=Attempt.submitted_at)).where(
            of(Attempt.person_id),
            Attempt.quiz_id.in_(bindparam("quiz_ids", expanding=True)),
            Attempt.submitted_at.is_not(None), where)

    # The latest observed counts, not the latest typed in (a back-filled old observation
    # does not undo a newer one).
    ranked_ratings = select(
        CompetencyRating.id, CompetencyRating.trainee_id, CompetencyRating.competency,
        CompetencyRating.rating, CompetencyRating.observed_on,
        func.row_number().over(
            partition_by=(CompetencyRating.trainee_id, CompetencyRating.competency),
            order_by=(CompetencyRating.observed_on.desc(), CompetencyRating.created_at.desc(),
                      CompetencyRating.id.desc())).label("rank"),
    ).where(of(CompetencyRating.trainee_id),
            CompetencyRating.curriculum_id == _CURRICULUM).subquery()
    ranked_sign_offs = _ranked_sign_offs(of)
    other_evidence = (
        # Signatures of this curriculum's agreements (every version: the latest is kept).
        select(*_evidence_row(_SIGNATURE_ROW, AgreementSignature.person_id,
                              number=Agreement.number, key=Agreement.key,
                              at=AgreementSignature.signed_at))
        .join(Agreement, Agreement.id == AgreementSignature.agreement_id)
        .where(of(AgreementSignature.person_id), Agreement.curriculum_id == _CURRICULUM),
        # Supervision: sessions attended and their minutes.
        select(*_evidence_row(_SUPERVISION_ROW, SupervisionAttendee.trainee_id,
                              number=func.count(SupervisionRecord.id),
                              amount=func.coalesce(func.sum(SupervisionRecord.duration_minutes),
                                                   0)))
        .join(SupervisionRecord, SupervisionRecord.id == SupervisionAttendee.record_id)
        .where(of(SupervisionAttendee.trainee_id))
        .group_by(SupervisionAttendee.trainee_id),
        # Each competency's latest rating: the database picks it, older ones are never loaded.
        select(*_evidence_row(_RATING_ROW, ranked_ratings.c.trainee_id,
                              number=ranked_ratings.c.id, key=ranked_ratings.c.competency,
                              label=ranked_ratings.c.rating, on=ranked_ratings.c.observed_on))
        .where(ranked_ratings.c.rank == 1),
        # Each trainee's latest sign-off, by id: most trainees have none, and then no
        # statement loads any (``_latest_sign_offs``).
        select(*_evidence_row(_SIGN_OFF_ROW, SignOff.trainee_id, number=SignOff.id))
        .join(ranked_sign_offs, ranked_sign_offs.c.id == SignOff.id)
        .where(ranked_sign_offs.c.rank == 1),
    )
    # The passes come first: a union's columns take their types from its first SELECT.
    return {True: union_all(passes(Attempt.score >= bindparam("pass_mark")), *other_evidence),
            False: union_all(passes(Attempt.passed.is_(True)), *other_evidence)}


# By scope, then by whether the policy sets a pass mark.
_EVIDENCE = {scope: _evidence_statements(of) for scope, of in _OF.items()}


class LatestRating(NamedTuple):
    """A trainee's latest rating of one competency (a plain tuple: a cohort's readiness reads
    thousands of these fields, and a SQLAlchemy row is slow to read by field name)."""

    id: int
    rating: str
    observed_on: date


@dataclass
class _Evidence:
    """What readiness judges besides attendance, per trainee id."""

    passes: dict[int, dict[int, list[QuizPass]]] = field(default_factory=dict)  # by module
    signed: dict[int, dict[str, tuple[int, datetime]]] = field(default_factory=dict)
    supervised: dict[int, tuple[int, int]] = field(default_factory=dict)  # (sessions, minutes)
    ratings: dict[int, dict[str, LatestRating]] = field(default_factory=dict)
    latest_sign_off_ids: dict[int, int] = field(default_factory=dict)


def _evidence(session: Session, whose: _Whose, curriculum_id: int, modules: list[Module],
              policy: Policy) -> _Evidence:
    """Quiz passes, agreement signatures, supervision totals, latest competency ratings and
    the ids of the latest sign-offs of these trainees, in one query."""
    found = _Evidence()
    quiz_module = {m.quiz.id: m.id for m in modules if m.quiz is not None}
    values: dict[str, Any] = {**whose.values(), "quiz_ids": list(quiz_module),
                              "curriculum_id": curriculum_id}
    by_mark = policy.pass_mark is not None
    if by_mark:
        values["pass_mark"] = policy.pass_mark
    statement = _EVIDENCE[whose.scope][by_mark]
    signatures = []
    for kind, person, number, amount, key, label, score, at, on in session.execute(
            statement, values):
        if kind == _PASS_ROW:
            found.passes.setdefault(person, {}).setdefault(quiz_module[number], []).append(
                QuizPass(score, at.date()))
        elif kind == _SIGNATURE_ROW:
            signatures.append((number, person, key, at))
        elif kind == _SUPERVISION_ROW:
            found.supervised[person] = (int(number), int(amount))
        elif kind == _SIGN_OFF_ROW:
            found.latest_sign_off_ids[person] = number
        else:
            found.ratings.setdefault(person, {})[key] = LatestRating(number, label, on)
    for number, person, key, at in sorted(signatures, key=lambda s: s[0]):
        found.signed.setdefault(person, {})[key] = (number, at)  # the latest version wins
    return found


# Without the evidence (the readiness snapshot judged at the time, about 2 KB of JSON each):
# readiness shows a sign-off's decision, date, reasons and plan, and a cohort's report would
# otherwise parse 200 snapshots it never shows. Read, it loads then.
def _latest_sign_offs_statement(of: Any) -> Select:
    ranked = _ranked_sign_offs(of)
    return select(SignOff).join(ranked, ranked.c.id == SignOff.id).where(
        ranked.c.rank == 1).options(defer(SignOff.evidence))


_LATEST_SIGN_OFFS = {scope: _latest_sign_offs_statement(of) for scope, of in _OF.items()}


def _latest_sign_offs(session: Session, whose: _Whose, curriculum_id: int
                      ) -> dict[int, SignOff]:
    """Each trainee's latest sign-off; the database picks it (earlier ones, with their
    evidence, are never loaded)."""
    return {sign_off.trainee_id: sign_off for sign_off in session.scalars(
        _LATEST_SIGN_OFFS[whose.scope], {**whose.values(), "curriculum_id": curriculum_id})}


def cohort_readiness(session: Session, cohort: Cohort, *, today: date,
                     now: datetime | None = None) -> list[Readiness]:
    """Every trainee of the cohort, by name. A fixed number of queries, whatever its size."""
    # The people joined in the same statement: loaded apart, by a list of their ids, 200
    # trainees made a statement of 200 parameters, which psycopg parses afresh on each call.
    enrolments = sorted(session.scalars(
        select(Enrolment).where(Enrolment.cohort_id == cohort.id)
        .options(joinedload(Enrolment.person, innerjoin=True).lazyload(Person.role_rows))),
        key=lambda e: (e.person.name.casefold(), e.person_id))
    enrolled = [(e.person_id, e.enrolled_on, e.withdrawn_on) for e in enrolments]
    attendance = attendance_rules.cohort_attendance(session, cohort, now or utcnow(),
                                                    with_lines=False, enrolled=enrolled)
    return _evaluate(session, cohort, enrolments, attendance, today, _Whose(COHORT, cohort.id))


def trainee_readiness(session: Session, person_id: int, *, today: date,
                      now: datetime | None = None,
                      enrolled: list[tuple[Enrolment, TraineeAttendance]] | None = None,
                      ) -> list[Readiness]:
    """The trainee's readiness in each cohort they are enrolled in. ``enrolled``: their
    enrolments with attendance (``attendance.enrolment_attendance``) when the caller has them."""
    if enrolled is None:
        enrolled = attendance_rules.enrolment_attendance(session, person_id, now or utcnow())
    out: list[Readiness] = []
    # ``enrolment.person`` is the person already in the session (no query).
    for enrolment, attended in enrolled:
        out += _evaluate(session, enrolment.cohort, [enrolment], {person_id: attended}, today,
                         _Whose(TRAINEE, person_id))
    return out


def readiness_in(session: Session, cohort: Cohort, person_id: int, *, today: date,
                 now: datetime | None = None) -> Readiness | None:
    """One trainee's readiness in one cohort (the supervisor's readiness page)."""
    return next((r for r in trainee_readiness(session, person_id, today=today, now=now)
                 if r.cohort.id == cohort.id), None)


def ready_counts(rows: Iterable[Readiness]) -> dict[str, int]:
    rows = list(rows)
    return {"ready": sum(1 for r in rows if r.ready and not r.withdrawn),
            "not_ready": sum(1 for r in rows if not r.ready and not r.withdrawn),
            "withdrawn": sum(1 for r in rows if r.withdrawn)}
