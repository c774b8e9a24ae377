"""Supervisors: one blueprint, one module per domain.

``dashboard`` (supervisees by urgency, the supervisee page, acknowledging flags),
``records`` (supervision records: new, view, edit, corrections, actions) and ``debriefs``.
A supervisor sees only their current supervisees, and read-only the records they wrote for
people they supervised before.
"""

from __future__ import annotations

from flask import abort
from flask_babel import gettext as _

from lms.models import Person
from lms.models.people import SUPERVISOR
from lms.services import supervisors
from lms.web.access import current_person, db_session
from lms.web.blueprint import as_id, make_blueprint
from lms.web.programme import flag_settings, today

bp = make_blueprint("lms_supervisor", __name__, url_prefix="/supervision")
ROLES = (SUPERVISOR,)


def current_supervisee(person_id: int) -> Person:
    """The person, if they are the current person's supervisee today: else 404 or 403."""
    person = db_session().get(Person, person_id) if as_id(person_id) else None
    if person is None:
        abort(404, description=_("There is no such person."))
    if not supervisors.is_current_supervisor(db_session(), current_person().id, person.id,
                                             today()):
        abort(403, description=_("This person is not one of your supervisees."))
    return person


# The route modules register their views on ``bp`` when imported.
from lms.web.supervisor import dashboard, debriefs, readiness, records  # noqa: E402

__all__ = ["ROLES", "bp", "current_supervisee", "dashboard", "debriefs", "flag_settings",
           "readiness", "records", "today"]
