"""Trainers (and admins): one blueprint, one module per domain.

``cohorts`` (cohorts and enrolment), ``agenda`` (sessions and calendars), ``registers``
(attendance and make-ups), ``reports`` (the grid, item statistics, session feedback),
``attendance`` (the whole cohort's attendance, page and CSV), ``withdrawal`` (withdrawing a
trainee from a cohort, and reinstating them), ``supervisors`` (who supervises the cohort's
trainees).
"""

from __future__ import annotations

from collections.abc import Sequence

from flask import abort, request
from flask_babel import gettext as _

from lms.models import Cohort, TrainingSession
from lms.models.people import ADMIN, TRAINER
from lms.services import cohorts as cohort_rules
from lms.web.access import current_person, db_session
from lms.web.blueprint import make_blueprint

bp = make_blueprint("lms_trainer", __name__, url_prefix="/cohorts")
STAFF = (TRAINER, ADMIN)


def managed_cohort(cohort_id: int) -> Cohort:
    """The cohort, if the current person manages it: else a 404 or 403 with the reason."""
    cohort = db_session().get(Cohort, cohort_id)
    if cohort is None:
        abort(404, description=_("There is no such cohort."))
    if not cohort_rules.can_manage(current_person(), cohort):
        abort(403, description=_("This is not one of your cohorts."))
    return cohort


def query_choice(name: str, allowed: Sequence[str]) -> str:
    """A report's order or filter from the query string (``sort``, ``show``): the first of
    ``allowed`` when it is missing or unknown, so a page and its CSV read it alike."""
    value = request.args.get(name, allowed[0])
    return value if value in allowed else allowed[0]


def session_in(cohort: Cohort, session_id: int) -> TrainingSession:
    item = db_session().get(TrainingSession, session_id)
    if item is None or item.cohort_id != cohort.id:
        abort(404, description=_("There is no such session in this cohort."))
    return item


# The route modules register their views on ``bp`` when imported.
from lms.web.trainer import agenda, readiness, registers, reports, supervisors, withdrawal  # noqa: E402
from lms.web.trainer import attendance as attendance_views  # noqa: E402
from lms.web.trainer import cohorts as cohort_views  # noqa: E402

__all__ = ["STAFF", "agenda", "attendance_views", "bp", "cohort_views", "managed_cohort",
           "query_choice", "readiness", "registers", "reports", "session_in", "supervisors",
           "withdrawal"]
