"""What the supervisor's and the trainee's debrief forms share: posting a form whose service
may stop at identifying text, and what the page needs to show the warning and the choice to
keep the text as written."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import request
from flask_babel import gettext as _

from lms.services import debriefs
from lms.services.debriefs import IdentifyingTextFound
from lms.web.form_handling import FormOutcome, handle_post
from lms.web.programme import edit_window_days, today

T = TypeVar("T")


def submit_debrief_form(form: Any, action: Callable[[], T], *,
                        success: str | Callable[[T], str] | None,
                        redirect_to: str | Callable[[T], str]
                        ) -> tuple[FormOutcome, IdentifyingTextFound | None]:
    """``handle_post``, also handing back the identifying-text warning if the service raised
    one (the page then shows each finding and the choice to edit or keep the text)."""
    warned: list[IdentifyingTextFound] = []

    def run() -> T:
        try:
            return action()
        except IdentifyingTextFound as warning:
            warned.append(warning)
            raise

    outcome = handle_post(form, run, success=success, redirect_to=redirect_to)
    return outcome, (warned[0] if warned else None)


def kept_values() -> list[tuple[str, str]]:
    """What was posted, for the "Keep it as written" button to send again as it was."""
    return [(key, value) for key, value in request.form.items(multi=True)
            if key not in ("csrf_token", "keep_identifying")]


def form_context(warning: IdentifyingTextFound | None) -> dict[str, Any]:
    return {"warning": warning, "kept": kept_values() if warning else [],
            "finding_kinds": debriefs.FINDING_KINDS, "incident_types": debriefs.INCIDENT_TYPES}


def submit_edit(session: Any, debrief: Any, editor: Any, form: Any, *,
                redirect_to: Callable[[Any], str]
                ) -> tuple[FormOutcome, IdentifyingTextFound | None]:
    """Post an edit of a debrief (the supervisor's and the trainee's edit pages alike)."""
    return submit_debrief_form(
        form, lambda: debriefs.edit_debrief(
            session, debrief, editor, incident_type=form.incident_type.data,
            incident_on=form.incident_on.data, **form.texts(), new_actions=form.actions(),
            keep_identifying=form.keep_identifying.data, today=today(),
            window_days=edit_window_days()),
        success=_("Debrief updated. The earlier text is kept in its history."),
        redirect_to=redirect_to)
