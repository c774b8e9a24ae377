"""Demo data: content synced, one person per role, a cohort, and a little progress.

Run twice, it creates nothing new. Demo people are flagged ``is_demo`` and can log in only while
the app runs in demo mode, so their well-known password is useless anywhere else.
"""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lms import demo_supervision
from lms.models import Cohort, Curriculum, Module, Person, TrainingSession
from lms.models._types import utcnow
from lms.services import accounts, agenda, attendance, cohorts, progress
from lms.services.content_sync import sync_folders

DEMO_PASSWORD = "demo-password"  # noqa: S105 (demo accounts log in only in demo mode)
DEMO_PEOPLE = (
    ("trainee", "trainee@demo.lms", "Thandi Trainee", ("trainee",)),
    ("trainer", "trainer@demo.lms", "Tomas Trainer", ("trainer",)),
    ("supervisor", "supervisor@demo.lms", "Sara Supervisor", ("supervisor",)),
    ("admin", "admin@demo.lms", "Ade Admin", ("admin",)),
)
DEMO_COHORT = "Demo cohort"
# Two more of the supervisor's supervisees, so every kind of flag shows on the dashboard.
DEMO_SUPERVISEES = (
    ("amina@demo.lms", "Amina Okafor"),
    ("ben@demo.lms", "Ben Ndlovu"),
)


def set_up_demo(session: Session, curricula: Path, quizzes: Path) -> list[tuple[str, str]]:
    sync_folders(session, curricula, quizzes)  # flushed only: committed with the rest below
    people: dict[str, Person] = {}
    for role, email, name, roles in DEMO_PEOPLE:
        person = accounts.find_by_email(session, email)
        if person is None:
            person = accounts.create_person(session, email=email, name=name,
                                            password=DEMO_PASSWORD, roles=roles, is_demo=True)
        people[role] = person
    for email, name in DEMO_SUPERVISEES:
        person = accounts.find_by_email(session, email)
        if person is None:
            person = accounts.create_person(session, email=email, name=name,
                                            password=DEMO_PASSWORD, roles=("trainee",),
                                            is_demo=True)
        people[email] = person

    curriculum = session.scalar(select(Curriculum).order_by(Curriculum.id))
    if curriculum is not None:
        cohort = session.scalar(select(Cohort).where(Cohort.name == DEMO_COHORT))
        today = utcnow().date()
        if cohort is None:
            cohort = cohorts.create_cohort(session, name=DEMO_COHORT, curriculum=curriculum,
                                           starts_on=today - timedelta(days=7),
                                           ends_on=today + timedelta(days=49))
        for key in ("trainee", *(email for email, _name in DEMO_SUPERVISEES)):
            cohorts.enrol(session, cohort, people[key], today - timedelta(days=7))
        if not cohort.staff:
            cohorts.set_staff(session, cohort, trainers=[people["trainer"]],
                              supervisors=[people["supervisor"]])
        _demo_agenda(session, cohort, people)
        demo_supervision.set_up(session, people["supervisor"], [
            people["trainee"], *(people[email] for email, _name in DEMO_SUPERVISEES)], today)
        # A little progress: the first module read, so the dashboard shows a next step.
        first = session.scalar(select(Module).where(Module.curriculum_id == curriculum.id,
                                                    Module.retired.is_(False))
                               .order_by(Module.position))
        if first is not None:
            progress.mark_read(session, people["trainee"].id, first)
    session.commit()
    return [(role, email) for role, email, _name, _roles in DEMO_PEOPLE]


def _demo_agenda(session: Session, cohort: Cohort, people: dict[str, Person]) -> None:
    """Six sessions, one a week from a week ago: the past ones have their registers taken."""
    if session.scalar(select(func.count()).select_from(TrainingSession)
                      .where(TrainingSession.cohort_id == cohort.id)):
        return
    modules = list(session.scalars(select(Module).where(
        Module.curriculum_id == cohort.curriculum_id, Module.retired.is_(False))
        .order_by(Module.position)))
    start = utcnow().date() - timedelta(days=7)
    made = []
    for week, module in enumerate(modules):
        made.append(agenda.add_session(session, cohort, agenda.SessionInput(
            title=module.title, on_date=start + timedelta(days=7 * week),
            start_time=time(9, 30), duration_minutes=180, venue="Community hall",
            facilitator_id=people["trainer"].id, module_ids=[module.id],
            activities=["teaching", "role-play"] if week else ["teaching", "group work"],
            is_core=module.is_core)))
    session.flush()
    attendance.record_register(session, made[0], [attendance.Mark(people["trainee"].id, "late",
                                                                  150)], people["trainer"])
