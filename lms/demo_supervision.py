"""Demo supervision: three supervisees with four months of records, so that every kind of
flag shows on the demo supervisor's dashboard (one of them already acknowledged), and some
readiness evidence (an agreement signed, ratings, a deferral).

Thandi: a falling trend, a low check-in and "would like to talk". Amina: supervision overdue,
a missed check-in and an agreed action past its date. Ben: a debrief follow-up past its date
and a low check-in the supervisor has acknowledged.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.models import (
    AgreedAction,
    Agreement,
    AgreementSignature,
    CheckIn,
    Debrief,
    Enrolment,
    Person,
    SupervisionAttendee,
    SupervisionRecord,
)
from lms.services import flags, sign_offs, standards, supervisors

GOOD = (4, 4, 4, 4, 4)
ITEMS = ("mood", "calm", "manageable", "sleep", "supported")


def _check_in(person: Person, on: date, scores: tuple[int, ...], note: str = "",
              talk: bool = False) -> CheckIn:
    return CheckIn(trainee_id=person.id, at=datetime.combine(on, time(18, 0), tzinfo=UTC),
                   note=note, wants_to_talk=talk, **dict(zip(ITEMS, scores, strict=True)))


def _record(supervisor: Person, person: Person, on: date, topics: list[str], notes: str,
            actions: list[tuple[str, Person | None, date, date | None]] = ()
            ) -> SupervisionRecord:
    record = SupervisionRecord(author_id=supervisor.id, held_on=on, duration_minutes=45,
                               kind="individual", format="in_person", topics=topics,
                               notes=notes, private_note="",
                               created_at=datetime.combine(on, time(17), tzinfo=UTC))
    record.attendees.append(SupervisionAttendee(trainee_id=person.id))
    for text, owner, due, done in actions:
        record.actions.append(AgreedAction(description=text, owner_id=owner.id if owner else None,
                                           due_on=due, done_on=done))
    return record


def set_up(session: Session, supervisor: Person, people: list[Person], today: date) -> None:
    """Idempotent: does nothing once the supervisor has written a record."""
    if session.scalar(select(SupervisionRecord.id).where(
            SupervisionRecord.author_id == supervisor.id).limit(1)) is not None:
        return
    start = today - timedelta(days=120)
    supervisors.assign_many(session, {p.id: supervisor.id for p in people}, on=start)
    thandi, amina, ben = people
    rows: list = []
    # Weekly check-ins, oldest first; the last few are where each story shows.
    for week in range(16, 3, -1):
        day = today - timedelta(days=7 * week + 1)
        rows.append(_check_in(thandi, day, GOOD))
        rows.append(_check_in(amina, day - timedelta(days=7), (4, 3, 4, 4, 5)))
        rows.append(_check_in(ben, day, (4, 4, 3, 4, 4)))
    rows += [_check_in(thandi, today - timedelta(days=15), (3, 3, 3, 3, 3)),
             _check_in(thandi, today - timedelta(days=8), (3, 2, 3, 3, 3),
                       "Two hard calls this week."),
             _check_in(thandi, today - timedelta(days=1), (2, 2, 3, 2, 3),
                       "Not sleeping well since the call on Monday.", talk=True)]
    rows.append(_check_in(ben, today - timedelta(days=2), (4, 4, 4, 2, 4), "Late shifts."))
    # Monthly supervision; Amina's last was six weeks ago, with an action now overdue.
    for months in (4, 3, 2, 1):
        day = today - timedelta(days=30 * months - 10)
        rows.append(_record(supervisor, thandi, day, ["caseload", "wellbeing"],
                            "Talked through the week's contacts and how she looks after "
                            "herself after a hard conversation."))
        rows.append(_record(supervisor, ben, day, ["boundaries", "learning"],
                            "Practised saying no to a request for a loan; reviewed the "
                            "boundaries module."))
    for months in (4, 3):
        rows.append(_record(supervisor, amina, today - timedelta(days=30 * months - 15),
                            ["caseload", "learning"], "Reviewed her first client contacts."))
    rows.append(_record(
        supervisor, amina, today - timedelta(days=45), ["difficult_situation", "wellbeing"],
        "A client disclosed thoughts of self-harm; Amina made the warm hand-off well.",
        [("Reread the risk assessment module", amina, today - timedelta(days=31), None),
         ("Book a place on the refresher session", supervisor, today - timedelta(days=38),
          today - timedelta(days=40))]))
    debrief = Debrief(trainee_id=ben.id, started_by_id=ben.id, supervisor_id=supervisor.id,
                      incident_type="aggression", incident_on=today - timedelta(days=10),
                      what_happened="A client's relative shouted at me in the waiting room and "
                                    "would not leave until staff came.",
                      how_now="Shaken for a day, better now.",
                      support_needed="A chat about staying safe at drop-ins.",
                      identifying_kept=[],
                      created_at=datetime.combine(today - timedelta(days=9), time(10),
                                                  tzinfo=UTC))
    debrief.actions.append(AgreedAction(description="Agree a safety plan for drop-ins",
                                        owner_id=supervisor.id,
                                        due_on=today - timedelta(days=3)))
    rows.append(debrief)
    session.add_all(rows)
    session.flush()
    settings = flags.Settings()
    seen = next(f for f in flags.for_trainee(session, ben.id, today, settings)
                if f.kind == flags.LOW_CHECK_IN)
    flags.acknowledge(session, supervisor, ben, seen.kind, seen.key,
                      "Talked about his shifts; he is swapping two.", today, settings)
    _readiness(session, supervisor, thandi, ben, today)


def _readiness(session: Session, supervisor: Person, thandi: Person, ben: Person,
               today: date) -> None:
    """Some readiness evidence: Thandi signed the confidentiality agreement; Ben was rated
    on two competencies and deferred, with a review in ten days."""
    enrolment = session.scalar(select(Enrolment).where(Enrolment.person_id == ben.id))
    if enrolment is None:
        return
    cohort = enrolment.cohort
    agreement = session.scalar(select(Agreement).where(
        Agreement.curriculum_id == cohort.curriculum_id, Agreement.key == "confidentiality",
        Agreement.current.is_(True)))
    if agreement is not None:
        session.add(AgreementSignature(person_id=thandi.id, agreement_id=agreement.id,
                                       typed_name=thandi.name))
    policy = standards.current_policy(session, cohort.curriculum_id)
    if policy is None:
        return
    judge = sign_offs.judge_of(session, supervisor, ben, today)
    competencies = standards.Policy.from_rules(policy.rules).competencies
    for competency, rating, evidence in zip(
            competencies, ("competent", "developing"),
            ("In a role-play he asked open questions, reflected feelings and summarised.",
             "Explained confidentiality well but forgot its limits until prompted."),
            strict=False):
        sign_offs.rate(session, judge, ben, cohort, competency=competency.key, rating=rating,
                       observed_on=today - timedelta(days=5), setting="role_play",
                       evidence=evidence, today=today)
    sign_offs.sign_off(session, judge, ben, cohort, decision="defer",
                       reasons="Needs to finish the core quizzes and practise explaining the "
                               "limits of confidentiality.",
                       plan="Two observed role-plays with the supervisor; finish the quizzes.",
                       review_on=today + timedelta(days=10), today=today)
