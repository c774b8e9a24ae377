"""Supervisors: one blueprint, one module per domain.

``dashboard`` (supervisees by urgency, the supervisee page, acknowledging flags),
``records`` (supervision records: new, view, edit, corrections, actions) and ``debriefs``.
A supervisor sees only their current supervisees, and read-only the records they wrote for
people they supervised before.
"""

from __future__ import annotations

from datetime import date

from flask import abort, current_app
from flask_babel import gettext as _

from lms.models import Person
from lms.models.people import SUPERVISOR
from lms.services import flags, supervisors
from lms.services.time_zones import local_today
from lms.web.access import current_person, db_session
from lms.web.blueprint import make_blueprint

bp = make_blueprint("lms_supervisor", __name__, url_prefix="/supervision")
ROLES = (SUPERVISOR,)


def today() -> date:
    """Today in the programme's zone (LMS_TIMEZONE): the date supervision and flags use."""
    return local_today(current_app.config["LMS_TIMEZONE"])


def flag_settings() -> flags.Settings:
    config = current_app.config
    return flags.Settings(zone=config["LMS_TIMEZONE"],
                          supervision_every_days=config["LMS_SUPERVISION_EVERY_DAYS"],
                          check_in_every_days=config["LMS_CHECK_IN_EVERY_DAYS"])


def current_supervisee(person_id: int) -> Person:
    """The person, if they are the current person's supervisee today: else 404 or 403."""
    person = db_session().get(Person, person_id)
    if person is None:
        abort(404, description=_("There is no such person."))
    if not supervisors.is_current_supervisor(db_session(), current_person().id, person.id,
                                             today()):
        abort(403, description=_("This person is not one of your supervisees."))
    return person


# The route modules register their views on ``bp`` when imported.
from lms.web.supervisor import dashboard, debriefs, records  # noqa: E402

__all__ = ["ROLES", "bp", "current_supervisee", "dashboard", "debriefs", "flag_settings", "records",
           "today"]
