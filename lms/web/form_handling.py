"""The one way a view handles a form POST.

Validate the form; call the service; on a ``ServiceError`` roll back and show each problem next
to its field (every problem at once, re-rendering what the person typed); on success commit,
flash and redirect. Views stay thin: they build the form, say what the service call is, and
render the page when this returns ``None``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import flash, redirect, request
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from lms.database import is_unique_violation
from lms.services.errors import ServiceError
from lms.web.access import db_session

T = TypeVar("T")


class FormOutcome:
    """What happened to a form. ``done`` after a success, with ``result`` (what the action
    returned) and ``response`` (the redirect, if one was asked for); otherwise ``status`` is the
    status to render the form with (200, or 422 after a refused POST)."""

    def __init__(self, response: Response | None, status: int, result: Any = None,
                 done: bool = False) -> None:
        self.response = response
        self.status = status
        self.result = result
        self.done = done


def add_errors(form: Any, error: ServiceError) -> None:
    """Put each problem of ``error`` on its field; anything else becomes a form-level error."""
    for key, message in error.problems.items():
        field = getattr(form, key, None) if isinstance(key, str) else None
        if field is not None and hasattr(field, "errors"):
            if not isinstance(field.errors, list):
                field.errors = list(field.errors)
            field.errors.append(str(message))
        else:
            form.form_errors.append(str(message))


def handle_post(form: Any, action: Callable[[], T], *,
                success: str | Callable[[T], str] | None = None,
                redirect_to: str | Callable[[T], str] | None = None) -> FormOutcome:
    """Run ``action`` for a valid POST of ``form``; see the module docstring."""
    if request.method != "POST":
        return FormOutcome(None, 200)
    if not form.validate_on_submit():
        return FormOutcome(None, 422)
    session = db_session()
    try:
        result = action()
        session.commit()
    except ServiceError as error:
        session.rollback()
        add_errors(form, error)
        return FormOutcome(None, 422)
    except IntegrityError as error:
        # A unique rule the service could not see coming: the same form sent twice at once
        # (a double-click), and the other request won. Keep what was typed and say so.
        session.rollback()
        if not is_unique_violation(error):
            raise
        form.form_errors.append(_("This was just saved by another request (perhaps a second "
                                  "click). Reload the page to see it before saving again."))
        return FormOutcome(None, 409)
    if success is not None:
        flash(success(result) if callable(success) else success, "success")
    if redirect_to is None:  # the view renders its own answer to a success
        return FormOutcome(None, 200, result, done=True)
    target = redirect_to(result) if callable(redirect_to) else redirect_to
    return FormOutcome(redirect(target), 302, result, done=True)


def run_action(action: Callable[[], T], *, success: str | Callable[[T], str | None] | None = None
               ) -> bool:
    """A button's POST with nothing to re-show (move, reinstate): on a ``ServiceError`` roll
    back and flash why; else commit and flash ``success``. Returns whether it was done."""
    session = db_session()
    try:
        result = action()
        session.commit()
    except ServiceError as error:
        session.rollback()
        flash(error.message, "error")
        return False
    except IntegrityError as error:  # the same button twice at once: the other click did it
        session.rollback()
        if not is_unique_violation(error):
            raise
        flash(_("This was just done by another request (perhaps a second click)."), "info")
        return False
    message = success(result) if callable(success) else success
    if message:
        flash(message, "success")
    return True
