"""factory_boy factories for people and cohorts, bound to the current test's session."""

from __future__ import annotations

import factory
from factory.alchemy import SQLAlchemyModelFactory
from werkzeug.security import generate_password_hash

from lms.models import Cohort, Enrolment, Person, PersonRole, TrainingSession
from lms.models._types import utcnow

PASSWORD = "correct horse battery"
# Hashing is slow on purpose; hash once for every factory-made person.
PASSWORD_HASH = generate_password_hash(PASSWORD)


class _Session:
    current = None


def bind(session) -> None:
    _Session.current = session


class Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: _Session.current  # noqa: E731
        sqlalchemy_session_persistence = "flush"


class PersonFactory(Base):
    class Meta:
        model = Person

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    name = factory.Sequence(lambda n: f"Person {n}")
    password_hash = PASSWORD_HASH
    password_changed_at = factory.LazyFunction(utcnow)
    active = True
    is_demo = False

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        for role in extracted or ("trainee",):
            self.role_rows.append(PersonRole(role=role))
        if create:
            _Session.current.flush()


class CohortFactory(Base):
    class Meta:
        model = Cohort

    name = factory.Sequence(lambda n: f"Cohort {n}")
    curriculum_id = None


class EnrolmentFactory(Base):
    class Meta:
        model = Enrolment

    enrolled_on = factory.LazyFunction(lambda: utcnow().date())


class SessionFactory(Base):
    """A training session; pass cohort_id, on_date and start_time (UTC cohort by default)."""

    class Meta:
        model = TrainingSession

    title = factory.Sequence(lambda n: f"Session {n}")
    position = factory.Sequence(lambda n: n + 1)
    duration_minutes = 120
    venue = "Room 1"
    online_link = ""
    activities = factory.LazyFunction(lambda: ["teaching"])
    is_core = False

    @factory.lazy_attribute
    def starts_at(self):
        from datetime import UTC, datetime

        return datetime.combine(self.on_date, self.start_time).replace(tzinfo=UTC)

